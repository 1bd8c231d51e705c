"""Consent to the privacy notice: which version is current, what a candidate answered, and whether the bot may
collect something sensitive (ID number, emergency contact, documents) from them now."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.config import Settings
from store.models import ConsentRecord

SENSITIVE_FIELDS = frozenset({"id_number", "emergency_name", "emergency_phone"})


def notice_values(settings: Settings) -> dict[str, Any]:
    r = settings.file.privacy.retention
    return {"after_training_days": r.after_training_days, "after_withdrawal_days": r.after_withdrawal_days,
            "documents_days": r.documents_days}


def notice_version(settings: Settings, texts: Any) -> str:
    """config's notice_version plus a fingerprint of the notice as every locale shows it: raising the number or
    editing the text makes a new version, and candidates are asked again."""
    digest = hashlib.sha256()
    for locale in settings.locales:
        digest.update(texts.get(locale, "privacy_notice", **notice_values(settings)).encode())
    return f"{settings.file.privacy.notice_version}+{digest.hexdigest()[:8]}"


def latest(session: Session, candidate_id: int) -> ConsentRecord | None:
    return session.exec(select(ConsentRecord).where(ConsentRecord.candidate_id == candidate_id)
                        .order_by(col(ConsentRecord.id).desc()).limit(1)).first()


def has_consent(session: Session, candidate_id: int, version: str) -> bool:
    row = latest(session, candidate_id)
    return row is not None and row.decision == "accepted" and row.version == version


def record(session: Session, candidate_id: int, version: str, decision: str, now: datetime) -> None:
    session.add(ConsentRecord(candidate_id=candidate_id, version=version, decision=decision, at=now))
