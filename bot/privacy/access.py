"""/mydata: everything stored about a candidate, from the map of personal data (store/personal.py): every mapped
table's rows that are theirs, whole, as JSON; sealed fields opened for them (the ID number masked, as the bot
shows it everywhere), the secrets that open their account or find rows (invite token hash, keyed hashes, key
ids) left out."""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.crypto import Sealer
from bot.profile.idnumber import mask_id
from store import personal

HIDDEN = {("candidate", "invite_token_hash"), ("candidateprofile", "id_number_hash"),
          ("candidateprofile", "key_id"), ("documentupload", "key_id")}
SEALED = {("candidateprofile", "id_number_enc"): "id_number", ("candidateprofile", "emergency_name_enc"):
          "emergency_name", ("candidateprofile", "emergency_phone_enc"): "emergency_phone"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def personal_data(session: Session, candidate_id: int, sealer: Sealer | None) -> dict[str, list[dict[str, Any]]]:
    """Every mapped table's rows that are the candidate's, ready for JSON."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table, rows in personal.rows_for_candidate(session, candidate_id).items():
        shown = []
        for row in rows:
            item: dict[str, Any] = {}
            for column, value in row.items():
                if (table, column) in HIDDEN:
                    continue
                if (table, column) in SEALED:
                    name = SEALED[(table, column)]
                    plain = sealer.open(value) if value and sealer is not None else None
                    item[name] = (mask_id(plain) if name == "id_number" and plain else plain) if value else None
                    continue
                item[column] = _plain(value)
            shown.append(item)
        out[table] = shown
    return out


def write_json(folder: Path, candidate_id: int, data: dict[str, Any], now: datetime) -> Path:
    """The JSON file under the storage folder's exports/ (erasure and retention remove it)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mydata-{candidate_id}-{secrets.token_hex(4)}.json"
    body = {"generated_at": now.isoformat(), "candidate_id": candidate_id, "tables": data}
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
