"""Encryption at rest for sensitive fields (the ID number today), with a key from HRBOT_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


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
