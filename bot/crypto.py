"""Encryption at rest for sensitive fields (ID number, emergency contact) and stored document files, with a key
from HRBOT_SECRET_KEY; older keys (HRBOT_OLD_SECRET_KEYS) are still accepted for reading while a rotation runs.

Every ciphertext names the key it was sealed with: ``k1:<key id>:<Fernet token>`` for a field, and
``HRBOTENC1:<key id>:`` followed by the Fernet token for a file. The key id is a fingerprint of the key (it
reveals nothing about it), so a start-up can tell "no key" and "the wrong key" apart, and `hrbot keys rotate`
knows which rows are still to do. Values written before the key id existed (a bare Fernet token) are still read,
by trying every key. Look-ups on an encrypted value use a keyed hash (HMAC-SHA256) under the same key."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

FIELD_PREFIX = "k1:"
FILE_MAGIC = b"HRBOTENC1:"


@dataclass(frozen=True)
class _Key:
    id: str
    fernet: Fernet
    mac: bytes


def _key(secret: str) -> _Key:
    try:
        raw = secret.encode()
        Fernet(raw)
    except ValueError:
        raw = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
    material = base64.urlsafe_b64decode(raw)
    key_id = hashlib.sha256(b"hrbot key id\0" + material).hexdigest()[:12]
    mac = hashlib.sha256(b"hrbot lookup\0" + material).digest()
    return _Key(key_id, Fernet(raw), mac)


class Sealer:
    """Seals with the current key (HRBOT_SECRET_KEY: a Fernet key, or any passphrase); opens with it or with
    any of ``previous`` (the keys a rotation is moving away from)."""

    def __init__(self, secret: str, previous: Iterable[str] = ()):
        self._primary = _key(secret)
        self._keys = {self._primary.id: self._primary}
        for old in previous:
            if old:
                k = _key(old)
                self._keys.setdefault(k.id, k)

    @property
    def key_id(self) -> str:
        """The id of the key new values are sealed with."""
        return self._primary.id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def seal(self, value: str) -> str:
        return f"{FIELD_PREFIX}{self._primary.id}:{self._primary.fernet.encrypt(value.encode()).decode()}"

    def open(self, token: str) -> str | None:
        """The plain value, or None if no key we hold opens it."""
        kid, body = key_id_of(token), token
        if kid is not None:
            body = token.split(":", 2)[2]
        candidates = [self._keys[kid]] if kid in self._keys else [] if kid is not None else self._keys.values()
        for key in candidates:
            try:
                return key.fernet.decrypt(body.encode()).decode()
            except InvalidToken:
                continue
        return None

    def seal_bytes(self, data: bytes) -> bytes:
        return FILE_MAGIC + self._primary.id.encode() + b":" + self._primary.fernet.encrypt(data)

    def open_bytes(self, blob: bytes) -> bytes | None:
        """A sealed file's bytes (None if no key we hold opens it); bytes that were never sealed as they are."""
        if not blob.startswith(FILE_MAGIC):
            return blob
        kid, _, body = blob[len(FILE_MAGIC):].partition(b":")
        key = self._keys.get(kid.decode(errors="replace"))
        if key is None:
            return None
        try:
            return key.fernet.decrypt(body)
        except InvalidToken:
            return None

    def lookup_hash(self, value: str) -> str:
        """A keyed hash of ``value`` under the current key, for finding a row by an encrypted value."""
        return hmac.new(self._primary.mac, value.encode(), hashlib.sha256).hexdigest()

    def lookup_hashes(self, value: str) -> list[str]:
        """The keyed hash under every key held (rows not yet rotated carry the old key's)."""
        return [hmac.new(k.mac, value.encode(), hashlib.sha256).hexdigest() for k in self._keys.values()]


def key_id_of(token: str) -> str | None:
    """The key id a sealed field names (None: sealed before key ids existed)."""
    if token.startswith(FIELD_PREFIX):
        return token.split(":", 2)[1]
    return None


def write_sealed(target: Path, data: bytes, sealer: Sealer, partial_suffix: str = ".part") -> None:
    """``data`` sealed into ``target`` through a partial file renamed over it (atomic: the file is whole or absent,
    and a file re-sealed is under the old key or the new one, never neither)."""
    partial = target.with_name(target.name + partial_suffix)
    partial.write_bytes(sealer.seal_bytes(data))
    partial.replace(target)


def file_key_id(head: bytes) -> str | None:
    """The key id at the start of a sealed file (None: the file is not sealed)."""
    if not head.startswith(FILE_MAGIC):
        return None
    return head[len(FILE_MAGIC):].partition(b":")[0].decode(errors="replace")


def sealer_from_env(secret: str | None, previous: str | None) -> Sealer | None:
    """The app's Sealer from HRBOT_SECRET_KEY and HRBOT_OLD_SECRET_KEYS (comma-separated), or None without a key."""
    if not secret:
        return None
    return Sealer(secret, [p.strip() for p in (previous or "").split(",") if p.strip()])
