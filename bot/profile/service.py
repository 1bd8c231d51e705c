"""Reading and writing the profile; the ID number only ever leaves here masked. The ID number and the emergency
contact are sealed with the key (bot/crypto.py): without one they are refused, never stored in plain text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.crypto import Sealer
from bot.inputs import normalize_id
from bot.profile.idnumber import mask_id
from store.models import CandidateProfile

SEALED = {"id_number": "id_number_enc", "emergency_name": "emergency_name_enc",
          "emergency_phone": "emergency_phone_enc"}  # flow field -> column holding it sealed


class ProfileError(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def reseal(row: CandidateProfile, sealer: Sealer) -> bool:
    """Seal every sealed field of ``row`` again with the current key (and its keyed hash); False if a field
    opens with none of the keys held (left as it is)."""
    for column in SEALED.values():
        token = getattr(row, column)
        if token:
            plain = sealer.open(token)
            if plain is None:
                return False
            setattr(row, column, sealer.seal(plain))
            if column == "id_number_enc":
                row.id_number_hash = sealer.lookup_hash(plain)
    row.key_id = sealer.key_id
    return True


def save_field(session: Session, candidate_id: int, field: str, value: str, sealer: Sealer | None,
               now: datetime) -> None:
    row = session.get(CandidateProfile, candidate_id)
    if row is None:
        row = CandidateProfile(candidate_id=candidate_id, updated_at=now)
    if field in SEALED:
        if sealer is None:
            raise ProfileError("flow_id_number_unavailable" if field == "id_number" else "privacy_no_key")
        if row.key_id is not None and row.key_id != sealer.key_id and not reseal(row, sealer):
            raise ProfileError("privacy_no_key")  # one key per row: the others are moved to this one first
        plain = normalize_id(value) if field == "id_number" else value
        setattr(row, SEALED[field], sealer.seal(plain))
        if field == "id_number":
            row.id_number_hash = sealer.lookup_hash(plain)
        row.key_id = sealer.key_id
    else:
        setattr(row, field, value)
    row.updated_at = now
    session.add(row)


def opened(row: CandidateProfile | None, sealer: Sealer | None) -> dict[str, str | None]:
    """The profile's plain values (sealed ones None without a key that opens them)."""
    if row is None:
        return {"legal_name": None, "id_number": None, "education": None, "emergency_name": None,
                "emergency_phone": None}
    values: dict[str, str | None] = {"legal_name": row.legal_name, "education": row.education}
    for field, column in SEALED.items():
        token = getattr(row, column)
        values[field] = sealer.open(token) if token and sealer is not None else None
    return values


def profile_view(session: Session, candidate_id: int, sealer: Sealer | None) -> dict[str, Any]:
    """Plain values for templates; the ID number masked (or None)."""
    values: dict[str, Any] = opened(session.get(CandidateProfile, candidate_id), sealer)
    if values["id_number"]:
        values["id_number"] = mask_id(values["id_number"])
    return values


def find_by_id_number(session: Session, number: str, sealer: Sealer) -> list[int]:
    """Candidates whose ID number is ``number``, by its keyed hash (under any key held)."""
    from sqlmodel import col, select

    hashes = sealer.lookup_hashes(normalize_id(number))
    return list(session.exec(select(CandidateProfile.candidate_id)
                             .where(col(CandidateProfile.id_number_hash).in_(hashes))).all())
