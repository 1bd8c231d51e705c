"""HR roles and scopes: members managed from the CLI, commands refused to anyone else without a hint, viewers
read only, scoped members see and reach only their candidates, alerts go to those in scope; all audited."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.engine.core import Engine
from bot.engine.staff import REFRESH_SECONDS
from store.db import Database
from store.models import AuditLog, Candidate
from tests.chat import Chat
from tests.conftest import HR_ADMIN, ROOT

SCOPED, VIEWER, STRANGER = 200000001, 200000002, 300000003


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, db: Database) -> CliRunner:
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


def hr(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, ["hr", *args])
    return result.exit_code, result.output


def fresh(engine: Engine) -> None:
    engine.ctx.staff.refresh()  # a CLI change reaches a running bot within REFRESH_SECONDS; tests do not wait
    assert REFRESH_SECONDS <= 5


def test_add_change_list_remove_with_audit(cli: CliRunner, db: Database) -> None:
    assert hr(cli, "add", str(SCOPED), "--departments", "quality", "--name", "王经理") == \
        (0, f"added {SCOPED}: hr, quality\n")
    assert hr(cli, "add", str(VIEWER), "--role", "viewer", "--cohorts", "prod-2026-12")[0] == 0
    assert hr(cli, "add", str(SCOPED), "--departments", "quality,warehouse")[0] == 0  # a change
    code, out = hr(cli, "list", "--json")
    rows = {r["telegram_id"]: r for r in json.loads(out)}
    assert rows[HR_ADMIN]["source"] == "config" and rows[HR_ADMIN]["role"] == "admin"
    assert rows[SCOPED]["departments"] == ["quality", "warehouse"] and rows[SCOPED]["name"] == "王经理"
    assert rows[VIEWER]["role"] == "viewer" and rows[VIEWER]["cohorts"] == ["prod-2026-12"]
    assert hr(cli, "remove", str(VIEWER)) == (0, f"removed {VIEWER}\n")
    assert VIEWER not in {r["telegram_id"] for r in json.loads(hr(cli, "list", "--json")[1])}
    with db.session() as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.actor == "cli"))]
    assert actions == ["hr_member_added", "hr_member_added", "hr_member_changed", "hr_member_removed"]


def test_bad_requests_are_refused_with_every_reason(cli: CliRunner) -> None:
    code, out = hr(cli, "add", "5", "--role", "boss", "--departments", "qualty", "--cohorts", "nope")
    assert code == 2
    assert "role 'boss' is not one of admin, hr, viewer" in out
    assert "department 'qualty' is not in config.yaml; did you mean 'quality'?" in out
    assert "cohort 'nope' is not in config.yaml" in out
    assert hr(cli, "add", str(HR_ADMIN))[0] == 2  # config's admins are changed in config.yaml
    assert hr(cli, "remove", "12345")[0] == 1


def test_anyone_not_in_hr_gets_the_unknown_command_answer_and_is_audited(engine: Engine, db: Database,
                                                                        demo: dict[str, str]) -> None:
    stranger, cand = Chat(engine, STRANGER), Chat(engine, 1)
    cand.send(f"/start {demo['张三']}")
    for command in ("/stage 1 onboarded", "/inbox", "/docs", "/reply 1 hi"):
        for chat in (stranger, cand):
            chat.send(command)
            name = command.split()[0][1:]
            assert chat.texts().startswith(f"我不认识 /{name} 这个命令"), chat.texts()
    with db.session() as s:
        denied = s.exec(select(AuditLog).where(AuditLog.action == "hr_denied")).all()
    assert len(denied) == 8 and {d.detail for d in denied} == {"/stage", "/inbox", "/docs", "/reply"}


def test_viewer_reads_but_cannot_act(cli: CliRunner, engine: Engine, demo: dict[str, str], db: Database) -> None:
    hr(cli, "add", str(VIEWER), "--role", "viewer")
    fresh(engine)
    viewer = Chat(engine, VIEWER)
    viewer.send("/inbox")
    assert "没有" in viewer.texts() or "问题" in viewer.texts()
    viewer.send("/stage 6 onboarded")
    assert "只读" in viewer.texts()
    with db.session() as s:
        assert s.exec(select(Candidate).where(Candidate.id == 6)).one().stage != "onboarded"


def test_scoped_member_sees_and_reaches_only_their_department(cli: CliRunner, engine: Engine,
                                                              demo: dict[str, str], db: Database) -> None:
    hr(cli, "add", str(SCOPED), "--departments", "quality")
    fresh(engine)
    with db.session() as s:
        quality = s.exec(select(Candidate).where(Candidate.department == "quality")).first()
        production = s.exec(select(Candidate).where(Candidate.department == "production")).first()
        assert quality is not None and production is not None
        q_name, q_id, p_name, p_id = quality.name, quality.id, production.name, production.id
    q_chat, p_chat, member = Chat(engine, 11), Chat(engine, 12), Chat(engine, SCOPED)
    q_chat.send(f"/start {demo[q_name]}")
    p_chat.send(f"/start {demo[p_name]}")
    # Alerts: the quality candidate's ticket reaches the scoped member and the admin; production's only the admin.
    q_chat.send("我找到别的工作了")
    assert "流失预警" in q_chat.texts(SCOPED) and "流失预警" in q_chat.texts(HR_ADMIN)
    p_chat.send("我找到别的工作了")
    assert p_chat.texts(SCOPED) == "" and "流失预警" in p_chat.texts(HR_ADMIN)
    # /inbox lists only theirs; /reply and /stage on the other one answer as if it did not exist.
    member.send("/inbox")
    assert q_name in member.texts() and p_name not in member.texts()
    member.send(f"/stage {p_id} onboarded")
    assert "没有找到" in member.texts()
    member.send(f"/stage {q_id} background_check")
    assert "背景调查" in member.texts()
    member.send("/reply 2 hi")
    assert "没有找到问题 2" in member.texts()
    member.send("/reply 1 我们给你打电话")
    assert "已" in member.texts() and "我们给你打电话" in member.texts(11)
