"""The outbox sender against the fake Bot API server: pacing, 429, 403, 400, retries, quiet hours, stale
messages and recovery after a crash. Real python-telegram-bot, real HTTP, real database."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.engine.core import Engine
from bot.nudges.planner import NudgeRenderer, tick
from bot.outbox.sender import Sender
from bot.outbox.store import enqueue
from bot.telegram.adapter import TelegramAdapter
from store.db import Database
from store.models import AuditLog, Candidate, Outbox
from tests.chat import Chat
from tests.conftest import SHANGHAI
from tests.fake_telegram import FakeTelegram

DAYTIME = datetime(2026, 11, 27, 11, 0, tzinfo=SHANGHAI)


@pytest.fixture
async def adapter(tg: FakeTelegram, engine: Engine) -> AsyncIterator[TelegramAdapter]:
    a = TelegramAdapter(engine, tg.token, tg.url)
    await a.application.initialize()
    yield a
    await a.application.shutdown()


@pytest.fixture
def sender(adapter: TelegramAdapter, db: Database, settings: Settings, clock: FixedClock, engine: Engine) -> Sender:
    clock.set(DAYTIME)
    renderer = NudgeRenderer(db, settings, engine.ctx.texts, engine.ctx.rules)
    return Sender(db, settings, adapter, clock, renderer=renderer)


def queue(db: Database, clock: FixedClock, chat_id: int, text: str, kind: str = "message",
          candidate_id: int | None = None, expires_at: datetime | None = None) -> None:
    with db.session() as s:
        assert enqueue(s, dedupe_key=f"test:{chat_id}:{text[:40]}", kind=kind, chat_id=chat_id, text=text,
                       now=clock.now(), candidate_id=candidate_id, expires_at=expires_at,
                       buttons=[[{"text": "📋 我的进度", "data": "menu:status"}]])


def rows(db: Database) -> list[Outbox]:
    with db.session() as s:
        return list(s.exec(select(Outbox).order_by(Outbox.id)).all())


def bound_candidate(engine: Engine, demo: dict[str, str], name: str, user_id: int) -> int:
    Chat(engine, user_id).send(f"/start {demo[name]}")
    with engine.ctx.db.session() as s:
        cid = s.exec(select(Candidate.id).where(Candidate.name == name)).one()
    assert cid is not None
    return cid


async def test_sends_with_buttons_and_records(tg: FakeTelegram, sender: Sender, db: Database,
                                              clock: FixedClock) -> None:
    tg.started.update({11, 12})
    queue(db, clock, 11, "第一条")
    queue(db, clock, 12, "第二条")
    stats = await sender.drain()
    assert stats.sent == 2
    assert [m["text"] for m in tg.sent[11]] == ["第一条"]
    assert tg.sent[11][0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "menu:status"
    assert [(r.status, r.attempts, r.telegram_message_id is not None) for r in rows(db)] == [
        ("sent", 1, True), ("sent", 1, True)]


async def test_429_waits_retry_after(tg: FakeTelegram, sender: Sender, db: Database, clock: FixedClock) -> None:
    tg.started.add(11)
    queue(db, clock, 11, "hello")
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await sender.drain()
    calls = tg.calls_of("sendMessage")
    assert [c.ok for c in calls] == [False, True]
    assert calls[1].at - calls[0].at >= 1.0
    assert rows(db)[0].status == "sent"


async def test_429_without_the_library_limiter(tg: FakeTelegram, db: Database, settings: Settings,
                                               clock: FixedClock, engine: Engine) -> None:
    """The sender itself honours retry_after when the 429 reaches it (the library's retries used up)."""
    clock.set(DAYTIME)
    bare = TelegramAdapter(engine, tg.token, tg.url, limiter=False)
    await bare.application.initialize()
    try:
        sender = Sender(db, settings, bare, clock)
        tg.started.add(11)
        queue(db, clock, 11, "hello")
        tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        await sender.drain()
        [row] = rows(db)
        assert (row.status, row.reason) == ("pending", "rate limited, retry after 3s")
        assert row.next_attempt_at == clock.now() + timedelta(seconds=3)
        clock.set(clock.now() + timedelta(seconds=3))
        started = time.monotonic()
        await sender.drain()
        assert time.monotonic() - started >= 2.5  # the pause applies to every chat, not just this row
        assert rows(db)[0].status == "sent" and sender.stats.rate_limited == 1
    finally:
        await bare.application.shutdown()


async def test_403_marks_the_candidate_unreachable(tg: FakeTelegram, sender: Sender, db: Database,
                                                   clock: FixedClock, engine: Engine, demo: dict[str, str]) -> None:
    cid = bound_candidate(engine, demo, "王伟", 21)
    tg.started.add(21)
    tg.blocked.add(21)
    queue(db, clock, 21, "are you there?", candidate_id=cid)
    queue(db, clock, 22, "never started")  # a chat that never pressed Start
    await sender.drain()
    first, second = rows(db)
    assert (first.status, first.reason) == ("failed", "Forbidden: bot was blocked by the user")
    assert (second.status, second.reason) == ("failed", "Forbidden: bot can't initiate conversation with a user")
    with db.session() as s:
        cand = s.get(Candidate, cid)
        assert cand is not None and cand.unreachable_at == clock.now()
        assert s.exec(select(AuditLog).where(AuditLog.action == "unreachable")).one().candidate_id == cid


async def test_400_fails_without_retry(tg: FakeTelegram, sender: Sender, db: Database, clock: FixedClock) -> None:
    tg.started.add(11)
    queue(db, clock, 11, "hello")
    tg.fail_next("sendMessage", 400, "Bad Request: message is too long")
    await sender.drain()
    [row] = rows(db)
    assert row.status == "failed" and row.attempts == 1 and "too long" in (row.reason or "").lower()
    assert len(tg.calls_of("sendMessage")) == 1


async def test_a_long_text_is_split_like_a_reply(tg: FakeTelegram, sender: Sender, db: Database,
                                                 clock: FixedClock) -> None:
    tg.started.add(11)
    queue(db, clock, 11, ("第一行\n" + "x" * 3000 + "\n") * 2)
    await sender.drain()
    [row] = rows(db)
    assert row.status == "sent"
    parts = [m["text"] for m in tg.sent[11]]
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)
    assert "inline_keyboard" in (tg.sent[11][-1].get("reply_markup") or {})  # buttons under the last part


async def test_server_errors_retry_with_backoff_then_give_up(tg: FakeTelegram, sender: Sender, db: Database,
                                                             clock: FixedClock, settings: Settings) -> None:
    tg.started.add(11)
    queue(db, clock, 11, "hello")
    tg.fail_next("sendMessage", 502, "Bad Gateway")
    await sender.drain()
    [row] = rows(db)
    assert row.status == "pending" and row.next_attempt_at == clock.now() + timedelta(seconds=5)
    clock.set(clock.now() + timedelta(seconds=5))
    await sender.drain()
    assert rows(db)[0].status == "sent"

    queue(db, clock, 11, "doomed")
    for attempt in range(settings.file.sender.max_attempts):
        tg.fail_next("sendMessage", 502, "Bad Gateway")
        await sender.drain()
        clock.set(clock.now() + timedelta(seconds=5 * 2 ** attempt))
    doomed = rows(db)[1]
    assert doomed.status == "failed" and doomed.reason is not None
    assert doomed.reason.startswith("gave up after 5 attempts")


async def test_one_message_a_second_per_chat(tg: FakeTelegram, sender: Sender, db: Database,
                                             clock: FixedClock) -> None:
    tg.started.update({11, 12})
    for i in range(3):
        queue(db, clock, 11, f"to 11 #{i}")
    queue(db, clock, 12, "to 12")
    await sender.drain()
    times = [c.at for c in tg.calls_of("sendMessage") if c.params["chat_id"] == 11]
    assert len(times) == 3 and all(b - a >= 0.99 for a, b in zip(times, times[1:], strict=False))
    # The other chat did not wait behind chat 11.
    order = [c.params["chat_id"] for c in tg.calls_of("sendMessage")]
    assert order.index(12) == 1


async def test_quiet_hours_hold_nudges_not_hr_messages(tg: FakeTelegram, sender: Sender, db: Database,
                                                       clock: FixedClock) -> None:
    tg.started.add(11)
    clock.set(datetime(2026, 11, 27, 22, 0, tzinfo=SHANGHAI))
    queue(db, clock, 11, "nudge", kind="nudge", expires_at=clock.now() + timedelta(days=1))
    queue(db, clock, 11, "from HR")
    await sender.drain()
    assert [m["text"] for m in tg.sent[11]] == ["from HR"]
    clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI))
    await sender.drain()
    assert [m["text"] for m in tg.sent[11]] == ["from HR", "nudge"]


async def test_stale_messages_are_dropped(tg: FakeTelegram, sender: Sender, db: Database, clock: FixedClock) -> None:
    tg.started.add(11)
    queue(db, clock, 11, "too late", kind="nudge", expires_at=clock.now() + timedelta(hours=1))
    clock.set(clock.now() + timedelta(hours=2))
    await sender.drain()
    [row] = rows(db)
    assert row.status == "dropped" and row.reason == "stale: worth sending until 2026-11-27 12:00"
    assert tg.sent[11] == []


async def test_recover_resends_what_was_in_flight(tg: FakeTelegram, sender: Sender, db: Database,
                                                  clock: FixedClock) -> None:
    tg.started.add(11)
    queue(db, clock, 11, "in flight when killed")
    with db.session() as s:
        row = s.exec(select(Outbox)).one()
        row.status = "sending"
        s.add(row)
    await sender.drain()
    assert tg.sent[11] == []  # 'sending' rows are not touched while running
    assert sender.recover() == 1
    await sender.drain()
    assert [m["text"] for m in tg.sent[11]] == ["in flight when killed"]


async def test_nudges_end_to_end(tg: FakeTelegram, sender: Sender, db: Database, clock: FixedClock,
                                 engine: Engine, demo: dict[str, str]) -> None:
    """Planner tick -> outbox -> sender -> Telegram: a 429 is waited out, a blocked user is recorded."""
    zhang = bound_candidate(engine, demo, "张三", 31)
    bound_candidate(engine, demo, "李娜", 32)
    tg.started.update({31, 32})
    tg.blocked.add(32)
    friday_news = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)
    clock.set(friday_news)
    result = tick(db, engine.ctx.settings, engine.ctx.rules, clock.now())
    assert result.queued == 2
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await sender.drain()
    [news] = tg.sent[31]
    assert "本周公司动态" in news["text"] and "华东精工制造有限公司期待你的加入" in news["text"]
    with db.session() as s:
        statuses = {o.candidate_id: (o.status, o.reason) for o in s.exec(select(Outbox)).all()}
        li_na = s.exec(select(Candidate).where(Candidate.name == "李娜")).one()
    assert statuses[zhang] == ("sent", None)
    assert statuses[li_na.id] == ("failed", "Forbidden: bot was blocked by the user")
    assert li_na.unreachable_at is not None
    assert [c.ok for c in tg.calls_of("sendMessage")].count(False) == 2  # the 429 and the 403


async def test_nudge_read_before_the_quiet_hours_waits(tg: FakeTelegram, sender: Sender, db: Database,
                                                       clock: FixedClock) -> None:
    tg.started.update({11, 12})
    clock.set(datetime(2026, 11, 27, 20, 59, 59, tzinfo=SHANGHAI))
    for chat in (11, 12):
        queue(db, clock, chat, f"nudge to {chat}", kind="nudge", expires_at=clock.now() + timedelta(days=1))
    assert await sender.step()  # reads both in one batch, sends the first
    clock.set(datetime(2026, 11, 27, 21, 0, 0, tzinfo=SHANGHAI))
    assert await sender.step()  # the second, from the same batch: now it is night
    assert [len(tg.sent[11]), len(tg.sent[12])] == [1, 0]
    assert [r.status for r in rows(db)] == ["sent", "pending"]
