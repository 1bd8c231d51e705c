"""The planner: a pure function of (candidate state, rules, policy, now) -> decisions, plus the tick that
loads state from the database and writes the decisions to the outbox.

Every occurrence of a rule for a candidate has a dedupe key (rule + candidate + occurrence), so it is decided
once: either queued to send, or recorded as skipped with the reason.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from bot.config import NudgePolicy, Settings
from bot.i18n import Texts
from bot.nudges.rules import PREDICTABLE, Rule, RuleSet
from bot.status.service import status_view
from store.db import Database
from store.models import Candidate, CandidateTask, Interaction, Outbox

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=8)  # occurrences that fell due earlier are ignored, not recorded
WEEK = timedelta(days=7)
COUNTED = ("pending", "sending", "sent")  # outbox states that use up the weekly budget
OPEN_TASK_STATES = ("open", "rejected")


@dataclass(frozen=True)
class CandidateState:
    id: int
    chat_id: int
    stage: str
    stage_changed_at: datetime
    cohort_id: str | None
    role: str
    department: str
    last_active: datetime
    start: datetime  # when they joined the bot: nothing that fell due before concerns them
    closed_tasks: frozenset[str] = frozenset()
    events: tuple[tuple[str, datetime, int], ...] = ()  # (event name, at, interaction id)


@dataclass(frozen=True)
class Occurrence:
    rule: Rule
    candidate_id: int
    key: str
    due: datetime
    tasks: tuple[str, ...] = ()  # before_task_due: the open tasks due that day, one message for all

    @property
    def expires(self) -> datetime:
        return self.due + self.rule.valid_for

    @property
    def dedupe_key(self) -> str:
        return f"nudge:{self.key}"


@dataclass(frozen=True)
class Decision:
    occurrence: Occurrence
    send: bool
    at: datetime
    reason: str | None = None


class Calendar:
    """Turns local dates and times of day into UTC instants, in the company timezone."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.tz = settings.tz
        self.quiet = settings.file.nudges.quiet_hours

    def at(self, day: date, hhmm: str) -> datetime:
        h, m = (int(x) for x in hhmm.split(":"))
        return datetime.combine(day, time(h, m), tzinfo=self.tz).astimezone(UTC)

    def align(self, instant: datetime, hhmm: str | None) -> datetime:
        """The first time-of-day ``hhmm`` at or after ``instant`` (or the instant itself without one)."""
        if hhmm is None:
            return instant
        day = instant.astimezone(self.tz).date()
        candidate = self.at(day, hhmm)
        return candidate if candidate >= instant else self.at(day + timedelta(days=1), hhmm)

    def is_quiet(self, instant: datetime) -> bool:
        return self.quiet.contains(instant.astimezone(self.tz).strftime("%H:%M"))

    def next_awake(self, instant: datetime) -> datetime:
        """``instant`` itself outside quiet hours, else when they end."""
        if not self.is_quiet(instant):
            return instant
        return self.align(instant, self.quiet.end)

    def local(self, instant: datetime) -> str:
        return instant.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")


def occurrences(rule: Rule, cand: CandidateState, settings: Settings, cal: Calendar, since: datetime,
                until: datetime) -> list[Occurrence]:
    """The occurrences of ``rule`` for ``cand`` that fall due in [since, until]."""
    if not rule.matches(cand.stage, cand.cohort_id, cand.role, cand.department):
        return []
    found: list[Occurrence] = []

    def add(due: datetime, suffix: str, tasks: tuple[str, ...] = ()) -> None:
        if since <= due <= until and due >= cand.start:
            found.append(Occurrence(rule, cand.id, f"{rule.id}:{cand.id}:{suffix}", due, tasks))

    kind = rule.kind
    if kind == "stage_entered":
        if cand.stage == rule.param:
            add(cal.align(cand.stage_changed_at + rule.delay, rule.at), cand.stage_changed_at.strftime("%Y%m%dT%H%M%S"))
    elif kind == "inactive_for":
        add(cal.align(cand.last_active + timedelta(days=rule.param), rule.at),
            cand.last_active.strftime("%Y%m%dT%H%M%S"))
    elif kind == "after_event":
        for name, at, event_id in cand.events:
            if name == rule.param:
                add(cal.align(at + rule.delay, rule.at), str(event_id))
    elif kind == "weekly":
        assert rule.at is not None
        first = since.astimezone(cal.tz).date()
        first += timedelta(days=(rule.param - first.weekday()) % 7)
        day = first
        while True:
            due = cal.at(day, rule.at)
            if due > until:
                break
            add(due, day.isoformat())
            day += WEEK
    else:
        cohort = settings.cohorts.get(cand.cohort_id or "")
        if cohort is None:
            return []  # no training date yet: date rules do not apply
        if kind == "before_training":
            add(cal.at(cohort.training_date - timedelta(days=rule.param), rule.at or "10:00"),
                f"{cohort.id}:{cohort.training_date.isoformat()}")
        elif kind == "before_task_due":
            by_deadline: dict[date, list[str]] = defaultdict(list)
            for task in settings.file.tasks:
                if (rule.task and task.id != rule.task) or not task.applies_to(cand.role):
                    continue
                if task.id not in cand.closed_tasks:
                    by_deadline[cohort.training_date + task.due_offset].append(task.id)
            for deadline, task_ids in sorted(by_deadline.items()):
                # The key names the deadline, not the tasks: handing one of two in does not make a new message.
                add(cal.at(deadline - timedelta(days=rule.param), rule.at or "10:00"), deadline.isoformat(),
                    tuple(task_ids))
    return found


def decide(now: datetime, due: Iterable[Occurrence], counted: list[datetime], policy: NudgePolicy,
           cal: Calendar, reserved: Callable[[int], int]) -> list[Decision]:
    """Decide the occurrences due for one candidate at ``now``.

    ``counted`` holds the times of this candidate's automated messages that use up the weekly budget (it is
    extended with what is sent now); ``reserved(priority)`` counts foreseeable higher-priority occurrences in
    the coming 7 days, for which budget is kept. Nothing is decided during quiet hours: it waits for morning.
    """
    if cal.is_quiet(now):
        return []
    decisions = []
    for occ in sorted(due, key=lambda o: (-o.rule.priority, o.due, o.key)):
        if now >= occ.expires:
            decisions.append(Decision(occ, False, now, f"stale: fell due {cal.local(occ.due)}, worth sending "
                                                       f"until {cal.local(occ.expires)}"))
            continue
        in_window = sum(1 for t in counted if now - WEEK < t <= now)
        if in_window + 1 > policy.max_per_week:
            decisions.append(Decision(occ, False, now, f"weekly cap: {in_window} automated messages in the "
                                                       f"last 7 days (at most {policy.max_per_week})"))
            continue
        keep = reserved(occ.rule.priority)
        if in_window + 1 + keep > policy.max_per_week:
            decisions.append(Decision(occ, False, now, f"weekly cap: keeping room for {keep} higher-priority "
                                                       f"message(s) due in the next 7 days"))
            continue
        counted.append(now)
        decisions.append(Decision(occ, True, now))
    return decisions


def reservation(rules: list[Rule], cand: CandidateState, settings: Settings, cal: Calendar,
                now: datetime) -> Callable[[int], int]:
    def count(priority: int) -> int:
        n = 0
        for rule in rules:
            if rule.priority > priority and rule.kind in PREDICTABLE:
                n += len(occurrences(rule, cand, settings, cal, now + timedelta(seconds=1), now + WEEK))
        return n

    return count


# -- the tick: database in, outbox rows out --------------------------------------------------------------------

@dataclass
class TickResult:
    queued: int = 0
    skipped: int = 0
    dropped: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def load_states(session: Session, settings: Settings, rules: RuleSet, since: datetime,
                candidate_id: int | None = None, include_unbound: bool = False) -> list[CandidateState]:
    """Bound, reachable candidates, read as plain tuples (this runs over every candidate every minute).

    ``include_unbound`` adds those who have not started the bot yet, as if they had (for previews)."""
    c = Candidate.__table__.c  # type: ignore[attr-defined]
    query = select(c.id, c.telegram_chat_id, c.stage, c.stage_changed_at, c.cohort_id, c.role, c.department,
                   c.last_seen_at, c.bound_at, c.created_at).where(c.unreachable_at.is_(None))
    if not include_unbound:
        query = query.where(c.telegram_chat_id.is_not(None))
    if candidate_id is not None:
        query = query.where(c.id == candidate_id)
    rows = session.execute(query).all()
    closed: dict[int, set[str]] = defaultdict(set)
    t = CandidateTask.__table__.c  # type: ignore[attr-defined]
    task_query = select(t.candidate_id, t.task_id).where(t.status.not_in(OPEN_TASK_STATES))
    if candidate_id is not None:
        task_query = task_query.where(t.candidate_id == candidate_id)
    for cid, task_id in session.execute(task_query):
        closed[cid].add(task_id)
    events: dict[int, list[tuple[str, datetime, int]]] = defaultdict(list)
    if any(r.kind == "after_event" for r in rules.rules):
        i = Interaction.__table__.c  # type: ignore[attr-defined]
        ev_query = select(i.candidate_id, i.detail, i.at, i.id).where(i.kind == "event", i.at >= since)
        for cid, name, at, iid in session.execute(ev_query):
            events[cid].append((name, _utc(at), iid))
    states = []
    for cid, chat_id, stage, changed, cohort, role, dept, seen, bound, created in rows:
        last = max(x for x in (_utc(seen), _utc(bound), _utc(changed)) if x is not None)
        states.append(CandidateState(cid, chat_id or 0, stage, _utc(changed), cohort, role, dept, last,
                                     _utc(bound) or _utc(created), frozenset(closed.get(cid, ())),
                                     tuple(events.get(cid, ()))))
    return states


def _utc(value: datetime | None) -> Any:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def tick(db: Database, settings: Settings, texts: Texts, rules: RuleSet, now: datetime) -> TickResult:
    """Decide everything that fell due, write it to the outbox, and drop queued nudges that no longer apply."""
    result = TickResult()
    cal = Calendar(settings)
    if not rules.rules or cal.is_quiet(now):
        return result
    since = now - LOOKBACK
    o = Outbox.__table__.c  # type: ignore[attr-defined]
    with db.session() as session:
        states = load_states(session, settings, rules, since)
        decided = set(session.execute(select(o.dedupe_key).where(o.kind == "nudge", o.planned_at >= since)).scalars())
        counted: dict[int, list[datetime]] = defaultdict(list)
        for cid, planned in session.execute(select(o.candidate_id, o.planned_at).where(
                o.kind == "nudge", o.status.in_(COUNTED), o.planned_at > now - WEEK)):
            counted[cid].append(_utc(planned))
        pending = {key: oid for key, oid in session.execute(
            select(o.dedupe_key, o.id).where(o.kind == "nudge", o.status == "pending"))}

        rows: list[dict[str, Any]] = []
        still_valid: set[str] = set()
        for cand in states:
            due = [occ for rule in rules.rules for occ in occurrences(rule, cand, settings, cal, since, now)]
            for occ in due:
                still_valid.add(occ.dedupe_key)
            fresh = [occ for occ in due if occ.dedupe_key not in decided]
            if not fresh:
                continue
            for d in decide(now, fresh, counted[cand.id], settings.file.nudges, cal,
                            reservation(rules.rules, cand, settings, cal, now)):
                rows.append(_row(session, settings, texts, d, cand, now, result))

        for key, oid in pending.items():
            # Queued earlier, but its reason is gone: task handed in, stage changed, candidate unreachable.
            if key not in still_valid:
                session.execute(update(Outbox).where(col(Outbox.id) == oid, col(Outbox.status) == "pending")
                                .values(status="dropped", reason="no longer applies"))
                result.dropped += 1
        if rows:
            session.execute(insert(Outbox.__table__), rows)  # type: ignore[attr-defined]
    return result


def _row(session: Session, settings: Settings, texts: Texts, d: Decision, cand: CandidateState, now: datetime,
         result: TickResult) -> dict[str, Any]:
    occ = d.occurrence
    row: dict[str, Any] = {
        "dedupe_key": occ.dedupe_key, "kind": "nudge", "rule_id": occ.rule.id, "candidate_id": cand.id,
        "chat_id": cand.chat_id, "priority": occ.rule.priority, "text": None, "buttons": None, "due_at": occ.due,
        "planned_at": now, "expires_at": occ.expires, "status": "skipped", "reason": d.reason, "attempts": 0,
        "next_attempt_at": None, "sent_at": None, "telegram_message_id": None,
    }
    if d.send:
        try:
            row["text"], row["buttons"] = render(session, settings, texts, occ, now)
            row["status"] = "pending"
            row["next_attempt_at"] = now
            result.queued += 1
            return row
        except Exception as exc:  # noqa: BLE001 - one broken template must not stop everyone's nudges
            log.error("nudge %s for candidate %s: text could not be rendered (%s)", occ.rule.id, cand.id,
                      type(exc).__name__)
            row["reason"] = f"text could not be rendered ({type(exc).__name__}); check {occ.rule.message}"
    result.skipped += 1
    result.reasons[str(row["reason"]).split(":")[0]] += 1
    return row


def render(session: Session, settings: Settings, texts: Texts, occ: Occurrence,
           now: datetime) -> tuple[str, str | None]:
    """The nudge's text in the candidate's language, with their own data, and its buttons as JSON."""
    cand = session.get(Candidate, occ.candidate_id)
    assert cand is not None
    locale = cand.language or settings.default_locale
    view = status_view(settings, texts, session, cand, now, locale)
    values: dict[str, Any] = {k: view[k] for k in ("name", "stage", "todo", "department", "role", "cohort",
                                                   "days_left")}
    values["company"] = settings.file.company.name[locale]
    if occ.rule.kind == "before_task_due":
        values["tasks"] = [t for t in view["tasks"] if t.id in occ.tasks]  # type: ignore[attr-defined]
    text = texts.get(locale, occ.rule.message, **values)
    buttons = None
    if occ.rule.buttons:
        buttons = json.dumps([[{"text": texts.get(locale, f"menu_{b}"), "data": f"menu:{b}"}]
                              for b in occ.rule.buttons], ensure_ascii=False)
    return text, buttons
