"""The outbox sender running beside an adapter, as `hrbot run` has it (without the election): for end-to-end
tests and benchmarks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.nudges.planner import NudgeRenderer
from bot.outbox.sender import Sender
from bot.telegram.adapter import TelegramAdapter


@asynccontextmanager
async def sending(adapter: TelegramAdapter) -> AsyncIterator[Sender]:
    """Deliver the outbox through ``adapter`` until the block ends; urgent rows wake the sender at once."""
    ctx = adapter.engine.ctx
    sender = Sender(ctx.db, ctx.settings, adapter, ctx.clock,
                    renderer=NudgeRenderer(ctx.db, ctx.settings, ctx.texts, ctx.rules))
    adapter.attach_sender(sender.wake)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        yield sender
    finally:
        stop.set()
        await task
