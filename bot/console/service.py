"""What the HR console does, for chat and CLI alike: outcomes, 1:1 messages, and the candidate card's data."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.hr.service import HrError, set_stage
from bot.i18n import Texts
from bot.learning import points as ledger
from bot.status.service import local_today, task_lines
from store.models import AuditLog, Candidate, HrMember, HrMessage, LessonProgress, Ticket

OUTCOMES = ("attended", "withdrawn")
WITHDRAWN_STAGE = "withdrawn"  # config.yaml's side exit; marking withdrawn moves there when it exists
MAX_TEXT = 4096  # Telegram's limit for one message
_REASON_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Extension point: what else happens, in the same transaction, when a candidate is marked withdrawn (the cohort
# group removes them). Capabilities are registered by name from bot/app.py, so the console imports none of them.
OnWithdrawn = Callable[[Session, Candidate, datetime], object]
on_withdrawn: dict[str, OnWithdrawn] = {}


def reason_ids(texts: Texts) -> list[str]:
    """The reasons HR picks from (content/<locale>/console.yaml: withdraw_reasons)."""
    return list(texts.raw(texts.default_locale, "withdraw_reasons"))


def reason_label(texts: Texts, locale: str, reason: str | None) -> str | None:
    if not reason:
        return None
    return str(texts.raw(locale, "withdraw_reasons").get(reason, reason))  # free text from the CLI, as given


@dataclass(frozen=True)
class Marked:
    candidate: Candidate
    changed: bool
    stage: str | None  # the stage it moved to, if marking moved it


def mark(session: Session, settings: Settings, cand: Candidate, outcome: str, reason: str | None, actor: str,
         now: datetime) -> Marked:
    """Record an outcome (audited). Withdrawn moves the candidate to the withdrawn stage, if config has one."""
    if outcome not in OUTCOMES:
        raise HrError("outcome_unknown", outcome=outcome)
    reason = (reason or "").strip()[:200] or None
    if outcome == "attended":
        reason = None
    if cand.outcome == outcome and cand.outcome_reason == reason:
        return Marked(cand, False, None)
    cand.outcome, cand.outcome_reason, cand.outcome_at, cand.outcome_by = outcome, reason, now, actor
    cand.updated_at = now
    session.add(cand)
    # A reason from the list is an id; free text (from the CLI) is not copied into the audit log.
    shown = reason if reason is None or _REASON_ID.fullmatch(reason) else "(free text)"
    session.add(AuditLog(at=now, actor=actor, action="mark_outcome", candidate_id=cand.id,
                         detail=outcome if shown is None else f"{outcome} reason={shown}"))
    if outcome == "withdrawn":
        for hook in on_withdrawn.values():
            hook(session, cand, now)
    stage = None
    if outcome == "withdrawn" and WITHDRAWN_STAGE in settings.stages:
        if set_stage(session, settings, cand, WITHDRAWN_STAGE, actor, now).changed:
            stage = WITHDRAWN_STAGE
    return Marked(cand, True, stage)


@dataclass(frozen=True)
class CohortPlan:
    cohort: str
    to_mark: list[Candidate]
    excepted: list[Candidate]
    skipped: int  # already have an outcome: left as they are


def cohort_plan(session: Session, cohort: str, excepted: set[int], scope: ColumnElement[bool] | None) -> CohortPlan:
    """Who "everyone present except ..." marks in a cohort (within the HR member's scope). Raises HrError for an
    exception that is not a candidate of the cohort."""
    query = select(Candidate).where(Candidate.cohort_id == cohort)
    if scope is not None:
        query = query.where(scope)
    members = list(session.exec(query.order_by(col(Candidate.id))).all())
    ids = {c.id for c in members}
    for ref in sorted(excepted):
        if ref not in ids:
            raise HrError("attended_bad_except", ref=str(ref), cohort=cohort, name="")
    to_mark = [c for c in members if c.id not in excepted and c.outcome is None]
    skipped = sum(1 for c in members if c.id not in excepted and c.outcome is not None)
    return CohortPlan(cohort, to_mark, [c for c in members if c.id in excepted], skipped)


def mark_cohort(session: Session, settings: Settings, plan: CohortPlan, actor: str, now: datetime,
                request: int | None = None) -> int:
    """Mark the plan's candidates attended; one summary audit row (naming the chat request it confirms)."""
    for cand in plan.to_mark:
        mark(session, settings, cand, "attended", None, actor, now)
    session.add(AuditLog(at=now, actor=actor, action="mark_cohort_attended",
                         detail=f"request={request if request is not None else '-'} cohort={plan.cohort} "
                                f"marked={len(plan.to_mark)} "
                                f"except={','.join(str(c.id) for c in plan.excepted) or '-'}"))
    return len(plan.to_mark)


def parse_ids(text: str) -> set[int] | None:
    """"12,15 17" -> {12, 15, 17}; None if something is not an id."""
    out = set()
    for part in text.replace(",", " ").replace(",", " ").split():
        part = part.lstrip("#")
        if not part.isdigit() or len(part) > 12:
            return None
        out.add(int(part))
    return out


# -- 1:1 messages -------------------------------------------------------------------------------------------------
def hr_name(session: Session, hr_id: int) -> str | None:
    row = session.get(HrMember, hr_id)
    return row.name if row is not None and row.name else None


def record_message(session: Session, cand: Candidate, hr_id: int, direction: str, text: str,
                   now: datetime) -> HrMessage:
    assert cand.id is not None
    row = HrMessage(candidate_id=cand.id, hr_id=hr_id, direction=direction, text=text, at=now)
    session.add(row)
    session.flush()
    return row


# -- the card -----------------------------------------------------------------------------------------------------
def _when(settings: Settings, texts: Texts, locale: str, at: datetime | None) -> str | None:
    if at is None:
        return None
    local = at.astimezone(settings.tz)
    return f"{texts.format_date(locale, local.date())} {local:%H:%M}"


def card_values(settings: Settings, texts: Texts, session: Session, cand: Candidate, now: datetime, locale: str,
                lesson_titles: dict[str, dict[str, str]], thread: int = 5) -> dict[str, object]:
    assert cand.id is not None
    stage = settings.stages.get(cand.stage)
    cohort = settings.cohorts.get(cand.cohort_id or "")
    dept = settings.departments.get(cand.department)
    role = settings.roles.get(cand.role)
    today = local_today(settings, now)
    lessons = [{"title": lesson_titles.get(p.lesson_id, {}).get(locale, p.lesson_id), "best": p.best_correct,
                "questions": p.questions, "attempts": p.attempts, "passed": p.passed_at is not None}
               for p in session.exec(select(LessonProgress).where(LessonProgress.candidate_id == cand.id)
                                     .order_by(col(LessonProgress.lesson_id))).all()]
    # Anonymous feedback HR may not trace back (feedback.anonymous_to_hr) is not shown as this candidate's.
    tickets = [{"id": t.id, "question": _short(t.question, 80)}
               for t in session.exec(select(Ticket).where(Ticket.candidate_id == cand.id, Ticket.status == "open")
                                     .order_by(col(Ticket.id))).all()
               if not settings.sender_hidden(t.kind, t.anonymous)]
    rows = session.exec(select(HrMessage).where(HrMessage.candidate_id == cand.id)
                        .order_by(col(HrMessage.id).desc()).limit(thread)).all()
    names: dict[int, str] = {}
    messages = []
    for m in reversed(rows):
        if m.hr_id not in names:
            names[m.hr_id] = hr_name(session, m.hr_id) or "HR"
        messages.append({"out": m.direction == "out", "at": _when(settings, texts, locale, m.at),
                         "who": names[m.hr_id] if m.direction == "out" else cand.name, "text": _short(m.text, 200)})
    return {
        "id": cand.id, "name": cand.name, "external_id": cand.external_id, "phone": cand.phone,
        "role": role.name[locale] if role else cand.role,
        "department": dept.name[locale] if dept else cand.department,
        "stage": stage.label[locale] if stage else cand.stage,
        "cohort": cohort.name[locale] if cohort else None,
        "training_date": texts.format_date(locale, cohort.training_date) if cohort else None,
        "days_left": (cohort.training_date - today).days if cohort else None,
        "outcome": texts.get(locale, f"outcome_{cand.outcome}") if cand.outcome in OUTCOMES else cand.outcome,
        "outcome_reason": reason_label(texts, locale, cand.outcome_reason),
        "outcome_at": _when(settings, texts, locale, cand.outcome_at),
        "bound": cand.telegram_chat_id is not None,
        "unreachable": _when(settings, texts, locale, cand.unreachable_at),
        "last_seen": _when(settings, texts, locale, cand.last_seen_at),
        "points": ledger.balance(session, cand.id),
        "tasks": task_lines(settings, texts, session, cand, today, locale),
        "task_status": texts.raw(locale, "card_task_status"),
        "lessons": lessons, "tickets": tickets, "thread": messages,
    }


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
