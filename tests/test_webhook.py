"""Webhook mode: the secret token is checked on every request; good updates reach the engine."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.engine.core import Engine
from bot.telegram.adapter import TelegramAdapter
from bot.telegram.webhook import SECRET_HEADER, start_webhook
from tests.fake_telegram import FakeTelegram

SECRET = "s3cret-Token_with-enough-length"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def hook(engine: Engine, demo: dict[str, str]) -> AsyncIterator[tuple[FakeTelegram, str]]:
    tg = await FakeTelegram().start()
    adapter = TelegramAdapter(engine, tg.token, tg.url)
    port = free_port()
    runner = await start_webhook(adapter, url="https://bot.example.com/telegram", secret=SECRET,
                                 listen="127.0.0.1", port=port, path="telegram")
    yield tg, f"http://127.0.0.1:{port}/telegram"
    await runner.cleanup()
    await adapter.stop()
    await tg.stop()


def update(user_id: int, text: str, update_id: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1790000000, "text": text,
        "chat": {"id": user_id, "type": "private", "first_name": "A"},
        "from": {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "zh-hans"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}}


async def test_webhook_registered_with_secret(hook: tuple[FakeTelegram, str]) -> None:
    tg, _ = hook
    assert tg.webhook["url"] == "https://bot.example.com/telegram"
    assert tg.webhook["secret_token"] == SECRET


async def test_wrong_or_missing_secret_is_refused(hook: tuple[FakeTelegram, str]) -> None:
    tg, url = hook
    tg.started.add(1)
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
            async with http.post(url, data=json.dumps(update(1, "/start", 1)), headers=headers) as resp:
                assert resp.status == 403
    assert tg.sent[1] == []


async def test_good_request_is_handled_and_garbage_rejected(hook: tuple[FakeTelegram, str],
                                                             demo: dict[str, str]) -> None:
    tg, url = hook
    tg.started.add(1)
    async with aiohttp.ClientSession() as http:
        body = json.dumps(update(1, f"/start {demo['张三']}", 7))
        async with http.post(url, data=body, headers={SECRET_HEADER: SECRET}) as resp:
            assert resp.status == 200
        async with http.post(url, data=b"not json", headers={SECRET_HEADER: SECRET}) as resp:
            assert resp.status == 400
    await tg.wait_for(lambda: len(tg.sent[1]) >= 3)
    assert "欢迎你,张三!" in tg.sent[1][0]["text"]
