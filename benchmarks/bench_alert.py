"""How long HR waits for an alert: from a candidate's message reaching the bot to the HR admin's chat
receiving "⚠️ 流失预警" (the real adapter polling a fake Bot API server, the outbox sender running beside it,
as in `hrbot run`). The alert is an outbox row written in the candidate's turn; the sender is woken at once.

    .venv/bin/python benchmarks/bench_alert.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from common import engine_with_candidates, percentile

from bot.engine.events import Event
from bot.telegram.adapter import TelegramAdapter
from tests.fake_telegram import FakeTelegram
from tests.sending import sending

HR = 100000001


async def run(runs: int) -> list[float]:
    engine, tokens = engine_with_candidates(runs + 1)
    ids = [60_000 + i for i in range(runs + 1)]
    for i, (uid, token) in enumerate(zip(ids, tokens, strict=True)):
        engine.handle(Event.parse_text(f"/start {token}", user_id=uid, chat_id=uid, update_id=20_000_000 + i))
    tg = await FakeTelegram().start()
    tg.started.update([*ids, HR])
    adapter = TelegramAdapter(engine, tg.token, tg.url)
    await adapter.start_polling(poll_timeout=1)
    waits = []
    async with sending(adapter):
        # As `hrbot run` does before it polls: the FAQ index (and the withdrawal detector) built, not timed.
        tg.push_update({"message": tg.user(ids[0])._msg(text="宿舍是几人间")})
        await tg.wait_for(lambda: len(tg.sent[ids[0]]) > 0, timeout=60)
        for uid in ids[1:]:
            before = len(tg.sent[HR])
            user = tg.user(uid)
            started = time.perf_counter()
            tg.push_update({"message": user._msg(text="我找到别的工作了,不去了")})
            await tg.wait_for(lambda b=before: len(tg.sent[HR]) > b, timeout=10)
            waits.append(time.perf_counter() - started)
            await asyncio.sleep(1.2)  # let the sender go idle again: the next alert must wake it
    await adapter.stop()
    await tg.stop()
    return sorted(waits)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    waits = asyncio.run(run(args.runs))
    print(f"alerts={len(waits)} from the candidate's message to HR's chat: "
          f"median {percentile(waits, 50) * 1000:.0f} ms, p95 {percentile(waits, 95) * 1000:.0f} ms, "
          f"max {waits[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
