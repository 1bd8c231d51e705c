"""Outbox rows: queueing, claiming one for sending, and recording what happened."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.engine.core import Outgoing
from bot.engine.effects import Message, Say, buttons_from_rows, buttons_to_rows, message_from_json, message_to_json
from store.db import Database
from store.models import AuditLog, Candidate, Outbox

# What each kind of proactive message is: its priority in the queue, and whether quiet hours hold it.
# A broadcast goes after notices (an HR answer to one person is not held up by 10,000 others) and before
# nudges; it waits for morning unless HR marked it urgent (the row's own urgent flag).
KINDS = {"hr_alert": (90, True), "notice": (70, True), "message": (70, True), "broadcast": (60, False),
         "nudge": (50, False)}


def enqueue(session: Session, *, dedupe_key: str, kind: str, chat_id: int, text: str | None, now: datetime,
            candidate_id: int | None = None, buttons: list[list[dict[str, str]]] | None = None,
            priority: int | None = None, expires_at: datetime | None = None, urgent: bool | None = None,
            effect: str | None = None) -> bool:
    """Queue a message; False if a message with this dedupe key was queued before (nothing changes).

    ``urgent`` messages are sent in quiet hours too; by default a kind's own (see KINDS)."""
    if not 1 <= len(dedupe_key) <= 200:
        raise ValueError("a dedupe key is 1-200 characters")
    if session.exec(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first() is not None:
        return False
    default_priority, default_urgent = KINDS.get(kind, (50, False))
    row = Outbox(dedupe_key=dedupe_key, kind=kind, candidate_id=candidate_id, chat_id=chat_id,
                 priority=default_priority if priority is None else priority,
                 urgent=default_urgent if urgent is None else urgent, effect=effect,
                 text=text, buttons=json.dumps(buttons, ensure_ascii=False) if buttons else None, due_at=now,
                 planned_at=now, expires_at=expires_at, status="pending", next_attempt_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def enqueue_message(session: Session, message: Message, *, kind: str, now: datetime,
                    candidate_id: int | None = None, dedupe_key: str | None = None, urgent: bool | None = None,
                    priority: int | None = None) -> bool:
    """Queue an engine message (text with buttons, a photo, files ...) for the sender to deliver."""
    key = dedupe_key or f"{kind}:{uuid.uuid4().hex}"
    if isinstance(message, Say) and not (message.html or message.paid):
        return enqueue(session, dedupe_key=key, kind=kind, chat_id=message.chat_id, text=message.text, now=now,
                       candidate_id=candidate_id, buttons=buttons_to_rows(message.buttons) or None, urgent=urgent,
                       priority=priority)
    return enqueue(session, dedupe_key=key, kind=kind, chat_id=message.chat_id, text=None, now=now,
                   candidate_id=candidate_id, effect=message_to_json(message), urgent=urgent, priority=priority)


def queue_outgoing(session: Session, out: Outgoing, now: datetime) -> None:
    """The engine's hook: a turn's message for another chat becomes an outbox row in the turn's transaction."""
    enqueue_message(session, out.message, kind=out.kind, now=now, candidate_id=out.candidate_id,
                    dedupe_key=out.dedupe_key)


def message_of(row: Outbox) -> Message:
    """What a row asks to deliver, as the engine's own message type."""
    assert row.chat_id is not None
    if row.effect:
        return message_from_json(row.chat_id, row.effect)
    rows = json.loads(row.buttons) if row.buttons else None
    return Say(row.chat_id, row.text or "", buttons_from_rows(rows))


def recover(db: Database) -> int:
    """At start-up: messages left 'sending' by a killed process go back to 'pending'.

    Each of them may or may not have reached Telegram; sending it again risks one repeat, dropping it risks a
    loss. Only one message is ever in flight, so at most one can repeat.
    """
    with db.session() as session:
        result = session.execute(update(Outbox).where(col(Outbox.status) == "sending").values(status="pending"))
        return int(result.rowcount)  # type: ignore[attr-defined]


def due_rows(db: Database, now: datetime, include_held: bool, limit: int = 64) -> list[Outbox]:
    """Pending rows due now, most urgent first; ``include_held`` False (quiet hours): urgent ones only."""
    with db.session() as session:
        query = select(Outbox).where(Outbox.status == "pending", col(Outbox.next_attempt_at) <= now)
        if not include_held:
            query = query.where(col(Outbox.urgent).is_(True))
        query = query.order_by(col(Outbox.priority).desc(), col(Outbox.id)).limit(limit)
        return list(session.exec(query).all())


def set_text(db: Database, row_id: int, text: str, buttons: str | None) -> None:
    with db.session() as session:
        session.execute(update(Outbox).where(col(Outbox.id) == row_id).values(text=text, buttons=buttons))


def claim(db: Database, row_id: int) -> bool:
    """Mark one row as in flight; False if another sender took it or it changed meanwhile."""
    with db.session() as session:
        result = session.execute(update(Outbox).where(col(Outbox.id) == row_id, col(Outbox.status) == "pending")
                                 .values(status="sending", attempts=Outbox.attempts + 1))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish(db: Database, row_id: int, status: str, now: datetime, *, reason: str | None = None,
           message_id: int | None = None, next_attempt_at: datetime | None = None) -> None:
    with db.session() as session:
        values: dict[str, object] = {"status": status, "reason": reason[:300] if reason else None}
        if status == "sent":
            values.update(sent_at=now, telegram_message_id=message_id)
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        session.execute(update(Outbox).where(col(Outbox.id) == row_id).values(**values))


def mark_unreachable(db: Database, candidate_id: int | None, reason: str, now: datetime,
                     chat_id: int | None = None) -> None:
    """Telegram said 403: remember it (the at-risk list reads it) and stop planning nudges for them."""
    with db.session() as session:
        if candidate_id is None and chat_id is not None:
            candidate_id = session.exec(select(Candidate.id).where(Candidate.telegram_chat_id == chat_id)).first()
        if candidate_id is None:
            return
        session.execute(update(Candidate).where(col(Candidate.id) == candidate_id)
                        .values(unreachable_at=now, unreachable_reason=reason[:100]))
        session.add(AuditLog(at=now, actor="sender", action="unreachable", candidate_id=candidate_id,
                             detail=reason[:500]))


def mark_chat_unreachable(db: Database, chat_id: int, reason: str, now: datetime) -> None:
    """The same, for a reply that failed with 403 (we know the chat, not yet the candidate)."""
    mark_unreachable(db, None, reason, now, chat_id=chat_id)
