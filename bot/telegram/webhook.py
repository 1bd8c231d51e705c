"""Webhook mode: a small aiohttp server that checks Telegram's secret token on every request.

PTB's built-in webhook server compares the token with '!=' and logs a wrong one; ours compares in constant
time, never logs it, answers 200 at once and leaves the work to the application's update queue.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bot.telegram.adapter import TelegramAdapter

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(adapter: TelegramAdapter, path: str, secret: str) -> web.Application:
    expected = secret.encode()
    application = adapter.application

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("webhook: a request body was not a Telegram update")
            return web.Response(status=400, text="not an update")
        await application.update_queue.put(update)
        return web.Response(status=200, text="ok")

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(f"/{path.strip('/')}", receive)
    app.router.add_get("/healthz", health)
    return app


async def start_webhook(adapter: TelegramAdapter, *, url: str, secret: str, listen: str, port: int,
                        path: str) -> web.AppRunner:
    """Start the application and the HTTP server, then tell Telegram where to deliver updates."""
    await adapter.application.initialize()
    await adapter.register_commands()
    await adapter.application.start()
    runner = web.AppRunner(webhook_app(adapter, path, secret), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, listen, port).start()
    await adapter.application.bot.set_webhook(url=url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
    return runner
