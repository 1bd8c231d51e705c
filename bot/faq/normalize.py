"""Text normalisation for short chat questions in Chinese and English.

Full-width to half-width and other compatibility forms (NFKC), traditional to simplified Chinese, case folding,
punctuation and emoji to spaces, and greetings/politeness ("你好", "请问一下", "thanks") removed, so that what is
left is the question itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import zhconv

_SPACES = re.compile(r"\s+")
# Letters, digits and CJK ideographs count as content; everything else (punctuation, symbols, emoji) splits.
_NON_CONTENT = re.compile(r"[^\w\u3400-\u9fff]+|_+")


def _strip_symbols(text: str) -> str:
    return _SPACES.sub(" ", _NON_CONTENT.sub(" ", text)).strip()


class Normalizer:
    def __init__(self, fillers: Iterable[str] = ()):
        # Longest first, so "请问一下" goes before "请问". ASCII fillers match whole words only.
        cleaned = sorted({_strip_symbols(self._base(f)) for f in fillers if f.strip()}, key=len, reverse=True)
        parts = [rf"\b{re.escape(f)}\b" if f.isascii() else re.escape(f) for f in cleaned if f]
        self._fillers = re.compile("|".join(parts)) if parts else None

    @staticmethod
    def _base(text: str) -> str:
        text = unicodedata.normalize("NFKC", text)
        text = zhconv.convert(text, "zh-cn")
        return text.casefold()

    def __call__(self, text: str) -> str:
        out = _strip_symbols(self._base(text))
        if self._fillers is not None:
            out = _SPACES.sub(" ", self._fillers.sub(" ", out)).strip()
        return out
