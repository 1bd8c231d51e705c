"""The cohort groups' and the feedback box's scheduled work, run by bot/scheduler.py in the elected process:
feedback reminders (20 h) and escalation (24 h), the weekly company update posted once per group, and taking
withdrawn candidates out of their group. Everything reads the injected clock, so tests travel in time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.groups import service
from bot.i18n import Texts
from store.db import Database

log = logging.getLogger(__name__)


class GroupJobs:
    def __init__(self, db: Database, settings: Settings, texts: Texts, rules: Any, clock: Clock, chat_api: Any,
                 wake: Callable[[], None] | None = None):
        self.db, self.settings, self.texts, self.rules, self.clock = db, settings, texts, rules, clock
        self.chat_api = chat_api  # None without Telegram: removals wait for a process that has it
        self.wake = wake

    async def tick(self) -> dict[str, int]:
        now = self.clock.now()
        reminded, escalated = await asyncio.to_thread(service.feedback_tick, self.db, self.settings, self.texts, now)
        news = await asyncio.to_thread(service.queue_weekly_news, self.db, self.settings, self.texts, self.rules, now)
        removed = await service.run_removals(self.db, self.chat_api, now) if self.chat_api is not None else 0
        if (reminded or escalated or news) and self.wake is not None:
            self.wake()
        if reminded or escalated or news or removed:
            log.info("feedback: %s reminded, %s overdue; weekly update in %s groups; %s removed from groups",
                     reminded, escalated, news, removed)
        return {"reminded": reminded, "escalated": escalated, "news": news, "removed": removed}
