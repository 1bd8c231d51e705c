"""Replies per second through the real python-telegram-bot adapter and a fake Bot API server, as a ratio
to a bare python-telegram-bot echo bot on the same fake server in the same run.

    .venv/bin/python benchmarks/bench_adapter.py [--users 200] [--messages 2000]

Both bots poll the same server with the same settings; both have the overall rate limiter turned off
(it would cap both at Telegram's 30 messages/s and hide the difference being measured).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from common import engine_with_candidates
from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.engine.events import Event
from bot.telegram.adapter import ChatPacer, TelegramAdapter
from tests.fake_telegram import FakeTelegram


def push_messages(tg: FakeTelegram, users: list[int], messages: int, text: str) -> None:
    for k in range(messages):
        user = tg.user(users[k % len(users)])
        msg = user._msg(text=text)
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        tg.push_update({"message": msg})


async def wait_replies(tg: FakeTelegram, target: int) -> None:
    await tg.wait_for(lambda: tg.ok_counts["sendMessage"] >= target, timeout=600)


async def run_ours(users: int, messages: int, command: str, paced: bool = False) -> float:
    engine, tokens = engine_with_candidates(users)
    ids = [50_000 + i for i in range(users)]
    for i, (uid, token) in enumerate(zip(ids, tokens, strict=True)):
        engine.handle(Event.parse_text(f"/start {token}", user_id=uid, chat_id=uid, update_id=10_000_000 + i))
    tg = await FakeTelegram().start()
    tg.started.update(ids)
    adapter = TelegramAdapter(engine, tg.token, tg.url, overall_max_rate=0)
    if not paced:  # like the overall limit: Telegram's per-chat pacing would cap this at 1 reply/s a user
        adapter.pacer = ChatPacer(burst=1_000_000, per_chat=0.0, per_group=0.0)
    await adapter.start_polling(poll_timeout=1)
    push_messages(tg, ids, messages, command)
    start = time.perf_counter()
    await wait_replies(tg, messages)
    elapsed = time.perf_counter() - start
    await adapter.stop()
    await tg.stop()
    return messages / elapsed


async def run_echo(users: int, messages: int) -> float:
    tg = await FakeTelegram().start()
    ids = [50_000 + i for i in range(users)]
    tg.started.update(ids)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app = (ApplicationBuilder().token(tg.token).base_url(f"{tg.url}/bot").base_file_url(f"{tg.url}/file/bot")
           .rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=3)).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=1)
    push_messages(tg, ids, messages, "hello")
    start = time.perf_counter()
    await wait_replies(tg, messages)
    elapsed = time.perf_counter() - start
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    await tg.stop()
    return messages / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--messages", type=int, default=2000)
    args = ap.parse_args()
    echo = asyncio.run(run_echo(args.users, args.messages))
    print(f"users={args.users} messages={args.messages}")
    print(f"bare PTB echo bot: {echo:,.0f} replies/s")
    for command in ("/status", "/menu"):
        ours = asyncio.run(run_ours(args.users, args.messages, command))
        print(f"hrbot adapter, {command} on SQLite: {ours:,.0f} replies/s, ratio {ours / echo:.2f}")
    paced = asyncio.run(run_ours(args.users, args.messages, "/menu", paced=True))
    print(f"hrbot adapter, /menu, paced per chat as on Telegram: {paced:,.0f} replies/s "
          f"({args.messages // args.users} messages per user, a burst of 3 then 1/s)")


if __name__ == "__main__":
    main()
