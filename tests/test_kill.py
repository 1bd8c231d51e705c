"""Restart safety: SIGKILL a sending `hrbot run`, start it again, and every message arrives exactly once
(except at most the single one that was in flight at the moment of the kill)."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

from bot.clock import FixedClock
from bot.config import Settings
from bot.outbox.store import enqueue
from store.db import Database
from tests.fake_telegram import FakeTelegram
from tests.test_run_process import env_for, spawn, stop

MESSAGES = 150


async def test_sigkill_mid_send_loses_nothing_and_repeats_at_most_one(settings: Settings, db: Database,
                                                                      clock: FixedClock) -> None:
    tg = await FakeTelegram(send_delay=0.01).start()
    chats = list(range(10_000, 10_000 + MESSAGES))
    tg.started.update(chats)
    with db.session() as s:
        for i, chat in enumerate(chats):
            enqueue(s, dedupe_key=f"kill-test:{i}", kind="message", chat_id=chat, text=f"message {i}",
                    now=clock.now())

    def received() -> Counter[str]:
        return Counter(m["text"] for chat in chats for m in tg.sent.get(chat, []))

    try:
        first = await spawn(env_for(settings, tg))
        await tg.wait_for(lambda: sum(received().values()) >= 40, timeout=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        at_kill = sum(received().values())
        assert at_kill < MESSAGES, "the kill should land in the middle of the send"

        second = await spawn(env_for(settings, tg))
        try:
            await tg.wait_for(lambda: len(received()) == MESSAGES, timeout=60)
            await asyncio.sleep(0.5)  # anything still to come would be a repeat
        finally:
            code, err = await stop(second)
        assert code == 0, err
    finally:
        await tg.stop()

    counts = received()
    assert set(counts) == {f"message {i}" for i in range(MESSAGES)}  # nothing lost
    repeats = sum(n - 1 for n in counts.values())
    assert repeats <= 1, {t: n for t, n in counts.items() if n > 1}  # at most the one in flight
    assert "in flight when the last process stopped" in err or repeats == 0
