"""Spreadsheet import (.csv / .xlsx). Every row is checked first; any problem and nothing is written."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from bot.config import Settings
from bot.onboarding import invites
from bot.phones import normalize_phone
from bot.yamlsrc import suggest
from store.db import Database
from store.models import AuditLog, Candidate

REQUIRED = ("name", "phone", "role", "department", "cohort", "stage")
OPTIONAL = ("external_id", "email", "language")
# Headers HR actually writes in Chinese spreadsheets, mapped to ours.
HEADER_ALIASES = {
    "姓名": "name", "手机": "phone", "手机号": "phone", "电话": "phone", "岗位": "role", "部门": "department",
    "批次": "cohort", "培训批次": "cohort", "阶段": "stage", "状态": "stage", "工号": "external_id",
    "编号": "external_id", "邮箱": "email", "语言": "language",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RowProblem:
    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.column}: {self.reason}"


class ImportProblems(Exception):
    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class CleanRow:
    row: int
    name: str
    phone: str
    role: str
    department: str
    cohort: str | None
    stage: str
    external_id: str | None
    email: str | None
    language: str | None


@dataclass(frozen=True)
class LinkRow:
    candidate_id: int
    name: str
    phone: str
    link: str  # empty when no new link was issued
    status: str  # new | reissued | unchanged | bound


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    links: list[LinkRow] = field(default_factory=list)


Rows = list[tuple[int, dict[str, str]]]


def _read(path: Path) -> tuple[list[str], Rows] | str:
    """Headers and rows as (spreadsheet row number, {header: text}); a string says why the file can't be read."""
    suffix = path.suffix.lower()
    if not path.is_file():
        return "file not found"
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GB18030 by default
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return "cannot decode the file; save it as UTF-8 CSV"
        table = list(csv.reader(text.splitlines()))
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
            return "cannot open the workbook; is it a valid .xlsx file?"
        ws = wb.worksheets[0]
        table = [["" if v is None else _cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    else:
        return f"unsupported file type {suffix or '(none)'}; use .csv or .xlsx"
    if not table:
        return "the file is empty; the first row must hold the column names"
    headers = [HEADER_ALIASES.get(h.strip(), h.strip().lower()) for h in table[0]]
    rows = []
    for i, values in enumerate(table[1:], start=2):
        if not any(str(v).strip() for v in values):
            continue  # blank line between blocks
        rows.append((i, {h: (str(values[j]).strip() if j < len(values) else "") for j, h in enumerate(headers) if h}))
    return headers, rows


def _cell_text(value: object) -> str:
    # Excel stores phone numbers as numbers: 13800000001.0 must not become '13800000001.0'.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _lookup(value: str, table: dict[str, object], names: dict[str, list[str]], what: str) -> tuple[str | None, str]:
    """Accept an id or any of its localized names; otherwise say what was meant."""
    if value in table:
        return value, ""
    for ident, labels in names.items():
        if value in labels:
            return ident, ""
    close = suggest(value, list(table)) or suggest(value, [n for labels in names.values() for n in labels])
    hint = f"; did you mean {close!r}?" if close else f"; known: {', '.join(table)}"
    return None, f"unknown {what} {value!r}{hint}"


def check_rows(settings: Settings, file: str, headers: list[str], rows: Rows) -> tuple[
        list[CleanRow], list[RowProblem]]:
    problems: list[RowProblem] = []
    for col in REQUIRED:
        if col not in headers:
            problems.append(RowProblem(file, 1, col, "required column is missing; add it to the header row"))
    for h in headers:
        if h and h not in REQUIRED + OPTIONAL:
            close = suggest(h, list(REQUIRED + OPTIONAL))
            hint = f"; did you mean {close!r}?" if close else f"; columns: {', '.join(REQUIRED + OPTIONAL)}"
            problems.append(RowProblem(file, 1, h, f"unknown column{hint}"))
    if problems:
        return [], problems

    def names(items: dict[str, object], attr: str) -> dict[str, list[str]]:
        return {k: list(getattr(v, attr).values()) for k, v in items.items()}

    role_names = names(settings.roles, "name")  # type: ignore[arg-type]
    dept_names = names(settings.departments, "name")  # type: ignore[arg-type]
    cohort_names = names(settings.cohorts, "name")  # type: ignore[arg-type]
    stage_names = names(settings.stages, "label")  # type: ignore[arg-type]
    lang_names = {loc: [loc.lower(), loc.split("-")[0].lower()] for loc in settings.locales}
    lang_names["zh-CN"] += ["中文", "chinese"]
    lang_names["en"] += ["english", "英文", "英语"]

    clean: list[CleanRow] = []
    seen_phone: dict[str, int] = {}
    seen_ext: dict[str, int] = {}
    for rownum, row in rows:
        bad = len(problems)

        def problem(column: str, reason: str, rownum: int = rownum) -> None:
            problems.append(RowProblem(file, rownum, column, reason))

        name = row.get("name", "")
        if not name:
            problem("name", "empty; every candidate needs a name")
        elif len(name) > 100:
            problem("name", "longer than 100 characters")
        phone = normalize_phone(row.get("phone", ""), settings.file.phone_region)
        if not row.get("phone"):
            problem("phone", "empty; the phone number is how candidates are found")
        elif phone is None:
            problem("phone", f"{row['phone']!r} is not a valid phone number")
        elif phone in seen_phone:
            problem("phone", f"{phone} also appears in row {seen_phone[phone]}; each candidate once")
        else:
            seen_phone[phone] = rownum
        dept, why = _lookup(row.get("department", ""), settings.departments, dept_names, "department")  # type: ignore[arg-type]
        if why:
            problem("department", why)
        role, why = _lookup(row.get("role", ""), settings.roles, role_names, "role")  # type: ignore[arg-type]
        if why:
            problem("role", why)
        elif dept and role and settings.roles[role].department != dept:
            problem("role", f"role {role!r} belongs to department {settings.roles[role].department!r}, not {dept!r}")
        cohort: str | None = None
        if row.get("cohort"):
            cohort, why = _lookup(row["cohort"], settings.cohorts, cohort_names, "cohort")  # type: ignore[arg-type]
            if why:
                problem("cohort", why)
            elif dept and cohort and settings.cohorts[cohort].department != dept:
                problem("cohort", f"cohort {cohort!r} trains department "
                        f"{settings.cohorts[cohort].department!r}, not {dept!r}")
        stage, why = _lookup(row.get("stage", ""), settings.stages, stage_names, "stage")  # type: ignore[arg-type]
        if not row.get("stage"):
            problem("stage", f"empty; use one of: {', '.join(settings.stage_order)}")
        elif why:
            problem("stage", why)
        ext = row.get("external_id") or None
        if ext is not None:
            if len(ext) > 64:
                problem("external_id", "longer than 64 characters")
            elif ext in seen_ext:
                problem("external_id", f"{ext!r} also appears in row {seen_ext[ext]}")
            else:
                seen_ext[ext] = rownum
        email = row.get("email") or None
        if email is not None and not EMAIL.match(email):
            problem("email", f"{email!r} is not an email address")
        language: str | None = None
        if row.get("language"):
            language = next((loc for loc, ns in lang_names.items() if row["language"].lower() in ns), None)
            if language is None:
                problem("language", f"{row['language']!r} is not supported; use {' or '.join(settings.locales)}")
        if len(problems) == bad:
            assert phone and role and dept and stage
            clean.append(CleanRow(rownum, name, phone, role, dept, cohort, stage, ext, email, language))
    return clean, problems


def _match(session: Session, row: CleanRow, file: str) -> tuple[Candidate | None, RowProblem | None]:
    by_ext = session.exec(select(Candidate).where(Candidate.external_id == row.external_id)).first() \
        if row.external_id else None
    by_phone = session.exec(select(Candidate).where(Candidate.phone == row.phone)).first()
    if by_ext is not None:
        if by_phone is not None and by_phone.id != by_ext.id:
            return None, RowProblem(file, row.row, "phone", f"{row.phone} already belongs to another candidate "
                                    f"(#{by_phone.id}); fix the phone or that candidate first")
        return by_ext, None
    if by_phone is not None and row.external_id and by_phone.external_id not in (None, row.external_id):
        return None, RowProblem(file, row.row, "external_id", f"phone {row.phone} belongs to candidate "
                                f"#{by_phone.id} whose external_id is {by_phone.external_id!r}")
    return by_phone, None


def import_candidates(db: Database, settings: Settings, path: Path, now: datetime, *,
                      reissue: bool = False, actor: str = "cli") -> ImportResult:
    file = str(path)
    table = _read(path)
    if isinstance(table, str):
        raise ImportProblems([RowProblem(file, 1, "file", table)])
    clean, problems = check_rows(settings, file, *table)
    if problems:
        raise ImportProblems(problems)
    result = ImportResult()
    with db.session() as session:
        matches = []
        for row in clean:
            cand, problem = _match(session, row, file)
            if problem:
                problems.append(problem)
            matches.append(cand)
        if problems:
            raise ImportProblems(problems)
        ttl = settings.file.invites.ttl_days
        for row, cand in zip(clean, matches, strict=True):
            is_new = cand is None
            if cand is None:
                cand = Candidate(name=row.name, phone=row.phone, role=row.role, department=row.department,
                                 cohort_id=row.cohort, stage=row.stage, stage_changed_at=now,
                                 external_id=row.external_id, email=row.email, language=row.language,
                                 created_at=now, updated_at=now)
                result.created += 1
            else:
                if cand.stage != row.stage:
                    cand.stage_changed_at = now
                    session.add(AuditLog(at=now, actor=actor, action="set_stage", candidate_id=cand.id,
                                         detail=f"{cand.stage} -> {row.stage} (import)"))
                cand.name, cand.phone, cand.role, cand.department = row.name, row.phone, row.role, row.department
                cand.cohort_id, cand.stage, cand.email = row.cohort, row.stage, row.email
                cand.external_id = row.external_id or cand.external_id
                cand.language = row.language or cand.language
                cand.updated_at = now
                result.updated += 1
            token = None
            if cand.telegram_user_id is not None:
                status = "bound"
            elif is_new:
                token, status = invites.issue(cand, now, ttl), "new"
            elif reissue or not invites.has_valid_invite(cand, now):
                token, status = invites.issue(cand, now, ttl), "reissued"
            else:
                status = "unchanged"
            session.add(cand)
            session.flush()
            assert cand.id is not None
            if is_new:
                session.add(AuditLog(at=now, actor=actor, action="import", candidate_id=cand.id))
            result.links.append(LinkRow(cand.id, cand.name, cand.phone,
                                        settings.invite_link(token) if token else "", status))
    return result


def reissue_invites(db: Database, settings: Settings, ids: list[int], now: datetime) -> list[LinkRow]:
    out = []
    with db.session() as session:
        for cid in ids:
            cand = session.get(Candidate, cid)
            if cand is None:
                raise ImportProblems([RowProblem("candidates", 0, "id", f"no candidate #{cid}")])
            if cand.telegram_user_id is not None:
                out.append(LinkRow(cid, cand.name, cand.phone, "", "bound"))
                continue
            token = invites.issue(cand, now, settings.file.invites.ttl_days)
            session.add(cand)
            session.add(AuditLog(at=now, actor="cli", action="reissue_invite", candidate_id=cid))
            out.append(LinkRow(cid, cand.name, cand.phone, settings.invite_link(token), "reissued"))
    return out
