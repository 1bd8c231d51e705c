"""The outbox sender against a fake Bot API server that enforces Telegram's limits (429 past 30 messages in
any second, or more than 1 a second to one chat): 1,000 messages to 1,000 chats.

    .venv/bin/python benchmarks/bench_sender.py [--messages 1000]

Reports messages per second as a ratio to Telegram's 30/s, and how many 429s the server had to give.
The sender runs as in production: the adapter's Bot (with PTB's AIORateLimiter as a safety net) and the
pacing from config.yaml (sender.messages_per_second).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from common import NOW, engine_with_candidates

from bot.clock import FixedClock
from bot.outbox.sender import Sender
from bot.outbox.store import enqueue
from bot.telegram.adapter import TelegramAdapter
from tests.fake_telegram import FakeTelegram


async def run(messages: int) -> None:
    engine, _ = engine_with_candidates(1)
    ctx = engine.ctx
    clock = FixedClock(NOW)
    chats = list(range(100_000, 100_000 + messages))
    with ctx.db.session() as s:
        for i, chat in enumerate(chats):
            enqueue(s, dedupe_key=f"bench:{i}", kind="message", chat_id=chat, text=f"公司动态 #{i}", now=clock.now())
    tg = await FakeTelegram(enforce_limits=True).start()
    tg.started.update(chats)
    adapter = TelegramAdapter(engine, tg.token, tg.url)
    await adapter.application.initialize()
    sender = Sender(ctx.db, ctx.settings, adapter, clock)
    started = time.perf_counter()
    stats = await sender.drain()
    elapsed = time.perf_counter() - started
    await adapter.application.shutdown()
    await tg.stop()
    sends = tg.calls_of("sendMessage")
    too_many = sum(1 for c in sends if c.code == 429)
    delivered = sum(len(tg.sent[c]) for c in chats)
    rate = delivered / elapsed
    print(f"messages={messages} delivered={delivered} sent={stats.sent} failed={stats.failed}")
    print(f"time: {elapsed:.1f} s, {rate:.1f} messages/s, ratio to 30/s: {rate / 30:.2f}")
    print(f"429 responses from the server: {too_many}")
    print(f"configured pace: {ctx.settings.file.sender.messages_per_second}/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    args = ap.parse_args()
    asyncio.run(run(args.messages))


if __name__ == "__main__":
    main()
