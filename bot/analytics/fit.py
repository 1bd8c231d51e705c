"""`hrbot risk fit`: weights proposed from the outcomes HR marked, for HR to review (never applied by the bot).

A logistic regression on the same features the score uses (each signal's strength, 0-1), fitted on a training part
and judged on a held-out part the fit never saw. numpy only: ten features and a few thousand rows need no more,
and scikit-learn (with scipy) would add tens of megabytes to every install for one small regression.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.analytics.evaluate import evaluate
from bot.analytics.risk import SIGNALS, Risk

HELD_OUT = 0.3  # share of candidates kept out of the fit to judge it


@dataclass(frozen=True)
class FitResult:
    coefficients: dict[str, float]
    intercept: float
    weights: dict[str, float]  # proposed config.yaml risk.weights (points)
    train: dict[str, Any]
    held_out: dict[str, Any]  # evaluate() of the current and the proposed weights on the held-out part


def held_out(candidate_id: int) -> bool:
    """A fixed split by candidate id (the same candidate is always on the same side)."""
    digest = hashlib.sha256(str(candidate_id).encode()).digest()
    return digest[0] / 256 < HELD_OUT


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.1, steps: int = 500) -> tuple[np.ndarray, float]:
    """Newton's method (iteratively reweighted least squares) with a small L2 penalty, which keeps the
    coefficients finite when a signal separates the outcomes perfectly."""
    n, k = x.shape
    xb = np.hstack([np.ones((n, 1)), x])
    beta = np.zeros(k + 1)
    penalty = np.eye(k + 1) * l2
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ beta, -30, 30)))
        grad = xb.T @ (p - y) + penalty @ beta
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess + np.eye(k + 1) * 1e-9, grad)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return beta[1:], float(beta[0])


def points(features: dict[str, float], weights: dict[str, float]) -> float:
    return min(100.0, sum(weights[s] * features.get(s, 0.0) for s in SIGNALS))


def fit(risks: Sequence[Risk], withdrew: dict[int, bool], current: dict[str, float]) -> FitResult:
    """``risks`` scored before each outcome; ``withdrew`` candidate id -> True (withdrawn) / False (attended).
    Proposed weights: the positive coefficients, scaled so they add up to what the current weights add up to
    (the score keeps its 0-100 range; a signal that lowered the odds proposes 0)."""
    rows = [r for r in risks if r.candidate_id in withdrew]
    train = [r for r in rows if not held_out(r.candidate_id)]
    test = [r for r in rows if held_out(r.candidate_id)]
    x = np.array([[r.features.get(s, 0.0) for s in SIGNALS] for r in train], dtype=float).reshape(-1, len(SIGNALS))
    y = np.array([1.0 if withdrew[r.candidate_id] else 0.0 for r in train])
    coef, intercept = logistic(x, y)
    positive = np.clip(coef, 0, None)
    total = sum(current.values())
    scale = total / float(positive.sum()) if positive.sum() > 0 else 0.0
    proposed = {s: round(float(positive[i] * scale), 1) for i, s in enumerate(SIGNALS)}

    def judged(part: Sequence[Risk], weights: dict[str, float]) -> dict[str, Any]:
        return evaluate([(points(r.features, weights), withdrew[r.candidate_id]) for r in part])

    return FitResult(
        coefficients={s: round(float(coef[i]), 3) for i, s in enumerate(SIGNALS)}, intercept=round(intercept, 3),
        weights=proposed,
        train={"n": len(train), "withdrawn": int(y.sum()), "proposed": judged(train, proposed)},
        held_out={"n": len(test), "withdrawn": sum(1 for r in test if withdrew[r.candidate_id]),
                  "current": judged(test, current), "proposed": judged(test, proposed)},
    )
