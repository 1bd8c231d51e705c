"""Personal data out of a text before others read it (the Q&A board): names from the roster, phone numbers, ID
numbers and e-mail addresses, even when typed into the question."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A mainland ID number: 17 digits and a digit or X (18), or the old 15 digits; not part of a longer number.
_ID = re.compile(r"(?<![0-9])(?:[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx]|[1-9]\d{14})(?![0-9Xx])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Phones: a mainland mobile (+86 optional, spaces or dashes between groups), or any run of 7+ digits that may be
# split by spaces, dashes or dots (landlines, foreign numbers, an ID number typed with spaces).
_MOBILE = re.compile(r"(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?![0-9])")
_DIGITS = re.compile(r"\+?\d(?:[\s.\-()]?\d){6,}")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def name_variants(names: Iterable[str]) -> list[str]:
    """Each roster name as it may be written: whole, a Chinese given name of two characters, and each Latin word
    of three letters or more. Longest first, so 张三丰 is replaced before 张三."""
    out: set[str] = set()
    for raw in names:
        name = " ".join(raw.split())
        if len(name) < 2:
            continue
        out.add(name)
        compact = name.replace(" ", "")
        if not compact.isascii() and len(compact) == 3:
            out.add(compact[1:])  # 罗小斌 -> 小斌
        if compact != name:
            out.add(compact)
        out.update(w for w in _LATIN_WORD.findall(name))
    return sorted(out, key=len, reverse=True)


class Scrubber:
    def __init__(self, names: Iterable[str], *, name_mark: str = "**", number_mark: str = "***",
                 email_mark: str = "***@***"):
        variants = name_variants(names)
        parts = [re.escape(v) if not v.isascii() else rf"\b{re.escape(v)}\b" for v in variants]
        self._names = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        self.name_mark, self.number_mark, self.email_mark = name_mark, number_mark, email_mark

    def __call__(self, text: str) -> str:
        text = _EMAIL.sub(self.email_mark, text)
        text = _ID.sub(self.number_mark, text)
        text = _MOBILE.sub(self.number_mark, text)
        text = _DIGITS.sub(self.number_mark, text)
        if self._names is not None:
            text = self._names.sub(self.name_mark, text)
        return text
