"""`hrbot nudges preview`: what each candidate would receive over the coming days, without sending.

It runs the planner's own decide() at every moment something falls due, assuming candidates' data stays as
it is now (same stage, tasks still open, no new activity).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.nudges.planner import (
    LOOKBACK,
    Calendar,
    Occurrence,
    decide,
    decision_history,
    load_states,
    occurrences,
    reservation,
)
from bot.nudges.rules import RuleSet
from store.db import Database


def preview(db: Database, settings: Settings, rules: RuleSet, start: datetime, days: int,
            candidate_id: int | None = None, include_unbound: bool = False) -> list[dict[str, Any]]:
    cal = Calendar(settings)
    end = start + timedelta(days=days)
    with db.session() as session:
        states = load_states(session, settings, rules, start - LOOKBACK, candidate_id, include_unbound)
        decided, counted = decision_history(session, start - LOOKBACK, start)
    out: list[dict[str, Any]] = []
    for cand in states:
        groups: dict[datetime, list[Occurrence]] = defaultdict(list)
        for rule in rules.rules:
            for occ in occurrences(rule, cand, settings, cal, start - LOOKBACK, end):
                if occ.dedupe_key not in decided:
                    # The planner decides at its first tick at or after the due time that is not at night.
                    groups[cal.next_awake(max(occ.due, start))].append(occ)
        history = counted[cand.id]
        for at in sorted(groups):
            if at > end:
                continue
            for d in decide(at, groups[at], history, settings.file.nudges, cal,
                            reservation(rules.rules, cand, settings, cal, at)):
                row: dict[str, Any] = {"candidate_id": cand.id, "rule": d.occurrence.rule.id,
                                       "at": d.at.astimezone(settings.tz).isoformat(),
                                       "status": "send" if d.send else "skipped"}
                if not d.send:
                    row["reason"] = d.reason
                out.append(row)
    out.sort(key=lambda r: (r["at"], r["candidate_id"], r["rule"]))
    return out
