"""Finding candidates for HR: by id, external id or phone (exactly), by the last digits of a phone, by part of a
name, or, when no name contains the query, by names close to it (rapidfuzz; no pinyin).

Names, phones and scopes are kept in memory (one row per candidate) and brought up to date before each search
with one cheap query (count, highest id, latest change): a search over 50,000 candidates stays well under
50 ms (benchmarks/bench_find.py). What is shown is then read from the database by id."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlmodel import Session

from bot.config import Settings
from bot.phones import normalize_phone
from store.models import Candidate

_C = Candidate.__table__.c  # type: ignore[attr-defined]
LIMIT = 200  # at most this many matches are listed (a query that broad should be narrowed)


def norm(text: str) -> str:
    """Case, width (全角) and spaces do not matter."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Row:
    id: int
    name: str  # normalised
    phone: str
    external_id: str
    department: str
    cohort: str


@dataclass(frozen=True)
class Found:
    ids: list[int]  # best first
    exact: bool  # by id, external id or whole phone: one candidate, show the card
    fuzzy: bool  # no name contains the query; these are close


Scope = Callable[[str, str], bool]  # (department, cohort) -> in scope


@dataclass
class NameIndex:
    rows: dict[int, Row] = field(default_factory=dict)
    _stamp: tuple[Any, ...] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self, session: Session) -> None:
        stamp = tuple(session.execute(select(func.count(), func.max(_C.id), func.max(_C.updated_at))).one())
        if stamp == self._stamp:
            return
        with self._lock:
            since: datetime | None = None
            if self._stamp is not None and stamp[0] >= self._stamp[0] and self._stamp[2] is not None:
                since = self._stamp[2]  # rows changed (or added) since the last read, the same instant included
            query = select(_C.id, _C.name, _C.phone, _C.external_id, _C.department, _C.cohort_id)
            if since is not None:
                query = query.where((_C.updated_at >= since) | (_C.id > (self._stamp[1] or 0)))  # type: ignore[index]
            else:
                self.rows = {}
            for cid, name, phone, ext, dep, coh in session.execute(query):
                self.rows[cid] = Row(cid, norm(name), phone, ext or "", dep, coh or "")
            self._stamp = stamp

    def search(self, session: Session, settings: Settings, query: str, in_scope: Scope | None = None) -> Found:
        self.refresh(session)
        rows = self.rows
        if in_scope is not None:
            visible = [r for r in rows.values() if in_scope(r.department, r.cohort)]
        else:
            visible = list(rows.values())
        q = query.strip()
        bare = q.lstrip("#")
        # Exactly one candidate: id, external id, whole phone number.
        if bare.isdigit() and len(bare) < 10:
            row = rows.get(int(bare))
            if row is not None and (in_scope is None or in_scope(row.department, row.cohort)):
                return Found([row.id], True, False)
        for r in visible:
            if r.external_id and r.external_id == q:
                return Found([r.id], True, False)
        phone = normalize_phone(q, settings.file.phone_region) if any(ch.isdigit() for ch in q) else None
        if phone is not None:
            hits = [r.id for r in visible if r.phone == phone]
            if hits:
                return Found(hits, True, False)
        digits = "".join(ch for ch in q if ch.isdigit())
        if digits and len(digits) >= 4 and not any(ch.isalpha() for ch in q):  # the end (or part) of a phone
            tail = sorted((r for r in visible if digits in r.phone),
                          key=lambda r: (not r.phone.endswith(digits), r.id))
            return Found([r.id for r in tail[:LIMIT]], False, False)
        key = norm(q)
        if not key:
            return Found([], False, False)
        equal = [r.id for r in visible if r.name == key]
        if equal:
            return Found(sorted(equal), False, False)
        part = [r for r in visible if key in r.name]
        if part:
            part.sort(key=lambda r: (not r.name.startswith(key), len(r.name), r.id))
            return Found([r.id for r in part[:LIMIT]], False, False)
        # Close names: short (Chinese) names differ by a character in a typo, so the bar is lower for them.
        cutoff = 50 if len(key) <= 2 else 60 if len(key) <= 4 else 75
        names = [r.name for r in visible]
        close = process.extract(key, names, scorer=fuzz.ratio, score_cutoff=cutoff, limit=LIMIT)
        ranked = sorted(((-score, visible[i].id) for _, score, i in close))
        return Found([cid for _, cid in ranked], False, True)
