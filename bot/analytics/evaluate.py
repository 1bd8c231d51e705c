"""How well a score separated those who withdrew from those who attended: ROC AUC, top-decile lift, calibration.

Plain Python (no numpy needed): the pairs are a few thousand at most.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

# Fewer outcomes than this on either side and nothing is concluded: auc and lift are None.
MIN_EACH = 5
CALIBRATION_BINS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))


def auc(pairs: Sequence[tuple[float, bool]]) -> float | None:
    """ROC AUC as the Mann-Whitney statistic: the chance that a withdrawn candidate scores above an attended one
    (ties count half). None without both kinds."""
    pos = sum(1 for _, y in pairs if y)
    neg = len(pairs) - pos
    if pos == 0 or neg == 0:
        return None
    ranked = sorted(pairs, key=lambda p: p[0])
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        mid = (i + j) / 2 + 1  # average rank of the tie group, 1-based
        rank_sum += mid * sum(1 for k in range(i, j + 1) if ranked[k][1])
        i = j + 1
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def top_decile_lift(pairs: Sequence[tuple[float, bool]]) -> float | None:
    """The withdrawal rate among the highest-scored tenth divided by the overall rate (1.0 = no better than chance).
    Ties at the cut are shared in proportion, so the order of equal scores does not matter."""
    n = len(pairs)
    pos = sum(1 for _, y in pairs if y)
    if n == 0 or pos == 0:
        return None
    k = max(1, math.ceil(n / 10))
    ranked = sorted(pairs, key=lambda p: -p[0])
    cut = ranked[k - 1][0]
    above = [y for s, y in ranked if s > cut]
    tied = [y for s, y in ranked if s == cut]
    take = k - len(above)
    hits = sum(above) + (sum(tied) * take / len(tied) if tied else 0)
    return (hits / k) / (pos / n)


def calibration(pairs: Sequence[tuple[float, bool]]) -> list[dict[str, Any]]:
    """Per score band: how many, how many withdrew, the observed rate and the mean score (as a share)."""
    rows = []
    for lo, hi in CALIBRATION_BINS:
        band = [(s, y) for s, y in pairs if lo <= s < hi]
        withdrawn = sum(1 for _, y in band if y)
        rows.append({"band": f"{lo}-{min(hi, 100)}" if hi <= 100 else f"{lo}-100", "n": len(band),
                     "withdrawn": withdrawn,
                     "rate": round(withdrawn / len(band), 3) if band else None,
                     "mean_score": round(sum(s for s, _ in band) / len(band) / 100, 3) if band else None})
    return rows


def evaluate(pairs: Sequence[tuple[float, bool]]) -> dict[str, Any]:
    """{"n", "withdrawn", "attended", "auc", "top_decile_lift", "calibration", "enough"}: ``pairs`` are
    (score, withdrew). With fewer than MIN_EACH of either outcome, auc and top_decile_lift are None and
    ``enough`` is False: too few outcomes to conclude anything."""
    pairs = [(float(s), bool(y)) for s, y in pairs]
    n = len(pairs)
    withdrawn = sum(1 for _, y in pairs if y)
    attended = n - withdrawn
    enough = withdrawn >= MIN_EACH and attended >= MIN_EACH
    a = auc(pairs) if enough else None
    lift = top_decile_lift(pairs) if enough else None
    return {"n": n, "withdrawn": withdrawn, "attended": attended,
            "auc": None if a is None else round(a, 3),
            "top_decile_lift": None if lift is None else round(lift, 2),
            "calibration": calibration(pairs), "enough": enough, "min_each": MIN_EACH}


def each_moment(groups: Iterable[Sequence[tuple[float, bool]]]) -> dict[str, Any]:
    """Several rankings taken at different moments (each a list of (score, withdrew), e.g. the candidates still
    waiting on one evening): AUC and top-decile lift of each, averaged weighted by how many it ranked, over those
    with enough of both outcomes. {"moments", "scores", "auc", "top_decile_lift"}; auc and lift None when none had
    enough."""
    judged = [e for e in (evaluate(g) for g in groups) if e["enough"]]
    total = sum(e["n"] for e in judged)
    return {"moments": len(judged), "scores": total,
            "auc": round(sum(e["n"] * e["auc"] for e in judged) / total, 3) if total else None,
            "top_decile_lift": round(sum(e["n"] * e["top_decile_lift"] for e in judged) / total, 2) if total else None}
