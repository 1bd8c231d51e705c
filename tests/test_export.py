"""The candidate export: `hrbot candidates export` in CSV and xlsx (opened as Excel and scripts would), sensitive
fields only with the flag and the key, every export audited; `/export` in chat within the member's scope."""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import FixedClock
from bot.config import Settings
from bot.crypto import Sealer
from bot.engine.core import Engine
from bot.hr import export
from bot.profile.service import save_field
from store.db import Database
from store.models import AuditLog, Candidate, CandidateTask, LessonProgress, PointsBalance
from tests.chat import Chat
from tests.conftest import HR_ADMIN, ROOT

SCOPED, VIEWER = 200000001, 200000002
KEY = "a passphrase only for this test"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, db: Database, demo: dict[str, str]) -> CliRunner:
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("HRBOT_SECRET_KEY", raising=False)
    return CliRunner()


def run(cli: CliRunner, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = cli.invoke(app, ["candidates", "export", *args], env=env)
    return result.exit_code, result.output


def audits(db: Database) -> list[AuditLog]:
    with db.session() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action.startswith("export"))).all())  # type: ignore[attr-defined]


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def sheet(path: Path) -> tuple[list[str], list[dict[str, object]], object]:
    ws = load_workbook(path).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]], ws


def seed_progress(db: Database, clock: FixedClock) -> None:
    """张三 (#1): points, a lesson passed, one task done, an ID number; someone's name that looks like a formula."""
    now = clock.now()
    with db.session() as s:
        s.add(PointsBalance(candidate_id=1, balance=35))
        s.add(LessonProgress(candidate_id=1, lesson_id="safety_rules", attempts=1, best_correct=3, questions=3,
                             passed_at=now, updated_at=now))
        s.add(LessonProgress(candidate_id=1, lesson_id="mission", attempts=1, best_correct=0, questions=3,
                             updated_at=now))
        s.add(CandidateTask(candidate_id=1, task_id="health_certificate", status="done", updated_at=now))
        save_field(s, 1, "id_number", ID_NUMBER, Sealer(KEY), now)
        save_field(s, 1, "legal_name", "张三丰", None, now)
        c2 = s.get(Candidate, 2)
        assert c2 is not None
        c2.name = "=HYPERLINK(\"http://x\")"


def test_csv_header_rows_chinese_and_cohort_filter(cli: CliRunner, db: Database, tmp_path: Path,
                                                   clock: FixedClock, settings: Settings) -> None:
    seed_progress(db, clock)
    out = tmp_path / "all.csv"
    code, text = run(cli, "--format", "csv", "--out", str(out))
    assert code == 0, text
    assert "wrote 30 candidates (all cohorts)" in text
    rows = read_csv(out)
    assert list(rows[0]) == list(export.COLUMNS)  # the header is stable (README lists it)
    assert len(rows) == 30 and [r["id"] for r in rows] == [str(i) for i in range(1, 31)]
    zs = rows[0]
    assert zs["name"] == "张三" and zs["phone"] == "+8613800000001" and zs["external_id"] == "E2026001"
    assert zs["role"] == "生产操作工" and zs["department"] == "生产部" and zs["stage"] == "待入职"
    assert zs["cohort"] == "prod-2026-12" and zs["training_date"] == "2026-12-15"
    assert zs["bound"] == "否" and zs["unreachable"] == "否"
    assert zs["points"] == "35" and zs["lessons_passed"] == "1"
    assert "健康证明" not in zs["open_task_list"] and zs["open_tasks"] == str(zs["open_task_list"].count(";") + 1)
    assert rows[1]["name"] == "'=HYPERLINK(\"http://x\")"  # Excel would run it: kept as text
    assert not {"id_number", "legal_name"} & set(rows[0])
    assert ID_NUMBER not in out.read_text(encoding="utf-8-sig") and "张三丰" not in out.read_text(encoding="utf-8-sig")

    one = tmp_path / "dec.csv"
    assert run(cli, "--format", "csv", "--out", str(one), "--cohort", "prod-2026-12")[0] == 0
    cohort_rows = read_csv(one)
    with db.session() as s:
        expected = s.exec(select(Candidate.id).where(Candidate.cohort_id == "prod-2026-12")).all()
    assert sorted(int(r["id"]) for r in cohort_rows) == sorted(expected) and 0 < len(cohort_rows) < 30
    assert {r["cohort"] for r in cohort_rows} == {"prod-2026-12"}
    assert [(a.actor, a.action, a.detail) for a in audits(db)] == [
        ("cli", "export", "format=csv rows=30 cohort=all"),
        ("cli", "export", f"format=csv rows={len(cohort_rows)} cohort=prod-2026-12")]


def test_xlsx_bold_frozen_header_widths_and_text_cells(cli: CliRunner, db: Database, tmp_path: Path,
                                                       clock: FixedClock) -> None:
    seed_progress(db, clock)
    out = tmp_path / "sub" / "candidates.xlsx"  # a folder that does not exist yet is made
    code, text = run(cli, "--format", "xlsx", "--out", str(out), "--cohort", "prod-2026-12")
    assert code == 0, text
    header, rows, ws = sheet(out)
    assert header == list(export.COLUMNS)
    assert all(c.font.bold for c in ws[1]) and not ws["A2"].font.bold  # type: ignore[attr-defined]
    assert ws.freeze_panes == "A2"  # type: ignore[attr-defined]
    widths = {k: v.width for k, v in ws.column_dimensions.items()}  # type: ignore[attr-defined]
    assert widths["C"] >= 6 and widths["U"] > widths["A"]  # open_task_list (Chinese titles) is wide
    assert rows[0]["name"] == "张三" and rows[0]["department"] == "生产部" and rows[0]["points"] == 35
    assert rows[0]["phone"] == "+8613800000001"  # text, not a number
    assert rows[1]["name"] == "=HYPERLINK(\"http://x\")" and ws["C3"].data_type == "s"  # type: ignore[index]
    assert rows[0]["training_date"].date().isoformat() == "2026-12-15"  # type: ignore[union-attr]
    assert {r["cohort"] for r in rows} == {"prod-2026-12"}
    assert "id_number" not in header
    assert [a.detail for a in audits(db)] == [f"format=xlsx rows={len(rows)} cohort=prod-2026-12"]
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".part")]  # written atomically


def test_sensitive_fields_need_the_flag_and_the_key_and_are_audited(cli: CliRunner, db: Database, tmp_path: Path,
                                                                    clock: FixedClock) -> None:
    seed_progress(db, clock)
    out = tmp_path / "s.xlsx"
    code, text = run(cli, "--out", str(out), "--include-sensitive")  # no HRBOT_SECRET_KEY
    assert code == 2 and "--include-sensitive needs HRBOT_SECRET_KEY" in text and "Nothing was written" in text
    assert not out.exists() and audits(db) == []

    code, text = run(cli, "--out", str(out), "--include-sensitive", env={"HRBOT_SECRET_KEY": KEY})
    assert code == 0, text
    assert "keep it safe" in text
    header, rows, _ = sheet(out)  # the format comes from the file's suffix
    assert header == list(export.COLUMNS) + list(export.SENSITIVE_COLUMNS)
    assert rows[0]["id_number"] == ID_NUMBER and rows[0]["legal_name"] == "张三丰"
    assert rows[1]["id_number"] is None
    [row] = audits(db)
    assert (row.actor, row.action, row.detail) == ("cli", "export_sensitive", "format=xlsx rows=30 cohort=all")
    assert ID_NUMBER not in (row.detail or "")

    # Another key cannot open it: the cell stays empty and the count is reported.
    other = tmp_path / "o.csv"
    code, text = run(cli, "--format", "csv", "--out", str(other), "--include-sensitive",
                     env={"HRBOT_SECRET_KEY": "another key"})
    assert code == 0 and "1 ID numbers could not be decrypted" in text
    assert read_csv(other)[0]["id_number"] == ""


def test_bad_input_is_refused_before_anything_is_written(cli: CliRunner, db: Database, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    code, text = run(cli, "--format", "csv", "--out", str(out), "--cohort", "prod-2026-1")
    assert code == 2
    assert "unknown cohort 'prod-2026-1'; did you mean 'prod-2026-12'?" in text and "Nothing was written" in text
    code, text = run(cli, "--format", "pdf", "--out", str(out))
    assert code == 2 and "not one of csv, xlsx" in text
    assert run(cli, "--out", str(tmp_path / "x.txt"))[0] == 2  # no --format, and a suffix that says nothing
    assert not out.exists() and audits(db) == []


# -- /export in chat ------------------------------------------------------------------------------------------

def hr_member(cli: CliRunner, engine: Engine, telegram_id: int, *args: str) -> None:
    assert cli.invoke(app, ["hr", "add", str(telegram_id), *args]).exit_code == 0
    engine.ctx.staff.refresh()


def exported(chat: Chat) -> tuple[Path, str]:
    [doc] = chat.media()
    assert doc.kind == "document" and doc.chat_id == chat.user_id
    return Path(doc.path), doc.caption or ""


def test_export_in_chat_scoped_to_the_member(cli: CliRunner, engine: Engine, db: Database, settings: Settings,
                                             clock: FixedClock) -> None:
    seed_progress(db, clock)
    admin = Chat(engine, HR_ADMIN)
    admin.send("/export")
    path, caption = exported(admin)
    assert path.parent == settings.storage_dir / "exports" and path.suffix == ".xlsx"
    assert "共 30 人" in caption and "不含身份证号" in caption
    header, rows, _ = sheet(path)
    assert header == list(export.COLUMNS) and len(rows) == 30  # never sensitive fields in chat

    hr_member(cli, engine, SCOPED, "--departments", "quality")
    member = Chat(engine, SCOPED)
    member.send("/export")
    mine, caption = exported(member)
    _, rows, _ = sheet(mine)
    with db.session() as s:
        quality = s.exec(select(Candidate.id).where(Candidate.department == "quality")).all()
    assert sorted(r["id"] for r in rows) == sorted(quality) and len(quality) > 0  # type: ignore[type-var]
    assert {r["department"] for r in rows} == {"质量部"} and f"共 {len(quality)} 人" in caption
    # A cohort of another department: nothing of theirs; one that does not exist: did you mean.
    member.send("/export prod-2026-12")
    assert member.media() == [] and "没有可以导出的候选人" in member.texts()
    member.send("/export qa-2027-1")
    assert "你是不是要找 qa-2027-01" in member.texts() and "prod-2026-12" not in member.texts()
    member.send("/export qa-2027-01 prod-2026-12")
    assert "用法" in member.texts()

    hr_member(cli, engine, VIEWER, "--role", "viewer", "--cohorts", "wh-2027-01")
    viewer = Chat(engine, VIEWER, language_code="en")
    viewer.send("/export wh-2027-01")  # exporting only reads: a viewer may
    path, caption = exported(viewer)
    _, rows, _ = sheet(path)
    assert {r["cohort"] for r in rows} == {"wh-2027-01"} and "Candidates (wh-2027-01)" in caption

    with db.session() as s:
        rows_audited = [(a.actor, a.detail) for a in s.exec(select(AuditLog).where(AuditLog.action == "export"))]
    assert rows_audited == [
        (f"telegram:{HR_ADMIN}", "format=xlsx rows=30 cohort=all"),
        (f"telegram:{SCOPED}", f"format=xlsx rows={len(quality)} cohort=all scope=quality"),
        (f"telegram:{SCOPED}", "format=xlsx rows=0 cohort=prod-2026-12 scope=quality"),
        (f"telegram:{VIEWER}", f"format=xlsx rows={len(rows)} cohort=wh-2027-01 scope=wh-2027-01")]


def test_files_older_than_a_day_are_deleted_when_a_new_export_is_written(engine: Engine, settings: Settings,
                                                                         demo: dict[str, str]) -> None:
    folder = settings.storage_dir / "exports"
    folder.mkdir(parents=True)
    old, recent = folder / "candidates-all-old.xlsx", folder / "candidates-all-recent.xlsx"
    for p in (old, recent):
        p.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    admin = Chat(engine, HR_ADMIN)
    admin.send("/export")
    path, _ = exported(admin)
    assert not old.exists() and recent.exists() and path.exists()
    admin.send("/export")
    second, _ = exported(admin)
    assert second != path  # a fresh name each time (the adapter remembers Telegram's file id per path)
