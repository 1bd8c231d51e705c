"""`hrbot faq eval`: how the matcher does on a labelled set of questions, and the rapidfuzz baseline."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from bot.faq.catalog import Faq
from bot.faq.matcher import FaqIndex, Match


@dataclass(frozen=True)
class Case:
    row: int
    query: str
    expected: str | None


class CasesError(Exception):
    pass


def read_cases(path: Path, known_ids: set[str]) -> list[Case]:
    """query,expected_id rows; an empty expected_id means the bot should not answer."""
    problems: list[str] = []
    cases: list[Case] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"query", "expected_id"} - set(reader.fieldnames or [])
        if missing:
            raise CasesError(f"{path}:1: the header must have the columns query,expected_id "
                             f"(missing: {', '.join(sorted(missing))})")
        for row_no, row in enumerate(reader, start=2):
            query = (row.get("query") or "").strip()
            expected = (row.get("expected_id") or "").strip() or None
            if not query:
                problems.append(f"{path}:{row_no}: query: empty; write the question or delete the row")
            elif expected is not None and expected not in known_ids:
                problems.append(f"{path}:{row_no}: expected_id: {expected!r} is not an id in the FAQ")
            else:
                cases.append(Case(row_no, query, expected))
    if problems:
        raise CasesError("\n".join(problems))
    return cases


@dataclass
class Figures:
    questions: int
    in_scope: int
    out_of_scope: int
    answered_right: int  # confident and right (in scope)
    right_in_reach: int  # right entry is the answer or among the suggestions (in scope)
    answered_wrong: int  # confident and wrong, over all questions (out-of-scope answers count as wrong)
    oos_answered: int  # out-of-scope questions that got a confident answer
    top1_right: int  # the best-ranked entry is right (in scope), whatever the outcome
    latency_ms: list[float]

    def share(self, n: int, of: int) -> float:
        return 100.0 * n / of if of else 0.0

    def fractions(self) -> dict[str, float]:
        """The four figures as fractions (0-1), named as the FAQ benchmark's score.py names them."""

        def frac(n: int, of: int) -> float:
            return round(n / of, 4) if of else 0.0

        return {"confident_right": frac(self.answered_right, self.in_scope),
                "resolved": frac(self.right_in_reach, self.in_scope),
                "wrong_confident": frac(self.answered_wrong, self.questions),
                "oos_confident": frac(self.oos_answered, self.out_of_scope)}

    def lines(self) -> list[str]:
        lat = np.asarray(self.latency_ms) if self.latency_ms else np.zeros(1)
        return [
            f"questions: {self.questions} ({self.in_scope} in scope, {self.out_of_scope} out of scope)",
            f"confident and right, of in-scope: {self.share(self.answered_right, self.in_scope):.1f}% "
            f"({self.answered_right}/{self.in_scope})",
            f"right entry answered or suggested, of in-scope: {self.share(self.right_in_reach, self.in_scope):.1f}% "
            f"({self.right_in_reach}/{self.in_scope})",
            f"confident and wrong, of all: {self.share(self.answered_wrong, self.questions):.1f}% "
            f"({self.answered_wrong}/{self.questions})",
            f"out-of-scope answered with confidence: {self.share(self.oos_answered, self.out_of_scope):.1f}% "
            f"({self.oos_answered}/{self.out_of_scope})",
            f"best-ranked entry right, of in-scope: {self.share(self.top1_right, self.in_scope):.1f}%",
            f"latency per question: p50 {np.percentile(lat, 50):.2f} ms, p95 {np.percentile(lat, 95):.2f} ms",
        ]


def evaluate(cases: list[Case], match: Callable[[str], Match]) -> tuple[Figures, list[tuple[Case, Match]]]:
    fig = Figures(len(cases), 0, 0, 0, 0, 0, 0, 0, [])
    results = []
    for case in cases:
        t0 = time.perf_counter()
        m = match(case.query)
        fig.latency_ms.append((time.perf_counter() - t0) * 1000)
        results.append((case, m))
        if case.expected is None:
            fig.out_of_scope += 1
            if m.id is not None:
                fig.oos_answered += 1
                fig.answered_wrong += 1
            continue
        fig.in_scope += 1
        fig.top1_right += m.best == case.expected
        if m.id == case.expected:
            fig.answered_right += 1
        elif m.id is not None:
            fig.answered_wrong += 1
        if m.id == case.expected or case.expected in m.suggestions:
            fig.right_in_reach += 1
    return fig, results


def wratio_baseline(faq: Faq) -> Callable[[str], Match]:
    """A plain rapidfuzz.process.extractOne with WRatio over the raw example questions: always answers."""
    choices = [q for e in faq.entries for q in e.questions]
    owners = [e.id for e in faq.entries for _ in e.questions]

    def match(query: str) -> Match:
        found = process.extractOne(query, choices, scorer=fuzz.WRatio)
        if found is None:
            return Match(query, "unknown", None, 0.0)
        owner = owners[found[2]]
        return Match(query, "answer", owner, float(found[1]), [], owner)

    return match


def index_match(index: FaqIndex) -> Callable[[str], Match]:
    return index.match
