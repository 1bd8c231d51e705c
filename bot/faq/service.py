"""FAQ bookkeeping: the questions asked, votes, tickets for HR, risk signals, and the answer's template data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, update
from sqlmodel import Session, col, select

from store.models import Candidate, FaqQuery, RiskSignal, Ticket


def over_rate_limit(session: Session, candidate_id: int, now: datetime, count: int, seconds: int) -> bool:
    since = now - timedelta(seconds=seconds)
    asked = session.exec(
        select(func.count()).select_from(FaqQuery)
        .where(FaqQuery.candidate_id == candidate_id, col(FaqQuery.at) > since)
    ).one()
    return int(asked) >= count


def record_query(session: Session, cand: Candidate, text: str, outcome: str, now: datetime, *,
                 entry_id: str | None = None, best_id: str | None = None, score: float = 0.0) -> FaqQuery:
    assert cand.id is not None
    row = FaqQuery(candidate_id=cand.id, at=now, text=text, outcome=outcome, entry_id=entry_id, best_id=best_id,
                   score=round(score, 1))
    session.add(row)
    session.flush()
    return row


def own_query(session: Session, cand: Candidate, query_id: str) -> FaqQuery | None:
    """A query by its id from button data, only if it is this candidate's (nobody else's data leaks)."""
    if not query_id.isdigit():
        return None
    row = session.get(FaqQuery, int(query_id))
    return row if row is not None and row.candidate_id == cand.id else None


def vote(session: Session, row: FaqQuery, value: str, now: datetime) -> None:
    row.vote, row.voted_at = value, now
    session.add(row)


@dataclass(frozen=True)
class OpenedTicket:
    ticket: Ticket
    new: bool


def open_ticket(session: Session, cand: Candidate, kind: str, question: str, now: datetime,
                query: FaqQuery | None = None) -> OpenedTicket:
    """One ticket per question: tapping "ask HR" twice does not ask twice."""
    assert cand.id is not None
    if query is not None:
        existing = session.exec(select(Ticket).where(Ticket.faq_query_id == query.id)).first()
        if existing is not None:
            return OpenedTicket(existing, new=False)
    ticket = Ticket(kind=kind, candidate_id=cand.id, faq_query_id=query.id if query else None, question=question,
                    created_at=now)
    session.add(ticket)
    session.flush()
    if kind == "withdrawal":
        session.add(RiskSignal(candidate_id=cand.id, kind="withdrawal_intent", at=now, ticket_id=ticket.id))
    return OpenedTicket(ticket, new=True)


class TicketError(Exception):
    def __init__(self, key: str, **values: Any):
        super().__init__(key)
        self.key = key
        self.values = values


def answer_ticket(session: Session, ticket_ref: str, hr_user_id: int, answer: str, now: datetime,
                  visible: Callable[[Candidate | None], bool] = lambda cand: True) -> Ticket:
    """Close an open ticket with HR's answer. The conditional UPDATE makes two HR admins answering at once safe:
    the first one wins, the second is told. A ticket of a candidate outside ``visible`` is "not found"."""
    ref = ticket_ref.lstrip("#")
    if not ref.isdigit() or len(ref) > 12:
        raise TicketError("hr_ticket_not_found", ticket=ticket_ref)
    ticket = session.get(Ticket, int(ref))
    if ticket is None or not visible(session.get(Candidate, ticket.candidate_id)):
        raise TicketError("hr_ticket_not_found", ticket=ticket_ref)
    if not answer.strip():
        raise TicketError("hr_reply_usage")
    done = session.execute(
        update(Ticket).where(col(Ticket.id) == ticket.id, col(Ticket.status) == "open")
        .values(status="answered", answer=answer.strip(), answered_by=hr_user_id, answered_at=now)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(ticket)
        raise TicketError("hr_ticket_already_answered", ticket=ticket.id)
    session.refresh(ticket)
    return ticket


def open_tickets(session: Session, limit: int = 30, scope: ColumnElement[bool] | None = None
                 ) -> tuple[list[tuple[Ticket, Candidate]], int]:
    """Open tickets, oldest first (withdrawal signals are flagged, not reordered: age is the SLA), and how many;
    ``scope`` limits them to the candidates an HR member may see."""
    where = [col(Ticket.status) == "open", *([scope] if scope is not None else [])]
    total = session.exec(select(func.count()).select_from(Ticket)
                         .join(Candidate, col(Candidate.id) == Ticket.candidate_id).where(*where)).one()
    rows = session.exec(
        select(Ticket, Candidate).join(Candidate, col(Candidate.id) == Ticket.candidate_id)
        .where(*where).order_by(col(Ticket.created_at), col(Ticket.id)).limit(limit)
    ).all()
    return [(t, c) for t, c in rows], int(total)


def age_parts(created: datetime, now: datetime) -> dict[str, int]:
    minutes = max(0, int((now - created).total_seconds() // 60))
    return {"days": minutes // 1440, "hours": minutes % 1440 // 60, "minutes": minutes % 60}
