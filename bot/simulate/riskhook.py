"""The risk score read on a simulated run: a snapshot every virtual evening, and the figures at the end.

* ``auc`` / ``top_decile_lift``: what `hrbot risk evaluate` reports on the same database (its own functions: each
  candidate with an outcome scored as they stood just before HR marked it).
* ``seven_days_before``: each candidate with an outcome scored as it stood 7 days before it (the snapshot of that
  evening), when there is still time to act. (It compares attendees on the eve of training with leavers at any
  time, so the moment itself tells them apart in part.)
* ``each_evening``: every evening, the candidates still waiting ranked by score, those who later withdrew against
  those who attended (the same moment for both), averaged over the evenings weighted by how many were ranked.
* ``top_tenth``: for each leaver, the first evening they were in the top tenth of the candidates still waiting
  (score at or above the score of the candidate at the 10% position, and above 0), and how many days that was
  before the dropout: the first withdrawal message, or HR's mark when they went quiet; and before the day they
  really decided (which only the simulator knows).
"""

from __future__ import annotations

import math
import statistics
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from store.models import Candidate, RiskSignal

if TYPE_CHECKING:
    from bot.simulate.run import Simulation


def available() -> bool:
    try:
        import bot.analytics.evaluate  # noqa: F401
        import bot.analytics.risk  # noqa: F401
    except ImportError:
        return False
    return True


class RiskHook:
    def __init__(self) -> None:
        self.days: dict[date, dict[int, int]] = {}  # evening -> {candidate id: score}, candidates still waiting
        self.top: dict[date, set[int]] = {}

    def snapshot(self, sim: Simulation, day: date, at: datetime) -> None:
        from bot.analytics.risk import score_candidates

        with sim.db.session() as session:
            risks = score_candidates(session, sim.engine.ctx, at, where=col(Candidate.outcome).is_(None))
        scores = {r.candidate_id: r.score for r in risks}
        self.days[day] = scores
        self.top[day] = top_tenth(scores)

    def figures(self, sim: Simulation) -> dict[str, Any]:
        from bot.analytics.cli import evaluation, outcome_pairs
        from bot.analytics.evaluate import each_moment, evaluate

        now = sim.clock.now()
        with sim.db.session() as session:
            final, withdrew = outcome_pairs(session, sim.settings, now)  # what `hrbot risk evaluate` reads
            outcomes: dict[int, tuple[str, datetime]] = {
                cid: (str(out), _aware(at)) for cid, out, at in session.exec(
                    select(Candidate.id, Candidate.outcome, Candidate.outcome_at).where(
                        col(Candidate.outcome).is_not(None))).all() if cid is not None and at is not None}
            said: dict[int, datetime] = {}
            for cid, at in session.exec(select(RiskSignal.candidate_id, RiskSignal.at).where(
                    RiskSignal.kind == "withdrawal_intent").order_by(col(RiskSignal.at))).all():
                said.setdefault(cid, _aware(at))
        at_end = evaluation(final, withdrew)
        early_pairs: list[tuple[float, bool]] = []
        for cid, (out, at) in sorted(outcomes.items()):
            snap = self.days.get(sim.local_day(at) - timedelta(days=7))
            if snap is not None and cid in snap:
                early_pairs.append((snap[cid], out == "withdrawn"))
        early = evaluate(early_pairs)
        # Each evening's ranking of those still waiting, those who later withdrew against those who attended (the
        # same moment for both: what /atrisk shows HR that day), averaged over the evenings by how many it ranked.
        nights = each_moment([(score, outcomes[cid][0] == "withdrawn") for cid, score in snap.items()
                              if cid in outcomes] for snap in self.days.values())
        visible: list[int] = []
        hidden: list[int] = []
        flagged = leavers = 0
        decided = {a.candidate_id: a.persona.decide for a in sim.agents if a.candidate_id is not None}
        for cid, (out, at) in sorted(outcomes.items()):
            if out != "withdrawn":
                continue
            leavers += 1
            dropout = sim.local_day(said.get(cid) or at)
            entered = next((d for d in sorted(self.top) if d < dropout and cid in self.top[d]), None)
            if entered is None:
                continue
            flagged += 1
            visible.append((dropout - entered).days)
            real = decided.get(cid)
            if real is not None:
                hidden.append((real - entered).days)
        return {
            "auc": at_end["auc"], "top_decile_lift": at_end["top_decile_lift"], "n": at_end["n"],
            "withdrawn": at_end["withdrawn"], "enough": at_end["enough"],
            "seven_days_before": {k: early[k] for k in ("n", "withdrawn", "auc", "top_decile_lift")},
            "each_evening": {"evenings": nights["moments"], "scores": nights["scores"], "auc": nights["auc"],
                             "top_decile_lift": nights["top_decile_lift"]},
            "top_tenth": {
                "leavers": leavers, "entered_before_dropout": flagged,
                "median_days_before_dropout": statistics.median(visible) if visible else None,
                "median_days_before_decision": statistics.median(hidden) if hidden else None,
                "note": "dropout = the first withdrawal message, else HR's mark; decision = the day the simulated "
                        "candidate decided (hidden from the bot); negative = entered after deciding",
            },
            "snapshots": len(self.days),
        }


def top_tenth(scores: dict[int, int]) -> set[int]:
    """Candidates at or above the score at the 10% position (ties included), with a score above 0."""
    if not scores:
        return set()
    ranked = sorted(scores.values(), reverse=True)
    bar = ranked[max(0, math.ceil(len(ranked) / 10) - 1)]
    return {cid for cid, s in scores.items() if s >= bar and s > 0}


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t

