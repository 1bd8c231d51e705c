"""FAQ proposals ("add to FAQ") wait in the database; `hrbot faq proposals` lists them, `hrbot faq propose`
exports the ones HR chooses to the pending file or rejects one. Rejected ones never reach content/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import FixedClock
from bot.config import Settings
from bot.faq import pending
from store.db import Database
from store.models import FaqProposal, Ticket
from tests.faqtools import faq_settings

HR = 100000001
QUESTIONS = [("宿舍楼有电梯吗", "有,两部。", "dorm_room"), ("公司有篮球场吗", "有,在三号楼后面。", None),
             ("培训能带家属吗", "不可以,谢谢理解。", None)]


@pytest.fixture
def faq(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI's settings: the FAQ files in tmp_path, the test database."""
    settings = faq_settings(tmp_path, db_url)
    monkeypatch.setenv("HRBOT_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    return settings


def answered_ticket(db: Database, clock: FixedClock, question: str, answer: str) -> Ticket:
    with db.session() as s:
        ticket = Ticket(kind="question", candidate_id=1, question=question, status="answered", answer=answer,
                        answered_by=HR, created_at=clock.now(), answered_at=clock.now())
        s.add(ticket)
    return ticket


@pytest.fixture
def proposed(faq: Settings, db: Database, demo: dict[str, str], clock: FixedClock) -> Database:
    """Three answered questions of candidate 1, proposed by HR in this order (proposals 1, 2, 3)."""
    for question, answer, similar in QUESTIONS:
        ticket = answered_ticket(db, clock, question, answer)
        with db.session() as s:
            s.add(ticket)
            assert pending.propose(s, ticket, answer_locale="zh-CN", similar_to=similar, by=HR, now=clock.now())
    return db


def statuses(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.exec(select(FaqProposal.status).order_by(col(FaqProposal.id))).all())


def pending_tickets(settings: Settings) -> list[int]:
    data = YAML().load(settings.content_path(settings.file.faq.pending_file).read_text(encoding="utf-8"))
    return [item["ticket"] for item in data["pending"]]


def test_list_export_chosen_reject_and_rejected_never_exported(faq: Settings, proposed: Database) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["faq", "proposals", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["id"], r["ticket"], r["question"], r["answer"], r["similar_to"], r["answer_locale"], r["created_by"])
            for r in rows] == [(i, i, q, a, sim, "zh-CN", HR) for i, (q, a, sim) in enumerate(QUESTIONS, 1)]
    plain = runner.invoke(app, ["faq", "proposals"]).output
    assert "1\tticket 1\t2026-11-27\tclosest entry: dorm_room" in plain and "  A (zh-CN): 有,两部。" in plain
    assert "3 pending;" in plain

    rejected = runner.invoke(app, ["faq", "propose", "--reject", "2"])
    assert rejected.exit_code == 0 and "rejected proposal 2 (ticket 2)" in rejected.output
    assert [r["id"] for r in json.loads(runner.invoke(app, ["faq", "proposals", "--json"]).output)] == [1, 3]

    # Naming a rejected or unknown proposal changes nothing at all.
    for ids, why in (("2", "proposal 2 is rejected, not pending"), ("1,9", "proposal 9 does not exist")):
        refused = runner.invoke(app, ["faq", "propose", "--export", "--ids", ids])
        assert refused.exit_code == 1 and why in refused.output and "nothing was changed." in refused.output
    assert not faq.content_path(faq.file.faq.pending_file).exists()
    assert statuses(proposed) == ["pending", "rejected", "pending"]

    chosen = runner.invoke(app, ["faq", "propose", "--export", "--ids", "3"])
    assert chosen.exit_code == 0 and "exported proposal 3 (ticket 3)" in chosen.output
    assert pending_tickets(faq) == [3]
    rest = runner.invoke(app, ["faq", "propose", "--export"])
    assert rest.exit_code == 0 and "exported proposal 1 (ticket 1)" in rest.output and "proposal 2" not in rest.output
    assert pending_tickets(faq) == [3, 1]
    text = faq.content_path(faq.file.faq.pending_file).read_text(encoding="utf-8")
    assert "similar_to: dorm_room" in text and "公司有篮球场吗" not in text
    assert statuses(proposed) == ["exported", "rejected", "exported"]

    assert "no pending proposals to export." in runner.invoke(app, ["faq", "propose", "--export"]).output
    assert "no pending proposals." in runner.invoke(app, ["faq", "proposals"]).output
    again = runner.invoke(app, ["faq", "propose", "--reject", "1"])
    assert again.exit_code == 1 and "proposal 1 is exported, not pending" in again.output


def test_exported_proposal_is_merged_into_the_faq(faq: Settings, proposed: Database) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["faq", "propose", "--export", "--ids", "1"]).exit_code == 0
    path = faq.content_path(faq.file.faq.pending_file)
    path.write_text(path.read_text(encoding="utf-8").replace("id: ticket_1", "add_to: dorm_room"),
                    encoding="utf-8")  # the reviewer makes it an example question of the closest entry
    merged = runner.invoke(app, ["faq", "merge"])
    assert merged.exit_code == 0 and "added example questions to dorm_room" in merged.output
    assert "宿舍楼有电梯吗" in faq.content_path(faq.file.faq.file).read_text(encoding="utf-8")
    assert pending_tickets(faq) == []


@pytest.mark.parametrize("args", [[], ["--export", "--reject", "1"], ["--ids", "1"], ["--export", "--ids", "1,x"]])
def test_propose_usage_mistakes(faq: Settings, args: list[str]) -> None:
    result = CliRunner().invoke(app, ["faq", "propose", *args])
    assert result.exit_code == 2


def test_a_ticket_is_proposed_once_even_when_two_taps_race(faq: Settings, db: Database, demo: dict[str, str],
                                                           clock: FixedClock) -> None:
    ticket = answered_ticket(db, clock, "宿舍楼有电梯吗", "有。")
    with db.session() as s:  # another tap's row is committed, but this tap read the ticket before it
        s.add(FaqProposal(ticket_id=ticket.id or 0, question="宿舍楼有电梯吗", answer="有。", answer_locale="zh-CN",
                          created_at=clock.now(), created_by=HR))
    with db.session() as s:
        s.add(ticket)
        assert not pending.propose(s, ticket, answer_locale="zh-CN", similar_to=None, by=HR, now=clock.now())
        assert ticket.added_to_faq_at is None
    with db.session() as s:
        assert len(s.exec(select(FaqProposal)).all()) == 1


def test_a_ticket_already_in_the_pending_file_is_not_written_twice(faq: Settings, proposed: Database) -> None:
    """An export whose marking did not commit, or a ticket the old button wrote straight to the file."""
    path = faq.content_path(faq.file.faq.pending_file)
    path.write_text("pending:\n  - ticket: 1\n    id: lift\n    questions: [有电梯吗]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["faq", "propose", "--export", "--ids", "1,2"])
    assert result.exit_code == 0, result.output
    assert pending_tickets(faq) == [1, 2] and "id: lift" in path.read_text(encoding="utf-8")
    assert statuses(proposed) == ["exported", "exported", "pending"]
