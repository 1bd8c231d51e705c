"""`hrbot run` as a real process: long polling, webhook mode, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from bot.clock import FixedClock
from bot.config import Settings
from bot.outbox.store import enqueue
from store.db import Database
from tests.conftest import ROOT
from tests.fake_telegram import FakeTelegram, texts
from tests.test_webhook import free_port, update


def env_for(settings: Settings, tg: FakeTelegram, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "TELEGRAM_"))}
    env.update(DATABASE_URL=settings.database_url, HRBOT_CONFIG=str(ROOT / "config.yaml"),
               TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.url, **extra)
    return env


async def spawn(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def stop(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_polling_process_answers_and_stops_cleanly(tg: FakeTelegram, settings: Settings,
                                                         demo: dict[str, str]) -> None:
    proc = await spawn(env_for(settings, tg))
    try:
        await tg.wait_for(lambda: tg.ok_counts["setMyCommands"] >= 3, timeout=30)
        replies = await tg.user(5001).send(f"/start {demo['张三']}", expect=3)
        assert "欢迎你,张三!" in texts(replies)
    finally:
        code, err = await stop(proc)
    assert code == 0, err
    assert tg.token not in err  # the token is a secret: never in the logs


async def test_webhook_process_checks_secret(tg: FakeTelegram, settings: Settings, demo: dict[str, str],
                                             tmp_path: Path) -> None:
    port = free_port()
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config = config.replace("    port: 8443", f"    port: {port}")
    config = config.replace("    listen: 0.0.0.0", "    listen: 127.0.0.1")
    config += f"\ncontent_dir: {ROOT / 'content'}\n"
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    secret = "a-Long_webhook-secret-0123456789"
    env = env_for(settings, tg, WEBHOOK_URL="https://bot.example.com/telegram", WEBHOOK_SECRET=secret)
    env["HRBOT_CONFIG"] = str(tmp_path / "config.yaml")
    proc = await spawn(env)
    try:
        await tg.wait_for(lambda: tg.webhook.get("url") == "https://bot.example.com/telegram", timeout=30)
        assert tg.webhook["secret_token"] == secret
        tg.started.add(5001)
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as http:
            body = json.dumps(update(5001, f"/start {demo['张三']}", 11))
            async with http.post(url, data=body, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}) as resp:
                assert resp.status == 403
            async with http.post(url, data=body, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as resp:
                assert resp.status == 200
        await tg.wait_for(lambda: len(tg.sent[5001]) >= 3, timeout=10)
        assert "欢迎你,张三!" in tg.sent[5001][0]["text"]
    finally:
        code, err = await stop(proc)
    assert code == 0, err
    assert secret not in err


async def test_webhook_without_secret_refuses_to_start(tg: FakeTelegram, settings: Settings, db: object) -> None:
    proc = await spawn(env_for(settings, tg, WEBHOOK_URL="https://bot.example.com/telegram"))
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode != 0
    assert "WEBHOOK_SECRET must be set" in err.decode()


async def test_no_scheduler_worker_answers_but_does_not_send_the_outbox(
        tg: FakeTelegram, settings: Settings, demo: dict[str, str], db: Database, clock: FixedClock) -> None:
    tg.started.add(777)
    with db.session() as s:
        enqueue(s, dedupe_key="hr:1", kind="message", chat_id=777, text="from the outbox", now=clock.now())
    worker = await spawn(env_for(settings, tg), "--no-scheduler")
    try:
        await tg.wait_for(lambda: tg.ok_counts["setMyCommands"] >= 3, timeout=30)
        assert "欢迎你,张三!" in texts(await tg.user(5001).send(f"/start {demo['张三']}", expect=3))
        await asyncio.sleep(1.5)
        assert tg.sent[777] == []
    finally:
        code, err = await stop(worker)
    assert code == 0, err
    leader = await spawn(env_for(settings, tg))
    try:
        await tg.wait_for(lambda: len(tg.sent[777]) == 1, timeout=30)
    finally:
        await stop(leader)
    assert tg.sent[777][0]["text"] == "from the outbox"
