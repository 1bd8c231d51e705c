"""Shared fixtures: a fresh real database per test (SQLite file, or a PostgreSQL schema when DATABASE_URL
points at a server), the repository's own config.yaml and content/, and a fixed clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.app import build_engine
from bot.clock import FixedClock
from bot.cohorts import sync_cohorts
from bot.config import EnvSettings, Settings, load_settings
from bot.demo import load_demo
from bot.engine.core import Engine
from bot.faq.runtime import FaqRuntime
from bot.telegram.adapter import TelegramAdapter
from store.db import Database, upgrade
from tests.fake_telegram import FakeTelegram
from tests.sending import sending

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
# The demo's "today": 18 days before the December cohort's training (2026-12-15).
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_settings(db_url: str, config: Path = ROOT / "config.yaml", storage: Path | None = None,
                  **env: object) -> Settings:
    settings = load_settings(config, env=EnvSettings(database_url=db_url, **env))  # type: ignore[arg-type]
    if storage is not None:  # files candidates send go here, not into the repository's data/
        docs = settings.file.documents.model_copy(update={"storage_dir": str(storage)})
        settings.file = settings.file.model_copy(update={"documents": docs})
    return settings


TEST_KEY = "test-secret-key"  # HRBOT_SECRET_KEY of the test settings: documents are kept only sealed


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, storage=tmp_path / "files", secret_key=TEST_KEY)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(settings: Settings, clock: FixedClock) -> Iterator[Database]:
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.session() as session:
        sync_cohorts(session, settings, clock.now())
    yield database
    database.dispose()


@pytest.fixture
def engine(settings: Settings, db: Database, clock: FixedClock) -> Engine:
    return build_engine(settings, db, clock)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API server on 127.0.0.1 (tests/fake_telegram.py)."""
    server = await FakeTelegram().start()
    yield server
    await server.stop()


@pytest.fixture
def demo(db: Database, settings: Settings, clock: FixedClock) -> dict[str, str]:
    """The demo company as `hrbot demo load` makes it; returns {name: invite token}."""
    result = load_demo(db, settings, clock.now())
    return {r.name: r.link.rsplit("=", 1)[1] for r in result.links if r.link}


HR_ADMIN = 100000001  # the demo config's HR admin


@pytest.fixture
async def bot(tg: FakeTelegram, engine: Engine, demo: dict[str, str]) -> AsyncIterator[TelegramAdapter]:
    """The real adapter, polling the fake Bot API server, with the demo company loaded, and the outbox
    sender delivering what the bot sends on its own (HR alerts, notices), as `hrbot run` does."""
    tg.started.add(HR_ADMIN)
    # `hrbot run` builds the FAQ index before it polls; here the process-wide encoder cache is warmed the same
    # way, so a test's first question is not answered while the model loads.
    FaqRuntime(engine.ctx.settings).current()
    adapter = TelegramAdapter(engine, tg.token, tg.url)
    await adapter.start_polling(poll_timeout=1)
    async with sending(adapter):
        yield adapter
    await adapter.stop()
