"""Broadcasts end to end: HR in chat through the real adapter and the fake Bot API server, the outbox sender
delivering, the progress job editing HR's message; and `hrbot run` as a process killed mid-broadcast."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from typing import Any

from sqlmodel import col, select

from bot.broadcast import service
from bot.broadcast.progress import BroadcastProgress
from bot.clock import FixedClock
from bot.config import Settings
from bot.telegram.adapter import TelegramAdapter
from store.db import Database
from store.models import Broadcast, Candidate, Outbox
from tests.conftest import HR_ADMIN
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.test_run_process import env_for, spawn, stop


def bind(db: Database, tg: FakeTelegram, cohort: str | None = None) -> list[Candidate]:
    """Candidates linked to chats (chat id = 900000 + id) who have started the bot."""
    with db.session() as s:
        query = select(Candidate).where(Candidate.stage != "withdrawn")
        if cohort:
            query = query.where(Candidate.cohort_id == cohort)
        cands = list(s.exec(query.order_by(col(Candidate.id))).all())
        for c in cands:
            c.telegram_user_id = c.telegram_chat_id = 900000 + (c.id or 0)
            tg.started.add(c.telegram_chat_id)
    return cands


def button(user: FakeUser, label_part: str) -> str:
    for message in reversed(user.inbox):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for b in row:
                if label_part in b.get("text", ""):
                    return str(b["text"])
    raise AssertionError(f"no button with {label_part!r}")


DECEMBER = ("培训批次", "2026年12月生产部集中培训")


async def compose(hr: FakeUser, text: str, audience: tuple[str, ...] = DECEMBER) -> None:
    await hr.send("/broadcast")
    for label in audience:
        await hr.click(button(hr, label))
    await hr.click("✅ 继续")
    await hr.send(text, expect=3)  # the preview's heading, the message itself, the figures and choices


def progress_message(hr: FakeUser, bid: int) -> dict[str, Any]:
    heads = (f"📣 群发 #{bid}", f"⏹ 群发 #{bid}")
    return next(m for m in hr.inbox if (m.get("text") or "").startswith(heads))


def latest(db: Database) -> Broadcast:
    with db.session() as s:
        bc = s.exec(select(Broadcast).order_by(col(Broadcast.id).desc())).first()
        assert bc is not None
        return bc


async def test_cohort_broadcast_with_a_blocked_candidate_reports_them(
        bot: TelegramAdapter, tg: FakeTelegram, db: Database, settings: Settings, clock: FixedClock) -> None:
    cands = bind(db, tg, "prod-2026-12")
    blocked = cands[2]
    tg.blocked.add(blocked.telegram_chat_id or 0)
    ctx = bot.engine.ctx
    progress = BroadcastProgress(ctx.db, ctx.settings, ctx.texts, ctx.clock, bot)
    progress.every = 0.2
    halt = asyncio.Event()
    following = asyncio.create_task(progress.run(halt, every=0.1))
    try:
        hr = tg.user(HR_ADMIN)
        await compose(hr, "<b>培训改到周四</b>,请准时到场。")
        preview = [m for m in hr.inbox if m.get("parse_mode") == "HTML"]
        assert preview and preview[-1]["text"] == "<b>培训改到周四</b>,请准时到场。"
        await hr.click(button(hr, "立即发给"))
        bid = latest(db).id or 0
        await tg.wait_for(lambda: "完成" in (progress_message(hr, bid).get("text") or ""), timeout=30)
    finally:
        halt.set()
        await following
    report = progress_message(hr, bid)
    assert f"已发送 {len(cands) - 1} / {len(cands)}" in report["text"]
    assert blocked.name in report["text"]  # the report names who could not be reached
    assert tg.edits[HR_ADMIN] >= 1  # the same message, edited
    for c in cands:
        got = [m for m in tg.sent[c.telegram_chat_id or 0] if "培训改到周四" in (m.get("text") or "")]
        assert len(got) == (0 if c is blocked else 1), c.name
    await hr.click(button(hr, "无法联系的人"))
    assert blocked.name in hr.inbox[-1]["text"] and blocked.phone in hr.inbox[-1]["text"]
    assert latest(db).status == "done"
    with db.session() as s:
        assert s.get(Candidate, blocked.id).unreachable_at is not None  # type: ignore[union-attr]


async def test_cancel_mid_way_drops_the_rest(bot: TelegramAdapter, tg: FakeTelegram, db: Database) -> None:
    cands = bind(db, tg)
    tg.send_delay = 0.15
    ctx = bot.engine.ctx
    progress = BroadcastProgress(ctx.db, ctx.settings, ctx.texts, ctx.clock, bot)
    halt = asyncio.Event()
    following = asyncio.create_task(progress.run(halt, every=0.1))
    chats = [c.telegram_chat_id or 0 for c in cands]

    def delivered() -> int:
        return sum(1 for chat in chats for m in tg.sent[chat] if m.get("text") == "明天停水,请自带饮用水。")

    try:
        hr = tg.user(HR_ADMIN)
        await compose(hr, "明天停水,请自带饮用水。", audience=("所有人",))
        await hr.click(button(hr, "立即发给"))
        bid = latest(db).id or 0
        await tg.wait_for(lambda: delivered() >= 3, timeout=30)
        await hr.click("⏹ 取消群发", expect=1)
        await tg.wait_for(lambda: "已取消" in (progress_message(hr, bid).get("text") or ""), timeout=30)
        at_cancel = delivered()
        await asyncio.sleep(1.0)
    finally:
        halt.set()
        await following
    assert delivered() == at_cancel < len(cands)  # nothing after the cancel's report
    with db.session() as s:
        rows = s.exec(select(Outbox).where(Outbox.broadcast_id == bid)).all()
    statuses = Counter(r.status for r in rows)
    assert statuses["sent"] == at_cancel and statuses["dropped"] == len(cands) - at_cancel
    assert all(r.reason == "broadcast cancelled by HR" for r in rows if r.status == "dropped")
    assert f"未发送 {statuses['dropped']}" in progress_message(hr, bid)["text"]


async def test_sigkill_mid_broadcast_then_restart(settings: Settings, db: Database, clock: FixedClock,
                                                  demo: dict[str, str]) -> None:
    """Queued from the CLI's service (as `hrbot broadcast` does), delivered by `hrbot run` processes: the first
    is killed in the middle; the second recovers. Nobody is missed, at most one gets it twice."""
    tg = await FakeTelegram(send_delay=0.05).start()
    try:
        cands = bind(db, tg)
        with db.session() as s:
            aud = service.parse_audience("all", service.known_ids(settings))
            found = service.reach(s, aud, None)
            content = service.new_content()
            content.update(texts={"zh-CN": "重启测试"}, html=False)
            import json
            bc = Broadcast(created_by=0, created_at=clock.now(), audience="all", content=json.dumps(content),
                           status="draft", urgent=True)  # urgent: whatever the real time of day
            s.add(bc)
            s.flush()
            assert service.queue(s, bc, found, clock.now(), default_locale="zh-CN", actor="cli")
            bid = bc.id
        chats = [c.telegram_chat_id or 0 for c in cands]

        def received() -> Counter[int]:
            return Counter(chat for chat in chats for m in tg.sent[chat] if m.get("text") == "重启测试")

        first = await spawn(env_for(settings, tg))
        await tg.wait_for(lambda: sum(received().values()) >= 5, timeout=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert sum(received().values()) < len(chats), "the kill should land in the middle"
        second = await spawn(env_for(settings, tg))
        try:
            await tg.wait_for(lambda: len(received()) == len(chats), timeout=60)
            await tg.wait_for(lambda: latest(db).status == "done", timeout=30)
        finally:
            code, err = await stop(second)
        assert code == 0, err
    finally:
        await tg.stop()
    counts = received()
    assert set(counts) == set(chats)  # nobody missed
    assert sum(n - 1 for n in counts.values()) <= 1  # at most the one in flight at the kill
    assert latest(db).id == bid


async def test_paid_broadcast_only_when_enabled_and_urgent(tg: FakeTelegram, db: Database, settings: Settings,
                                                           clock: FixedClock, demo: dict[str, str]) -> None:
    """config.yaml's broadcasts.paid_for_urgent: urgent broadcasts are sent with allow_paid_broadcast."""
    import json

    from bot.app import build_engine
    from bot.engine.effects import message_from_json

    cands = bind(db, tg, "prod-2026-12")
    policy = settings.file.broadcasts.model_copy(update={"paid_for_urgent": True})
    settings.file = settings.file.model_copy(update={"broadcasts": policy})
    engine = build_engine(settings, db, clock)
    adapter = TelegramAdapter(engine, tg.token, tg.url)
    await adapter.application.initialize()
    try:
        for urgent in (False, True):
            with db.session() as s:
                content = service.new_content()
                content.update(texts={"zh-CN": f"付费 {urgent}"}, html=False)
                bc = Broadcast(created_by=0, created_at=clock.now(), audience="all", content=json.dumps(content),
                               status="draft", urgent=urgent)
                s.add(bc)
                s.flush()
                found = service.reach(s, service.parse_audience("cohort:prod-2026-12", service.known_ids(settings)),
                                      None)
                paid = urgent and settings.file.broadcasts.paid_for_urgent
                service.queue(s, bc, found, clock.now(), default_locale="zh-CN", paid=paid, actor="cli")
                row = s.exec(select(Outbox).where(Outbox.broadcast_id == bc.id)).first()
                assert row is not None and row.effect is not None
                await adapter.send(message_from_json(cands[0].telegram_chat_id or 0, row.effect))
        sends = tg.calls_of("sendMessage")
        assert [c.params.get("allow_paid_broadcast") for c in sends[-2:]] in ([None, True], [None, "true"])
    finally:
        await adapter.application.shutdown()


async def test_a_video_with_a_caption_is_previewed_and_sent_by_file_id(
        bot: TelegramAdapter, tg: FakeTelegram, db: Database) -> None:
    cands = bind(db, tg, "prod-2026-12")
    hr = tg.user(HR_ADMIN)
    await hr.send("/broadcast")
    await hr.click("所有人")
    await hr.click("✅ 继续")
    await hr.send_video(5_000_000, caption="<i>厂区</i>路线视频", expect=3)
    videos = tg.calls_of("sendVideo")
    assert videos and videos[-1].params["video"].startswith("up-video-")  # re-sent by file_id, not uploaded
    assert videos[-1].params["caption"] == "<i>厂区</i>路线视频" and videos[-1].params["parse_mode"] == "HTML"
    await hr.click(button(hr, "立即发给"))
    chat = cands[0].telegram_chat_id or 0
    await tg.wait_for(lambda: any("video" in m for m in tg.sent[chat]), timeout=10)
