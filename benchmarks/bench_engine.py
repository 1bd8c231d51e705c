"""Engine alone on SQLite: candidate messages per second and p50/p99 latency with 1,000 candidates.

    .venv/bin/python benchmarks/bench_engine.py [--candidates 1000] [--messages 10000]
"""

from __future__ import annotations

import argparse
import platform
import time

from common import engine_with_candidates, percentile

from bot.engine.events import Event


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=10000)
    args = ap.parse_args()

    engine, tokens = engine_with_candidates(args.candidates)
    base_user = 10_000
    update_id = 1
    for i, token in enumerate(tokens):  # everyone binds through their invite link first
        engine.handle(Event.parse_text(f"/start {token}", user_id=base_user + i, chat_id=base_user + i,
                                       update_id=update_id))
        update_id += 1

    # `hrbot run` builds the FAQ index before it takes updates; so does the benchmark, outside the timing.
    engine.handle(Event.parse_text("你好", user_id=base_user, chat_id=base_user, update_id=update_id))
    update_id += 1

    # A realistic mix: status checks, menu taps, free-text questions (FAQ), main menu.
    def event(k: int) -> Event:
        user = base_user + (k * 7919) % args.candidates
        nonlocal update_id
        update_id += 1
        kind = k % 4
        if kind == 0:
            return Event.parse_text("/status", user_id=user, chat_id=user, update_id=update_id)
        if kind == 1:
            return Event(kind="button", payload="menu:status", callback_id="c", user_id=user, chat_id=user,
                         update_id=update_id)
        if kind == 2:
            return Event.parse_text("宿舍是几人间?", user_id=user, chat_id=user, update_id=update_id)
        return Event.parse_text("/menu", user_id=user, chat_id=user, update_id=update_id)

    events = [event(k) for k in range(args.messages)]
    latencies = []
    start = time.perf_counter()
    for ev in events:
        t0 = time.perf_counter()
        effects = engine.handle(ev)
        latencies.append(time.perf_counter() - t0)
        assert effects, "every message gets an answer"
    total = time.perf_counter() - start
    latencies.sort()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"candidates={args.candidates} messages={args.messages}")
    print(f"throughput: {args.messages / total:,.0f} messages/s")
    print(f"latency p50: {percentile(latencies, 50) * 1000:.2f} ms  p99: {percentile(latencies, 99) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
