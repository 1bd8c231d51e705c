"""`hrbot candidates import`: every rule, all-or-nothing, updates, links, QR codes, xlsx."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import FixedClock
from bot.config import Settings
from bot.hr.importer import ImportProblems, import_candidates
from bot.onboarding.invites import hash_token
from store.db import Database
from store.models import Candidate

HEADER = "name,phone,role,department,cohort,stage,external_id,email,language\n"
GOOD = "张三,138 0000 0001,line_operator,production,prod-2026-12,waiting_training,E1,zs@example.com,\n"


def write(tmp_path: Path, body: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def problems(db: Database, settings: Settings, path: Path, clock: FixedClock) -> list[str]:
    with pytest.raises(ImportProblems) as info:
        import_candidates(db, settings, path, clock.now())
    return [str(p) for p in info.value.problems]


def count(db: Database) -> int:
    with db.session() as s:
        return len(s.exec(select(Candidate)).all())


@pytest.mark.parametrize(("row", "expected"), [
    (",13800000001,line_operator,production,prod-2026-12,waiting_training,,,",
     "2: name: empty; every candidate needs a name"),
    ("A,,line_operator,production,prod-2026-12,waiting_training,,,",
     "2: phone: empty; the phone number is how candidates are found"),
    ("A,12345,line_operator,production,prod-2026-12,waiting_training,,,",
     "2: phone: '12345' is not a valid phone number"),
    ("A,13800000001,line_operater,production,prod-2026-12,waiting_training,,,",
     "2: role: unknown role 'line_operater'; did you mean 'line_operator'?"),
    ("A,13800000001,line_operator,productoin,prod-2026-12,waiting_training,,,",
     "2: department: unknown department 'productoin'; did you mean 'production'?"),
    ("A,13800000001,forklift_driver,production,prod-2026-12,waiting_training,,,",
     "2: role: role 'forklift_driver' belongs to department 'warehouse', not 'production'"),
    ("A,13800000001,line_operator,production,prod-2099-01,waiting_training,,,",
     "2: cohort: unknown cohort 'prod-2099-01'; did you mean"),
    ("A,13800000001,line_operator,production,wh-2027-01,waiting_training,,,",
     "2: cohort: cohort 'wh-2027-01' trains department 'warehouse', not 'production'"),
    ("A,13800000001,line_operator,production,prod-2026-12,,,,",
     "2: stage: empty; use one of: interview_passed"),
    ("A,13800000001,line_operator,production,prod-2026-12,waiting,,,",
     "2: stage: unknown stage 'waiting'"),
    ("A,13800000001,line_operator,production,prod-2026-12,waiting_training,,not-an-email,",
     "2: email: 'not-an-email' is not an email address"),
    ("A,13800000001,line_operator,production,prod-2026-12,waiting_training,,,klingon",
     "2: language: 'klingon' is not supported; use zh-CN or en"),
    ("A,13800000001,line_operator,production,prod-2026-12,waiting_training," + "x" * 65 + ",,",
     "2: external_id: longer than 64 characters"),
])
def test_each_rule(tmp_path: Path, db: Database, settings: Settings, clock: FixedClock, row: str,
                   expected: str) -> None:
    path = write(tmp_path, HEADER + row + "\n")
    found = problems(db, settings, path, clock)
    assert any(p.startswith(f"{path}:{expected}") for p in found), found
    assert count(db) == 0


def test_header_problems(tmp_path: Path, db: Database, settings: Settings, clock: FixedClock) -> None:
    path = write(tmp_path, "name,phon,role,department,cohort,stage\nA,1,b,c,d,e\n")
    assert problems(db, settings, path, clock) == [
        f"{path}:1: phone: required column is missing; add it to the header row",
        f"{path}:1: phon: unknown column; did you mean 'phone'?",
    ]


def test_every_problem_at_once_and_nothing_imported(tmp_path: Path, db: Database, settings: Settings,
                                                    clock: FixedClock) -> None:
    body = HEADER + GOOD + (
        "李四,138 0000 0001,line_operator,production,prod-2026-12,waiting_training,E1,,\n"  # dup phone + ext id
        "\n"                                                                                # blank: skipped
        "王五,1380000,line_operator,production,prod-2026-12,on_hold,,,\n"
    )
    path = write(tmp_path, body)
    found = problems(db, settings, path, clock)
    assert found == [
        f"{path}:3: phone: +8613800000001 also appears in row 2; each candidate once",
        f"{path}:3: external_id: 'E1' also appears in row 2",
        f"{path}:5: phone: '1380000' is not a valid phone number",
        f"{path}:5: stage: unknown stage 'on_hold'; known: interview_passed, background_check, offer_sent, "
        "waiting_training, training, onboarded, withdrawn",
    ]
    assert count(db) == 0


def test_chinese_headers_and_names_are_understood(tmp_path: Path, db: Database, settings: Settings,
                                                  clock: FixedClock) -> None:
    path = write(tmp_path, "姓名,手机号,岗位,部门,批次,阶段\n张三,13800000001,生产操作工,生产部,prod-2026-12,待入职\n")
    result = import_candidates(db, settings, path, clock.now())
    assert result.created == 1
    with db.session() as s:
        c = s.exec(select(Candidate)).one()
    assert (c.role, c.department, c.stage, c.phone) == ("line_operator", "production", "waiting_training",
                                                        "+8613800000001")


def test_gb18030_csv_from_excel(tmp_path: Path, db: Database, settings: Settings, clock: FixedClock) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + GOOD).encode("gb18030"))
    assert import_candidates(db, settings, path, clock.now()).created == 1


def test_reimport_updates_by_external_id_then_phone(tmp_path: Path, db: Database, settings: Settings,
                                                    clock: FixedClock) -> None:
    first = import_candidates(db, settings, write(tmp_path, HEADER + GOOD), clock.now())
    assert first.created == 1 and first.links[0].status == "new"
    # Same external id, new phone and stage: the same person, updated.
    moved = GOOD.replace("138 0000 0001", "139 0000 0001").replace("waiting_training", "training")
    again = import_candidates(db, settings, write(tmp_path, HEADER + moved), clock.now())
    assert (again.created, again.updated) == (0, 1)
    assert again.links[0].status == "unchanged" and again.links[0].link == ""  # the earlier link still works
    # No external id: matched by phone.
    by_phone = "张三三,+86 139-0000-0001,line_operator,production,prod-2026-12,training,,,en\n"
    third = import_candidates(db, settings, write(tmp_path, HEADER + by_phone), clock.now())
    assert third.updated == 1
    with db.session() as s:
        c = s.exec(select(Candidate)).one()
    assert (c.name, c.phone, c.stage, c.external_id, c.language) == ("张三三", "+8613900000001", "training", "E1", "en")


def test_conflicting_identity_is_an_error(tmp_path: Path, db: Database, settings: Settings,
                                          clock: FixedClock) -> None:
    two = GOOD + "李四,13900000002,line_operator,production,prod-2026-12,waiting_training,E2,,\n"
    import_candidates(db, settings, write(tmp_path, HEADER + two), clock.now())
    clash = "张三,13900000002,line_operator,production,prod-2026-12,waiting_training,E1,,\n"  # E1 with E2's phone
    found = problems(db, settings, write(tmp_path, HEADER + clash), clock)
    assert found == [f"{tmp_path / 'people.csv'}:2: phone: +8613900000002 already belongs to another candidate "
                     "(#2); fix the phone or that candidate first"]


def test_reissue_gives_a_new_link_and_kills_the_old(tmp_path: Path, db: Database, settings: Settings,
                                                     clock: FixedClock) -> None:
    path = write(tmp_path, HEADER + GOOD)
    old = import_candidates(db, settings, path, clock.now()).links[0].link
    new = import_candidates(db, settings, path, clock.now(), reissue=True).links[0]
    assert new.status == "reissued" and new.link != old
    with db.session() as s:
        c = s.exec(select(Candidate)).one()
    assert c.invite_token_hash == hash_token(new.link.rsplit("=", 1)[1])


def test_xlsx_with_numeric_phones(tmp_path: Path, db: Database, settings: Settings, clock: FixedClock) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["name", "phone", "role", "department", "cohort", "stage"])
    ws.append(["张三", 13800000001, "line_operator", "production", "prod-2026-12", "waiting_training"])
    ws.append(["李四", 13800000002, "line_operator", "production", None, "interview_passed"])
    ws.append(["王五", "bad", "line_operator", "production", None, "interview_passed"])
    path = tmp_path / "people.xlsx"
    wb.save(path)
    assert problems(db, settings, path, clock) == [f"{path}:4: phone: 'bad' is not a valid phone number"]
    ws.delete_rows(4)
    wb.save(path)
    result = import_candidates(db, settings, path, clock.now())
    assert result.created == 2


def test_unreadable_files(tmp_path: Path, db: Database, settings: Settings, clock: FixedClock) -> None:
    assert problems(db, settings, write(tmp_path, "x", "people.txt"), clock) == [
        f"{tmp_path / 'people.txt'}:1: file: unsupported file type .txt; use .csv or .xlsx"]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK not really")
    assert "cannot open the workbook" in problems(db, settings, broken, clock)[0]
    assert "the file is empty" in problems(db, settings, write(tmp_path, ""), clock)[0]


# -- through the CLI, as HR runs it ------------------------------------------------------------------------

@pytest.fixture
def cli_env(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HRBOT_CONFIG", str(Path(__file__).resolve().parent.parent / "config.yaml"))
    return CliRunner()


def test_cli_bad_rows_exit_2(tmp_path: Path, cli_env: CliRunner, db: Database) -> None:
    path = write(tmp_path, HEADER + GOOD.replace("line_operator", "nobody"))
    result = cli_env.invoke(app, ["candidates", "import", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: role: unknown role 'nobody'" in result.stderr
    assert "nothing was imported" in result.stderr
    assert count(db) == 0


def test_cli_links_out_and_qr(tmp_path: Path, cli_env: CliRunner) -> None:
    path = write(tmp_path, HEADER + GOOD + "李四,13800000002,line_operator,production,,interview_passed,,,\n")
    out, qr = tmp_path / "links.csv", tmp_path / "qr"
    result = cli_env.invoke(app, ["candidates", "import", str(path), "--links-out", str(out), "--qr-dir", str(qr)])
    assert result.exit_code == 0, result.output
    assert "https://t.me/DemoPlantHRBot?start=" in result.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [r["name"] for r in rows] == ["张三", "李四"]
    assert all(r["link"].startswith("https://t.me/DemoPlantHRBot?start=") for r in rows)
    assert rows[0]["phone"] == "+8613800000001"
    pngs = sorted(p.name for p in qr.iterdir())
    assert pngs == ["00001-张三.png", "00002-李四.png"]
    assert (qr / pngs[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_list_json_and_set_stage(tmp_path: Path, cli_env: CliRunner) -> None:
    cli_env.invoke(app, ["candidates", "import", str(write(tmp_path, HEADER + GOOD))])
    listed = json.loads(cli_env.invoke(app, ["candidates", "list", "--json"]).stdout)
    assert {"id", "name", "phone", "role", "department", "cohort", "stage", "telegram_user_id"} <= set(listed[0])
    assert listed[0]["cohort"] == "prod-2026-12" and listed[0]["telegram_user_id"] is None
    result = cli_env.invoke(app, ["candidates", "set-stage", "E1", "training"])
    assert result.exit_code == 0 and "waiting_training -> training" in result.stdout
    bad = cli_env.invoke(app, ["candidates", "set-stage", "1", "trainng"])
    assert bad.exit_code == 1 and "did you mean 'training'" in bad.stderr
    cohorts = json.loads(cli_env.invoke(app, ["cohorts", "list", "--json"]).stdout)
    assert {"id": "prod-2026-12", "department": "production", "training_date": "2026-12-15"}.items() <= \
        cohorts[0].items()
