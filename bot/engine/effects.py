"""What the bot wants done, as plain data: the adapters turn these into Bot API calls or printed lines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    text: str
    data: str  # at most 64 bytes on Telegram: ids, never free text

    def __post_init__(self) -> None:
        if not 1 <= len(self.data.encode()) <= 64:
            raise ValueError(f"button data must be 1-64 bytes, got {len(self.data.encode())}")


@dataclass(frozen=True)
class Say:
    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    ask_contact: str | None = None  # label of a one-time "share my phone number" keyboard button
    remove_keyboard: bool = False


@dataclass(frozen=True)
class SendMedia:
    chat_id: int
    kind: str  # photo | video | document
    path: str  # a local file (content/, or a stored upload)
    caption: str | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class AnswerButton:
    """Acknowledge a button press (stops the spinner on the user's phone)."""

    callback_id: str
    text: str | None = None


Effect = Say | SendMedia | AnswerButton

