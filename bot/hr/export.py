"""Candidates as a spreadsheet (CSV or xlsx) for HR: `hrbot candidates export` and `/export` in chat.

One row per candidate, under a fixed header (COLUMNS, documented in the README): ids and contact details, where
they stand (stage, cohort, training date), whether they use the bot, their outcome, points, lessons passed and
open tasks. Labels (role, department, stage, yes/no, outcome) are in the company's default locale; the header is
the same whatever the locale. The personal information centre (legal name, ID number, education, emergency
contact) is only in an export made with ``sensitive`` and a Sealer: the CLI's --include-sensitive, never chat.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.crypto import Sealer
from bot.i18n import Texts
from bot.profile.service import opened
from bot.yamlsrc import suggest
from store.models import Candidate, CandidateProfile, CandidateTask, LessonProgress, PointsBalance

COLUMNS: tuple[str, ...] = (
    "id", "external_id", "name", "phone", "email", "role", "department", "cohort", "training_date", "stage",
    "language", "bound", "bound_at", "last_seen_at", "unreachable", "outcome", "outcome_reason", "points",
    "lessons_passed", "open_tasks", "open_task_list",
)
SENSITIVE_COLUMNS: tuple[str, ...] = ("legal_name", "id_number", "education", "emergency_name", "emergency_phone")
FORMATS = ("csv", "xlsx")
DATETIME_FORMAT = "%Y-%m-%d %H:%M"  # company time, as HR reads it
KEEP_SECONDS = 24 * 3600  # files /export wrote for chat are deleted after a day

Value = str | int | date | datetime | None


class UnknownCohort(Exception):
    def __init__(self, cohort: str, suggestion: str | None, known: list[str]):
        super().__init__(cohort)
        self.cohort, self.suggestion, self.known = cohort, suggestion, known


@dataclass
class Export:
    header: list[str]
    rows: list[list[Value]]
    undecryptable: int = 0  # ID numbers sealed with another key: left empty


def check_cohort(settings: Settings, cohort: str | None) -> None:
    if cohort is not None and cohort not in settings.cohorts:
        known = sorted(settings.cohorts)
        raise UnknownCohort(cohort, suggest(cohort, known), known)


def build(session: Session, settings: Settings, texts: Texts, *, cohort: str | None = None,
          scope: ColumnElement[bool] | None = None, sealer: Sealer | None = None) -> Export:
    """The rows, in candidate id order; ``scope`` is an HR member's filter (Staff.where()), ``sealer`` adds the
    sensitive columns (decrypted)."""
    check_cohort(settings, cohort)
    loc = settings.default_locale
    query = select(Candidate).order_by(col(Candidate.id))
    if cohort is not None:
        query = query.where(Candidate.cohort_id == cohort)
    if scope is not None:
        query = query.where(scope)
    cands = list(session.exec(query).all())
    ids = select(Candidate.id)
    if cohort is not None:
        ids = ids.where(Candidate.cohort_id == cohort)
    if scope is not None:
        ids = ids.where(scope)
    points = dict(session.exec(select(PointsBalance.candidate_id, PointsBalance.balance)
                               .where(col(PointsBalance.candidate_id).in_(ids))).all())
    passed = dict(session.exec(select(LessonProgress.candidate_id, func.count())
                               .where(col(LessonProgress.candidate_id).in_(ids),
                                      col(LessonProgress.passed_at).is_not(None))
                               .group_by(col(LessonProgress.candidate_id))).all())
    done: set[tuple[int, str]] = {
        (cid, task) for cid, task in session.exec(
            select(CandidateTask.candidate_id, CandidateTask.task_id)
            .where(col(CandidateTask.candidate_id).in_(ids), CandidateTask.status == "done")).all()}
    profiles: dict[int, CandidateProfile] = {}
    if sealer is not None:
        profiles = {p.candidate_id: p for p in session.exec(
            select(CandidateProfile).where(col(CandidateProfile.candidate_id).in_(ids))).all()}

    yes, no = texts.get(loc, "export_yes"), texts.get(loc, "export_no")
    outcomes = {"attended": texts.get(loc, "export_outcome_attended"),
                "withdrawn": texts.get(loc, "export_outcome_withdrawn")}

    def local(at: datetime | None) -> datetime | None:
        if at is None:
            return None
        if at.tzinfo is None:  # SQLite hands back naive UTC
            at = at.replace(tzinfo=UTC)
        return at.astimezone(settings.tz).replace(tzinfo=None, second=0, microsecond=0)

    out = Export(list(COLUMNS) + (list(SENSITIVE_COLUMNS) if sealer is not None else []), [])
    for c in cands:
        assert c.id is not None
        role, dept, stage = settings.roles.get(c.role), settings.departments.get(c.department), \
            settings.stages.get(c.stage)
        course = settings.cohorts.get(c.cohort_id or "")
        open_tasks = [t.title[loc] for t in settings.file.tasks if t.applies_to(c.role) and (c.id, t.id) not in done]
        row: list[Value] = [
            c.id, c.external_id, c.name, c.phone, c.email,
            role.name[loc] if role else c.role,
            dept.name[loc] if dept else c.department,
            c.cohort_id, course.training_date if course else None,
            stage.label[loc] if stage else c.stage,
            c.language,
            yes if c.telegram_user_id is not None else no, local(c.bound_at), local(c.last_seen_at),
            yes if c.unreachable_at is not None else no,
            outcomes.get(c.outcome or "", c.outcome), c.outcome_reason,
            points.get(c.id, 0), passed.get(c.id, 0), len(open_tasks), "; ".join(open_tasks),
        ]
        if sealer is not None:
            p = profiles.get(c.id)
            plain = opened(p, sealer)
            if p is not None and p.id_number_enc and plain["id_number"] is None:
                out.undecryptable += 1
            row += [plain["legal_name"], plain["id_number"], plain["education"], plain["emergency_name"],
                    plain["emergency_phone"]]
        out.rows.append(row)
    return out


# -- writing ------------------------------------------------------------------------------------------------

_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d ()-]*$)")


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # A text Excel would run as a formula ("=HYPERLINK(...)", "@SUM"): kept as text with a leading apostrophe.
    # Phone numbers ("+86 138...") are left as they are.
    return "'" + text if isinstance(value, str) and _FORMULA.match(text) else text


def write_csv(export: Export, path: Path) -> None:
    # UTF-8 with a byte order mark: Excel then reads Chinese correctly (without it, it guesses GB18030 or ANSI).
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(export.header)
        for row in export.rows:
            w.writerow([_csv_cell(v) for v in row])


def write_xlsx(export: Export, path: Path, title: str = "candidates") -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)  # streamed: several times faster than a sheet held in memory
    ws = wb.create_sheet(title[:31])
    widths = [len(h) for h in export.header]
    for row in export.rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _width(value))
    for i, w in enumerate(widths, start=1):  # column widths must be set before the first row
        ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 6), 60)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(export.header))}{len(export.rows) + 1}"
    bold = Font(bold=True)

    def header_cell(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        return cell

    def cell(value: Value) -> Any:
        if isinstance(value, str) and value.startswith("="):
            c = WriteOnlyCell(ws, value=value)
            c.data_type = "s"  # text stays text: "=..." is never a formula
            return c
        if isinstance(value, datetime):
            c = WriteOnlyCell(ws, value=value)
            c.number_format = "yyyy-mm-dd hh:mm"
            return c
        if isinstance(value, date):
            c = WriteOnlyCell(ws, value=value)
            c.number_format = "yyyy-mm-dd"
            return c
        return value  # numbers stay numbers; "+86..." is a text cell (openpyxl never guesses numbers)

    ws.append([header_cell(h) for h in export.header])
    for row in export.rows:
        ws.append([cell(v) for v in row])
    wb.save(path)


def _width(value: Value) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value)
    # East Asian characters take about two columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write(export: Export, path: Path, fmt: str) -> None:
    """Write atomically: a temporary file beside ``path``, renamed over it once complete."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        (write_csv if fmt == "csv" else write_xlsx)(export, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def chat_file(settings: Settings, cohort: str | None, now: datetime) -> Path:
    """A new file name under <storage>/exports for an export sent in chat; files older than a day go first."""
    folder = settings.storage_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    prune(folder)
    stamp = now.astimezone(settings.tz).strftime("%Y%m%d-%H%M")
    # A fresh name each time: the adapter remembers Telegram's file id per path.
    return folder / f"candidates-{cohort or 'all'}-{stamp}-{secrets.token_hex(3)}.xlsx"


def prune(folder: Path, keep_seconds: float = KEEP_SECONDS) -> int:
    cutoff = time.time() - keep_seconds
    gone = 0
    for p in folder.iterdir():
        try:
            if p.is_file() and p.stat().st_mtime < cutoff:
                p.unlink()
                gone += 1
        except FileNotFoundError:  # another process pruned it first
            continue
    return gone


def audit_detail(fmt: str, rows: int, cohort: str | None, scope: str | None = None) -> str:
    parts = [f"format={fmt}", f"rows={rows}", f"cohort={cohort or 'all'}"]
    if scope:
        parts.append(f"scope={scope}")
    return " ".join(parts)

