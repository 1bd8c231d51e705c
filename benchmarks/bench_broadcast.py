"""A broadcast to N candidates (default 10,000) against a fake Bot API server that enforces Telegram's limits
(429 past 30 messages in any second, or more than 1 a second to one chat).

    .venv/bin/python benchmarks/bench_broadcast.py [--candidates 10000] [--kill-at 0.5] [--skip-kill]

1. In process: HR's "send now" tap is handled by the engine (the audience resolved, one outbox row per
   recipient written), while the real adapter and the outbox sender run as in `hrbot run`. Reports the time
   from the tap to the first message delivered, messages/s as a ratio to 30/s, 429s and duplicates.
2. As processes: `hrbot run` delivers a queued (urgent: the real clock may be in quiet hours) broadcast, is
   killed with SIGKILL after ``--kill-at`` of it, and is started again. Reports lost and repeated messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from common import ROOT, engine_with_candidates
from sqlalchemy import update
from sqlmodel import col, select

from bot.broadcast import service
from bot.broadcast.buttons import BroadcastButton
from bot.engine.events import Event
from bot.outbox.sender import Sender
from bot.telegram.adapter import TelegramAdapter
from store.models import Broadcast, Candidate
from tests.fake_telegram import FakeTelegram

HR = 100000001
TEXT = "培训改到周四,请准时到场。"


def bind_all(engine) -> list[int]:  # type: ignore[no-untyped-def]
    with engine.ctx.db.session() as s:
        s.execute(update(Candidate).values(telegram_chat_id=Candidate.id + 10_000_000,
                                           telegram_user_id=Candidate.id + 10_000_000))
        return [int(c) for c in s.exec(select(Candidate.telegram_chat_id))]


def draft(engine, urgent: bool = False) -> int:  # type: ignore[no-untyped-def]
    """A draft as the conversation leaves it before "send now": everyone, one text."""
    ctx = engine.ctx
    content = service.new_content()
    content.update(texts={"zh-CN": TEXT}, html=False, hr_locale="zh-CN")
    with ctx.db.session() as s:
        bc = Broadcast(created_by=HR, created_at=ctx.clock.now(), audience="all", content=json.dumps(content),
                       status="draft", hr_chat_id=HR, urgent=urgent)
        s.add(bc)
        s.flush()
        assert bc.id is not None
        return bc.id


async def until(predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
    """Poll every half second (a check per message received would slow the fake server down at 10,000)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the broadcast did not finish in time")
        await asyncio.sleep(0.5)


def received(tg: FakeTelegram, chats: list[int]) -> Counter[int]:
    return Counter(chat for chat in chats for m in tg.sent.get(chat, []) if m.get("text") == TEXT)


async def in_process(n: int) -> None:
    engine, _ = engine_with_candidates(n)
    chats = bind_all(engine)
    bid = draft(engine)
    tg = await FakeTelegram(enforce_limits=True).start()
    tg.started.update([*chats, HR])
    adapter = TelegramAdapter(engine, tg.token, tg.url)
    await adapter.application.initialize()
    ctx = engine.ctx
    sender = Sender(ctx.db, ctx.settings, adapter, ctx.clock)
    adapter._loop = asyncio.get_running_loop()
    adapter.attach_sender(sender.wake)
    stop = asyncio.Event()
    sending = asyncio.create_task(sender.run(stop))
    await asyncio.sleep(0.5)
    tap = Event(kind="button", user_id=HR, chat_id=HR, update_id=1, payload=BroadcastButton("now", bid).pack(),
                callback_id="cb", language_code="zh-hans")
    chat_set = set(chats)
    started = time.perf_counter()
    mono0 = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        handled = asyncio.get_running_loop().run_in_executor(pool, engine.handle, tap)
        await handled
    tap_s = time.perf_counter() - started
    await tg.wait_for(lambda: any(c.params.get("chat_id") in chat_set and c.ok for c in tg.calls[-5:]),
                      timeout=30)
    first = next(c.at for c in tg.calls_of("sendMessage") if c.ok and c.params.get("chat_id") in chat_set)
    await until(lambda: len(received(tg, chats)) >= n, timeout=n / 10 + 120)
    elapsed = time.perf_counter() - started
    stop.set()
    await sending
    await adapter.application.shutdown()
    await tg.stop()
    counts = received(tg, chats)
    sends = [c for c in tg.calls_of("sendMessage") if c.params.get("chat_id") in chat_set]
    last = max(c.at for c in sends if c.ok)
    rate = sum(counts.values()) / (last - first)
    print(f"in process: candidates={n} delivered to {len(counts)} chats, messages {sum(counts.values())}")
    print(f"  tap handled (audience + {n} outbox rows written) in {tap_s * 1000:.0f} ms; "
          f"confirm -> first message delivered: {(first - mono0) * 1000:.0f} ms")
    print(f"  first -> last message: {last - first:.1f} s, {rate:.2f} messages/s, ratio to 30/s: {rate / 30:.3f}; "
          f"total {elapsed:.1f} s")
    print(f"  429 responses: {sum(1 for c in sends if c.code == 429)}; duplicates: "
          f"{sum(v - 1 for v in counts.values())}; missing: {n - len(counts)}")


async def killed(n: int, kill_at: float) -> None:
    engine, _ = engine_with_candidates(n)
    chats = bind_all(engine)
    ctx = engine.ctx
    bid = draft(engine, urgent=True)
    with ctx.db.session() as s:
        bc = s.get(Broadcast, bid)
        assert bc is not None
        found = service.reach(s, service.Audience(), None)
        service.queue(s, bc, found, ctx.clock.now(), default_locale="zh-CN", actor="bench")
    tg = await FakeTelegram(enforce_limits=True).start()
    tg.started.update([*chats, HR])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "TELEGRAM_"))}
    env.update(DATABASE_URL=ctx.settings.database_url, HRBOT_CONFIG=str(ROOT / "config.yaml"),
               TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.url)

    async def spawn() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, cwd=ROOT,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.PIPE)

    started = time.perf_counter()
    first = await spawn()
    await until(lambda: sum(received(tg, chats).values()) >= n * kill_at, timeout=n / 10 + 120)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    at_kill = sum(received(tg, chats).values())
    second = await spawn()
    await until(lambda: len(received(tg, chats)) >= n, timeout=n / 10 + 120)
    await asyncio.sleep(2)  # anything still to come would be a repeat
    elapsed = time.perf_counter() - started
    second.send_signal(signal.SIGTERM)
    await asyncio.wait_for(second.communicate(), timeout=60)
    await tg.stop()
    counts = received(tg, chats)
    chat_set = set(chats)
    sends = [c for c in tg.calls_of("sendMessage") if c.params.get("chat_id") in chat_set]
    with ctx.db.session() as s:
        status = s.exec(select(Broadcast.status).where(col(Broadcast.id) == bid)).one()
    print(f"killed: candidates={n}, SIGKILL after {at_kill} delivered, restarted; {elapsed:.1f} s in all")
    print(f"  lost: {n - len(counts)}; repeated: {sum(v - 1 for v in counts.values())}; "
          f"429 responses: {sum(1 for c in sends if c.code == 429)}; broadcast status: {status}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=10_000)
    ap.add_argument("--kill-at", type=float, default=0.5)
    ap.add_argument("--skip-kill", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    if not args.skip_throughput:
        asyncio.run(in_process(args.candidates))
    if not args.skip_kill:
        asyncio.run(killed(args.candidates, args.kill_at))


if __name__ == "__main__":
    main()
