"""One scheduler: the election (PostgreSQL advisory lock, or a lock file beside the SQLite database), the
preview command, and HR's CLI stage change going out through the outbox."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.engine.core import Engine
from bot.scheduler import Leadership
from store.db import Database
from store.models import Outbox
from tests.chat import Chat
from tests.conftest import ROOT


def test_only_one_leader_and_takeover(settings: Settings, db: Database) -> None:
    first, second = Database(settings.database_url), Database(settings.database_url)
    a, b = Leadership(first), Leadership(second)
    try:
        assert a.try_acquire() is True
        assert a.try_acquire() is True  # holding it already
        assert b.try_acquire() is False
        a.release()  # the leader stops (or dies: the lock goes with its connection or file handle)
        assert b.try_acquire() is True
        assert Leadership(first).try_acquire() is False
    finally:
        a.release()
        b.release()
        first.dispose()
        second.dispose()


@pytest.fixture
def cli(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    return CliRunner()


def test_preview_json_contract(cli: CliRunner, engine: Engine, demo: dict[str, str]) -> None:
    Chat(engine, 1).send(f"/start {demo['张三']}")
    result = cli.invoke(app, ["nudges", "preview", "--days", "21", "--from", "2026-11-27T10:00", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(set(r) <= {"candidate_id", "rule", "at", "status", "reason"} for r in rows)
    assert all(r["status"] in ("send", "skipped") for r in rows)
    assert all(("reason" in r) == (r["status"] == "skipped") for r in rows)
    assert all(r["at"].endswith("+08:00") for r in rows)
    sends = [r for r in rows if r["status"] == "send"]
    assert {r["rule"] for r in sends} >= {"training_in_10_days", "task_due_in_2_days"}
    # Never at night, at most two a week.
    from datetime import datetime, timedelta
    times = sorted(datetime.fromisoformat(r["at"]) for r in sends)
    assert all(9 <= t.hour < 21 for t in times)
    assert all(sum(1 for u in times if t - timedelta(days=7) < u <= t) <= 2 for t in times)
    # Nothing was sent or written by a preview.
    with engine.ctx.db.session() as s:
        assert s.exec(select(Outbox)).all() == []


def test_preview_one_candidate_text_and_unbound(cli: CliRunner, engine: Engine, demo: dict[str, str]) -> None:
    result = cli.invoke(app, ["nudges", "preview", "--days", "10", "--from", "2026-11-27"])
    assert result.exit_code == 0
    assert "0 to send" in result.stdout and "30 candidates have not started the bot yet" in result.stdout
    result = cli.invoke(app, ["nudges", "preview", "--days", "10", "--from", "2026-11-27", "--candidate", "1",
                              "--unbound"])
    assert "#1 张三\ttraining_in_10_days\tsend" in result.stdout
    bad = cli.invoke(app, ["nudges", "preview", "--from", "next week"])
    assert bad.exit_code == 1 and "is not a date or datetime" in bad.stderr


def test_cli_stage_change_is_queued_for_the_candidate(cli: CliRunner, engine: Engine, demo: dict[str, str],
                                                      db: Database) -> None:
    Chat(engine, 5006, language_code="en").send(f"/start {demo['杨帆']}")
    result = cli.invoke(app, ["candidates", "set-stage", "6", "waiting_training"])
    assert result.exit_code == 0 and "queued in the outbox" in result.stdout
    with db.session() as s:
        [row] = s.exec(select(Outbox)).all()
    assert (row.kind, row.chat_id, row.status) == ("message", 5006, "pending")
    # In the language of their Telegram app, remembered when they linked their account.
    assert row.text is not None and "Your onboarding status has changed: Waiting for training" in row.text
    assert json.loads(row.buttons or "[]")[0][0]["data"] == "menu:status"


def test_validate_reports_broken_rules(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "nudges.yaml").write_text(
        "rules:\n  - id: x\n    trigger: {weekly: someday, at: \"10:00\"}\n    message: nudge_friday_news\n",
        encoding="utf-8")
    (tmp_path / "config.yaml").write_text(config + f"\ncontent_dir: {ROOT / 'content'}\n", encoding="utf-8")
    monkeypatch.setenv("HRBOT_CONFIG", str(tmp_path / "config.yaml"))
    result = cli.invoke(app, ["validate"])
    assert result.exit_code == 1
    assert f"{tmp_path / 'flows' / 'nudges.yaml'}:3:15: unknown weekday 'someday'" in result.stderr


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="the advisory lock is PostgreSQL's; SQLite uses a lock file")
def test_leader_notices_when_its_database_session_dies(settings: Settings, db: Database) -> None:
    leader_db, other_db = Database(settings.database_url), Database(settings.database_url)
    leader, other = Leadership(leader_db), Leadership(other_db)
    try:
        assert leader.try_acquire() and leader.still_held()
        assert leader._conn is not None
        pid = leader._conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        leader._conn.commit()
        with other_db.engine.connect() as conn:  # e.g. a database restart, or a network cut
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
        assert leader.still_held() is False and leader.held is False
        assert other.try_acquire() is True
    finally:
        leader.release()
        other.release()
        leader_db.dispose()
        other_db.dispose()
