"""The outbox delivered without a messenger: the terminal shell prints what would be sent to whom, and tests
collect it. The same Sender as `hrbot run` (claiming, quiet hours, stale rows, nudge texts written at send
time), with no waiting between messages, since nothing here has Telegram's limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.engine.effects import Message
from bot.i18n import Texts
from bot.nudges.planner import NudgeRenderer
from bot.nudges.rules import RuleSet
from bot.outbox.sender import Pacer, Sender, SendStats
from store.db import Database


class _Unpaced(Pacer):
    def chat_wait(self, chat_id: int, now: float) -> float:
        return 0.0

    def wait_for(self, chat_id: int, now: float) -> float:
        return 0.0


class _Deliver:
    """A Transport that hands each message to a function."""

    def __init__(self, deliver: Callable[[Message], None]):
        self.deliver = deliver
        self._ids = count(1)

    async def send(self, message: Message) -> int:
        self.deliver(message)
        return next(self._ids)


async def _inline(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class LocalDelivery:
    def __init__(self, db: Database, settings: Settings, texts: Texts, rules: RuleSet, clock: Clock,
                 deliver: Callable[[Message], None]):
        self.sender = Sender(db, settings, _Deliver(deliver), clock,
                             renderer=NudgeRenderer(db, settings, texts, rules))
        self.sender.pacer = _Unpaced(settings.file.sender)
        self.sender.blocking = _inline  # no loop to keep free here: no thread (and no thread pool) per drain

    def run_due(self) -> SendStats:
        """Deliver everything due now; callable with or without an event loop running."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.sender.drain())
        with ThreadPoolExecutor(max_workers=1) as pool:  # inside a loop (async tests): a loop of its own
            return pool.submit(asyncio.run, self.sender.drain()).result()
