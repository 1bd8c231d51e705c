"""Erasing a candidate: every personal column and file the map of personal data (store/personal.py) names.

What stays, for the counts HR and analytics make (decided in issue 13): the candidate row itself, anonymous
(name and phone replaced by "erased-<id>", every identifier and contact emptied, `erased_at` set), with its
role, department, cohort, stage, outcome and times; and the rows of other tables that are theirs, with every
personal column emptied but their kinds, statuses and times kept (interactions, lesson progress, points, tickets,
FAQ outcomes, risk signals), still linked to the anonymous id. Deleted outright: the profile, consent records,
flow sessions (what they typed), FAQ proposals made from their words, document uploads and their files, and
messages to them not sent yet. HR alerts that named them (outbox rows to HR chats) are emptied. A table another
capability maps is emptied column by column the same way, with no change here.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, String, Table, delete, or_, select, text, update
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from bot.config import Settings
from bot.engine.notify import ABOUT
from store import personal
from store.db import Database
from store.models import AuditLog

DELETE_ROWS = frozenset({"candidateprofile", "consentrecord", "flowsession", "faqproposal", "documentupload"})
UNSENT = ("pending", "sending")
ERASED = "erased"


@dataclass
class Erasure:
    candidate_id: int
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows emptied or deleted
    files: int = 0


def _unique(table: Table, column: Column[Any]) -> bool:
    if column.unique or column.primary_key:
        return True
    return any(c.name == column.name for cons in table.constraints if cons.__class__.__name__ == "UniqueConstraint"
               for c in cons.columns)  # type: ignore[attr-defined]


def blank_values(name: str, keep: set[str]) -> dict[str, Any]:
    """What each personal column of ``name`` becomes (NULL, empty, a placeholder for unique text)."""
    table = SQLModel.metadata.tables[name]
    values: dict[str, Any] = {}
    for column_name in personal.TABLES[name].personal:
        if column_name in keep:
            continue
        column = table.c[column_name]
        if column.nullable:
            values[column_name] = None
        elif isinstance(column.type, String):
            # Unique and required: a placeholder made unique by the row's key ("erased-<key>").
            key = next(iter(table.primary_key.columns))
            values[column_name] = (ERASED + "-" + key.cast(String)) if _unique(table, column) else ""
        elif isinstance(column.type, Integer):
            values[column_name] = 0
    return values


def _links_to_candidate(name: str) -> set[str]:
    return {link.column for link in personal.TABLES[name].owner if link.target == "candidate.id"}


def hr_chats(session: Session, settings: Settings) -> set[int]:
    ids = set(settings.file.hr_admins)
    ids |= {int(r[0]) for r in session.execute(text("SELECT telegram_id FROM hrmember")).all()}
    return ids


def _typed_texts(session: Session, candidate: dict[str, Any]) -> list[str]:
    """What the candidate typed that HR alerts quote (their questions): the first 40 characters of each."""
    found: list[str] = []
    for name in ("faqquery", "ticket"):
        if name not in personal.TABLES:
            continue
        table = SQLModel.metadata.tables[name]
        column = table.c["text" if name == "faqquery" else "question"]
        rows = session.execute(select(column).where(personal._owned(name, candidate))).all()  # noqa: SLF001
        found += [r[0][:40] for r in rows if r[0] and len(r[0].strip()) >= 4]
    return list(dict.fromkeys(found))


def erase_candidate(session: Session, settings: Settings, candidate_id: int, now: datetime, actor: str,
                    sweep: bool = True) -> Erasure | None:
    """Erase in this session's transaction; the files go once the caller commits (see `erase`). ``sweep``: also
    scan HR's outbox rows for their name and words (an erasure asked for; the retention job skips it)."""
    cand_table = SQLModel.metadata.tables["candidate"]
    found = session.execute(select(cand_table).where(cand_table.c.id == candidate_id)).mappings().one_or_none()
    if found is None:
        return None
    candidate = dict(found)
    result = Erasure(candidate_id)
    typed = _typed_texts(session, candidate) if sweep else []  # for finding HR alerts that quote them
    # Dependent tables first (a proposal before the ticket it names), each while the candidate's row still says
    # whose rows are whose.
    for table in reversed(SQLModel.metadata.sorted_tables):
        name = table.name
        entry = personal.TABLES.get(name)
        if name == "candidate" or entry is None or not entry.owner:
            continue
        mine = personal._owned(name, candidate)  # noqa: SLF001 - the map's own rule for "theirs"
        if name in DELETE_ROWS:
            done = session.execute(delete(table).where(mine))
        elif name == "outbox":
            gone = session.execute(delete(table).where(mine, table.c.status.in_(UNSENT)))
            done = session.execute(update(table).where(mine).values(
                **blank_values(name, _links_to_candidate(name) | {"dedupe_key"}),
                dedupe_key=ERASED + "-outbox-" + table.c.id.cast(String)))
            result.rows["outbox_dropped"] = int(gone.rowcount)  # type: ignore[attr-defined]
        elif name == "auditlog":
            # The action stays (who did what, when); what it said about them goes, and so does their own id.
            done = session.execute(update(table).where(mine).values(detail=None))
            if candidate["telegram_user_id"] is not None:
                session.execute(update(table).where(mine, table.c.actor == f"telegram:{candidate['telegram_user_id']}")
                                .values(actor=ERASED))
        else:
            values = blank_values(name, _links_to_candidate(name))
            if not values:
                continue
            done = session.execute(update(table).where(mine).values(**values))
        count = int(done.rowcount)  # type: ignore[attr-defined]
        if count:
            result.rows[name] = count
    # HR alerts about them (bot/engine/notify.py keys each with their id): dropped if unsent, emptied if sent.
    outbox = SQLModel.metadata.tables["outbox"]
    about = (outbox.c.dedupe_key >= f"{ABOUT}{candidate_id}:", outbox.c.dedupe_key < f"{ABOUT}{candidate_id};")
    session.execute(delete(outbox).where(*about, outbox.c.status.in_(UNSENT)))
    done = session.execute(update(outbox).where(*about).values(
        text=None, effect=None, buttons=None, dedupe_key=ERASED + "-outbox-" + outbox.c.id.cast(String)))
    result.rows["outbox_to_hr"] = int(done.rowcount)  # type: ignore[attr-defined]
    # And, for an erasure someone asked for, any other row to an HR chat that names them or quotes what they
    # typed (alerts queued before the key named the candidate, HR's own notes): a text scan of HR's rows.
    needles = [v for v in (candidate["name"], candidate["phone"], candidate["external_id"], candidate["email"],
                           *typed) if v and len(v) >= 2]
    chats = hr_chats(session, settings) if sweep else set()
    if needles and chats:
        named = or_(*[c.contains(n, autoescape=True) for n in needles for c in (outbox.c.text, outbox.c.effect)])
        about = (outbox.c.chat_id.in_(chats), named)
        session.execute(delete(outbox).where(*about, outbox.c.status.in_(UNSENT)))
        done = session.execute(update(outbox).where(*about).values(text=None, effect=None, buttons=None))
        result.rows["outbox_to_hr"] += int(done.rowcount)  # type: ignore[attr-defined]
    keep = {"id"}
    placeholder = f"{ERASED}-{candidate_id}"
    values = blank_values("candidate", keep)
    # updated_at: HR's /find keeps names in memory and re-reads the rows changed since its last look.
    values.update(name=placeholder, phone=placeholder, erased_at=now, hr_reply_to=None, updated_at=now)
    session.execute(update(cand_table).where(cand_table.c.id == candidate_id).values(**values))
    result.rows["candidate"] = 1
    session.add(AuditLog(at=now, actor=actor, action="erase", candidate_id=candidate_id))
    return result


def erase_files(settings: Settings, candidate_id: int) -> int:
    """The candidate's files (FILES in the map): their document folder, their /mydata copies, and the candidate
    lists HR exported (they name everyone; a new export is made on demand)."""
    storage = settings.storage_dir
    removed = len(personal.candidate_files(storage, candidate_id))
    shutil.rmtree(storage / str(candidate_id), ignore_errors=True)
    exports = storage / "exports"
    if exports.is_dir():
        for path in list(exports.glob(f"mydata-{candidate_id}-*")) + list(exports.glob("candidates-*")):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def compact(db: Database) -> None:
    """SQLite keeps old pages in its write-ahead log until a checkpoint: fold it in now (deleted content is
    overwritten, `secure_delete` is on)."""
    if make_url(db.url).get_backend_name() == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def erase(db: Database, settings: Settings, candidate_id: int, now: datetime, actor: str) -> Erasure | None:
    """Erase one candidate: the database in one transaction, then their files."""
    with db.session() as session:
        result = erase_candidate(session, settings, candidate_id, now, actor)
    if result is None:
        return None
    result.files = erase_files(settings, candidate_id)
    compact(db)
    return result


def storage_root(settings: Settings) -> Path:
    return settings.storage_dir
