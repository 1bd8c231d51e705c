"""The map of personal data (store/personal.py) decides about every table and column, names nothing that does not
exist, and finds all of a candidate's rows and files, never another's."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text
from sqlmodel import SQLModel

from bot.clock import FixedClock
from bot.config import Settings
from store import personal
from store.db import Database
from store.models import (
    AuditLog,
    Candidate,
    CandidateProfile,
    CandidateTask,
    ConsentRecord,
    DocumentUpload,
    FaqProposal,
    FaqQuery,
    FeedbackDraft,
    FlowSession,
    GroupJoin,
    GroupRemoval,
    HrMessage,
    Interaction,
    LessonProgress,
    Outbox,
    PointsBalance,
    PointsEntry,
    Redemption,
    RiskSignal,
    Ticket,
)

HR = 100000001
OWNED = {name for name, entry in personal.TABLES.items() if entry.owner}


def test_every_table_and_column_is_decided() -> None:
    assert personal.check() == []


def test_a_column_or_table_nobody_decided_about_fails() -> None:
    metadata = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["ticket"].append_column(Column("callback_phone", String(20)))
    Table("chatnote", metadata, Column("id", Integer, primary_key=True), Column("text", Text))
    assert sorted(personal.check(metadata)) == [
        "table chatnote: not in the map of personal data; add it to store/personal.py with each column's category, "
        "or its columns as not personal",
        "ticket.callback_phone: neither personal (with a category) nor marked not personal in store/personal.py"]


def test_the_map_naming_what_does_not_exist_or_cannot_work_fails() -> None:
    tables = dict(personal.TABLES)
    ticket, proposal, signal, interaction = (tables[n] for n in ("ticket", "faqproposal", "risksignal", "interaction"))
    tables["ticket"] = replace(ticket, personal={**ticket.personal, "phone": "contact"})
    tables["faqproposal"] = replace(proposal, owner=(personal.Link("ticket_id", "tickets.id"),))
    tables["risksignal"] = replace(signal, owner=())
    tables["pointsentry"] = replace(tables["pointsentry"], owner=(personal.Link("candidate_id", "cohort.id"),))
    tables["interaction"] = replace(interaction, personal={**interaction.personal, "kind": "behaviour"},  # type: ignore[dict-item]
                                    not_personal=interaction.not_personal - {"kind"})
    tables["feedback"] = personal.TableMap((), {}, frozenset({"id"}))
    assert sorted(personal.check(tables=tables)) == [
        "faqproposal: owner link to 'tickets.id', which is not a column",
        "interaction.kind: unknown category 'behaviour' (one of identifier, contact, sensitive, free_text, file)",
        "pointsentry: owner link to 'cohort.id', a table with no owner link itself",
        "table feedback: in the map but not a table",
        "table risksignal: holds personal data but no link says whose",
        "ticket.phone: in the map but not a column"]


def test_categories_of_what_people_type_and_the_id_number() -> None:
    free_text = {(t, c) for t, c, _ in personal.columns("free_text")}
    assert {("faqproposal", "question"), ("faqproposal", "answer"), ("faqquery", "text"), ("ticket", "question"),
            ("flowsession", "vars"), ("outbox", "text"), ("auditlog", "detail")} <= free_text
    assert ("candidateprofile", "id_number_enc", "sensitive") in personal.columns("sensitive")
    assert {("candidate", "phone"), ("candidateprofile", "emergency_phone_enc")} <= {
        (t, c) for t, c, _ in personal.columns("contact")}
    assert len(personal.columns()) == sum(len(e.personal) for e in personal.TABLES.values())


def test_file_locations_name_real_settings(settings: Settings) -> None:
    for place in personal.FILES.values():
        section, key = place.setting.split(".")
        assert isinstance(getattr(getattr(settings.file, section), key), str)
    assert {p.category for p in personal.FILES.values()} <= set(personal.CATEGORIES)


def seed(db: Database, clock: FixedClock, cand_id: int, chat_id: int) -> None:
    """A row in every table that can hold a candidate's data (the demo made their candidate and audit rows)."""
    now = clock.now()
    with db.session() as s:
        cand = s.get(Candidate, cand_id)
        assert cand is not None
        cand.telegram_user_id = cand.telegram_chat_id = chat_id
        s.add(cand)
        s.add(CandidateTask(candidate_id=cand_id, task_id="health_certificate", status="submitted", updated_at=now))
        s.add(Interaction(candidate_id=cand_id, kind="command", detail="status", at=now))
        s.add(AuditLog(at=now, actor=f"telegram:{chat_id}", action="bind", candidate_id=cand_id))
        s.add(Outbox(dedupe_key=f"nudge:news:{cand_id}:2026-11-27", kind="nudge", rule_id="news", candidate_id=cand_id,
                     chat_id=chat_id, text=f"news for {cand_id}", due_at=now, planned_at=now, status="sent"))
        s.add(Outbox(dedupe_key=f"chat:{chat_id}", kind="message", chat_id=chat_id, text=f"to chat {chat_id}",
                     due_at=now, planned_at=now, status="pending"))  # theirs by the chat alone
        query = FaqQuery(candidate_id=cand_id, at=now, text=f"question {cand_id}", outcome="unknown")
        s.add(query)
        s.flush()
        ticket = Ticket(kind="question", candidate_id=cand_id, faq_query_id=query.id, question=query.text,
                        status="answered", answer=f"answer {cand_id}", answered_by=HR, created_at=now)
        s.add(ticket)
        s.flush()
        assert ticket.id is not None
        s.add(FaqProposal(ticket_id=ticket.id, question=ticket.question, answer=f"answer {cand_id}",
                          answer_locale="zh-CN", created_at=now, created_by=HR))
        s.add(RiskSignal(candidate_id=cand_id, kind="withdrawal_intent", at=now, ticket_id=ticket.id))
        s.add(FlowSession(candidate_id=cand_id, flow_id="shoe_size", step_id="ask_size", status="active",
                          vars=json.dumps({"size": 40 + cand_id}), started_at=now, updated_at=now))
        s.add(LessonProgress(candidate_id=cand_id, lesson_id="safety_rules", attempts=1, updated_at=now))
        s.add(HrMessage(candidate_id=cand_id, hr_id=HR, direction="out", text=f"hello {cand_id}", at=now))
        s.add(PointsEntry(candidate_id=cand_id, delta=10, reason="lesson", ref="lesson:safety_rules", at=now))
        s.add(PointsBalance(candidate_id=cand_id, balance=10))
        s.add(Redemption(candidate_id=cand_id, reward_id="mug", cost=5, status="requested", created_at=now))
        s.add(CandidateProfile(candidate_id=cand_id, legal_name=f"legal {cand_id}", education="high_school",
                               updated_at=now))
        s.add(DocumentUpload(candidate_id=cand_id, kind="photo", stored_path=f"{cand_id}/a.jpg", status="new",
                             created_at=now))
        # Cohort groups and the feedback box (bot/groups).
        s.add(GroupJoin(cohort_id="prod-2026-12", candidate_id=cand_id, number=cand_id, joined_at=now))
        s.add(GroupRemoval(candidate_id=cand_id, chat_id=-1000 - cand_id, created_at=now))
        s.add(FeedbackDraft(candidate_id=cand_id, category="dorm", text=f"draft {cand_id}", started_at=now))
        s.add(ConsentRecord(candidate_id=cand_id, version="1", decision="accepted", at=now))


def keys(table: str, rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    primary = [c.name for c in SQLModel.metadata.tables[table].primary_key.columns]
    return {tuple(row[k] for k in primary) for row in rows}


def test_rows_for_candidate_finds_all_of_theirs_and_nothing_of_anyone_elses(
        db: Database, demo: dict[str, str], clock: FixedClock) -> None:
    seed(db, clock, 1, 501)
    seed(db, clock, 2, 502)
    now = clock.now()
    with db.session() as s:  # messages to HR, and one to no chat yet: nobody's
        s.add(Outbox(dedupe_key="hr", kind="message", chat_id=HR, text="to HR", due_at=now, planned_at=now,
                     status="sent"))
        s.add(Outbox(dedupe_key="nochat", kind="message", text="queued", due_at=now, planned_at=now, status="pending"))
    with db.session() as s:
        mine = personal.rows_for_candidate(s, 1)
        theirs = personal.rows_for_candidate(s, 2)
        unbound = personal.rows_for_candidate(s, 3)
        assert personal.rows_for_candidate(s, 9999) == {}

    assert set(mine) == set(theirs) == OWNED  # every table that can hold a candidate's data, seeded above
    for table in OWNED:
        assert keys(table, mine[table]).isdisjoint(keys(table, theirs[table])), table
    my_tickets = {row["id"] for row in mine["ticket"]}
    for table, rows in mine.items():
        for row in rows:
            if table == "candidate":
                assert row["id"] == 1
            elif table == "faqproposal":
                assert row["ticket_id"] in my_tickets
            elif table == "outbox":
                assert row["candidate_id"] == 1 or (row["candidate_id"] is None and row["chat_id"] == 501)
            else:
                assert row["candidate_id"] == 1, table
    assert sorted(row["text"] for row in mine["outbox"]) == ["news for 1", "to chat 501"]
    assert [row["question"] for row in mine["faqproposal"]] == ["question 1"]
    assert [row["vars"] for row in mine["flowsession"]] == ['{"size": 41}']
    assert mine["candidateprofile"][0]["legal_name"] == "legal 1" and mine["candidate"][0]["name"] == "张三"
    # A candidate who never opened the bot has no chat: a message queued without a chat is not theirs.
    assert unbound["candidate"][0]["telegram_chat_id"] is None and "outbox" not in unbound


def test_candidate_files(tmp_path: Path) -> None:
    for rel in ("1/a.jpg", "1/b.pdf", "2/c.jpg", "11/d.jpg", "incoming/e.part"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert personal.candidate_files(tmp_path, 1) == [tmp_path / "1" / "a.jpg", tmp_path / "1" / "b.pdf"]
    assert personal.candidate_files(tmp_path, 3) == []
