"""The FAQ as the running bot sees it: the checked files, the index built from them, and the withdrawal detector.

The index is built on first use (loading the encoder and encoding the example questions takes about a second)
and rebuilt when content/faq.yaml or content/intents.yaml change on disk, so `hrbot faq merge` takes effect
without a restart. A changed file that no longer passes the checks is logged and the last good one stays in use.
The rebuild of a FAQ of more than BACKGROUND_FROM entries (several seconds at 500: fitting its classifier) runs
beside the old index, which keeps answering until the new one is ready, instead of making the message that
noticed the edit wait for it; a smaller FAQ is rebuilt at once (well under a second), so an edit is in use on
the next message.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.config import Settings
from bot.faq.catalog import Faq, FaqError, Intents, load_faq, load_intents
from bot.faq.matcher import Encoder, FaqIndex, Match, UseEncoder
from bot.faq.normalize import Normalizer

log = logging.getLogger(__name__)


class CachedEncoder:
    """Remembers the vector of every text it has encoded: rebuilding an index after an edit, or building one per
    test, re-encodes only what changed."""

    def __init__(self, inner: Encoder, limit: int = 20_000):
        self.inner = inner
        self.limit = limit
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def known(self, text: str) -> np.ndarray | None:
        """The vector of a text encoded before (an example question), without adding anything: candidates' own
        questions are never kept here."""
        return self._cache.get(text)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                for text, vector in zip(missing, self.inner.encode(missing), strict=True):
                    if len(self._cache) < self.limit:
                        self._cache[text] = vector
            if any(t not in self._cache for t in texts):  # over the limit: encode directly
                return self.inner.encode(texts)
            return np.stack([self._cache[t] for t in texts]) if texts else self.inner.encode([])


@functools.cache
def shared_encoder() -> CachedEncoder:
    """One encoder per process: the model is read-only, and loading it twice only costs memory."""
    return CachedEncoder(UseEncoder())


@dataclass
class Withdrawal:
    """Does a message say the candidate is dropping out? A listed phrase, or close in meaning to an example."""

    phrases: list[str]  # normalised
    vectors: np.ndarray
    threshold: float

    def __post_init__(self) -> None:
        # Chinese phrases match anywhere (no spaces between words); English ones as whole words.
        cjk = [re.escape(p.replace(" ", "")) for p in self.phrases if not p.isascii()]
        words = [rf"\b{re.escape(p)}\b" for p in self.phrases if p.isascii()]
        self._cjk = re.compile("|".join(cjk)) if cjk else None
        self._words = re.compile("|".join(words)) if words else None

    def detect(self, normalized: str, query_vector: np.ndarray | None) -> bool:
        if self._cjk is not None and self._cjk.search(normalized.replace(" ", "")):
            return True
        if self._words is not None and self._words.search(normalized):
            return True
        if query_vector is None or not len(self.vectors):
            return False
        return bool((self.vectors @ query_vector * 100.0).max() >= self.threshold)


@dataclass
class Loaded:
    faq: Faq
    intents: Intents
    normalize: Normalizer
    index: FaqIndex
    withdrawal: Withdrawal
    stamp: tuple[int, ...]


def load_checked(settings: Settings) -> tuple[Faq, Intents, Normalizer]:
    """Load and check both files (raises FaqError with every problem)."""
    problems = []
    intents = Intents()
    try:
        intents = load_intents(settings.content_path(settings.file.faq.intents_file))
    except FaqError as exc:
        problems.extend(exc.problems)
    normalize = Normalizer(intents.fillers)
    try:
        faq = load_faq(settings.content_path(settings.file.faq.file), settings.locales, normalize)
    except FaqError as exc:
        problems.extend(exc.problems)
    if problems:
        raise FaqError(problems)
    return faq, intents, normalize


class FaqRuntime:
    CHECK_EVERY = 1.0  # seconds between looks at the files' modification times
    BACKGROUND_FROM = 150  # entries: a FAQ this large is rebuilt in the background (about a second or more)

    def __init__(self, settings: Settings, encoder: Encoder | None = None):
        self.settings = settings
        self._encoder = encoder
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None
        f = settings.file.faq
        self.files = (settings.content_path(f.file), settings.content_path(f.intents_file))
        self._checked_at = 0.0

    def _stamp(self) -> tuple[int, ...]:
        stamp: list[int] = []
        for p in self.files:
            st = p.stat() if p.exists() else None
            stamp += [st.st_mtime_ns, st.st_size] if st else [0, 0]
        return tuple(stamp)

    def current(self) -> Loaded:
        """The loaded FAQ, rebuilt if a file changed since (a broken edit keeps the last good version)."""
        loaded = self._loaded
        now = time.monotonic()
        if loaded is not None and now - self._checked_at < self.CHECK_EVERY:
            return loaded
        self._checked_at = now
        stamp = self._stamp()
        if loaded is not None and loaded.stamp == stamp:
            return loaded
        if loaded is not None and len(loaded.faq.entries) >= self.BACKGROUND_FROM:
            self._rebuild_beside(stamp)
            return loaded
        with self._lock:
            self._rebuild(stamp)
            assert self._loaded is not None
            return self._loaded

    def _rebuild(self, stamp: tuple[int, ...]) -> None:
        """Under self._lock: build the index for the files as they are now (``stamp``), unless that is done."""
        if self._loaded is not None and self._loaded.stamp == stamp:
            return
        try:
            self._loaded = self._build(stamp)
        except FaqError as exc:
            if self._loaded is None:
                raise
            log.error("FAQ files changed but have problems; still using the previous version:\n%s", exc)
            self._loaded.stamp = stamp  # do not retry on every message; the next edit is read again

    def _rebuild_beside(self, stamp: tuple[int, ...]) -> None:
        building = self._building
        if building is not None and building.is_alive():
            return  # the files are looked at again when it is done

        def run() -> None:
            with self._lock:
                try:
                    self._rebuild(stamp)
                except Exception:  # noqa: BLE001 - the old index keeps answering; the next edit is tried again
                    log.exception("FAQ rebuild failed; still using the previous version")

        self._building = threading.Thread(target=run, name="faq-rebuild", daemon=True)
        self._building.start()

    def _build(self, stamp: tuple[int, ...]) -> Loaded:
        faq, intents, normalize = load_checked(self.settings)
        encoder = self._encoder or shared_encoder()
        index = FaqIndex(faq, normalize, encoder, self.settings.file.faq)
        examples = [normalize(e) for e in intents.withdrawal_examples]
        withdrawal = Withdrawal(
            phrases=[p for p in (normalize(x) for x in intents.withdrawal_phrases) if p],
            vectors=encoder.encode([e for e in examples if e]), threshold=intents.withdrawal_similarity)
        log.info("FAQ loaded: %d entries", len(faq.entries))
        return Loaded(faq, intents, normalize, index, withdrawal, stamp)

    def closest(self, text: str, n: int = 3) -> list[str]:
        """The ids of the n entries that score highest for a message (for HR: "this is entry X")."""
        loaded = self.current()
        normalized = loaded.normalize(text)
        if not normalized or not loaded.index.ids:
            return []
        scores = loaded.index.scores(normalized, loaded.index.encode_query(normalized), text)
        return [loaded.index.ids[i] for i in np.argsort(-scores, kind="stable")[:n]]

    def match(self, text: str) -> tuple[Match, bool]:
        """(what the FAQ says, whether the message signals dropping out)."""
        loaded = self.current()
        normalized = loaded.normalize(text)
        if not normalized:
            return loaded.index.match(text, normalized), False
        vector = loaded.index.encode_query(normalized)
        return loaded.index.match(text, normalized, vector), loaded.withdrawal.detect(normalized, vector)
