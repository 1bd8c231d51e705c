"""`hrbot run`: long polling by default, a webhook when WEBHOOK_URL is set; plus, unless --no-scheduler,
the nudge tick and the outbox sender (in whichever process wins the election)."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from collections.abc import Awaitable, Callable

from bot.engine.core import Engine
from bot.scheduler import Scheduler
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.webhook import start_webhook

log = logging.getLogger(__name__)


def run_bot(engine: Engine, scheduler: bool = True) -> None:
    settings = engine.ctx.settings
    token = settings.bot_token
    if not token:
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set")
    adapter = TelegramAdapter(engine, token, settings.env.telegram_api_url)
    if settings.env.webhook_url:
        secret = settings.env.webhook_secret.get_secret_value() if settings.env.webhook_secret else ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise SystemExit("WEBHOOK_SECRET must be set in webhook mode: 16 to 256 characters of A-Z, a-z, 0-9, "
                             "_ or - (Telegram accepts no others)")
        url = settings.env.webhook_url
        hook = settings.file.telegram.webhook

        async def start_hook() -> Callable[[], Awaitable[None]]:
            runner = await start_webhook(adapter, url=url, secret=secret, listen=hook.listen, port=hook.port,
                                         path=hook.path)
            log.info("webhook listening on %s:%s/%s", hook.listen, hook.port, hook.path)
            return runner.cleanup

        asyncio.run(_serve(adapter, start_hook, scheduler))
    else:
        async def start_polling() -> Callable[[], Awaitable[None]]:
            await adapter.start_polling()  # PTB deletes any webhook first: the two modes exclude each other
            log.info("polling for updates; Ctrl+C stops")

            async def nothing() -> None:
                return None

            return nothing

        asyncio.run(_serve(adapter, start_polling, scheduler))


async def _serve(adapter: TelegramAdapter, start: Callable[[], Awaitable[Callable[[], Awaitable[None]]]],
                 with_scheduler: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    cleanup = await start()
    sched = None
    if with_scheduler:
        ctx = adapter.engine.ctx
        sched = Scheduler(ctx.db, ctx.settings, ctx.texts, ctx.rules, adapter, ctx.clock)
        adapter.attach_sender(sched.sender.wake)
        await sched.start()
    try:
        await stop.wait()
    finally:
        if sched is not None:
            await sched.stop()
        await cleanup()
        await adapter.stop()
