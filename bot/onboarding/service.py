"""Binding rules. Every refusal is the same few sentences, so a stranger learns nothing about anyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.onboarding.invites import TOKEN_SHAPE, hash_token
from bot.phones import normalize_phone
from store.models import AuditLog, Candidate, DepartmentCounter, Interaction


@dataclass(frozen=True)
class BindResult:
    outcome: str  # bound | invalid | expired | not_yours | unknown
    candidate: Candidate | None = None


def _claim(session: Session, candidate: Candidate, user_id: int, chat_id: int, now: datetime,
           token_hash: str | None) -> bool:
    """Bind atomically: the row changes only if nobody bound it (or used the token) in the meantime."""
    stmt = (
        update(Candidate)
        .where(col(Candidate.id) == candidate.id, col(Candidate.telegram_user_id).is_(None))
        .values(telegram_user_id=user_id, telegram_chat_id=chat_id, bound_at=now, invite_token_hash=None,
                updated_at=now)
    )
    if token_hash is not None:
        stmt = stmt.where(col(Candidate.invite_token_hash) == token_hash)
    result = session.execute(stmt)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(candidate)
    candidate.welcome_number = _next_in_department(session, candidate.department)
    session.add(candidate)
    session.add(AuditLog(at=now, actor=f"telegram:{user_id}", action="bind", candidate_id=candidate.id))
    assert candidate.id is not None
    session.add(Interaction(candidate_id=candidate.id, kind="event", detail="bound", at=now))
    return True


def _next_in_department(session: Session, department: str) -> int:
    """Increment under the row's write lock, so two people joining at once get different numbers."""
    result = session.execute(
        update(DepartmentCounter)
        .where(col(DepartmentCounter.department) == department)
        .values(joined=DepartmentCounter.joined + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(DepartmentCounter(department=department, joined=1))
        session.flush()
        return 1
    row = session.get(DepartmentCounter, department, populate_existing=True)
    assert row is not None
    return row.joined


def bind_by_token(session: Session, token: str, user_id: int, chat_id: int, now: datetime) -> BindResult:
    if not TOKEN_SHAPE.match(token):
        return BindResult("invalid")
    token_hash = hash_token(token)
    candidate = session.exec(select(Candidate).where(Candidate.invite_token_hash == token_hash)).first()
    if candidate is None or candidate.telegram_user_id is not None:
        return BindResult("invalid")
    if candidate.invite_expires_at is None or candidate.invite_expires_at <= now:
        return BindResult("expired")
    if not _claim(session, candidate, user_id, chat_id, now, token_hash):
        return BindResult("invalid")
    return BindResult("bound", candidate)


def bind_by_contact(session: Session, phone: str | None, contact_user_id: int | None, user_id: int,
                    chat_id: int, now: datetime, region: str) -> BindResult:
    if contact_user_id != user_id:
        return BindResult("not_yours")
    normalized = normalize_phone(phone or "", region)
    if normalized is None:
        return BindResult("unknown")
    candidate = session.exec(select(Candidate).where(Candidate.phone == normalized)).first()
    if candidate is None or candidate.telegram_user_id is not None:
        return BindResult("unknown")
    if not _claim(session, candidate, user_id, chat_id, now, None):
        return BindResult("unknown")
    return BindResult("bound", candidate)
