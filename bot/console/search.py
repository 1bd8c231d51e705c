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
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlmodel import Session

from bot.config import Settings
from bot.phones import normalize_phone
from store.models import Candidate

_C = Candidate.__table__.c  # type: ignore[attr-defined]
# Three sub-queries, so that each is one index lookup (SQLite's min/max shortcut needs a lone aggregate).
_STAMP = select(select(func.count()).select_from(Candidate.__table__).scalar_subquery(),  # type: ignore[attr-defined]
                select(func.max(_C.id)).scalar_subquery(), select(func.max(_C.updated_at)).scalar_subquery())
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
    # Built from rows after each change: exact look-ups, and every row in one list for scans.
    _by_external: dict[str, int] = field(default_factory=dict)
    _by_phone: dict[str, int] = field(default_factory=dict)
    _all: list[Row] = field(default_factory=list)
    _names: list[str] = field(default_factory=list)

    def refresh(self, session: Session) -> None:
        stamp = tuple(session.execute(_STAMP).one())
        if stamp == self._stamp:
            return
        with self._lock:
            cols = select(_C.id, _C.name, _C.phone, _C.external_id, _C.department, _C.cohort_id)
            if self._stamp is not None and stamp[0] >= self._stamp[0] and self._stamp[2] is not None:
                # Rows changed since the last read (the same instant included) and rows added: two index range
                # reads; the look-ups are patched in place.
                found = [*session.execute(cols.where(_C.updated_at >= self._stamp[2])),
                         *session.execute(cols.where(_C.id > (self._stamp[1] or 0)))]
            else:  # the first read, or candidates were erased: read them all
                found = list(session.execute(cols))
                self.rows, self._by_external, self._by_phone = {}, {}, {}
            for cid, name, phone, ext, dep, coh in found:
                old = self.rows.get(cid)
                if old is not None:
                    self._by_external.pop(old.external_id, None)
                    self._by_phone.pop(old.phone, None)
                row = self.rows[cid] = Row(cid, norm(name), phone, ext or "", dep, coh or "")
                if row.external_id:
                    self._by_external[row.external_id] = cid
                self._by_phone[row.phone] = cid
            self._all = list(self.rows.values())
            self._names = [r.name for r in self._all]
            self._stamp = stamp

    def search(self, session: Session, settings: Settings, query: str, in_scope: Scope | None = None) -> Found:
        self.refresh(session)
        rows = self.rows

        def seen(row: Row | None) -> bool:
            return row is not None and (in_scope is None or in_scope(row.department, row.cohort))

        q = query.strip()
        bare = q.lstrip("#")
        # Exactly one candidate: id, external id, whole phone number.
        as_id = int(bare) if bare.isdigit() and len(bare) < 10 and seen(rows.get(int(bare))) else None
        if as_id is not None and len(bare) < 4:
            return Found([as_id], True, False)
        ext = self._by_external.get(q)
        if ext is not None and seen(rows.get(ext)):
            return Found([ext], True, False)
        phone = normalize_phone(q, settings.file.phone_region) if any(ch.isdigit() for ch in q) else None
        if phone is not None and phone in self._by_phone and seen(rows.get(self._by_phone[phone])):
            return Found([self._by_phone[phone]], True, False)
        if in_scope is None:
            visible, names = self._all, self._names
        else:
            visible = [r for r in self._all if in_scope(r.department, r.cohort)]
            names = [r.name for r in visible]
        digits = "".join(ch for ch in q if ch.isdigit())
        if digits and len(digits) >= 4 and not any(ch.isalpha() for ch in q):  # part of a phone (or an id)
            tail = [r.id for r in sorted((r for r in visible if digits in r.phone),
                                         key=lambda r: (not r.phone.endswith(digits), r.id))]
            if as_id is not None:  # 4+ digits may be an id too: listed first
                tail = [as_id, *(i for i in tail if i != as_id)]
            return Found(tail[:LIMIT], len(tail) == 1, False)
        key = norm(q)
        if not key:
            return Found([], False, False)
        part = [r for r in visible if key in r.name]
        if part:
            equal = sorted(r.id for r in part if r.name == key)
            if equal:
                return Found(equal, False, False)
            part.sort(key=lambda r: (not r.name.startswith(key), len(r.name), r.id))
            return Found([r.id for r in part[:LIMIT]], False, False)
        # Close names: short (Chinese) names differ by a character in a typo, so the bar is lower for them.
        cutoff = 50 if len(key) <= 2 else 60 if len(key) <= 4 else 75
        close = process.extract(key, names, scorer=fuzz.ratio, score_cutoff=cutoff, limit=LIMIT)
        ranked = sorted(((-score, visible[i].id) for _, score, i in close))
        return Found([cid for _, cid in ranked], False, True)
