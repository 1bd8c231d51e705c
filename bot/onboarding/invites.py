"""Personal invite tokens: 192 random bits, URL-safe, stored only as a SHA-256 hash, single use, expiring."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from store.models import Candidate

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# A start payload that is nobody's invite: the cohort group's "ask me in private" link. Whoever opens it is
# greeted as if they had opened the bot without a link (bound candidates get their menu; others are asked for
# their phone), never told their "link" is invalid.
PUBLIC_START = "ask"


def new_token() -> str:
    # 24 bytes -> 32 characters of A-Za-z0-9_-: fits Telegram's 64-character start payload.
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def issue(candidate: Candidate, now: datetime, ttl_days: int) -> str:
    """Give the candidate a fresh link; any earlier link stops working."""
    token = new_token()
    candidate.invite_token_hash = hash_token(token)
    candidate.invite_issued_at = now
    candidate.invite_expires_at = now + timedelta(days=ttl_days)
    return token


def has_valid_invite(candidate: Candidate, now: datetime) -> bool:
    return (
        candidate.telegram_user_id is None
        and candidate.invite_token_hash is not None
        and candidate.invite_expires_at is not None
        and candidate.invite_expires_at > now
    )
