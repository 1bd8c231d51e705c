"""Reading and writing the profile; the ID number only ever leaves here masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.crypto import Sealer
from bot.inputs import normalize_id
from bot.profile.idnumber import mask_id
from store.models import CandidateProfile


class ProfileError(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def save_field(session: Session, candidate_id: int, field: str, value: str, sealer: Sealer | None,
               now: datetime) -> None:
    row = session.get(CandidateProfile, candidate_id)
    if row is None:
        row = CandidateProfile(candidate_id=candidate_id, updated_at=now)
    if field == "id_number":
        if sealer is None:
            raise ProfileError("flow_id_number_unavailable")
        row.id_number_enc = sealer.seal(normalize_id(value))
    else:
        setattr(row, field, value)
    row.updated_at = now
    session.add(row)


def profile_view(session: Session, candidate_id: int, sealer: Sealer | None) -> dict[str, Any]:
    """Plain values for templates; the ID number masked (or None)."""
    row = session.get(CandidateProfile, candidate_id)
    if row is None:
        return {"legal_name": None, "id_number": None, "education": None, "emergency_name": None,
                "emergency_phone": None}
    shown = None
    if row.id_number_enc and sealer is not None:
        plain = sealer.open(row.id_number_enc)
        shown = mask_id(plain) if plain else None
    return {"legal_name": row.legal_name, "id_number": shown, "education": row.education,
            "emergency_name": row.emergency_name, "emergency_phone": row.emergency_phone}
