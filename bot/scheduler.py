"""Time-driven work in one elected process: the nudge tick (APScheduler, every minute) and the sender.

With PostgreSQL a session advisory lock elects the process; with SQLite, a lock file beside the database.
A process that is not elected keeps trying, so when the leader dies another takes over.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from bot.analytics import digest
from bot.broadcast.progress import BroadcastProgress
from bot.clock import Clock
from bot.config import Settings
from bot.engine.staff import StaffDirectory
from bot.groups.jobs import GroupJobs
from bot.i18n import Texts
from bot.logsafe import log_failure
from bot.nudges.planner import NudgeRenderer, PlannerCache, tick
from bot.nudges.rules import RuleSet
from bot.outbox.sender import Sender
from bot.outbox.transport import Transport
from bot.privacy import retention
from bot.privacy.retention import RetentionRun
from store.db import Database

log = logging.getLogger(__name__)
LOCK_KEY = 0x68726274  # 'hrbt': the advisory lock id shared by every hrbot process on one database


class Leadership:
    def __init__(self, db: Database):
        self.db = db
        self._conn: Connection | None = None
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        url = make_url(self.db.url)
        if url.get_backend_name() == "postgresql":
            conn = self.db.engine.connect()
            if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
                conn.commit()
                self._conn = conn  # the lock lives as long as this session
                return True
            conn.close()
            return False
        if not url.database or url.database == ":memory:":
            self._file = open("/dev/null")  # noqa: SIM115 - one process owns an in-memory database anyway
            return True
        handle = Path(f"{url.database}.scheduler.lock").open("a")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        """False if the lock's database session died (the lock went with it): stop acting as leader."""
        if self._conn is None:
            return self._file is not None
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:  # noqa: BLE001 - any failure means the session, and so the lock, may be gone
            self._conn.invalidate()
            self._conn = None
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            finally:
                self._conn.close()
                self._conn = None
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None


class Scheduler:
    def __init__(self, db: Database, settings: Settings, texts: Texts, rules: RuleSet, transport: Transport,
                 clock: Clock):
        self.db, self.settings, self.texts, self.rules, self.clock = db, settings, texts, rules, clock
        self.sender = Sender(db, settings, transport, clock, renderer=NudgeRenderer(db, settings, texts, rules))
        # Broadcasts: scheduled ones start, HR's progress message is edited, the report is written.
        editor = transport if hasattr(transport, "edit") else None
        self.broadcasts = BroadcastProgress(db, settings, texts, clock, editor, wake=self.sender.wake)  # type: ignore[arg-type]
        # Feedback reminders and escalation, the weekly update in cohort groups, removals of withdrawn candidates.
        self.groups = GroupJobs(db, settings, texts, rules, clock, getattr(transport, "chat_api", None),
                                wake=self.sender.wake)
        # What the daily digest reads (settings, texts, who is HR): made once, not on every minute's check.
        self._digest_ctx = SimpleNamespace(settings=settings, texts=texts, staff=StaffDirectory(settings))
        self.leadership = Leadership(db)
        self.cache = PlannerCache()
        self._aps = AsyncIOScheduler(timezone=settings.tz)
        self._stop = asyncio.Event()
        self._sender_task: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        self._aps.add_job(self._tick, "interval", seconds=self.settings.file.nudges.tick_seconds,
                          next_run_time=self.clock.now(), max_instances=1, coalesce=True, id="nudges")
        self._aps.add_job(self._broadcasts, "interval", seconds=1, max_instances=1, coalesce=True, id="broadcasts")
        self._aps.add_job(self._groups, "interval", seconds=30, max_instances=1, coalesce=True, id="groups")
        self._aps.add_job(self._digest, "interval", seconds=60, max_instances=1, coalesce=True, id="digest")
        # Retention (bot/privacy/retention.py): checked every minute by the clock, run once a day at run_at.
        self._aps.add_job(self._retention, "interval", seconds=60, max_instances=1, coalesce=True, id="retention")
        self._aps.start()

    async def _tick(self) -> None:
        try:
            if self.leadership.held and not await asyncio.to_thread(self.leadership.still_held):
                log.warning("lost the scheduler lock (database session ended); stopping the sender")
                await self._stop_sender()
            if not self.leadership.held:
                if not await asyncio.to_thread(self.leadership.try_acquire):
                    return
                log.info("this process runs the scheduler and the sender")
                self.cache = PlannerCache()  # start from the database, not from what a follower once saw
                await asyncio.to_thread(self.sender.recover)
                self._stop = asyncio.Event()
                self._sender_task = asyncio.create_task(self.sender.run(self._stop))
            result = await asyncio.to_thread(tick, self.db, self.settings, self.rules, self.clock.now(), self.cache)
            if result.queued or result.skipped or result.dropped:
                log.info("nudges: %s queued, %s skipped, %s dropped", result.queued, result.skipped, result.dropped)
        except Exception as exc:  # noqa: BLE001 - the database may be away; the next tick tries again
            log_failure(log, "nudge tick", exc)

    async def _broadcasts(self) -> None:
        if not self.leadership.held or self._sender_task is None:
            return  # the elected process (the one running the sender) follows broadcasts
        try:
            await self.broadcasts.tick()
        except Exception as exc:  # noqa: BLE001 - the database may be away; the next run tries again
            log_failure(log, "broadcast progress", exc)

    async def _groups(self) -> None:
        if not self.leadership.held or self._sender_task is None:
            return  # the elected process runs them
        try:
            await self.groups.tick()
        except Exception as exc:  # noqa: BLE001 - the database may be away; the next run tries again
            log_failure(log, "groups and feedback jobs", exc)

    async def _digest(self) -> None:
        """HR's daily digest (bot/analytics/digest.py): decided once a day per member, by the elected process."""
        if not self.leadership.held or self._sender_task is None:
            return
        try:
            if await asyncio.to_thread(digest.run, self.db, self._digest_ctx, self.clock.now()):
                self.sender.wake()
        except Exception as exc:  # noqa: BLE001 - the database may be away; the next run tries again
            log_failure(log, "daily digest", exc)

    async def _retention(self) -> None:
        if not self.leadership.held:
            return  # the elected process runs it, once a day
        try:
            await asyncio.to_thread(self.retention_tick)
        except Exception as exc:  # noqa: BLE001 - the database may be away; the next check tries again
            log_failure(log, "retention", exc)

    def retention_tick(self) -> RetentionRun | None:
        """Run the daily retention job if it is due by the clock (tests call this under time travel)."""
        now = self.clock.now()
        if not retention.is_due(self.db, self.settings, now):
            return None
        result = retention.run(self.db, self.settings, now)
        log.info("retention: %s (longest transaction %.0f ms)", result.counts or "nothing expired", result.longest_ms)
        return result

    async def _stop_sender(self) -> None:
        self._stop.set()
        if self._sender_task is not None:
            await self._sender_task
            self._sender_task = None

    async def stop(self) -> None:
        self._aps.shutdown(wait=False)
        await self._stop_sender()
        await asyncio.to_thread(self.leadership.release)
