"""Who is HR, in what role, for which candidates: config.yaml's hr_admins (admins, every candidate) and the HR
members managed with `hrbot hr add|remove|list` (table hrmember).

Roles: admin (everything), hr (acts on the candidates in scope), viewer (reads the candidates in scope).
Scope: departments and cohorts; a candidate is in scope when their department or their cohort is listed;
nothing listed means every candidate. Members are read from the database at most every few seconds, so a
change made from the CLI reaches a running bot without a restart."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import Session, col, select

from bot.config import Settings
from store.models import Candidate, HrMember

ROLES = ("admin", "hr", "viewer")
REFRESH_SECONDS = 3.0


@dataclass(frozen=True)
class Staff:
    telegram_id: int
    role: str
    departments: frozenset[str] = frozenset()
    cohorts: frozenset[str] = frozenset()
    name: str | None = None
    from_config: bool = False

    @property
    def everyone(self) -> bool:
        """Sees every candidate: an admin, or a member with no scope."""
        return self.role == "admin" or not (self.departments or self.cohorts)

    @property
    def can_act(self) -> bool:
        """May change things and write to people (a viewer only reads)."""
        return self.role != "viewer"

    def covers(self, cand: Candidate | None) -> bool:
        if self.everyone:
            return True
        if cand is None:
            return False
        return cand.department in self.departments or (cand.cohort_id or "") in self.cohorts

    def where(self) -> ColumnElement[bool] | None:
        """A filter on Candidate for queries; None when every candidate is in scope."""
        if self.everyone:
            return None
        parts = []
        if self.departments:
            parts.append(col(Candidate.department).in_(sorted(self.departments)))
        if self.cohorts:
            parts.append(col(Candidate.cohort_id).in_(sorted(self.cohorts)))
        return or_(*parts) if parts else false()


def split_ids(text: str) -> frozenset[str]:
    return frozenset(p.strip() for p in text.split(",") if p.strip())


@dataclass
class StaffDirectory:
    settings: Settings
    _members: dict[int, Staff] = field(default_factory=dict)
    _read_at: float = -1e9
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lookup(self, session: Session, user_id: int | None) -> Staff | None:
        if user_id is None:
            return None
        if user_id in self.settings.hr_admins:
            return Staff(user_id, "admin", from_config=True)
        return self._current(session).get(user_id)

    def everyone(self, session: Session) -> list[Staff]:
        """Config admins first, then members, each once."""
        out = [Staff(a, "admin", from_config=True) for a in sorted(self.settings.hr_admins)]
        out += [m for i, m in sorted(self._current(session).items()) if i not in self.settings.hr_admins]
        return out

    def refresh(self) -> None:
        """Read members again at the next lookup (after a change made in this process)."""
        self._read_at = -1e9

    def _current(self, session: Session) -> dict[int, Staff]:
        now = time.monotonic()
        if now - self._read_at > REFRESH_SECONDS:
            with self._lock:
                rows = session.exec(select(HrMember)).all()
                self._members = {r.telegram_id: from_row(r) for r in rows}
                self._read_at = now
        return self._members


def from_row(row: HrMember) -> Staff:
    return Staff(row.telegram_id, row.role, split_ids(row.departments), split_ids(row.cohorts), row.name)
