"""Chinese resident ID numbers (GB 11643-1999): check digit, birth date, masking; encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date

from cryptography.fernet import Fernet, InvalidToken

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
_LOOSE = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])")


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


def mask_id(value: str) -> str:
    """1101**********123X: enough to recognise, not enough to use."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_id_numbers_in(text: str) -> str:
    """For storing free text: anything shaped like an ID number is masked."""
    return _LOOSE.sub(lambda m: mask_id(m.group(0)), text)


class Sealer:
    """Encrypts sensitive fields with a key from HRBOT_SECRET_KEY (a Fernet key, or any passphrase)."""

    def __init__(self, secret: str):
        try:
            key = secret.encode()
            Fernet(key)
        except ValueError:
            key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
        self._fernet = Fernet(key)

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None  # sealed with another key
