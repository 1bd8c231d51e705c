"""The map of personal data: every table, column and file location holding a candidate's personal data, with its
category, and how each row belongs to a candidate. Access (/mydata), erasure, retention and backup read this map
alone; tests/test_personal_data_map.py fails when a table or column appears that the map does not decide about.

Categories of a column:
  identifier  singles a person out: name, external id, Telegram user id, the candidate id that links their rows
  contact     reaches a person: phone, e-mail, Telegram chat id (the emergency contact's too)
  sensitive   needs more care than the rest: the ID number (encrypted at rest), education
  free_text   text a person typed, or written to or about them: it may hold anything
  file        a file a candidate sent, or a reference to one

Every column a table has is either personal (with a category) or listed as not personal. Not personal means the
value is the company's own vocabulary (a config id, a status, a count, a time) or an HR admin's id: it says nothing
about a candidate by itself. In a candidate's row it is still part of their record: an export shows whole rows and
erasure removes whole rows; the categories say what to blank, encrypt or expire while a row is kept.

How a row belongs to a candidate is a tuple of links (any one is enough): the row's column equals a value of the
candidate's own row (`candidate.id`, `candidate.telegram_chat_id`), or the key of another mapped table's rows that
are theirs (`ticket.id`: a join).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, MetaData, false, or_, select
from sqlmodel import Session, SQLModel

import store.models  # noqa: F401  (registers the tables the map is checked against)

Category = Literal["identifier", "contact", "sensitive", "free_text", "file"]
CATEGORIES: tuple[str, ...] = get_args(Category)


@dataclass(frozen=True)
class Link:
    """A row is the candidate's when its `column` equals `target`: "candidate.<column>" of the candidate's own row,
    or "<table>.<column>" of that table's rows that are the candidate's."""

    column: str
    target: str = "candidate.id"


@dataclass(frozen=True)
class TableMap:
    owner: tuple[Link, ...]  # empty: the table holds nobody's personal data
    personal: Mapping[str, Category]
    not_personal: frozenset[str]


@dataclass(frozen=True)
class FileMap:
    """Personal data outside the database: where config.yaml puts it, and how a file or item belongs to whom."""

    setting: str
    category: Category
    layout: str


def _table(owner: tuple[Link, ...], personal: Mapping[str, Category], not_personal: str) -> TableMap:
    return TableMap(owner, personal, frozenset(not_personal.split()))


BY_CANDIDATE_ID = (Link("candidate_id"),)

TABLES: dict[str, TableMap] = {
    # The candidate's own row. Role, department, cohort, stage and language are config ids; invite and binding
    # times, the welcome number, last seen and unreachable are bookkeeping (the reason is Telegram's wording).
    # The invite token hash opens their account, so it counts as an identifier.
    "candidate": _table(
        (Link("id"),),
        {"id": "identifier", "external_id": "identifier", "name": "identifier", "phone": "contact",
         "email": "contact", "telegram_user_id": "identifier", "telegram_chat_id": "contact",
         "invite_token_hash": "identifier", "outcome_reason": "free_text"},
        # The outcome (attended / withdrawn) is a fixed word; its reason is HR's wording about why they left.
        # outcome_by and hr_reply_to name HR members.
        "role department cohort_id stage stage_changed_at language invite_issued_at invite_expires_at bound_at "
        "welcome_number last_seen_at unreachable_at unreachable_reason created_at updated_at outcome outcome_at "
        "outcome_by hr_reply_to erased_at"),
    # The personal information centre. The ID number is sensitive (and encrypted; its keyed hash finds it);
    # education is a personal attribute only HR needs, kept as sensitive; the emergency contact is a third
    # person's name and phone, held for the candidate (encrypted) and gone with them. key_id names the key.
    "candidateprofile": _table(
        BY_CANDIDATE_ID,
        {"candidate_id": "identifier", "legal_name": "identifier", "id_number_enc": "sensitive",
         "id_number_hash": "sensitive", "education": "sensitive", "emergency_name_enc": "contact",
         "emergency_phone_enc": "contact"},
        "updated_at key_id"),
    # Answers to the privacy notice: which version, accepted / declined / withdrawn, when.
    "consentrecord": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier"}, "id version decision at"),
    # Task progress: config task ids and statuses.
    "candidatetask": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier"}, "id task_id status updated_at"),
    # Analytics events hold no message text, but `detail` of an unknown command is the command as typed.
    "interaction": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier", "detail": "free_text"}, "id kind at"),
    # Who changed what. The actor is "telegram:<user id>" when the candidate acted themselves (their binding, their
    # language); such rows also carry their candidate_id. `detail` is free wording (stage moves, Telegram's reason).
    "auditlog": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier", "actor": "identifier", "detail": "free_text"},
                       "id at action"),
    # A 1:1 thread with HR: what HR wrote to the candidate and what they answered. hr_id is an HR member's id.
    "hrmessage": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier", "text": "free_text"},
                        "id hr_id direction at"),
    # HR members (their own Telegram ids, roles and scopes) and broadcasts (one text to many, its recipients are
    # outbox rows): nobody's personal data as candidates; the HR member's name is HR's own staff data.
    "hrmember": _table((), {}, "telegram_id role departments cohorts name created_at updated_at"),
    "broadcast": _table((), {}, "id created_by created_at audience content urgent paid status scheduled_at "
                                "started_at finished_at total excluded hr_chat_id hr_message_id progress_at"),
    # Messages the bot sends on its own: the text is written from the candidate's data and buttons carry labels
    # rendered for them; the dedupe key names the candidate id. A row sent to their chat without a candidate_id
    # is theirs too. Rule ids, payload (task ids), statuses and reasons are the planner's and sender's vocabulary.
    "outbox": _table(
        (Link("candidate_id"), Link("chat_id", "candidate.telegram_chat_id")),
        # effect: a photo or files message (captions name people; paths point into the document folder).
        {"candidate_id": "identifier", "chat_id": "contact", "dedupe_key": "identifier", "text": "free_text",
         "buttons": "free_text", "effect": "free_text"},
        "id kind urgent broadcast_id rule_id priority payload due_at planned_at expires_at status reason attempts "
        "next_attempt_at sent_at telegram_message_id"),
    # Every question a candidate typed (ID numbers are masked before it is stored); the rest is the matcher's
    # outcome and the vote.
    "faqquery": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier", "text": "free_text"},
                       "id at outcome entry_id best_id score vote voted_at"),
    # A question for HR or a withdrawal signal in the candidate's words, and HR's answer written to them.
    # answered_by is an HR admin's id.
    # Feedback (kind feedback) adds a category id, the anonymity choice, the 24-hour bookkeeping and a photo the
    # candidate sent (a stored file); board_hidden_by is an HR member's id.
    "ticket": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier", "question": "free_text", "answer": "free_text",
                                       "attachment": "file"},
                     "id kind faq_query_id status created_at answered_by answered_at added_to_faq_at category "
                     "anonymous due_at reminded_at escalated_at board_hidden_at board_hidden_by"),
    # Cohort groups: a Telegram group's id, title and invite link per cohort (the company's, not a candidate's);
    # linked_by is an HR member's id. Joins and removals say which candidate was let in or taken out.
    "cohortgroup": _table((), {}, "cohort_id chat_id title invite_link linked_by linked_at"),
    "groupjoin": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier"}, "id cohort_id number joined_at"),
    "groupremoval": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier", "reason": "free_text"},
                           "id chat_id status created_at done_at"),
    # Feedback being written: the candidate's words and a photo they sent, until it becomes a ticket or is cancelled.
    "feedbackdraft": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier", "text": "free_text", "attachment": "file"},
                            "category started_at"),
    # A question proposed for the FAQ (an answered ticket, or a tapped suggestion), theirs through the ticket or
    # the query until HR reviews it; question_key is the question normalised.
    "faqproposal": _table(
        (Link("ticket_id", "ticket.id"), Link("faq_query_id", "faqquery.id")),
        {"question": "free_text", "question_key": "free_text", "answer": "free_text"},
        "id ticket_id faq_query_id source entry_id answer_locale similar_to status taps created_at last_at "
        "created_by reviewed_at"),
    # That a candidate may drop out is about them; the row holds only a kind, a time and its ticket.
    "risksignal": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier"}, "id kind at ticket_id"),
    # Where a candidate is in a flow; `vars` holds what they typed in answer to a flow's questions.
    "flowsession": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier", "vars": "free_text"},
                          "id flow_id step_id status stack version started_at updated_at"),
    "lessonprogress": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier"},
                             "id lesson_id attempts best_correct questions passed_at updated_at"),
    # Points and rewards: amounts, references to lessons and rewards; delivered_by is an HR admin's id.
    "pointsentry": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier"}, "id delta reason ref at"),
    "pointsbalance": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier"}, "balance"),
    "redemption": _table(BY_CANDIDATE_ID, {"candidate_id": "identifier"},
                         "id reward_id cost status created_at delivered_at delivered_by"),
    # A file a candidate sent: Telegram's id for it and the copy under the storage folder (FILES). The reason is
    # one from the list in the texts; decided_by is an HR admin's id.
    "documentupload": _table(
        BY_CANDIDATE_ID, {"candidate_id": "identifier", "telegram_file_id": "file", "stored_path": "file"},
        "id task_id kind mime_type size status reason created_at decided_at decided_by key_id"),
    # Nobody's personal data: config synced to the database, counters, and Telegram update ids (no user in them).
    "cohort": _table((), {}, "id department training_date capacity updated_at"),
    "departmentcounter": _table((), {}, "department joined"),
    "processedupdate": _table((), {}, "update_id processed_at"),
    "rewardstock": _table((), {}, "reward_id redeemed"),
}

FILES: dict[str, FileMap] = {
    "documents": FileMap(
        "documents.storage_dir", "file",
        "<candidate id>/<random>.<ext>: the files a candidate sent (documentupload.stored_path names each); "
        "<candidate id>/feedback-<random>.jpg: a photo sent with feedback (ticket.attachment names it); "
        "incoming/<random>.part: a file being received, whose owner is not known yet, moved under the candidate's "
        "folder when kept and deleted when refused; exports/candidates-<cohort>-<time>-<random>.xlsx: candidate lists "
        "sent to HR with /export (names, phones, stages), deleted when an export a day later is written; "
        "exports/report-<cohort>-<random>.html: /report's page (the at-risk list: names, phones, reasons) and "
        "exports/stats-<view>-<random>.png: /stats charts (counts only), pruned the same way"),
    "faq_pending": FileMap(
        "faq.pending_file", "free_text",
        "FAQ proposals HR exported for review (`hrbot faq propose --export`): each item's `ticket:` is a ticket id, "
        "whose candidate_id says whose words they are, until `hrbot faq merge` moves the reviewed entry"),
}


def columns(category: Category | None = None) -> list[tuple[str, str, Category]]:
    """(table, column, category) of every personal column, or of one category."""
    return [(table, column, cat) for table, entry in TABLES.items() for column, cat in entry.personal.items()
            if category is None or cat == category]


def check(metadata: MetaData = SQLModel.metadata, tables: Mapping[str, TableMap] = TABLES) -> list[str]:
    """Everything the map and the schema disagree on: a table or column the map does not decide about, a name the
    map has that does not exist, a category or link that does not work."""
    problems: list[str] = []
    for name, table in metadata.tables.items():
        entry = tables.get(name)
        if entry is None:
            problems.append(f"table {name}: not in the map of personal data; add it to store/personal.py with each "
                            "column's category, or its columns as not personal")
            continue
        actual = set(table.c.keys())
        decided = set(entry.personal) | entry.not_personal
        problems += [f"{name}.{c}: neither personal (with a category) nor marked not personal in store/personal.py"
                     for c in sorted(actual - decided)]
        problems += [f"{name}.{c}: in the map but not a column" for c in sorted(decided - actual)]
        problems += [f"{name}.{c}: both personal and not personal" for c in sorted(set(entry.personal)
                                                                                    & entry.not_personal)]
        problems += [f"{name}.{c}: unknown category {cat!r} (one of {', '.join(CATEGORIES)})"
                     for c, cat in entry.personal.items() if cat not in CATEGORIES]
        if entry.personal and not entry.owner:
            problems.append(f"table {name}: holds personal data but no link says whose")
        for link in entry.owner:
            if link.column not in actual:
                problems.append(f"{name}: owner link on {link.column!r}, which is not a column")
            target, _, column = link.target.partition(".")
            if target not in metadata.tables or column not in metadata.tables[target].c:
                problems.append(f"{name}: owner link to {link.target!r}, which is not a column")
            elif target != "candidate" and not (target in tables and tables[target].owner):
                problems.append(f"{name}: owner link to {link.target!r}, a table with no owner link itself")
    problems += [f"table {name}: in the map but not a table" for name in sorted(set(tables) - set(metadata.tables))]
    return problems


def _owned(name: str, candidate: Mapping[str, Any]) -> ColumnElement[bool]:
    """The rows of a table that are the candidate's, following its links (and joins) from the candidate's row."""
    table = SQLModel.metadata.tables[name]
    clauses: list[ColumnElement[bool]] = []
    for link in TABLES[name].owner:
        target, _, column = link.target.partition(".")
        if target == "candidate":
            if candidate[column] is not None:  # no chat id yet: nothing of theirs is linked by it
                clauses.append(table.c[link.column] == candidate[column])
        else:
            other = SQLModel.metadata.tables[target]
            clauses.append(table.c[link.column].in_(select(other.c[column]).where(_owned(target, candidate))))
    return or_(false(), *clauses)


def rows_for_candidate(session: Session, candidate_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of every mapped table that belongs to the candidate, whole (all columns), by table; tables with
    none are left out, and an unknown candidate has none."""
    cand_table = SQLModel.metadata.tables["candidate"]
    row = session.execute(select(cand_table).where(cand_table.c.id == candidate_id)).mappings().one_or_none()
    if row is None:
        return {}
    candidate = dict(row)
    found: dict[str, list[dict[str, Any]]] = {}
    for name, entry in TABLES.items():
        if not entry.owner:
            continue
        table = SQLModel.metadata.tables[name]
        rows = session.execute(select(table).where(_owned(name, candidate))
                               .order_by(*table.primary_key.columns)).mappings().all()
        if rows:
            found[name] = [dict(row) for row in rows]
    return found


def candidate_files(storage_dir: Path, candidate_id: int) -> list[Path]:
    """The files a candidate sent, in the document storage folder (FILES["documents"])."""
    folder = storage_dir / str(candidate_id)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
