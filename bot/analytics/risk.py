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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, cast

import numpy as np
from sqlalchemy import ColumnElement, String, and_, case, func, literal, not_, or_, select, type_coerce
from sqlmodel import Session

from store.db import utc
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


class Reason(NamedTuple):
    """One reason: its signal, the points it adds and the values its text (content/: risk_reason_<signal>) shows."""

    signal: str
    points: float
    values: Mapping[str, Any] = {}

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
    rows = session.execute(query).all()  # fetchall: one call into the driver, not one per row
    if rows and len(rows[0]) == 2:
        return dict(rows)
    return {row[0]: tuple(row[1:]) for row in rows}


def score_candidates(session: Session, ctx: Any, now: datetime, *, where: ColumnElement[bool] | None = None,
                     as_of: datetime | None = None, before_outcome: bool = False,
                     reference_cache: dict[Any, Any] | None = None, min_score: int | None = None) -> list[Risk]:
    """Score every candidate ``where`` matches (all, when None), highest score first.

    ``ctx`` is the app context (bot.app); only ``ctx.settings`` is read. ``before_outcome``: see the module.
    ``reference_cache``: a dict the caller keeps (and empties when it wants fresh figures) where each cohort's
    medians are kept, so scoring one candidate does not read their whole cohort every time (the card).
    ``min_score``: return only those scoring at least this (/atrisk, the digest): the others' reasons are never
    worked out, which is what keeps /atrisk fast on tens of thousands."""
    return _score(session, ctx, now, where, as_of, before_outcome, reference_cache, min_score, None)[0]


def top_at_risk(session: Session, ctx: Any, now: datetime, *, where: ColumnElement[bool] | None, min_score: int,
                top: int) -> tuple[list[Risk], int]:
    """The first ``top`` candidates scoring ``min_score`` or more, highest first, with their reasons, and how many
    score that much in all (/atrisk: only the few listed get their reasons worked out)."""
    return _score(session, ctx, now, where, None, False, None, min_score, top)


def _score(session: Session, ctx: Any, now: datetime, where: ColumnElement[bool] | None, as_of: datetime | None,
           before_outcome: bool, reference_cache: dict[Any, Any] | None, min_score: int | None,
           top: int | None) -> tuple[list[Risk], int]:
    settings = ctx.settings
    policy = settings.file.risk
    w, th = policy.weights, policy.thresholds
    moment = (as_of or now).astimezone(UTC)
    cut = _cutoff(moment, before_outcome)

    def scoped(query: Any, *extra: Any) -> Any:
        query = query.where(*extra)
        return query.where(where) if where is not None else query

    cands = _activity(session, cut, where)
    if not cands:
        return [], 0
    dt = _dt_reader(session)
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
        select(TK.candidate_id, func.count(), dt(func.min(TK.created_at)))
        .join(CAND, C.id == TK.candidate_id),
        TK.kind != "withdrawal", TK.created_at <= cut,
        or_(TK.answered_at.is_(None), TK.answered_at > cut)).group_by(TK.candidate_id))
    down_votes = _grouped(session, scoped(
        select(FQ.candidate_id, func.count()).join(CAND, C.id == FQ.candidate_id),
        FQ.vote == "down", func.coalesce(FQ.voted_at, FQ.at) <= cut).group_by(FQ.candidate_id))
    nudged = _grouped(session, scoped(
        select(OB.candidate_id, dt(func.max(OB.sent_at))).join(CAND, C.id == OB.candidate_id),
        OB.kind == "nudge", OB.status == "sent", OB.sent_at <= cut).group_by(OB.candidate_id))

    tz = settings.tz
    rows = _rows(cands, moment, before_outcome)
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
        if missing:  # the rows scored, and those of the same cohorts that ``where`` left out
            wanted = set(missing)
            reference += [r for r in rows if r[1] in wanted]
            others = and_(C.cohort_id.in_(missing), not_(where))
            if not before_outcome:  # an outcome before the moment never counts (below): do not read those rows
                others = and_(others, or_(C.outcome_at.is_(None), C.outcome_at >= cut))
            reference += _rows(_activity(session, cut, others), moment, before_outcome)
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

    weights = {sig: float(getattr(w, sig)) for sig in SIGNALS}
    # Each document task's due date per cohort, and who it applies to, worked out once.
    dues = {c.id: [c.training_date + t.due_offset for t in doc_tasks] for c in settings.file.cohorts}
    training = {c.id: c.training_date for c in settings.file.cohorts}
    applies = {r: [t.applies_to(r) for t in doc_tasks] for r in settings.roles}
    doc_ids = [t.id for t in doc_tasks]
    local_day = moment.astimezone(tz).date()
    quiet = timedelta(hours=th.nudge_quiet_hours)
    min_days, full_days, behind_full = th.inactive_min_days, th.inactive_full_days, th.lessons_behind_full
    near_days, unanswered, soon_days = th.deadline_near_days, th.ticket_unanswered_hours, th.training_soon_days
    above: int | None = None
    if min_score is not None and not before_outcome and rows:
        # Only those at min_score or more get their reasons worked out, and with ``top`` only the first ``top`` of
        # them: a vectorised first pass gives every score (the same arithmetic as the detailed pass below, so the
        # same numbers; a test holds them equal), the detailed pass adds the reasons' texts and values.
        quick = _quick_scores(rows, weights, med_inactive, med_lessons, dues, training, applies, local_day, th,
                              moment, signals, wd_tickets, handed, nudged, open_tickets, down_votes).tolist()
        kept = [(q, r) for r, q in zip(rows, quick, strict=True) if q >= min_score]
        above = len(kept)
        if top is not None and len(kept) > top:
            kept.sort(key=lambda x: (-x[0], x[1][0]))
            kept = kept[:top]
        rows = [r for _, r in kept]
    out = []
    for cid, cohort_id, role, moment_c, inactive, passed, unreachable, seen, _outcome in rows:
        found: list[tuple[str, float, dict[str, Any]]] = []  # (signal, strength, values)
        today = local_day if moment_c is moment else moment_c.astimezone(tz).date()
        # Withdrawal intent (a withdrawal message: its signal and its ticket are one event, counted once).
        intents = max(signals.get(cid, 0), wd_tickets.get(cid, 0))
        if intents:
            found.append(("withdrawal_intent", 1.0, {"count": intents}))
        if unreachable is not None and unreachable <= moment_c:
            found.append(("unreachable", 1.0, {"since": unreachable.astimezone(tz).date()}))
        median = med_inactive[cohort_id]
        base = max(median, min_days)
        if inactive >= base + 1:
            found.append(("inactive", (inactive - base) / full_days, {"days": int(inactive), "median": int(median)}))
        behind = med_lessons[cohort_id] - passed
        if behind >= 1:
            found.append(("lessons_behind", behind / behind_full,
                          {"passed": passed, "median": _num(med_lessons[cohort_id])}))
        cohort_dues = dues.get(cohort_id or "")
        open_docs = 0
        if cohort_dues is not None:
            done_bits = handed.get(cid, 0) or 0
            missed: list[tuple[str, int]] = []
            near: list[tuple[str, int]] = []
            for i, applies_here in enumerate(applies.get(role) or [True] * len(doc_tasks)):
                if not applies_here or done_bits & (1 << i):
                    continue
                open_docs += 1
                left = (cohort_dues[i] - today).days
                if left < 0:
                    missed.append((doc_ids[i], -left))
                elif left <= near_days:
                    near.append((doc_ids[i], left))
            if missed:
                found.append(("deadline_missed", len(missed) / 2 + 0.5,
                              {"tasks": [t for t, _ in missed], "days": max(d for _, d in missed)}))
            if near:
                found.append(("deadline_near", 1.0, {"tasks": [t for t, _ in near], "days": min(d for _, d in near)}))
        nudge_at = nudged.get(cid)
        if nudge_at is not None:
            last_nudge = _parse(nudge_at)
            assert last_nudge is not None
            if moment_c - last_nudge >= quiet and (seen is None or seen <= last_nudge):
                hours = int((moment_c - last_nudge).total_seconds() // 3600)
                found.append(("quiet_after_nudge", 1.0, {"date": last_nudge.astimezone(tz).date(), "hours": hours}))
        tickets = open_tickets.get(cid)
        if tickets:
            count, oldest = tickets
            age = (moment_c - (_parse(oldest) or moment_c)).total_seconds() / 3600
            if age >= unanswered:
                found.append(("open_ticket", 1.0, {"count": count, "days": int(age // 24), "hours": int(age)}))
        votes = down_votes.get(cid, 0)
        if votes:
            found.append(("faq_down_votes", min(1.0, votes / 2), {"count": votes}))
        if cohort_dues is not None:
            left_days = (training[cohort_id] - today).days
            if 0 <= left_days <= soon_days and (open_docs or behind >= 1):
                found.append(("training_soon", 1.0 - left_days / (soon_days + 1),
                              {"days": left_days, "documents": open_docs, "lessons": max(0, int(behind))}))
        feats = dict.fromkeys(SIGNALS, 0.0)
        if not found:
            out.append(Risk(cid, 0, (), feats, (), cohort_id, moment_c))
            continue
        reasons = []
        for signal, strength, values in found:
            strength = min(1.0, strength)
            if strength <= 0:
                continue
            feats[signal] = round(strength, 4)
            reasons.append(Reason(signal, _points(weights[signal], strength), values))
        score = _total(reasons)  # summed in SIGNALS order, as the first pass does
        reasons.sort(key=lambda r: (-r.points, _ORDER[r.signal]))
        out.append(Risk(cid, score, tuple(r.key for r in reasons), feats, tuple(reasons), cohort_id, moment_c))
    out.sort(key=lambda r: (-r.score, r.candidate_id))
    if min_score is not None:
        out = [r for r in out if r.score >= min_score]
    return out, len(out) if above is None else above


def _points(weight: float, strength: float) -> float:
    """A signal's points to one decimal, computed as numpy's round does (x * 10, to the nearest even, / 10), so
    the first pass (numpy, every candidate at once) and the detailed pass agree to the last bit."""
    return round(weight * strength * 10) / 10


def _total(reasons: list[Reason]) -> int:
    """The score: the points added up in the order the first pass adds them (SIGNALS), capped at 100."""
    total = 0.0
    for r in sorted(reasons, key=lambda r: _ORDER[r.signal]):
        total += r.points
    return min(100, int(round(total)))


_ORDER = {sig: i for i, sig in enumerate(SIGNALS)}


def _quick_scores(rows: list[tuple[Any, ...]], weights: dict[str, float], med_inactive: dict[Any, float],
                  med_lessons: dict[Any, float], dues: dict[str, list[date]], training: dict[str, date],
                  applies: dict[str, list[bool]], today: date, th: Any, moment: datetime, signals: dict[int, Any],
                  wd_tickets: dict[int, Any], handed: dict[int, Any], nudged: dict[int, Any],
                  open_tickets: dict[int, Any], down_votes: dict[int, Any]) -> np.ndarray:
    """The same score as the detailed pass, for every row at once (numpy), without the reasons' texts and values.
    Every row has the same moment here (no before_outcome)."""
    n = len(rows)
    index = {r[0]: i for i, r in enumerate(rows)}

    def sparse(values: dict[int, Any], convert: Any = float) -> np.ndarray:
        arr = np.zeros(n)
        for cid, v in values.items():
            i = index.get(cid)
            if i is not None and v is not None:
                arr[i] = convert(v)
        return arr

    stamp = moment.timestamp()
    inactive = np.fromiter((r[4] for r in rows), float, n)
    passed = np.fromiter((r[5] for r in rows), float, n)
    med_i = np.fromiter((med_inactive[r[1]] for r in rows), float, n)
    med_l = np.fromiter((med_lessons[r[1]] for r in rows), float, n)
    blocked = np.fromiter((r[6] is not None and r[6] <= moment for r in rows), bool, n)
    seen = np.fromiter(((r[7].timestamp() if r[7] is not None else 0.0) for r in rows), float, n)
    strength: dict[str, np.ndarray] = {}
    strength["withdrawal_intent"] = (np.maximum(sparse(signals), sparse(wd_tickets)) > 0).astype(float)
    strength["unreachable"] = blocked.astype(float)
    base = np.maximum(med_i, th.inactive_min_days)
    strength["inactive"] = np.where(inactive >= base + 1, np.clip((inactive - base) / th.inactive_full_days, 0, 1), 0)
    behind = med_l - passed
    strength["lessons_behind"] = np.where(behind >= 1, np.clip(behind / th.lessons_behind_full, 0, 1), 0)
    k = len(next(iter(dues.values()), []))
    missed = np.zeros(n)
    near = np.zeros(n, dtype=bool)
    open_docs = np.zeros(n)
    soon = np.zeros(n)
    known = np.fromiter((r[1] in dues for r in rows), bool, n)
    if k:
        bits = sparse(handed, int).astype(np.int64)
        # Per cohort and per role once, then one row of the table per candidate (a lookup, not a list each).
        cohort_ids = list(dues)
        left_table = np.array([[(d - today).days for d in dues[c]] for c in cohort_ids] + [[0] * k]).reshape(-1, k)
        cohort_code = {c: i for i, c in enumerate(cohort_ids)}
        left = left_table[np.fromiter((cohort_code.get(r[1], len(cohort_ids)) for r in rows), np.int64, n)]
        roles = list(applies)
        apply_table = np.array([applies[r] or [True] * k for r in roles] + [[True] * k], dtype=bool).reshape(-1, k)
        role_code = {r: i for i, r in enumerate(roles)}
        apply = apply_table[np.fromiter((role_code.get(r[2], len(roles)) for r in rows), np.int64, n)]
        done = (bits[:, None] >> np.arange(k)[None, :]) & 1
        is_open = apply & (done == 0) & known[:, None]
        open_docs = is_open.sum(axis=1)
        missed = (is_open & (left < 0)).sum(axis=1)
        near = (is_open & (left >= 0) & (left <= th.deadline_near_days)).any(axis=1)
    strength["deadline_missed"] = np.where(missed > 0, np.minimum(1.0, missed / 2 + 0.5), 0)
    strength["deadline_near"] = near.astype(float)
    last_nudge = sparse(nudged, lambda v: _parse(v).timestamp())  # type: ignore[union-attr]
    quiet = th.nudge_quiet_hours * 3600
    strength["quiet_after_nudge"] = ((last_nudge > 0) & (stamp - last_nudge >= quiet) & (seen <= last_nudge)
                                     ).astype(float)
    oldest = sparse({c: v[1] for c, v in open_tickets.items()}, lambda v: _parse(v).timestamp())  # type: ignore
    strength["open_ticket"] = ((oldest > 0) & ((stamp - oldest) / 3600 >= th.ticket_unanswered_hours)).astype(float)
    strength["faq_down_votes"] = np.minimum(1.0, sparse(down_votes) / 2)
    days = np.fromiter(((training[r[1]] - today).days if r[1] in training else -1 for r in rows), float, n)
    soon_ok = known & (days >= 0) & (days <= th.training_soon_days) & ((open_docs > 0) | (behind >= 1))
    soon = np.where(soon_ok, 1.0 - days / (th.training_soon_days + 1), 0)
    strength["training_soon"] = soon
    total = np.zeros(n)
    for signal in SIGNALS:  # the order the detailed pass adds them in (_total)
        total += np.round(weights[signal] * strength[signal], 1)
    return np.minimum(100, np.round(total))


def _activity(session: Session, cut: Any, where: Any) -> list[tuple[Any, ...]]:
    """Per candidate (created up to their moment): id, cohort, role, when last seen (their last interaction, else
    when they linked, were invited or added), blocked since, outcome time, lessons passed: one query."""
    last = (select(func.max(IN.at)).where(IN.candidate_id == C.id, IN.at <= cut)
            .correlate(CAND).scalar_subquery())
    passed = (select(func.count()).where(LP.candidate_id == C.id, LP.passed_at.is_not(None), LP.passed_at <= cut)
              .correlate(CAND).scalar_subquery())
    dt = _dt_reader(session)
    query = select(C.id, C.cohort_id, C.role,
                   dt(func.coalesce(last, C.bound_at, C.invite_issued_at, C.created_at)),
                   dt(C.unreachable_at), dt(C.outcome_at), passed).where(C.created_at <= cut)
    if where is not None:
        query = query.where(where)
    return [(cid, cohort, role, _parse(seen), _parse(unreachable), _parse(outcome), n)
            for cid, cohort, role, seen, unreachable, outcome, n in session.execute(query).all()]


def _dt_reader(session: Session) -> Any:
    """SQLite keeps datetimes as text: read them as text and parse them with datetime.fromisoformat (in C), many
    times faster than the generic result processor on 50,000 rows. Other databases give datetimes already."""
    if session.get_bind().dialect.name == "sqlite":
        return lambda expr: type_coerce(expr, String)
    return lambda expr: expr


def _parse(value: Any) -> datetime | None:
    return cast(datetime | None, utc(value))


def _rows(cands: list[Any], moment: datetime, before_outcome: bool) -> list[tuple[Any, ...]]:
    rows = []
    for cid, cohort_id, role, seen, unreachable, oa, passed in cands:
        moment_c = oa if before_outcome and oa is not None and oa < moment else moment
        inactive = max(0.0, (moment_c - seen).total_seconds() / 86400) if seen else 0.0
        rows.append((cid, cohort_id, role, moment_c, inactive, passed, unreachable, seen, oa))
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
