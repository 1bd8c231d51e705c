"""What the sender needs from a messenger, and the outcomes it must tell apart."""

from __future__ import annotations

from typing import Protocol

from bot.engine.effects import Message


class DeliveryError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Unreachable(DeliveryError):
    """403: the person blocked the bot or never started it. Normal; a risk signal, not a fault."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float):
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class Rejected(DeliveryError):
    """400: the messenger refuses this message; sending it again will not help."""


class Transient(DeliveryError):
    """Network trouble or a server error: worth trying again later."""


class Transport(Protocol):
    """Delivers one message to its chat; returns the messenger's message id, or raises a DeliveryError."""

    async def send(self, message: Message) -> int:
        ...
