"""Chinese resident ID numbers in text we show or keep: masking. Checking one is bot.inputs's job."""

from __future__ import annotations

import re

_LOOSE = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])")


def mask_id(value: str) -> str:
    """1101**********123X: enough to recognise, not enough to use."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_id_numbers_in(text: str) -> str:
    """For storing free text: anything shaped like an ID number is masked."""
    return _LOOSE.sub(lambda m: mask_id(m.group(0)), text)
