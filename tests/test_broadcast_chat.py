"""/broadcast in chat (through the engine and the local outbox delivery): the guided conversation, its bad
input, scope, double confirm, scheduling, quiet hours, cancel; and the CLI's JSON contracts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select
from typer.testing import CliRunner

from bot.broadcast.progress import BroadcastProgress
from bot.clock import FixedClock
from bot.config import Settings
from bot.engine.core import Engine
from bot.engine.effects import Say, SendMedia
from bot.engine.events import Event
from bot.hr import members
from store.db import Database
from store.models import AuditLog, Broadcast, Candidate, Outbox
from tests.chat import Chat
from tests.conftest import HR_ADMIN

SCOPED_HR = 200000002


def bind_all(db: Database, cohort: str | None = None) -> list[Candidate]:
    """Link candidates to chats (as if they had pressed their invite link): chat id = 900000 + id."""
    with db.session() as s:
        query = select(Candidate)
        if cohort:
            query = query.where(Candidate.cohort_id == cohort)
        cands = list(s.exec(query).all())
        for c in cands:
            c.telegram_user_id = c.telegram_chat_id = 900000 + (c.id or 0)
        return cands


def outbox_of(db: Database, bid: int) -> list[Outbox]:
    with db.session() as s:
        return list(s.exec(select(Outbox).where(Outbox.broadcast_id == bid)).all())


def start_to_preview(hr: Chat, text: str = "培训改到周四,请准时到场。") -> None:
    hr.send("/broadcast")
    hr.click("培训批次")
    hr.click("2026年12月生产部集中培训")
    hr.click("继续")
    hr.send(text)


def latest(db: Database) -> Broadcast:
    with db.session() as s:
        bc = s.exec(select(Broadcast).order_by(col(Broadcast.id).desc())).first()
        assert bc is not None
        return bc


def test_guided_broadcast_to_a_cohort(engine: Engine, demo: dict[str, str], db: Database) -> None:
    bound = bind_all(db, "prod-2026-12")
    with db.session() as s:  # one of them blocked the bot earlier; one never linked
        s.get(Candidate, bound[0].id).unreachable_at = engine.ctx.clock.now()  # type: ignore[union-attr]
        s.get(Candidate, bound[1].id).telegram_chat_id = None  # type: ignore[union-attr]
    hr = Chat(engine, HR_ADMIN)
    hr.send("/broadcast")
    assert "发给谁" in hr.texts()
    hr.click("培训批次")
    hr.click("2026年12月生产部集中培训")
    expected = len(bound) - 2 - sum(1 for c in bound if c.stage == "withdrawn")
    assert f"收件人:{expected} 人" in hr.texts()
    assert "1 人还没开始使用机器人,1 人无法联系" in hr.texts()
    hr.click("继续")
    assert "现在发送消息内容" in hr.texts()
    hr.send("<b>培训改到周四</b>,请准时到场。")
    previews = [e for e in hr.last if isinstance(e, Say) and e.html]
    assert previews and previews[0].text == "<b>培训改到周四</b>,请准时到场。"
    assert "只提供了中文文本" in hr.texts()
    hr.click("添加English文本")
    hr.send("Training moved to Thursday.")
    assert "只提供了" not in hr.texts()
    hr.click("立即发给")
    bc = latest(db)
    assert bc.status == "sending" and bc.total == expected
    rows = outbox_of(db, bc.id or 0)
    assert len(rows) == expected
    assert {r.dedupe_key for r in rows} == {f"broadcast:{bc.id}:{r.candidate_id}" for r in rows}
    assert all(r.kind == "broadcast" and not r.urgent and r.priority == 60 for r in rows)
    # delivered by the sender (10:00 Shanghai: not quiet hours), each in their own language
    english = [e for e in hr.last if isinstance(e, Say) and e.text == "Training moved to Thursday."]
    assert len(english) == 1  # Nguyen Van An (en)
    assert "群发 #" in hr.texts() and f"/ {expected}" in hr.texts()  # HR's progress message
    with db.session() as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "broadcast")).one()
    assert f"recipients={expected}" in (audit.detail or "") and "培训" not in (audit.detail or "")


def test_double_confirm_is_one_broadcast(engine: Engine, demo: dict[str, str], db: Database) -> None:
    bind_all(db, "prod-2026-12")
    hr = Chat(engine, HR_ADMIN)
    start_to_preview(hr)
    confirm = hr.button("立即发给")
    hr.press(confirm)
    hr.press(confirm)  # the double tap
    assert "已经是发送中状态" in hr.texts() or "已经是已发送状态" in hr.texts()
    bc = latest(db)
    rows = outbox_of(db, bc.id or 0)
    assert len(rows) == bc.total == len({r.candidate_id for r in rows})
    with db.session() as s:
        assert len(s.exec(select(Broadcast).where(Broadcast.status != "cancelled")).all()) == 1


def test_bad_input_is_refused_before_anything_is_sent(engine: Engine, demo: dict[str, str], db: Database) -> None:
    bind_all(db, "prod-2026-12")
    hr = Chat(engine, HR_ADMIN)
    hr.send("/broadcast")
    hr.click("培训批次")
    hr.click("2027年1月")  # nobody in that cohort has started the bot
    hr.click("继续")
    assert "没有可发送的对象" in hr.texts()
    hr.click("培训批次")
    hr.click("2026年12月生产部集中培训")
    hr.click("继续")
    hr.send("长" * 4097)
    assert "4097 个字符" in hr.texts()
    hr.send("<b>没闭合")
    assert "无法识别格式" in hr.texts()
    hr.handle(Event(kind="file", user_id=HR_ADMIN, chat_id=HR_ADMIN, file_kind="photo", file_id="big",
                    file_size=11 * 1024 * 1024, language_code="zh-hans"))
    assert "10 MB" in hr.texts()
    hr.handle(Event(kind="file", user_id=HR_ADMIN, chat_id=HR_ADMIN, file_kind="photo", file_id="ok-photo",
                    file_size=200_000, text="说" * 1025, language_code="zh-hans"))
    assert "最多 1024 个字符" in hr.texts()
    hr.send("好的")
    hr.click("定时发送")
    hr.send("2020-01-01 10:00")
    assert "已经过去了" in hr.texts()
    hr.send("下个月吧")
    assert "无法识别时间" in hr.texts()
    assert all(not outbox_of(db, b.id or 0) for b in [latest(db)])


def test_photo_with_caption_and_a_menu_button(engine: Engine, demo: dict[str, str], db: Database) -> None:
    bind_all(db, "prod-2026-12")
    hr = Chat(engine, HR_ADMIN)
    hr.send("/broadcast")
    hr.click("所有人")
    hr.click("继续")
    hr.handle(Event(kind="file", user_id=HR_ADMIN, chat_id=HR_ADMIN, file_kind="photo", file_id="AgAD-photo",
                    file_size=200_000, text="路线图", language_code="zh-hans"))
    preview = [e for e in hr.last if isinstance(e, SendMedia)]
    assert preview and preview[0].path == "telegram-file:AgAD-photo" and preview[0].caption == "路线图"
    hr.click("添加菜单按钮")
    hr.click("menu_status") if False else hr.click("我的进度")
    preview = [e for e in hr.last if isinstance(e, SendMedia)]
    assert preview[0].buttons[0][0].data == "menu:status"
    hr.click("添加English文本")
    hr.send("Route map")
    hr.click("立即发给")
    sent = [e for e in hr.last if isinstance(e, SendMedia) and e.chat_id != HR_ADMIN]
    assert sent and {e.caption for e in sent} == {"路线图", "Route map"}
    english = next(e for e in sent if e.caption == "Route map")
    assert english.buttons[0][0].text != "📋 我的进度"  # the menu entry's own label, in their language


def test_link_button(engine: Engine, demo: dict[str, str], db: Database) -> None:
    bind_all(db, "prod-2026-12")
    hr = Chat(engine, HR_ADMIN)
    start_to_preview(hr)
    hr.click("添加链接按钮")
    hr.send("没有链接")
    assert "没有找到链接" in hr.texts()
    hr.send("路线图 | https://example.com/map")
    button = [e for e in hr.last if isinstance(e, Say) and e.html][0].buttons[0][0]
    assert button.url == "https://example.com/map" and button.text == "路线图"


def test_scheduled_broadcast_fires_by_time_travel(engine: Engine, demo: dict[str, str], db: Database,
                                                  clock: FixedClock) -> None:
    bind_all(db, "prod-2026-12")
    hr = Chat(engine, HR_ADMIN)
    start_to_preview(hr)
    hr.click("定时发送")
    hr.send("明天 10:00")
    assert "2026-11-28 10:00" in hr.texts()
    hr.click("确认时间")
    assert "已定于 2026-11-28 10:00" in hr.texts()
    bc = latest(db)
    assert bc.status == "scheduled"
    assert not [e for e in hr.last if isinstance(e, Say) and e.chat_id != HR_ADMIN]  # nothing yet
    progress = BroadcastProgress(db, engine.ctx.settings, engine.ctx.texts, clock, None)
    import asyncio
    clock.set(clock.now() + timedelta(hours=23, minutes=59))
    asyncio.run(progress.tick())
    hr.outbox.run_due()
    assert not [m for m in hr.delivered if m.chat_id != HR_ADMIN]
    clock.set(clock.now() + timedelta(minutes=1))
    asyncio.run(progress.tick())
    assert latest(db).status == "sending"
    hr.outbox.run_due()
    got = [m for m in hr.delivered if isinstance(m, Say) and m.chat_id != HR_ADMIN]
    assert len(got) == bc.total
    asyncio.run(progress.tick())
    assert latest(db).status == "done"


def test_quiet_hours_hold_a_non_urgent_broadcast(engine: Engine, demo: dict[str, str], db: Database,
                                                 clock: FixedClock) -> None:
    bind_all(db, "prod-2026-12")
    clock.set(clock.now() + timedelta(hours=12))  # 22:00 in Shanghai
    hr = Chat(engine, HR_ADMIN)
    start_to_preview(hr)
    hr.click("立即发给")
    assert "免打扰时段" in hr.texts()
    assert not [m for m in hr.delivered if m.chat_id != HR_ADMIN]  # HR's progress message (urgent) only
    bc = latest(db)
    clock.set(clock.now() + timedelta(hours=11))  # 09:00
    hr.outbox.run_due()
    assert len([m for m in hr.delivered if m.chat_id != HR_ADMIN]) == bc.total
    # an urgent one goes at night
    clock.set(clock.now() + timedelta(hours=13))
    start_to_preview(hr, "紧急:明天停电")
    hr.click("标记为紧急")
    hr.click("立即发给")
    assert len([m for m in hr.delivered if m.chat_id != HR_ADMIN]) == latest(db).total


def test_cancel_a_scheduled_broadcast_drops_everything(engine: Engine, demo: dict[str, str], db: Database) -> None:
    bind_all(db, "prod-2026-12")
    hr = Chat(engine, HR_ADMIN)
    start_to_preview(hr)
    hr.click("定时发送")
    hr.send("明天 10:00")
    hr.click("确认时间")
    hr.click("取消群发")
    bc = latest(db)
    assert bc.status == "cancelled"
    assert {r.status for r in outbox_of(db, bc.id or 0)} == {"dropped"}
    assert f"{bc.total} 条尚未发送" in hr.texts()


def test_scoped_member_reaches_only_their_department(engine: Engine, demo: dict[str, str], db: Database,
                                                     settings: Settings, clock: FixedClock) -> None:
    bind_all(db)
    with db.session() as s:
        members.add(s, settings, SCOPED_HR, role="hr", departments="quality", cohorts="", name=None, actor="cli",
                    now=clock.now())
    engine.ctx.staff.refresh()
    hr = Chat(engine, SCOPED_HR)
    hr.send("/broadcast")
    hr.click("部门")
    labels = str([b.text for e in hr.last if isinstance(e, Say) for r in e.buttons for b in r])
    assert "生产部" not in labels and "质量部" in labels
    hr.click("返回")
    hr.click("所有人")
    with db.session() as s:
        quality = len(s.exec(select(Candidate).where(Candidate.department == "quality",
                                                     Candidate.stage != "withdrawn")).all())
    assert f"收件人:{quality} 人" in hr.texts()
    # a forged button naming another department: nobody in scope
    bc = latest(db)
    from bot.broadcast.buttons import BroadcastButton
    hr.press(BroadcastButton("set", bc.id or 0, "department=production").button("x"))
    hr.click("继续")
    assert "没有可发送的对象" in hr.texts()
    hr.press(BroadcastButton("set", bc.id or 0, "all").button("x"))
    hr.click("继续")
    hr.send("质量部通知")
    hr.click("立即发给")
    with db.session() as s:
        depts = {s.get(Candidate, r.candidate_id).department for r in outbox_of(db, bc.id or 0)}  # type: ignore[union-attr]
    assert depts == {"quality"}
    hr.send("/broadcasts")
    assert f"#{bc.id}" in hr.texts()


def test_viewer_and_stranger_are_refused(engine: Engine, demo: dict[str, str], db: Database, settings: Settings,
                                         clock: FixedClock) -> None:
    with db.session() as s:
        members.add(s, settings, 300000003, role="viewer", departments="", cohorts="", name=None, actor="cli",
                    now=clock.now())
    viewer = Chat(engine, 300000003)
    viewer.send("/broadcast")
    assert "只读" in viewer.texts() or "read-only" in viewer.texts()
    stranger = Chat(engine, 555)
    stranger.send("/broadcast")
    assert "/broadcast" in stranger.texts() and "发给谁" not in stranger.texts()
    with db.session() as s:
        assert not s.exec(select(Broadcast)).all()


def test_the_draft_survives_a_restart(engine: Engine, demo: dict[str, str], db: Database, settings: Settings,
                                      clock: FixedClock) -> None:
    from bot.app import build_engine

    bind_all(db, "prod-2026-12")
    hr = Chat(engine, HR_ADMIN)
    hr.send("/broadcast")
    hr.click("培训批次")
    hr.click("2026年12月生产部集中培训")
    hr.click("继续")
    again = Chat(build_engine(settings, db, clock), HR_ADMIN)  # a new process
    again.send("重启后写的内容")
    assert "重启后写的内容" in again.texts()
    again.click("立即发给")
    assert latest(db).status == "sending"


def test_cli_json_contracts(engine: Engine, demo: dict[str, str], db: Database, settings: Settings,
                            tmp_path: Path, monkeypatch: object) -> None:
    from bot.cli import app

    bind_all(db, "prod-2026-12")
    env = {"DATABASE_URL": settings.database_url}
    text = tmp_path / "msg.txt"
    text.write_text("培训改到周四 <不是格式>\n", encoding="utf-8")
    runner = CliRunner()
    dry = runner.invoke(app, ["broadcast", "--audience", "cohort:prod-2026-12,role:line_operator", "--text-file",
                              str(text), "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    body = json.loads(dry.stdout)
    assert body["broadcast_id"] is None and body["recipients"] > 0 and set(body) == {"broadcast_id", "recipients",
                                                                                    "excluded"}
    with db.session() as s:
        assert not s.exec(select(Broadcast)).all()
    real = runner.invoke(app, ["broadcast", "--audience", "cohort:prod-2026-12,role:line_operator", "--text-file",
                               str(text), "--json"], env=env)
    assert real.exit_code == 0, real.output
    sent = json.loads(real.stdout)
    assert sent["recipients"] == body["recipients"] and sent["broadcast_id"]
    rows = outbox_of(db, sent["broadcast_id"])
    assert len(rows) == sent["recipients"]
    assert json.loads(rows[0].effect or "{}")["text"] == "培训改到周四 <不是格式>\n"  # sent as written
    listing = runner.invoke(app, ["broadcasts", "list", "--json"], env=env)
    assert listing.exit_code == 0, listing.output
    first = json.loads(listing.stdout)[0]
    assert {k: first[k] for k in ("id", "status", "total", "sent", "unreachable", "failed")} == {
        "id": sent["broadcast_id"], "status": "sending", "total": sent["recipients"], "sent": 0, "unreachable": 0,
        "failed": 0}
    bad = runner.invoke(app, ["broadcast", "--audience", "cohort:prod-2026-1", "--text-file", str(text)], env=env)
    assert bad.exit_code == 2 and "Did you mean cohort:prod-2026-12" in bad.output
    past = runner.invoke(app, ["broadcast", "--audience", "all", "--text-file", str(text), "--at",
                               "2020-01-01 10:00"], env=env)
    assert past.exit_code == 2 and "already passed" in past.output
    long = tmp_path / "long.txt"
    long.write_text("x" * 4097, encoding="utf-8")
    too_long = runner.invoke(app, ["broadcast", "--audience", "all", "--text-file", str(long)], env=env)
    assert too_long.exit_code == 2 and "4097" in too_long.output
    nobody = runner.invoke(app, ["broadcast", "--audience", "cohort:qa-2027-01", "--text-file", str(text)], env=env)
    assert nobody.exit_code == 2 and "Nobody" in nobody.output


def test_cli_schedules_in_company_time(engine: Engine, demo: dict[str, str], db: Database, settings: Settings,
                                       tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.cli import app

    bind_all(db, "prod-2026-12")
    text = tmp_path / "msg.txt"
    text.write_text("新年安排", encoding="utf-8")
    result = CliRunner().invoke(app, ["broadcast", "--audience", "cohort:prod-2026-12", "--text-file", str(text),
                                      "--at", "2030-01-01 10:00", "--json"],
                                env={"DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    bid = json.loads(result.stdout)["broadcast_id"]
    assert latest(db).status == "scheduled"
    due = {r.next_attempt_at for r in outbox_of(db, bid)}
    assert {d.replace(tzinfo=UTC) if d and d.tzinfo is None else d for d in due} == {
        datetime(2030, 1, 1, 2, 0, tzinfo=UTC)}  # 10:00 in Shanghai


def test_audience_has_not_finished_a_lesson_and_times(engine: Engine, demo: dict[str, str], db: Database,
                                                      clock: FixedClock) -> None:
    from datetime import datetime

    import pytest

    from bot.broadcast import service
    from store.models import LessonProgress

    cands = bind_all(db, "prod-2026-12")
    lessons = list(engine.router.commands["broadcast"].handler.__self__.lessons)  # type: ignore[attr-defined]
    with db.session() as s:
        s.add(LessonProgress(candidate_id=cands[0].id, lesson_id=lessons[0], passed_at=clock.now(),
                             updated_at=clock.now()))
        s.add(LessonProgress(candidate_id=cands[1].id, lesson_id=lessons[0], updated_at=clock.now()))  # not passed
    known = service.known_ids(engine.ctx.settings, lessons)
    with db.session() as s:
        everyone = service.reach(s, service.parse_audience("cohort:prod-2026-12", known), None)
        unfinished = service.reach(s, service.parse_audience(f"cohort:prod-2026-12,lesson:{lessons[0]}", known), None)
    ids = {r[0] for r in unfinished.recipients}
    assert cands[0].id not in ids and cands[1].id in ids
    assert len(unfinished.recipients) == len(everyone.recipients) - 1
    with pytest.raises(service.BroadcastError) as err:
        service.parse_audience("department:prodution", known)
    assert err.value.values["suggestion"] == "department:production"

    tz = engine.ctx.settings.tz
    now = clock.now()  # 2026-11-27 10:00 in Shanghai
    def local(text: str) -> str:
        return service.parse_when(text, now, tz).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    assert local("明天 10:00") == "2026-11-28 10:00"
    assert local("tomorrow 9:30") == "2026-11-28 09:30"
    assert local("后天 下午3点") == "2026-11-29 15:00"
    assert local("12-01 08:00") == "2026-12-01 08:00"
    assert local("12月3日 9:00") == "2026-12-03 09:00"
    assert local("2027-01-05 10:00") == "2027-01-05 10:00"
    assert local("18:00") == "2026-11-27 18:00"
    for past in ("今天 9:00", "2026-11-01 10:00"):
        with pytest.raises(service.BroadcastError) as err:
            service.parse_when(past, now, tz)
        assert err.value.key == "bc_time_past"
    assert isinstance(now, datetime)
