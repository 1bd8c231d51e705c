"""Transport-agnostic conversation core: events in, effects out."""

from bot.engine.effects import AnswerButton, Button, Effect, Say, SendMedia
from bot.engine.events import Event

__all__ = ["AnswerButton", "Button", "Effect", "Event", "Say", "SendMedia"]
