"""What the bot wants done, as plain data: the adapters turn these into Bot API calls or printed lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Button:
    text: str
    data: str  # at most 64 bytes on Telegram: ids, never free text
    url: str | None = None  # a button that opens this link instead (data is then "")

    def __post_init__(self) -> None:
        if self.url is None and not 1 <= len(self.data.encode()) <= 64:
            raise ValueError(f"button data must be 1-64 bytes, got {len(self.data.encode())}")


@dataclass(frozen=True)
class Say:
    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    ask_contact: str | None = None  # label of a one-time "share my phone number" keyboard button
    remove_keyboard: bool = False
    html: bool = False  # text uses Telegram's HTML formatting (broadcasts)
    paid: bool = False  # send with allow_paid_broadcast (urgent broadcasts, when config.yaml enables it)


@dataclass(frozen=True)
class SendMedia:
    chat_id: int
    kind: str  # photo | video | document
    path: str  # a local file (content/, or a stored upload), or telegram-file:<file_id> (a file Telegram holds)
    caption: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    html: bool = False  # the caption uses Telegram's HTML formatting
    paid: bool = False


@dataclass(frozen=True)
class SendFiles:
    """Several documents at once (a media group on Telegram: one request, where one message per file would
    burst past what one chat may receive in a second)."""

    chat_id: int
    paths: tuple[str, ...]
    captions: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class AnswerButton:
    """Acknowledge a button press (stops the spinner on the user's phone)."""

    callback_id: str
    text: str | None = None


Effect = Say | SendMedia | SendFiles | AnswerButton
Message = Say | SendMedia | SendFiles  # what can be delivered to a chat (a reply, or a row in the outbox)


TELEGRAM_FILE = "telegram-file:"  # SendMedia.path prefix: a file already on Telegram, sent by its file_id


def buttons_to_rows(buttons: tuple[tuple[Button, ...], ...]) -> list[list[dict[str, str]]]:
    return [[{"text": b.text, "data": b.data, **({"url": b.url} if b.url else {})} for b in row] for row in buttons]


def buttons_from_rows(rows: list[list[dict[str, str]]] | None) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(Button(b["text"], b["data"], b.get("url")) for b in row) for row in rows or [])


def message_to_json(message: Message) -> str:
    """The message, without its chat, as JSON (the outbox keeps it until it is sent)."""
    body: dict[str, Any]
    if isinstance(message, Say):
        body = {"type": "say", "text": message.text, "buttons": buttons_to_rows(message.buttons)}
    elif isinstance(message, SendMedia):
        body = {"type": "media", "kind": message.kind, "path": message.path, "caption": message.caption,
                "buttons": buttons_to_rows(message.buttons)}
    else:
        body = {"type": "files", "paths": list(message.paths), "captions": list(message.captions)}
    if isinstance(message, Say | SendMedia):
        body.update({k: True for k in ("html", "paid") if getattr(message, k)})
    return json.dumps(body, ensure_ascii=False)


def message_from_json(chat_id: int, data: str) -> Message:
    body = json.loads(data)
    kind = body.get("type")
    if kind == "say":
        return Say(chat_id, body["text"], buttons_from_rows(body.get("buttons")), html=bool(body.get("html")),
                   paid=bool(body.get("paid")))
    if kind == "media":
        return SendMedia(chat_id, body["kind"], body["path"], body.get("caption"),
                         buttons_from_rows(body.get("buttons")), html=bool(body.get("html")),
                         paid=bool(body.get("paid")))
    if kind == "files":
        return SendFiles(chat_id, tuple(body["paths"]), tuple(body.get("captions") or ()))
    raise ValueError(f"not a message: {kind!r}")

