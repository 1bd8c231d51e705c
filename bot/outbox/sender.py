"""Drains the outbox one message at a time, paced under Telegram's limits.

One message is in flight at any moment: it is marked 'sending' before the call and 'sent' after it, so a
process killed in between repeats at most that one message after a restart, and loses none.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.config import SenderPolicy, Settings
from bot.logsafe import log_failure
from bot.nudges.planner import Calendar
from bot.outbox import store
from bot.outbox.transport import RateLimited, Rejected, Transient, Transport, Unreachable
from store.db import Database
from store.models import Outbox

log = logging.getLogger(__name__)
BATCH_SECONDS = 2.0  # how long a read batch of due rows is used before reading again


@dataclass
class Pacer:
    """When the next message may go: overall rate, and a minimum gap per private chat or group."""

    policy: SenderPolicy
    next_any: float = 0.0
    next_chat: dict[int, float] = field(default_factory=dict)

    def chat_wait(self, chat_id: int, now: float) -> float:
        return max(0.0, self.next_chat.get(chat_id, 0.0) - now)

    def wait_for(self, chat_id: int, now: float) -> float:
        return max(0.0, self.next_any - now, self.chat_wait(chat_id, now))

    def sent(self, chat_id: int, at: float) -> None:
        interval = 1.0 / self.policy.messages_per_second
        # Stay on the grid of slots when a send started a little late (wake-up and database time), so the
        # delays do not add up; after a real pause, start a new grid. Never more than one slot is made up.
        base = self.next_any if at - self.next_any < interval else at
        self.next_any = base + interval
        gap = self.policy.per_group_seconds if chat_id < 0 else self.policy.per_chat_seconds
        self.next_chat[chat_id] = at + gap
        if len(self.next_chat) > 10_000:  # forget chats whose gap has long passed
            self.next_chat = {c: t for c, t in self.next_chat.items() if t > at}

    def pause(self, seconds: float, now: float) -> None:
        self.next_any = max(self.next_any, now + seconds)


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    retried: int = 0
    rate_limited: int = 0


class Sender:
    def __init__(self, db: Database, settings: Settings, transport: Transport, clock: Clock,
                 renderer: Callable[[Outbox, datetime], tuple[str, str | None]] | None = None):
        self.db, self.settings, self.transport, self.clock = db, settings, transport, clock
        self.renderer = renderer
        self.policy = settings.file.sender
        self.calendar = Calendar(settings)
        self.pacer = Pacer(self.policy)
        self.monotonic = time.monotonic
        self.stats = SendStats()
        self._batch: list[Outbox] = []
        self._batch_at = 0.0
        self._wake = asyncio.Event()
        # How the database is called from the event loop: in a worker thread, so a slow query never holds up the
        # loop (the Telegram adapter's turns share it). LocalDelivery, with no loop of its own to keep free, calls
        # the database directly instead.
        self.blocking: Callable[..., Awaitable[Any]] = asyncio.to_thread

    def wake(self) -> None:
        """Something urgent was queued (an HR alert, a notice): read the queue now, not at the next look.
        Call it from the sender's own event loop (see bot.telegram.adapter for other threads)."""
        self._batch = []
        self._wake.set()

    def recover(self) -> int:
        count = store.recover(self.db)
        if count:
            log.warning("%s message(s) were in flight when the last process stopped; they will be sent again", count)
        return count

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Send until ``stop`` is set; when nothing is due, look again every ``idle_seconds``."""
        while not stop.is_set():
            try:
                progressed = await self.step()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a moment; keep going
                log_failure(log, "outbox step", exc)
                progressed = False
            if not progressed:
                self._wake.clear()
                waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                await asyncio.wait(waits, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED)
                for w in waits:
                    w.cancel()

    async def drain(self) -> SendStats:
        """Send everything due now, then return (tests and benchmarks; `hrbot run` uses run())."""
        while await self.step():
            pass
        return self.stats

    async def step(self) -> bool:
        """Send (or settle) one due message. False when nothing is due."""
        mono = self.monotonic()
        if not self._batch or mono - self._batch_at > BATCH_SECONDS:
            # A batch read saves a query per message; claim() still checks each row is pending.
            now = self.clock.now()
            self._batch = await self.blocking(store.due_rows, self.db, now, not self.calendar.is_quiet(now))
            self._batch_at = mono = self.monotonic()
        if not self._batch:
            return False
        # Highest priority first, but a chat that must wait its turn does not hold up the others.
        row = min(self._batch,
                  key=lambda r: (self.pacer.chat_wait(r.chat_id or 0, mono) > 0, -r.priority, r.id or 0))
        wait = self.pacer.wait_for(row.chat_id or 0, mono)
        if wait > 1.0:
            await asyncio.sleep(1.0)  # long waits are split, so new messages and stop requests are seen
            return True
        if wait > 0:
            await asyncio.sleep(wait)
        if row in self._batch:  # wake() may have started a fresh read meanwhile
            self._batch.remove(row)
        await self.deliver(row)
        return True

    async def deliver(self, row: Outbox) -> None:
        assert row.id is not None and row.chat_id is not None
        now = self.clock.now()
        if not row.urgent and self.calendar.is_quiet(now):
            return  # read in a batch just before the quiet hours began: it waits for morning
        if row.expires_at is not None and row.expires_at.astimezone(now.tzinfo) <= now:
            await self.blocking(store.finish, self.db, row.id, "dropped", now,
                                    reason=f"stale: worth sending until {self.calendar.local(row.expires_at)}")
            self.stats.dropped += 1
            return
        if row.text is None and row.effect is None:  # a nudge: written now, from the candidate's data as it is now
            try:
                if self.renderer is None:
                    raise LookupError("no renderer")
                text, row.buttons = await self.blocking(self.renderer, row, now)
                row.text = text
            except KeyError:
                await self.blocking(store.finish, self.db, row.id, "dropped", now,
                                        reason="its rule or candidate no longer exists")
                self.stats.dropped += 1
                return
            except Exception as exc:  # noqa: BLE001 - one broken text must not stop the queue
                log_failure(log, f"writing outbox {row.id}", exc)
                await self.blocking(store.finish, self.db, row.id, "failed", now,
                                        reason=f"text could not be written ({type(exc).__name__}); check the "
                                               f"rule's message in content/")
                self.stats.failed += 1
                return
            await self.blocking(store.set_text, self.db, row.id, text, row.buttons)
        if not await self.blocking(store.claim, self.db, row.id):
            return
        began = self.monotonic()  # pace from when a send starts, so its latency fits inside the gap
        try:
            message_id = await self.transport.send(store.message_of(row))
        except RateLimited as exc:
            self.stats.rate_limited += 1
            self.pacer.pause(exc.retry_after, self.monotonic())
            later = self.clock.now() + timedelta(seconds=exc.retry_after)
            await self.blocking(store.finish, self.db, row.id, "pending", now, reason=exc.reason,
                                    next_attempt_at=later)
            return
        except Unreachable as exc:
            await self.blocking(store.finish, self.db, row.id, "failed", now, reason=exc.reason)
            await self.blocking(store.mark_unreachable, self.db, row.candidate_id, exc.reason, now, row.chat_id)
            self.stats.failed += 1
            return
        except Rejected as exc:
            await self.blocking(store.finish, self.db, row.id, "failed", now, reason=exc.reason)
            self.stats.failed += 1
            log.warning("outbox %s refused by Telegram: %s", row.id, exc.reason)
            return
        except Transient as exc:
            attempts = row.attempts + 1
            if attempts >= self.policy.max_attempts:
                await self.blocking(store.finish, self.db, row.id, "failed", now,
                                        reason=f"gave up after {attempts} attempts: {exc.reason}")
                self.stats.failed += 1
            else:
                backoff = self.policy.retry_base_seconds * 2 ** (attempts - 1)
                await self.blocking(store.finish, self.db, row.id, "pending", now, reason=exc.reason,
                                        next_attempt_at=now + timedelta(seconds=backoff))
                self.stats.retried += 1
            return
        finally:
            self.pacer.sent(row.chat_id, began)
        await self.blocking(store.finish, self.db, row.id, "sent", self.clock.now(), message_id=message_id)
        self.stats.sent += 1
