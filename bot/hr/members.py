"""HR members managed from the CLI: add (or change), remove, list. Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.config import Settings
from bot.engine.staff import ROLES, Staff, from_row, split_ids
from bot.yamlsrc import did_you_mean
from store.models import AuditLog, HrMember


class MemberError(Exception):
    """What is wrong with a request, as sentences (one per problem)."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class MemberView:
    telegram_id: int
    role: str
    departments: list[str]
    cohorts: list[str]
    name: str | None
    source: str  # config | database


def check(settings: Settings, telegram_id: int, role: str, departments: str, cohorts: str) -> list[str]:
    problems = []
    if telegram_id <= 0:
        problems.append(f"{telegram_id} is not a Telegram user id (a positive number; the user can get it from "
                        "@userinfobot)")
    if role not in ROLES:
        problems.append(f"role {role!r} is not one of {', '.join(ROLES)}{did_you_mean(role, ROLES)}")
    for dep in sorted(split_ids(departments)):
        if dep not in settings.departments:
            problems.append(f"department {dep!r} is not in config.yaml{did_you_mean(dep, list(settings.departments))}")
    for coh in sorted(split_ids(cohorts)):
        if coh not in settings.cohorts:
            problems.append(f"cohort {coh!r} is not in config.yaml{did_you_mean(coh, list(settings.cohorts))}")
    if role == "admin" and (split_ids(departments) or split_ids(cohorts)):
        problems.append("an admin sees every candidate: drop --departments/--cohorts, or use --role hr or viewer")
    return problems


def add(session: Session, settings: Settings, telegram_id: int, *, role: str = "hr", departments: str = "",
        cohorts: str = "", name: str | None = None, actor: str, now: datetime) -> tuple[HrMember, bool]:
    """Add a member, or change one; returns the row and whether it is new."""
    problems = check(settings, telegram_id, role, departments, cohorts)
    if telegram_id in settings.hr_admins:
        problems.append(f"{telegram_id} is an admin in config.yaml (hr_admins); change it there")
    if problems:
        raise MemberError(problems)
    deps, cohs = ",".join(sorted(split_ids(departments))), ",".join(sorted(split_ids(cohorts)))
    row = session.get(HrMember, telegram_id)
    new = row is None
    if row is None:
        row = HrMember(telegram_id=telegram_id, role=role, departments=deps, cohorts=cohs, name=name,
                       created_at=now, updated_at=now)
    else:
        row.role, row.departments, row.cohorts, row.updated_at = role, deps, cohs, now
        if name is not None:
            row.name = name
    session.add(row)
    session.add(AuditLog(at=now, actor=actor, action="hr_member_added" if new else "hr_member_changed",
                         detail=f"{telegram_id} role={role} departments={deps or '*'} cohorts={cohs or '*'}"))
    return row, new


def remove(session: Session, settings: Settings, telegram_id: int, *, actor: str, now: datetime) -> None:
    if telegram_id in settings.hr_admins:
        raise MemberError([f"{telegram_id} is an admin in config.yaml (hr_admins); remove it there"])
    row = session.get(HrMember, telegram_id)
    if row is None:
        raise MemberError([f"{telegram_id} is not an HR member; see `hrbot hr list`"])
    session.delete(row)
    session.add(AuditLog(at=now, actor=actor, action="hr_member_removed", detail=str(telegram_id)))


def listing(session: Session, settings: Settings) -> list[MemberView]:
    out = [MemberView(a, "admin", [], [], None, "config") for a in sorted(settings.hr_admins)]
    for row in session.exec(select(HrMember).order_by(HrMember.telegram_id)).all():  # type: ignore[arg-type]
        s: Staff = from_row(row)
        out.append(MemberView(s.telegram_id, s.role, sorted(s.departments), sorted(s.cohorts), s.name, "database"))
    return out
