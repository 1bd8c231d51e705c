"""Cohort groups, feedback and the Q&A board: what is decided and stored, for chat handlers and scheduled jobs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.engine.effects import Say
from bot.engine.notify import HrNotifier
from bot.engine.staff import StaffDirectory
from bot.groups.scrub import Scrubber
from bot.i18n import Texts
from bot.outbox.store import enqueue_message
from bot.outbox.transport import DeliveryError
from store.db import Database
from store.models import AuditLog, Candidate, CohortGroup, GroupJoin, GroupRemoval, Outbox, Ticket

log = logging.getLogger(__name__)

CATEGORIES = ("training", "dorm", "pay", "process", "other")
BOARD_PAGE = 5
NEWS_RULE = "friday_news"  # the weekly company update of flows/nudges.yaml, posted once to each linked group


# -- cohort groups ------------------------------------------------------------------------------------------------
def group_of_cohort(session: Session, cohort_id: str | None) -> CohortGroup | None:
    return session.get(CohortGroup, cohort_id) if cohort_id else None


def said_lately(session: Session, chat_id: int, now: datetime) -> int:
    """How many messages the bot queued for a chat in the last minute (its answers, welcomes and news alike)."""
    return int(session.exec(select(func.count()).select_from(Outbox).where(
        Outbox.chat_id == chat_id, col(Outbox.planned_at) > now - timedelta(minutes=1))).one())


def group_of_chat(session: Session, chat_id: int) -> CohortGroup | None:
    return session.exec(select(CohortGroup).where(CohortGroup.chat_id == chat_id)).first()


@dataclass(frozen=True)
class JoinDecision:
    approve: bool
    reason: str  # approved | not_linked | stranger | withdrawn | other_cohort
    candidate: Candidate | None = None
    group: CohortGroup | None = None


def decide_join(session: Session, chat_id: int, user_id: int) -> JoinDecision:
    """Who may join a cohort group: a candidate bound to this Telegram account, of the group's cohort, not
    withdrawn. Anyone else is declined."""
    group = group_of_chat(session, chat_id)
    cand = session.exec(select(Candidate).where(Candidate.telegram_user_id == user_id)).first()
    if group is None:
        return JoinDecision(False, "not_linked", cand)
    if cand is None:
        return JoinDecision(False, "stranger", None, group)
    if cand.outcome == "withdrawn" or cand.stage == "withdrawn":
        return JoinDecision(False, "withdrawn", cand, group)
    if cand.cohort_id != group.cohort_id:
        return JoinDecision(False, "other_cohort", cand, group)
    return JoinDecision(True, "approved", cand, group)


def record_join(session: Session, group: CohortGroup, cand: Candidate, now: datetime) -> tuple[int, bool]:
    """N for "the Nth colleague to join" (members let in so far for the cohort, this one included), and whether
    they joined before (coming back keeps their number)."""
    assert cand.id is not None
    row = session.exec(select(GroupJoin).where(GroupJoin.cohort_id == group.cohort_id,
                                               GroupJoin.candidate_id == cand.id)).first()
    if row is not None:
        return row.number, True
    count = session.exec(select(func.count()).select_from(GroupJoin)
                         .where(GroupJoin.cohort_id == group.cohort_id)).one()
    row = GroupJoin(cohort_id=group.cohort_id, candidate_id=cand.id, number=int(count) + 1, joined_at=now)
    session.add(row)
    session.flush()
    return row.number, False


def queue_removal(session: Session, cand: Candidate, now: datetime) -> bool:
    """A withdrawn candidate is taken out of their cohort's group by the scheduled job (the console's outcome
    hook). Nothing to do when the cohort has no group or they never linked Telegram."""
    group = group_of_cohort(session, cand.cohort_id)
    if group is None or cand.telegram_user_id is None or cand.id is None:
        return False
    session.add(GroupRemoval(candidate_id=cand.id, chat_id=group.chat_id, created_at=now))
    session.add(AuditLog(at=now, actor="groups", action="group_remove_queued", candidate_id=cand.id,
                         detail=f"cohort={group.cohort_id}"))
    return True


async def run_removals(db: Database, api: Any, now: datetime) -> int:
    """Ban and unban each pending removal (they may rejoin through the link if reinstated). Returns how many."""
    def pending() -> list[tuple[int, int, int | None]]:
        with db.session() as s:
            rows = s.exec(select(GroupRemoval, Candidate)
                          .join(Candidate, col(Candidate.id) == GroupRemoval.candidate_id)
                          .where(GroupRemoval.status == "pending").order_by(col(GroupRemoval.id)).limit(50)).all()
            return [(r.id or 0, r.chat_id, c.telegram_user_id) for r, c in rows]

    def finish(row_id: int, status: str, reason: str | None) -> None:
        with db.session() as s:
            s.execute(update(GroupRemoval).where(col(GroupRemoval.id) == row_id)
                      .values(status=status, done_at=now, reason=reason[:200] if reason else None))

    done = 0
    for row_id, chat_id, user_id in await asyncio.to_thread(pending):
        if user_id is None:
            await asyncio.to_thread(finish, row_id, "done", "not linked to Telegram")
            continue
        try:
            await api.remove(chat_id, user_id)
        except DeliveryError as exc:
            # A member who already left, or a group the bot was taken out of: nothing more to do.
            await asyncio.to_thread(finish, row_id, "failed", exc.reason)
            continue
        await asyncio.to_thread(finish, row_id, "done", None)
        done += 1
    return done


def queue_weekly_news(db: Database, settings: Settings, texts: Texts, rules: Any, now: datetime) -> int:
    """The weekly company update (the Friday news rule of flows/nudges.yaml) posted once in each linked group,
    from its due time on the day it falls due: one message per group, not one per member."""
    rule = next((r for r in getattr(rules, "rules", []) if r.id == NEWS_RULE), None)
    if rule is None or rule.kind != "weekly" or rule.at is None:
        return 0
    tz = settings.tz
    local = now.astimezone(tz)
    hh, mm = (int(x) for x in rule.at.split(":"))
    if local.weekday() != rule.param or (local.hour, local.minute) < (hh, mm):
        return 0
    day = local.date().isoformat()
    locale = settings.default_locale
    text = texts.get(locale, rule.message, company=settings.file.company.name[locale], name="", stage="",
                     todo="", department="", role="", cohort="", days_left="")
    queued = 0
    with db.session() as s:
        for group in s.exec(select(CohortGroup)).all():
            if enqueue_message(s, Say(group.chat_id, text), kind="message", now=now, urgent=False,
                               dedupe_key=f"groupnews:{group.cohort_id}:{day}"):
                queued += 1
    return queued


# -- feedback -----------------------------------------------------------------------------------------------------
def feedback_due(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(hours=settings.file.feedback.answer_hours)


def hide_who(settings: Settings, ticket: Ticket) -> bool:
    """HR does not see who sent it: anonymous feedback, when the company says so (feedback.anonymous_to_hr)."""
    return settings.sender_hidden(ticket.kind, ticket.anonymous)


def feedback_tick(db: Database, settings: Settings, texts: Texts, now: datetime) -> tuple[int, int]:
    """The 24-hour promise: unanswered feedback is reminded to HR in scope at 20 h, and at 24 h every admin is
    alerted and the ticket marked overdue. Returns (reminded, escalated). Driven by the clock (time travel)."""
    policy = settings.file.feedback
    staff = StaffDirectory(settings)
    notifier = HrNotifier(settings, texts, staff)
    reminded = escalated = 0
    with db.session() as s:
        remind_before = now + timedelta(hours=policy.answer_hours - policy.remind_hours)
        rows = s.exec(select(Ticket).where(Ticket.kind == "feedback", Ticket.status == "open",
                                           col(Ticket.due_at).is_not(None), col(Ticket.due_at) <= remind_before)
                      .order_by(col(Ticket.id))).all()
        for ticket in rows:
            cand = s.get(Candidate, ticket.candidate_id)
            assert ticket.due_at is not None and ticket.id is not None
            if ticket.due_at <= now and ticket.escalated_at is None:
                admins = [p for p in staff.everyone(s) if p.role == "admin"]
                for person in admins:
                    msg = Say(person.telegram_id, texts.get(settings.default_locale, "feedback_hr_overdue",
                                                            **_ticket_values(settings, texts, settings.default_locale,
                                                                             ticket, cand)))
                    enqueue_message(s, msg, kind="hr_alert", now=now,
                                    dedupe_key=f"feedback:overdue:{ticket.id}:{person.telegram_id}")
                ticket.escalated_at = now
                if ticket.reminded_at is None:
                    ticket.reminded_at = now
                s.add(AuditLog(at=now, actor="scheduler", action="feedback_overdue", candidate_id=ticket.candidate_id,
                               detail=f"ticket {ticket.id} admins={len(admins)}"))
                escalated += 1
            elif ticket.reminded_at is None and ticket.due_at > now:
                for r in notifier.recipients(s, cand):
                    msg = Say(r.chat_id, texts.get(r.locale, "feedback_hr_reminder",
                                                   **_ticket_values(settings, texts, r.locale, ticket, cand)))
                    enqueue_message(s, msg, kind="hr_alert", now=now,
                                    dedupe_key=f"feedback:remind:{ticket.id}:{r.chat_id}")
                ticket.reminded_at = now
                reminded += 1
            s.add(ticket)
    return reminded, escalated


def _ticket_values(settings: Settings, texts: Texts, locale: str, ticket: Ticket,
                   cand: Candidate | None) -> dict[str, Any]:
    """What HR reads about a feedback ticket (the name hidden when HR may not see who sent it)."""
    hidden = hide_who(settings, ticket) or cand is None
    dept = settings.departments.get(cand.department) if cand else None
    cohort = settings.cohorts.get(cand.cohort_id or "") if cand else None
    due = ticket.due_at.astimezone(settings.tz) if ticket.due_at else None
    return {"ticket": ticket.id, "name": None if hidden else cand.name if cand else None,
            "candidate_id": None if hidden or cand is None else cand.id,
            "department": dept.name[locale] if dept else "", "cohort": cohort.name[locale] if cohort else "",
            "category": texts.get(locale, f"feedback_cat_{ticket.category or 'other'}"),
            "anonymous": ticket.anonymous, "text": ticket.question,
            "due": f"{texts.format_date(locale, due.date())} {due:%H:%M}" if due else ""}


ticket_values = _ticket_values


# -- the Q&A board ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BoardItem:
    ticket_id: int
    question: str
    answer: str
    answered_at: datetime


def board(session: Session, cohort_id: str, page: int, scope: Any = None) -> tuple[list[BoardItem], int]:
    """Questions HR answered for a cohort (not feedback, not withdrawal signals), newest first, scrubbed of names,
    phone numbers, ID numbers and e-mail addresses; and how many there are."""
    where = [Ticket.kind == "question", Ticket.status == "answered", col(Ticket.board_hidden_at).is_(None),
             Candidate.cohort_id == cohort_id, *([scope] if scope is not None else [])]
    total = int(session.exec(select(func.count()).select_from(Ticket)
                             .join(Candidate, col(Candidate.id) == Ticket.candidate_id).where(*where)).one())
    rows = session.exec(select(Ticket).join(Candidate, col(Candidate.id) == Ticket.candidate_id).where(*where)
                        .order_by(col(Ticket.answered_at).desc(), col(Ticket.id).desc())
                        .offset(page * BOARD_PAGE).limit(BOARD_PAGE)).all()
    if not rows:
        return [], total
    names = session.exec(select(Candidate.name).where(Candidate.cohort_id == cohort_id)).all()
    askers = session.exec(select(Candidate.name).where(
        col(Candidate.id).in_({t.candidate_id for t in rows}))).all()
    scrub = Scrubber([*names, *askers])
    return [BoardItem(t.id or 0, scrub(t.question), scrub(t.answer or ""), t.answered_at or t.created_at)
            for t in rows], total
