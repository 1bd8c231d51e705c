"""What happened, as plain data: the adapters build these from Telegram updates or terminal lines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One thing a person did. ``kind`` is one of: command, text, button, contact, file, unsupported, and
    join_request (someone asked to join a group through the bot's invite link) and bot_status (the bot's own
    standing in a group changed: ``payload`` is its new status, e.g. administrator, member, left, kicked)."""

    kind: str
    user_id: int
    chat_id: int
    update_id: int | None = None
    text: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    payload: str | None = None  # button data
    callback_id: str | None = None
    contact_phone: str | None = None
    contact_user_id: int | None = None
    language_code: str | None = None
    chat_type: str = "private"
    unsupported: str | None = None  # sticker, voice, photo, edited ... (what we could not take)
    text_html: str | None = None  # the text with the formatting the sender applied, as Telegram HTML
    reply_to_text: str | None = None  # text of the bot message this one replies to (HR answering a ticket)
    # kind == "file": a photo or a document. The adapter has already copied it to file_path (None when it was
    # not downloaded: too large, or a type we do not take).
    file_kind: str | None = None  # photo | document | video
    file_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    file_path: str | None = None
    # Groups: the sender's Telegram first name (join requests), whether the message is addressed to the bot (an
    # @mention of it, or a reply to one of its messages), and the id of the message replied to.
    first_name: str | None = None
    addressed: bool = False
    reply_to_message_id: int | None = None

    @staticmethod
    def parse_text(text: str, **kw: object) -> Event:
        """A typed line: '/cmd@bot a b' is a command with args, anything else is text."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, *rest = stripped.split()
            name = head[1:].split("@", 1)[0].lower()
            return Event(kind="command", command=name, args=tuple(rest), text=stripped, **kw)  # type: ignore[arg-type]
        return Event(kind="text", text=text, **kw)  # type: ignore[arg-type]
