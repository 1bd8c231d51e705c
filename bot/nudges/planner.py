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
from typing import Any, NamedTuple

from sqlalchemy import String, insert, select, type_coerce, update
from sqlmodel import Session, col

from bot.config import NudgePolicy, Settings
from bot.engine.core import MenuButton
from bot.flows.buttons import StartFlow
from bot.i18n import Texts
from bot.nudges.rules import PREDICTABLE, Rule, RuleSet
from bot.status.service import status_view
from store.db import Database, utc
from store.models import Candidate, CandidateTask, Interaction, Outbox

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=8)  # occurrences that fell due earlier are ignored, not recorded
WEEK = timedelta(days=7)
COUNTED = ("pending", "sending", "sent")  # outbox states that use up the weekly budget
NO_DATE = "no-training-date"  # the occurrence suffix that records "no cohort, so no date rules"
DATE_KINDS = frozenset({"weekly", "before_training", "before_task_due"})  # same answer for many candidates
OPEN_TASK_STATES = ("open", "rejected")


class CandidateState(NamedTuple):
    """What the planner needs of a candidate. A tuple: the tick reads every candidate every minute."""

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


class Occurrence(NamedTuple):
    """One time a rule applies to a candidate. A tuple: the tick makes hundreds of thousands."""

    rule: Rule
    candidate_id: int
    dedupe_key: str  # nudge:<rule>:<candidate>:<occurrence>
    due: datetime
    tasks: tuple[str, ...] = ()  # before_task_due: the open tasks due that day, one message for all

    @property
    def expires(self) -> datetime:
        return self.due + self.rule.valid_for


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
        self._at: dict[tuple[date, str], datetime] = {}
        # Answers that are the same for every candidate with the same cohort/role/tasks, per tick.
        self.memo: dict[tuple[Any, ...], list[tuple[datetime, str, tuple[str, ...]]]] = {}

    def at(self, day: date, hhmm: str) -> datetime:
        found = self._at.get((day, hhmm))
        if found is None:
            h, m = (int(x) for x in hhmm.split(":"))
            found = self._at[(day, hhmm)] = datetime.combine(day, time(h, m), tzinfo=self.tz).astimezone(UTC)
        return found

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
    """The occurrences of ``rule`` for ``cand`` that fall due in [since, until] (and after they joined)."""
    if not rule.matches(cand.stage, cand.cohort_id, cand.role, cand.department):
        return []
    start = max(since, cand.start)
    prefix = f"nudge:{rule.id}:{cand.id}:"
    return [Occurrence(rule, cand.id, prefix + suffix, due, tasks)
            for due, suffix, tasks in _due_times(rule, cand, settings, cal, since, until)
            if start <= due <= until]


def _due_times(rule: Rule, cand: CandidateState, settings: Settings, cal: Calendar, since: datetime,
               until: datetime) -> list[tuple[datetime, str, tuple[str, ...]]]:
    """(due, occurrence suffix, tasks) for the rule; date rules are computed once per cohort and role."""
    kind = rule.kind
    if kind in ("before_training", "before_task_due") and cand.cohort_id not in settings.cohorts:
        # No training date yet: recorded once, as of when they joined, so HR can see why nothing comes.
        return [(cand.start, NO_DATE, ())]
    if kind in DATE_KINDS:
        memo_key: tuple[Any, ...] = (
            (rule.id, since, until) if kind == "weekly"
            else (rule.id, cand.cohort_id) if kind == "before_training"
            else (rule.id, cand.cohort_id, cand.role, cand.closed_tasks))
        found = cal.memo.get(memo_key)
        if found is None:
            found = cal.memo[memo_key] = _date_rule_times(rule, cand, settings, cal, since, until)
        return found
    if kind == "stage_entered":
        if cand.stage != rule.param:
            return []
        return [(cal.align(cand.stage_changed_at + rule.delay, rule.at),
                 str(int(cand.stage_changed_at.timestamp())), ())]
    if kind == "inactive_for":
        return [(cal.align(cand.last_active + timedelta(days=rule.param), rule.at),
                 str(int(cand.last_active.timestamp())), ())]
    return [(cal.align(at + rule.delay, rule.at), str(event_id), ())  # after_event
            for name, at, event_id in cand.events if name == rule.param]


def _date_rule_times(rule: Rule, cand: CandidateState, settings: Settings, cal: Calendar, since: datetime,
                     until: datetime) -> list[tuple[datetime, str, tuple[str, ...]]]:
    if rule.kind == "weekly":
        assert rule.at is not None
        day = since.astimezone(cal.tz).date()
        day += timedelta(days=(rule.param - day.weekday()) % 7)
        out: list[tuple[datetime, str, tuple[str, ...]]] = []
        while (due := cal.at(day, rule.at)) <= until:
            out.append((due, day.isoformat(), ()))
            day += WEEK
        return out
    cohort = settings.cohorts.get(cand.cohort_id or "")
    if cohort is None:
        return []  # no training date yet: date rules do not apply
    if rule.kind == "before_training":
        return [(cal.at(cohort.training_date - timedelta(days=rule.param), rule.at or "10:00"),
                 f"{cohort.id}:{cohort.training_date.isoformat()}", ())]
    by_deadline: dict[date, list[str]] = defaultdict(list)
    for task in settings.file.tasks:
        if (rule.task and task.id != rule.task) or not task.applies_to(cand.role):
            continue
        if task.id not in cand.closed_tasks:
            by_deadline[cohort.training_date + task.due_offset].append(task.id)
    # The key names the deadline, not the tasks: handing one of two in does not make a new message.
    return [(cal.at(deadline - timedelta(days=rule.param), rule.at or "10:00"), deadline.isoformat(),
             tuple(task_ids)) for deadline, task_ids in sorted(by_deadline.items())]


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
    for occ in sorted(due, key=lambda o: (-o.rule.priority, o.due, o.dedupe_key)):
        if occ.dedupe_key.endswith(":" + NO_DATE):
            decisions.append(Decision(occ, False, now, "no training date: not in a cohort yet; date reminders "
                                                       "start once HR assigns one"))
            continue
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
                n += len(occurrences(rule, cand, settings, cal, now + timedelta(microseconds=1), now + WEEK))
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
    raw = _raw_times(session)
    query = select(c.id, c.telegram_chat_id, c.stage, raw(c.stage_changed_at), c.cohort_id, c.role, c.department,
                   raw(c.last_seen_at), raw(c.bound_at), raw(c.created_at)).where(c.unreachable_at.is_(None))
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
        changed, seen, bound = _utc(changed), _utc(seen), _utc(bound)
        assert changed is not None
        last = changed
        if seen is not None and seen > last:
            last = seen
        if bound is not None and bound > last:
            last = bound
        states.append(CandidateState(cid, chat_id or 0, stage, changed, cohort, role, dept, last,
                                     bound or _utc(created), frozenset(closed.get(cid, ())),
                                     tuple(events.get(cid, ()))))
    return states


def _raw_times(session: Session) -> Callable[[Any], Any]:
    """On SQLite, read time columns as their stored text and parse them with fromisoformat, which is several
    times faster than the generic conversion when the tick reads every candidate each minute."""
    if session.get_bind().dialect.name == "sqlite":
        return lambda column: type_coerce(column, String)
    return lambda column: column


_utc = utc


@dataclass
class PlannerCache:
    """What the elected process remembers between ticks: for each candidate, the state it last planned from
    and when their next occurrence falls due. Until then, and while their state is the same, nothing new can
    fall due for them, so the tick skips them. Only the leader writes nudges, so nothing else invalidates it."""

    seen: dict[int, tuple[CandidateState, datetime]] = field(default_factory=dict)
    hits: int = 0  # candidates skipped, for tests and logs


HORIZON = timedelta(days=1)  # how far ahead a candidate's next due time is looked for


def tick(db: Database, settings: Settings, rules: RuleSet, now: datetime,
         cache: PlannerCache | None = None) -> TickResult:
    """Decide everything that fell due, write it to the outbox, and drop queued nudges that no longer apply."""
    result = TickResult()
    cal = Calendar(settings)
    if not rules.rules or cal.is_quiet(now):
        return result
    since = now - LOOKBACK
    o = Outbox.__table__.c  # type: ignore[attr-defined]
    with db.session() as session:
        states = load_states(session, settings, rules, since)
        pending: dict[int | None, dict[str, int]] = defaultdict(dict)
        for key, oid, cid in session.execute(
                select(o.dedupe_key, o.id, o.candidate_id).where(o.kind == "nudge", o.status == "pending")):
            pending[cid][key] = oid
        history: tuple[set[str], dict[int, list[datetime]]] | None = None  # read only if someone needs it

        rows: list[dict[str, Any]] = []
        gone: list[int] = []
        prefixes = [(rule, f"nudge:{rule.id}:") for rule in rules.rules]
        for cand in states:
            queued = pending.pop(cand.id, None)
            if cache is not None and queued is None:
                hit = cache.seen.get(cand.id)
                if hit is not None and hit[1] > now and hit[0] == cand:
                    cache.hits += 1
                    continue
            if history is None:
                history = decision_history(session, since, now)
            decided, counted = history
            # The hot loop (every candidate, every rule): keys first, objects only when new.
            valid: set[str] = set()
            fresh: list[Occurrence] = []
            start = cand.start if cand.start > since else since
            cid = str(cand.id)
            for rule, prefix in prefixes:
                if rule.audience and not rule.matches(cand.stage, cand.cohort_id, cand.role, cand.department):
                    continue
                for due, suffix, tasks in _due_times(rule, cand, settings, cal, since, now):
                    if start <= due <= now:
                        key = prefix + cid + ":" + suffix
                        if queued is not None:
                            valid.add(key)
                        if key not in decided:
                            fresh.append(Occurrence(rule, cand.id, key, due, tasks))
            if queued is not None:
                gone.extend(oid for key, oid in queued.items() if key not in valid)
            if fresh:
                for d in decide(now, fresh, counted[cand.id], settings.file.nudges, cal,
                                reservation(rules.rules, cand, settings, cal, now)):
                    rows.append(_row(d, cand, now, result))
            if cache is not None:
                cache.seen[cand.id] = (cand, _next_due(rules.rules, cand, settings, cal, now))
        for left in pending.values():  # candidates no longer planned for: unreachable, or gone
            gone.extend(left.values())

        # Queued earlier, but the reason is gone: task handed in, stage changed, candidate unreachable.
        for oid in gone:
            session.execute(update(Outbox).where(col(Outbox.id) == oid, col(Outbox.status) == "pending")
                            .values(status="dropped", reason="no longer applies"))
            result.dropped += 1
        if rows:
            session.execute(insert(Outbox.__table__), rows)  # type: ignore[attr-defined]
    return result


def decision_history(session: Session, since: datetime, now: datetime) -> tuple[set[str], dict[int, list[datetime]]]:
    """Occurrences already decided, and each candidate's automated messages that count toward the cap."""
    o = Outbox.__table__.c  # type: ignore[attr-defined]
    decided = set(session.execute(select(o.dedupe_key).where(o.kind == "nudge", o.planned_at >= since)).scalars())
    counted: dict[int, list[datetime]] = defaultdict(list)
    raw = _raw_times(session)
    for cid, planned in session.execute(select(o.candidate_id, raw(o.planned_at)).where(
            o.kind == "nudge", o.status.in_(COUNTED), o.planned_at > now - WEEK)):
        counted[cid].append(_utc(planned))
    return decided, counted


def _next_due(rules: list[Rule], cand: CandidateState, settings: Settings, cal: Calendar,
              now: datetime) -> datetime:
    """When the candidate's next occurrence falls due (or the horizon, to look again then)."""
    horizon = soonest = now + HORIZON
    after = now + timedelta(microseconds=1)
    for rule in rules:
        if rule.audience and not rule.matches(cand.stage, cand.cohort_id, cand.role, cand.department):
            continue
        for due, _, _ in _due_times(rule, cand, settings, cal, after, horizon):
            if after <= due < soonest and due >= cand.start:
                soonest = due
    return soonest


def _row(d: Decision, cand: CandidateState, now: datetime, result: TickResult) -> dict[str, Any]:
    """An outbox row for a decision. The text is written when it is sent, from the data of that moment."""
    occ = d.occurrence
    if d.send:
        result.queued += 1
    else:
        result.skipped += 1
        result.reasons[str(d.reason).split(":")[0]] += 1
    return {
        "dedupe_key": occ.dedupe_key, "kind": "nudge", "rule_id": occ.rule.id, "candidate_id": cand.id,
        "chat_id": cand.chat_id, "priority": occ.rule.priority, "text": None, "buttons": None,
        "payload": json.dumps({"tasks": list(occ.tasks)}) if occ.tasks else None, "due_at": occ.due,
        "planned_at": now, "expires_at": occ.expires, "status": "pending" if d.send else "skipped",
        "reason": d.reason, "attempts": 0, "next_attempt_at": now if d.send else None, "sent_at": None,
        "telegram_message_id": None,
    }


class NudgeRenderer:
    """Writes a queued nudge's text in the candidate's language, with their data as it is when it is sent."""

    def __init__(self, db: Database, settings: Settings, texts: Texts, rules: RuleSet):
        self.db, self.settings, self.texts = db, settings, texts
        self.rules = rules.by_id()
        self.flow_titles = rules.flow_titles

    def __call__(self, row: Outbox, now: datetime) -> tuple[str, str | None]:
        """(text, buttons JSON); KeyError if the rule or candidate is gone."""
        rule = self.rules[row.rule_id or ""]
        settings, texts = self.settings, self.texts
        with self.db.session() as session:
            cand = session.get(Candidate, row.candidate_id)
            if cand is None:
                raise KeyError(row.candidate_id)
            locale = cand.language or settings.default_locale
            view = status_view(settings, texts, session, cand, now, locale)
        values: dict[str, Any] = {k: view[k] for k in ("name", "stage", "todo", "department", "role", "cohort",
                                                       "days_left")}
        values["company"] = settings.file.company.name[locale]
        if rule.kind == "before_task_due":
            wanted = set(json.loads(row.payload or "{}").get("tasks", []))
            values["tasks"] = [t for t in view["tasks"] if t.id in wanted]  # type: ignore[attr-defined]
        text = texts.get(locale, rule.message, **values)
        buttons = None
        if rule.buttons:
            rows = []
            for b in rule.buttons:
                if b.startswith("flow:"):  # the flow's title; the button starts it
                    rows.append([{"text": texts.get(locale, "nudge_flow_button", title=self.flow_titles.get(
                        b[5:], {}).get(locale, b[5:])), "data": StartFlow(b[5:]).pack()}])
                else:
                    rows.append([{"text": texts.get(locale, f"menu_{b}"), "data": MenuButton(b).pack()}])
            buttons = json.dumps(rows, ensure_ascii=False)
        return text, buttons
