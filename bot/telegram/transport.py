"""The outbox's Transport over python-telegram-bot: Bot API errors become the sender's outcomes."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.outbox.transport import RateLimited, Rejected, Transient, Unreachable


class TelegramTransport:
    def __init__(self, bot: Bot):
        self.bot = bot

    async def send(self, chat_id: int, text: str, buttons: list[list[dict[str, str]]] | None) -> int:
        markup = None
        if buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row] for row in buttons])
        try:
            message = await self.bot.send_message(chat_id, text, reply_markup=markup)
        except Forbidden as exc:
            raise Unreachable(exc.message) from None
        except RetryAfter as exc:
            retry = exc.retry_after
            raise RateLimited(retry if isinstance(retry, int | float) else retry.total_seconds()) from None
        except BadRequest as exc:
            raise Rejected(exc.message) from None
        except (NetworkError, TelegramError) as exc:
            raise Transient(f"{type(exc).__name__}: {exc.message}") from None
        return message.message_id
