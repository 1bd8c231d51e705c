"""Keys: the start-up check (sealed data exists: the key must be there and must open it) and `hrbot keys rotate`
(every sealed field and file re-sealed with a new key, in small batches, resumable).

Rotation never leaves a value that neither key opens: each profile row is re-sealed and committed in one
statement batch (a row is under the old key or the new one, with its key id saying which), each file is
written beside the old one and renamed over it (under the old key or the new one), and the rotation reads
with both keys. Interrupted, it is run again and carries on with what still names another key."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.crypto import FILE_MAGIC, Sealer, file_key_id, key_id_of, write_sealed
from bot.profile.service import reseal
from store.db import Database
from store.models import CandidateProfile, DocumentUpload, Ticket

SEALED_COLUMNS = (CandidateProfile.id_number_enc, CandidateProfile.emergency_name_enc,
                  CandidateProfile.emergency_phone_enc)


class KeyProblem(Exception):
    """Sealed data the configured keys cannot open (or no key at all): the bot must not start."""


def _has_sealed(session: Session) -> tuple[int, int]:
    profiles = session.exec(select(func.count()).select_from(CandidateProfile)
                            .where(or_(*[col(c).is_not(None) for c in SEALED_COLUMNS]))).one()
    files = session.exec(select(func.count()).select_from(DocumentUpload)
                         .where(col(DocumentUpload.key_id).is_not(None))).one()
    return int(profiles), int(files)


PHOTOS_CHECKED = 1000  # feedback photos whose key is read at start-up (the newest): their key is in the file only


def check_keys(db: Database, sealer: Sealer | None) -> None:
    """Raise KeyProblem, with one clear sentence, if sealed data exists that the keys held cannot open."""
    with db.session() as session:
        profiles, files = _has_sealed(session)
        photo_keys = _photo_keys(session)
        if not profiles and not files and not photo_keys:
            return
        if sealer is None:
            raise KeyProblem(f"encrypted personal data exists ({profiles} profiles, {files} documents, "
                             f"{sum(photo_keys.values())} feedback photos) but HRBOT_SECRET_KEY is not set: start "
                             "with the key it was encrypted with")
        used = {k for (k,) in session.execute(select(CandidateProfile.key_id).where(
            col(CandidateProfile.key_id).is_not(None)).distinct())}
        used |= {k for (k,) in session.execute(select(DocumentUpload.key_id).where(
            col(DocumentUpload.key_id).is_not(None)).distinct())}
        used |= set(photo_keys)
        unknown = sorted(used - sealer.key_ids)
        if unknown:
            raise KeyProblem(f"encrypted personal data is under key id {', '.join(unknown)}, which neither "
                             f"HRBOT_SECRET_KEY (key id {sealer.key_id}) nor HRBOT_OLD_SECRET_KEYS is: wrong key? "
                             "Start with the key the data was encrypted with")
        # Values sealed before key ids existed name no key: one of them must open.
        legacy = session.exec(select(CandidateProfile.id_number_enc).where(
            col(CandidateProfile.key_id).is_(None), col(CandidateProfile.id_number_enc).is_not(None)).limit(1)).first()
        if legacy and sealer.open(legacy) is None:
            raise KeyProblem("an ID number encrypted before key ids were recorded does not open with "
                             "HRBOT_SECRET_KEY: wrong key? Start with the key the data was encrypted with")


def _photo_keys(session: Session) -> dict[str, int]:
    """Key id -> sealed feedback photos under it, among the newest PHOTOS_CHECKED (read from each file's header)."""
    found: dict[str, int] = {}
    for path in session.exec(select(Ticket.attachment).where(col(Ticket.attachment).is_not(None))
                             .order_by(col(Ticket.id).desc()).limit(PHOTOS_CHECKED)).all():
        try:
            key = _header_key(Path(path or ""))
        except OSError:
            continue  # gone (erased or expired)
        if key is not None:
            found[key] = found.get(key, 0) + 1
    return found


@dataclass
class Rotation:
    profiles: int = 0
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # what no key held opens (left as it is)
    seconds: float = 0.0


def rotate(db: Database, settings: Settings, sealer: Sealer, batch: int = 500,
           stop_after: int | None = None, progress: Callable[[Rotation], None] | None = None) -> Rotation:
    """Re-seal every profile, stored document and feedback photo under ``sealer``'s current key. ``stop_after``:
    stop after that many batches (tests use it to interrupt a rotation)."""
    started = time.perf_counter()
    done = Rotation()
    walk = _Walk(db, batch, stop_after, lambda: progress(done) if progress else None)
    # Rows that cannot be opened stay behind: each table is walked on by its key, never read twice.
    for session, row in walk.over(lambda s, after, n: s.exec(select(CandidateProfile).where(
            or_(col(CandidateProfile.key_id).is_(None), col(CandidateProfile.key_id) != sealer.key_id),
            or_(*[col(c).is_not(None) for c in SEALED_COLUMNS]), col(CandidateProfile.candidate_id) > after)
            .order_by(col(CandidateProfile.candidate_id)).limit(n)).all(), lambda r: r.candidate_id):
        if reseal(row, sealer):
            session.add(row)
            done.profiles += 1
        else:
            done.skipped.append(f"profile of candidate {row.candidate_id}")
    storage = settings.storage_dir
    for session, upload in walk.over(lambda s, after, n: s.exec(select(DocumentUpload).where(
            or_(col(DocumentUpload.key_id).is_(None), col(DocumentUpload.key_id) != sealer.key_id),
            col(DocumentUpload.id) > after).order_by(col(DocumentUpload.id)).limit(n)).all(), lambda r: r.id):
        path = storage / upload.stored_path
        if not path.is_file():
            continue  # gone (erased or expired): nothing to re-seal
        if _reseal_file(path, sealer):
            upload.key_id = sealer.key_id
            session.add(upload)
            done.files += 1
        else:
            done.skipped.append(f"document {upload.id}")
    # Photos sent with feedback (bot/groups): no key column to select on, so the file's own header says.
    for _, ticket in walk.over(lambda s, after, n: s.exec(select(Ticket).where(
            col(Ticket.attachment).is_not(None), col(Ticket.id) > after).order_by(col(Ticket.id)).limit(n)).all(),
            lambda r: r.id):
        path = Path(ticket.attachment)
        if not path.is_file():
            continue
        if _header_key(path) == sealer.key_id:
            continue
        if _reseal_file(path, sealer):
            done.files += 1
        else:
            done.skipped.append(f"feedback photo of ticket {ticket.id}")
    done.seconds = time.perf_counter() - started
    return done


class _Walk:
    """Rows of one table after another, ``batch`` at a time, each batch in its own transaction (committed when the
    next is read); ``stop_after`` batches in all, across the tables."""

    def __init__(self, db: Database, batch: int, stop_after: int | None, progress: Callable[[], None]):
        self.db, self.batch, self.stop_after, self.progress = db, batch, stop_after, progress
        self.batches = 0

    def over(self, fetch: Callable[[Session, int, int], Sequence[Any]], key: Callable[[Any], int | None]
             ) -> Iterator[tuple[Session, Any]]:
        after = 0
        while self.stop_after is None or self.batches < self.stop_after:
            with self.db.session() as session:
                rows = fetch(session, after, self.batch)
                if not rows:
                    return
                for row in rows:
                    after = key(row) or after
                    yield session, row
            self.batches += 1
            self.progress()


def _reseal_file(path: Path, sealer: Sealer) -> bool:
    raw = path.read_bytes()
    if file_key_id(raw[:64]) == sealer.key_id:
        return True  # re-sealed before an interruption, its row not yet updated
    plain = sealer.open_bytes(raw)  # a file kept before there was a key (a feedback photo) is its own bytes
    if plain is None:
        return False
    write_sealed(path, plain, sealer, ".rotating")
    return True


def _header_key(path: Path) -> str | None:
    """The key id a stored file was sealed with (None: not sealed), from its first bytes."""
    with path.open("rb") as f:
        return file_key_id(f.read(64))


__all__ = ["FILE_MAGIC", "KeyProblem", "Rotation", "check_keys", "key_id_of", "rotate"]
