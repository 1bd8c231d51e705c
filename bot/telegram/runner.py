"""`hrbot run`: long polling by default, a webhook when WEBHOOK_URL is set."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.engine.core import Engine
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.webhook import start_webhook

log = logging.getLogger(__name__)


def run_bot(engine: Engine) -> None:
    settings = engine.ctx.settings
    token = settings.bot_token
    if not token:
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set")
    adapter = TelegramAdapter(engine, token, settings.env.telegram_api_url)
    if settings.env.webhook_url:
        secret = settings.env.webhook_secret.get_secret_value() if settings.env.webhook_secret else ""
        if len(secret) < 16:
            raise SystemExit("WEBHOOK_SECRET must be set (16+ characters of A-Z, a-z, 0-9, _ or -) in webhook mode")
        asyncio.run(_serve_webhook(adapter, settings.env.webhook_url, secret))
    else:
        asyncio.run(_serve_polling(adapter))


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve_polling(adapter: TelegramAdapter) -> None:
    await adapter.start_polling()  # PTB deletes any webhook first: the two modes exclude each other
    log.info("polling for updates; Ctrl+C stops")
    try:
        await _until_signalled()
    finally:
        await adapter.stop()


async def _serve_webhook(adapter: TelegramAdapter, url: str, secret: str) -> None:
    hook = adapter.engine.ctx.settings.file.telegram.webhook
    runner = await start_webhook(adapter, url=url, secret=secret, listen=hook.listen, port=hook.port,
                                 path=hook.path)
    log.info("webhook listening on %s:%s/%s", hook.listen, hook.port, hook.path)
    try:
        await _until_signalled()
    finally:
        await runner.cleanup()
        await adapter.stop()
