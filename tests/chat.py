"""A conversation with the engine, read like a chat: send a line, look at what came back."""

from __future__ import annotations

from itertools import count

from bot.engine.core import Engine
from bot.engine.effects import Button, Effect, Message, Say, SendMedia
from bot.engine.events import Event
from bot.outbox.local import LocalDelivery

_updates = count(1)


class Chat:
    def __init__(self, engine: Engine, user_id: int, language_code: str | None = "zh-hans"):
        self.engine = engine
        self.user_id = user_id
        self.language_code = language_code
        self.last: list[Effect] = []
        self.delivered: list[Message] = []  # what the outbox sender delivered after the last event
        ctx = engine.ctx
        self.outbox = LocalDelivery(ctx.db, ctx.settings, ctx.texts, ctx.rules, ctx.clock, self.delivered.append)

    def _base(self) -> dict[str, object]:
        return {"user_id": self.user_id, "chat_id": self.user_id, "update_id": next(_updates),
                "language_code": self.language_code}

    def handle(self, event: Event) -> list[Effect]:
        """The replies, then what the outbox sender delivered right after (HR alerts, notices to others)."""
        replies = self.engine.handle(event)
        self.delivered.clear()
        self.outbox.run_due()
        self.last = [*replies, *self.delivered]
        return self.last

    def send(self, line: str, reply_to: str | None = None) -> list[Effect]:
        """Type a line; ``reply_to`` is the text of the bot message being replied to."""
        return self.handle(Event.parse_text(line, reply_to_text=reply_to, **self._base()))  # type: ignore[arg-type]

    def click(self, label_or_data: str) -> list[Effect]:
        return self.press(self.button(label_or_data))

    def press(self, button: Button) -> list[Effect]:
        """Tap a button seen earlier (or a forged one)."""
        return self.handle(Event(kind="button", payload=button.data, callback_id="cb", **self._base()))  # type: ignore[arg-type]

    def share_contact(self, phone: str, contact_user_id: int | None = None) -> list[Effect]:
        uid = self.user_id if contact_user_id is None else contact_user_id
        return self.handle(Event(kind="contact", contact_phone=phone, contact_user_id=uid, **self._base()))  # type: ignore[arg-type]

    def button(self, label_or_data: str) -> Button:
        for effect in reversed(self.last):
            if isinstance(effect, Say):
                for row in effect.buttons:
                    for b in row:
                        if label_or_data in (b.data, b.text) or label_or_data in b.text or (
                                label_or_data.endswith(":") and b.data.startswith(label_or_data)):
                            return b
        raise AssertionError(f"no button {label_or_data!r} in the last reply: {self.texts()}")

    def says(self, chat_id: int | None = None) -> list[Say]:
        target = self.user_id if chat_id is None else chat_id
        return [e for e in self.last if isinstance(e, Say) and e.chat_id == target]

    def texts(self, chat_id: int | None = None) -> str:
        return "\n".join(s.text for s in self.says(chat_id))

    def media(self) -> list[SendMedia]:
        return [e for e in self.last if isinstance(e, SendMedia)]
