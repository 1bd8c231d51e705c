"""Retention: what has been kept longer than config.yaml's `privacy.retention` allows is anonymised (candidates,
through the same erasure as /delete_my_data) or deleted (operational rows), in small batches, each its own short
transaction, so that handling messages never waits long for the database. Each run records how many rows of
each kind went (auditlog, action "retention"). `hrbot retention preview` shows what would go, and when."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, func, select
from sqlmodel import Session, SQLModel

from bot.config import Settings
from bot.privacy.erase import erase_candidate, erase_files
from store.db import Database
from store.models import AuditLog

ACTOR = "retention"


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    action: str  # delete | anonymise
    days: Callable[[Settings], int]
    expired: Callable[[Table, datetime, int], ColumnElement[bool]]  # (table, now, days) -> rows due
    when: Callable[[Table], Any]  # the time a row's clock starts from (for the preview)


def _older(column: str, extra: Callable[[Table], ColumnElement[bool]] | None = None
           ) -> Callable[[Table, datetime, int], ColumnElement[bool]]:
    def clause(t: Table, now: datetime, days: int) -> ColumnElement[bool]:
        cond = t.c[column] < now - timedelta(days=days)
        return and_(cond, extra(t)) if extra else cond
    return clause


def _training(t: Table, now: datetime, days: int) -> ColumnElement[bool]:
    cohort = SQLModel.metadata.tables["cohort"]
    started = select(cohort.c.id).where(cohort.c.training_date < (now - timedelta(days=days)).date())
    return and_(t.c.erased_at.is_(None), t.c.cohort_id.in_(started))


def _withdrawn(t: Table, now: datetime, days: int) -> ColumnElement[bool]:
    return and_(t.c.erased_at.is_(None), t.c.outcome == "withdrawn", t.c.outcome_at < now - timedelta(days=days))


def _r(name: str) -> Callable[[Settings], int]:
    return lambda s: int(getattr(s.file.privacy.retention, name))


FINISHED = ("sent", "failed", "dropped", "skipped")
KINDS: tuple[Kind, ...] = (
    Kind("candidates_after_training", "candidate", "anonymise", _r("after_training_days"), _training,
         lambda t: t.c.cohort_id),
    Kind("candidates_after_withdrawal", "candidate", "anonymise", _r("after_withdrawal_days"), _withdrawn,
         lambda t: t.c.outcome_at),
    Kind("processed_updates", "processedupdate", "delete", _r("processed_updates_days"), _older("processed_at"),
         lambda t: t.c.processed_at),
    Kind("interactions", "interaction", "delete", _r("interactions_days"), _older("at"), lambda t: t.c.at),
    Kind("outbox", "outbox", "delete", _r("outbox_days"),
         _older("planned_at", lambda t: t.c.status.in_(FINISHED)), lambda t: t.c.planned_at),
    Kind("faq_queries", "faqquery", "delete", _r("faq_queries_days"), _older("at"), lambda t: t.c.at),
    Kind("flow_sessions", "flowsession", "delete", _r("flow_sessions_days"),
         _older("updated_at", lambda t: t.c.status == "done"), lambda t: t.c.updated_at),
    Kind("risk_signals", "risksignal", "delete", _r("risk_signals_days"), _older("at"), lambda t: t.c.at),
    Kind("documents", "documentupload", "delete", _r("documents_days"),
         _older("decided_at", lambda t: t.c.status.in_(("approved", "rejected"))), lambda t: t.c.decided_at),
)


def _unreferenced(table: Table) -> list[ColumnElement[bool]]:
    """Rows no other table's foreign key points at (a ticket's FAQ query stays while the ticket does)."""
    clauses: list[ColumnElement[bool]] = []
    for other in SQLModel.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is table and other is not table:
                clauses.append(fk.column.not_in(select(fk.parent).where(fk.parent.is_not(None))))
    return clauses


def due(session: Session, kind: Kind, settings: Settings, now: datetime) -> int:
    t = SQLModel.metadata.tables[kind.table]
    where = [kind.expired(t, now, kind.days(settings))]
    if kind.action == "delete":
        where += _unreferenced(t)
    return int(session.execute(select(func.count()).select_from(t).where(*where)).scalar() or 0)


@dataclass
class RetentionRun:
    counts: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    longest_ms: float = 0.0  # the longest single transaction
    longest_by_kind: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def run(db: Database, settings: Settings, now: datetime, *, pause: float = 0.005, max_ms: float = 50.0
        ) -> RetentionRun:
    """Anonymise or delete what expired, batch by batch. A batch that took longer than ``max_ms`` halves the
    next one's size (a quick one doubles it again, up to `batch`); ``pause`` between batches lets the handlers'
    own writes in."""
    started = time.perf_counter()
    result = RetentionRun()
    size0 = settings.file.privacy.retention.batch
    for kind in KINDS:
        t = SQLModel.metadata.tables[kind.table]
        pk = next(iter(t.primary_key.columns))
        days = kind.days(settings)
        size = size0 if kind.action == "delete" else 1  # one erasure per transaction
        count = 0
        after: Any = None  # walk the table once, by key: each batch starts where the last one ended
        while True:
            t0 = time.perf_counter()
            with db.session() as session:
                where = [kind.expired(t, now, days)]
                if kind.action == "delete":
                    where += _unreferenced(t)
                if after is not None:
                    where.append(pk > after)
                ids = [r[0] for r in session.execute(select(pk).where(*where).order_by(pk).limit(size)).all()]
                if not ids:
                    break
                after = ids[-1]
                if kind.action == "anonymise":
                    for cid in ids:
                        erase_candidate(session, settings, cid, now, actor=ACTOR, sweep=False)
                else:
                    if kind.table == "documentupload":
                        paths = [r[0] for r in session.execute(select(t.c.stored_path).where(pk.in_(ids)))]
                    session.execute(delete(t).where(pk.in_(ids)))
            took = (time.perf_counter() - t0) * 1000
            if kind.action == "anonymise":
                for cid in ids:
                    erase_files(settings, cid)
            elif kind.table == "documentupload":
                for rel in paths:
                    (settings.storage_dir / rel).unlink(missing_ok=True)
            result.longest_ms = max(result.longest_ms, took)
            result.longest_by_kind[kind.name] = max(result.longest_by_kind.get(kind.name, 0.0), took)
            result.batches += 1
            count += len(ids)
            if took > max_ms and size > 1:
                size = max(1, size // 2)
            elif took < max_ms / 4 and kind.action == "delete":
                size = min(size0, size * 2)  # the database is quick again: back up to the configured size
            if pause:
                time.sleep(pause)
        if count:
            result.counts[kind.name] = count
    _expire_copies(settings, now)
    with db.session() as session:
        session.add(AuditLog(at=now, actor=ACTOR, action="retention",
                             detail=json.dumps(result.counts, sort_keys=True)[:500]))
    result.seconds = time.perf_counter() - started
    return result


def _expire_copies(settings: Settings, now: datetime) -> None:
    """/mydata copies are for the moment they are sent: gone after a day."""
    folder = settings.storage_dir / "exports"
    if folder.is_dir():
        limit = now.timestamp() - 86400
        for path in folder.glob("mydata-*.json"):
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)


def last_run(session: Session) -> datetime | None:
    audit = SQLModel.metadata.tables["auditlog"]
    value = session.execute(select(func.max(audit.c.at)).where(audit.c.action == "retention",
                                                               audit.c.actor == ACTOR)).scalar()
    return value if isinstance(value, datetime) else None


def is_due(db: Database, settings: Settings, now: datetime) -> bool:
    """Once a day, at or after `run_at` company time (under time travel too: `now` is the clock's)."""
    local = now.astimezone(settings.tz)
    hh, mm = (int(x) for x in settings.file.privacy.retention.run_at.split(":"))
    if (local.hour, local.minute) < (hh, mm):
        return False
    with db.session() as session:
        last = last_run(session)
    if last is None:
        return True
    if last.tzinfo is None:
        from datetime import UTC
        last = last.replace(tzinfo=UTC)
    return last.astimezone(settings.tz).date() < local.date()


def preview(db: Database, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Per kind: what goes now, within 7 and 30 days, and the cut-off in force."""
    out = []
    with db.session() as session:
        for kind in KINDS:
            days = kind.days(settings)
            out.append({"kind": kind.name, "table": kind.table, "action": kind.action, "keep_days": days,
                        "cutoff": (now - timedelta(days=days)).isoformat(),
                        "due_now": due(session, kind, settings, now),
                        "due_within_7_days": due(session, kind, settings, now + timedelta(days=7)),
                        "due_within_30_days": due(session, kind, settings, now + timedelta(days=30))})
    return out
