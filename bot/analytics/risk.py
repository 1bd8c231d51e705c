"""The dropout risk score: 0-100 per candidate with the reasons behind it, from behaviour the bot sees.

Transparent by design: each signal has a strength between 0 and 1 (``features``), adds up to its weight in points
(config.yaml `risk.weights`), and the score is the sum, capped at 100. A signal that adds points always comes with
its reason, and a reason is never shown without its points.

Everything is read "as of" a moment (``as_of``, default ``now``): only what happened up to it counts, so a score
can be taken as it stood on an earlier day. ``before_outcome=True`` moves each candidate's moment back to when HR
marked their outcome (if that is earlier), so the outcome itself, and everything after it, never feeds the score
(`hrbot risk evaluate`).

A handful of aggregate queries over the candidates matched (``where``), grouped by candidate: no query per
candidate, so /atrisk stays fast on tens of thousands (benchmarks/README.md).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlmodel import Session

from store.models import (
    Candidate,
    CandidateTask,
    FaqQuery,
    Interaction,
    LessonProgress,
    Outbox,
    RiskSignal,
    Ticket,
)

# The signals, in the order reasons are listed (strongest weight first is decided per candidate).
SIGNALS = ("withdrawal_intent", "unreachable", "inactive", "lessons_behind", "deadline_missed", "deadline_near",
           "quiet_after_nudge", "open_ticket", "faq_down_votes", "training_soon")
HANDED_IN = ("submitted", "done")  # a document task handed in is not missed, even before HR has checked it


@dataclass(frozen=True)
class Reason:
    """One reason: its signal, the points it adds and the values its text (content/: risk_reason_<signal>) shows."""

    signal: str
    points: float
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"risk_reason_{self.signal}"


@dataclass(frozen=True)
class Risk:
    candidate_id: int
    score: int  # 0-100
    reasons: tuple[str, ...]  # text keys (risk_reason_<signal>), strongest first; details in ``details``
    features: dict[str, float]  # each signal's strength, 0-1 (what `hrbot risk fit` learns weights from)
    details: tuple[Reason, ...] = ()
    cohort_id: str | None = None
    as_of: datetime | None = None


def _c(model: Any) -> Any:
    """A table's columns for core queries (a few aggregates, no ORM objects)."""
    return model.__table__.c


CAND: Any = Candidate.__table__  # type: ignore[attr-defined]
C, IN, LP, CT, RS, TK, FQ, OB = (_c(m) for m in (Candidate, Interaction, LessonProgress, CandidateTask, RiskSignal,
                                                 Ticket, FaqQuery, Outbox))


def aware(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes (stored as UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _cutoff(as_of: datetime, before_outcome: bool) -> Any:
    """Each candidate's moment as a SQL expression: as_of, or their outcome's time when that is earlier."""
    if not before_outcome:
        return literal(as_of, type_=C.outcome_at.type)
    return case((and_(C.outcome_at.is_not(None), C.outcome_at < as_of),
                 C.outcome_at), else_=literal(as_of, type_=C.outcome_at.type))


def _grouped(session: Session, query: Any) -> dict[int, Any]:
    return {row[0]: row[1] if len(row) == 2 else tuple(row[1:]) for row in session.execute(query)}


def score_candidates(session: Session, ctx: Any, now: datetime, *, where: ColumnElement[bool] | None = None,
                     as_of: datetime | None = None, before_outcome: bool = False,
                     reference_cache: dict[Any, Any] | None = None) -> list[Risk]:
    """Score every candidate ``where`` matches (all, when None), highest score first.

    ``ctx`` is the app context (bot.app); only ``ctx.settings`` is read. ``before_outcome``: see the module.
    ``reference_cache``: a dict the caller keeps (and empties when it wants fresh figures) where each cohort's
    medians are kept, so scoring one candidate does not read their whole cohort every time (the card)."""
    settings = ctx.settings
    policy = settings.file.risk
    w, th = policy.weights, policy.thresholds
    moment = (as_of or now).astimezone(UTC)
    cut = _cutoff(moment, before_outcome)

    def scoped(query: Any, *extra: Any) -> Any:
        query = query.where(*extra)
        return query.where(where) if where is not None else query

    cands, last_seen, lessons = _activity(session, cut, where)
    if not cands:
        return []
    doc_tasks = [t for t in settings.file.tasks if t.document]
    handed: dict[int, int] = {}
    if doc_tasks:
        # One bitmask per candidate: bit i = the i-th document task handed in before the moment.
        mask = func.sum(case(*[(CT.task_id == t.id, 1 << i) for i, t in enumerate(doc_tasks)], else_=0))
        handed = _grouped(session, scoped(
            select(CT.candidate_id, mask).join(CAND, C.id == CT.candidate_id),
            CT.status.in_(HANDED_IN), CT.updated_at <= cut)
            .group_by(CT.candidate_id))
    signals = _grouped(session, scoped(
        select(RS.candidate_id, func.count()).join(CAND, C.id == RS.candidate_id),
        RS.kind == "withdrawal_intent", RS.at <= cut).group_by(RS.candidate_id))
    wd_tickets = _grouped(session, scoped(
        select(TK.candidate_id, func.count()).join(CAND, C.id == TK.candidate_id),
        TK.kind == "withdrawal", TK.created_at <= cut).group_by(TK.candidate_id))
    open_tickets = _grouped(session, scoped(
        select(TK.candidate_id, func.count(), func.min(TK.created_at))
        .join(CAND, C.id == TK.candidate_id),
        TK.kind != "withdrawal", TK.created_at <= cut,
        or_(TK.answered_at.is_(None), TK.answered_at > cut)).group_by(TK.candidate_id))
    down_votes = _grouped(session, scoped(
        select(FQ.candidate_id, func.count()).join(CAND, C.id == FQ.candidate_id),
        FQ.vote == "down", func.coalesce(FQ.voted_at, FQ.at) <= cut).group_by(FQ.candidate_id))
    nudged = _grouped(session, scoped(
        select(OB.candidate_id, func.max(OB.sent_at)).join(CAND, C.id == OB.candidate_id),
        OB.kind == "nudge", OB.status == "sent", OB.sent_at <= cut).group_by(OB.candidate_id))

    tz = settings.tz
    rows = _rows(cands, last_seen, lessons, moment, before_outcome)
    # The cohort's usual: medians per cohort over its candidates still waiting at the moment scored (not those
    # whose outcome came earlier); every candidate of the cohorts scored counts, whatever ``where`` says.
    reference = rows
    cached: dict[str | None, tuple[float, float]] = {}
    if where is not None:
        cohorts = sorted({r[1] for r in rows if r[1] is not None})
        if reference_cache is not None:
            cached = {c: reference_cache[(c, before_outcome)] for c in cohorts
                      if (c, before_outcome) in reference_cache}
        missing = [c for c in cohorts if c not in cached]
        reference = [r for r in rows if r[1] is None]
        if missing:
            reference += _rows(*_activity(session, cut, C.cohort_id.in_(missing)), moment, before_outcome)
    by_cohort: dict[str | None, list[tuple[float, int]]] = defaultdict(list)
    for r in reference:
        if r[8] is None or r[8] >= r[3]:
            by_cohort[r[1]].append((r[4], r[5]))
    for r in rows:  # a cohort where everyone has an outcome already: measured against itself
        if r[1] not in by_cohort and r[1] not in cached:
            by_cohort[r[1]].append((r[4], r[5]))
    medians = {k: (statistics.median(v[0] for v in vals), statistics.median(v[1] for v in vals))
               for k, vals in by_cohort.items()}
    if reference_cache is not None and where is not None:
        reference_cache.update({(k, before_outcome): v for k, v in medians.items() if k is not None})
    medians.update(cached)
    med_inactive = {k: v[0] for k, v in medians.items()}
    med_lessons = {k: v[1] for k, v in medians.items()}

    out = []
    for cid, cohort_id, role, moment_c, inactive, passed, unreachable, seen, _outcome in rows:
        reasons: list[Reason] = []
        feats: dict[str, float] = dict.fromkeys(SIGNALS, 0.0)

        def add(signal: str, strength: float, **values: Any) -> None:
            strength = max(0.0, min(1.0, strength))
            if strength <= 0:
                return
            feats[signal] = round(strength, 4)  # noqa: B023 - used at once, in this iteration
            weight = float(getattr(w, signal))
            reasons.append(Reason(signal, round(weight * strength, 1), values))  # noqa: B023

        today = moment_c.astimezone(tz).date()
        # Withdrawal intent (a withdrawal message: its signal and its ticket are one event, counted once).
        intents = max(signals.get(cid, 0), wd_tickets.get(cid, 0))
        if intents:
            add("withdrawal_intent", 1.0, count=intents)
        if unreachable is not None and unreachable <= moment_c:
            add("unreachable", 1.0, since=unreachable.astimezone(tz).date())
        base = max(med_inactive[cohort_id], th.inactive_min_days)
        days = int(inactive)
        if days >= base + 1:
            add("inactive", (inactive - base) / th.inactive_full_days, days=days,
                median=int(med_inactive[cohort_id]))
        behind = med_lessons[cohort_id] - passed
        if behind >= 1:
            add("lessons_behind", behind / th.lessons_behind_full, passed=passed,
                median=_num(med_lessons[cohort_id]))
        cohort = settings.cohorts.get(cohort_id or "")
        missed: list[tuple[str, int]] = []
        near: list[tuple[str, int]] = []
        open_docs = 0
        if cohort is not None:
            done_bits = int(handed.get(cid, 0) or 0)
            for i, task in enumerate(doc_tasks):
                if not task.applies_to(role) or done_bits & (1 << i):
                    continue
                open_docs += 1
                left = (cohort.training_date + task.due_offset - today).days
                if left < 0:
                    missed.append((task.id, -left))
                elif left <= th.deadline_near_days:
                    near.append((task.id, left))
        if missed:
            add("deadline_missed", len(missed) / 2 + 0.5, tasks=[t for t, _ in missed], days=max(d for _, d in missed))
        if near:
            add("deadline_near", 1.0, tasks=[t for t, _ in near], days=min(d for _, d in near))
        last_nudge = aware(nudged.get(cid))
        quiet = timedelta(hours=th.nudge_quiet_hours)
        if last_nudge is not None and moment_c - last_nudge >= quiet and (seen is None or seen <= last_nudge):
            add("quiet_after_nudge", 1.0, date=last_nudge.astimezone(tz).date(),
                hours=int((moment_c - last_nudge).total_seconds() // 3600))
        tickets = open_tickets.get(cid)
        if tickets:
            count, oldest = tickets
            age = (moment_c - (aware(oldest) or moment_c)).total_seconds() / 3600
            if age >= th.ticket_unanswered_hours:
                add("open_ticket", 1.0, count=count, days=int(age // 24), hours=int(age))
        votes = down_votes.get(cid, 0)
        if votes:
            add("faq_down_votes", min(1.0, votes / 2), count=votes)
        if cohort is not None:
            left_days = (cohort.training_date - today).days
            if 0 <= left_days <= th.training_soon_days and (open_docs or behind >= 1):
                add("training_soon", 1.0 - left_days / (th.training_soon_days + 1), days=left_days,
                    documents=open_docs, lessons=max(0, int(behind)))
        reasons.sort(key=lambda r: (-r.points, SIGNALS.index(r.signal)))
        score = min(100, int(round(sum(r.points for r in reasons))))
        out.append(Risk(cid, score, tuple(r.key for r in reasons), feats, tuple(reasons), cohort_id, moment_c))
    out.sort(key=lambda r: (-r.score, r.candidate_id))
    return out


def _activity(session: Session, cut: Any, where: Any) -> tuple[list[Any], dict[int, Any], dict[int, Any]]:
    """The candidates (created before their moment), their last interaction and lessons passed before it."""

    def scoped(query: Any, *extra: Any) -> Any:
        query = query.where(*extra)
        return query.where(where) if where is not None else query

    cands = list(session.execute(scoped(
        select(C.id, C.cohort_id, C.role, C.created_at, C.bound_at, C.invite_issued_at, C.unreachable_at,
               C.outcome_at), C.created_at <= cut)).all())
    if not cands:
        return [], {}, {}
    last_seen = _grouped(session, scoped(
        select(IN.candidate_id, func.max(IN.at)).join(CAND, C.id == IN.candidate_id), IN.at <= cut)
        .group_by(IN.candidate_id))
    lessons = _grouped(session, scoped(
        select(LP.candidate_id, func.count()).join(CAND, C.id == LP.candidate_id),
        LP.passed_at.is_not(None), LP.passed_at <= cut).group_by(LP.candidate_id))
    return cands, last_seen, lessons


def _rows(cands: list[Any], last_seen: dict[int, Any], lessons: dict[int, Any], moment: datetime,
          before_outcome: bool) -> list[tuple[Any, ...]]:
    rows = []
    for cid, cohort_id, role, created, bound, invited, unreachable, outcome_at in cands:
        moment_c = moment
        oa = aware(outcome_at)
        if before_outcome and oa is not None and oa < moment:
            moment_c = oa
        seen = aware(last_seen.get(cid)) or aware(bound) or aware(invited) or aware(created)
        inactive = max(0.0, (moment_c - seen).total_seconds() / 86400) if seen else 0.0
        rows.append((cid, cohort_id, role, moment_c, inactive, lessons.get(cid, 0), aware(unreachable), seen, oa))
    return rows


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 1)


def reason_texts(risk: Risk, settings: Any, texts: Any, locale: str) -> list[str]:
    """The reasons as HR reads them (content/<locale>/analytics.yaml), strongest first."""
    out = []
    for reason in risk.details:
        values = dict(reason.values)
        if "tasks" in values:
            values["tasks"] = _task_titles(settings, texts, locale, values["tasks"])
        for k, v in list(values.items()):
            if isinstance(v, date):
                values[k] = texts.format_date(locale, v)
        values["points"] = _num(round(reason.points))
        out.append(texts.get(locale, reason.key, **values))
    return out


def _task_titles(settings: Any, texts: Any, locale: str, ids: list[str]) -> list[str]:
    return [settings.tasks[t].title[locale] if t in settings.tasks else t for t in ids]


def explain(risk: Risk, settings: Any, texts: Any, locale: str) -> dict[str, Any]:
    """`hrbot risk explain --json`: {"candidate_id", "score", "reasons": [text]} (+ the signals' strengths)."""
    return {"candidate_id": risk.candidate_id, "score": risk.score,
            "reasons": reason_texts(risk, settings, texts, locale),
            "points": {r.signal: r.points for r in risk.details}, "features": risk.features}


def today_in(settings: Any, when: datetime) -> date:
    return when.astimezone(settings.tz).date()
