"""What a person types, read as a typed value: a number, a date, a phone number, a Chinese resident ID number.

Flows call ``parse`` for `ask` steps with a `type`; the ID number check (GB 11643-1999: shape, birth date, check
digit) lives here so every caller reads an ID number the same way.
"""

from __future__ import annotations

import re
from datetime import date

from bot.phones import normalize_phone

INPUT_TYPES = ("text", "number", "id_number", "phone", "date")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def parse(kind: str, text: str) -> str | None:
    """The value to store for ``text`` read as ``kind`` (one of INPUT_TYPES); None if it is not one."""
    if kind == "number":
        if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", text):
            return None
    elif kind == "id_number":
        if not valid_resident_id(text):
            return None
    elif kind == "phone":
        return normalize_phone(text, "CN")
    elif kind == "date":
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat() if m else None
        except ValueError:
            return None
    return text


def normalize_id(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()


def valid_resident_id(text: str) -> bool:
    value = normalize_id(text)
    if not _SHAPE.match(value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == value[17]
