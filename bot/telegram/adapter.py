"""The python-telegram-bot adapter: Update -> Event, engine, Effect -> Bot API call.

The only package that imports `telegram`. Updates are handled one at a time (PTB's default), and the
engine's database work runs in a worker thread so the event loop keeps answering webhooks and polls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaDocument,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.crypto import FILE_MAGIC
from bot.engine.core import Engine
from bot.engine.effects import TELEGRAM_FILE, AnswerButton, Effect, Say, SendFiles, SendMedia
from bot.engine.effects import Message as OutMessage
from bot.engine.events import Event
from bot.logsafe import log_failure
from bot.outbox.store import mark_chat_unreachable
from bot.outbox.transport import DeliveryError, RateLimited, Rejected, Transient, Unreachable

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
MEDIA_GROUP_MAX = 10  # Telegram sends 2-10 files as one media group
# Message contents we can name for the "I can only read text" answer.
# Entities that are formatting someone applied (a broadcast keeps them, as HTML); links and commands are not.
FORMATTING = {"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link", "blockquote",
              "expandable_blockquote"}
UNSUPPORTED = ("sticker", "voice", "video_note", "audio", "photo", "video", "document", "animation",
               "location", "venue", "poll", "dice", "game")


def update_to_event(update: Update, me: tuple[int, str] | None = None) -> Event | None:
    """Plain data from a Telegram update; None for updates people did not send (chat member changes...).
    ``me`` (the bot's id and username) tells whether a group message is addressed to the bot."""
    if update.chat_join_request is not None:
        req = update.chat_join_request
        return Event(kind="join_request", update_id=update.update_id, user_id=req.from_user.id, chat_id=req.chat.id,
                     chat_type=req.chat.type, language_code=req.from_user.language_code,
                     first_name=req.from_user.first_name)
    if update.my_chat_member is not None and update.my_chat_member.chat.type != "private":
        # The bot itself was removed from a group, or lost (or got) its admin rights there.
        change = update.my_chat_member
        return Event(kind="bot_status", update_id=update.update_id, user_id=change.from_user.id,
                     chat_id=change.chat.id, chat_type=change.chat.type, payload=change.new_chat_member.status,
                     language_code=change.from_user.language_code)
    if update.callback_query is not None:
        q = update.callback_query
        chat = q.message.chat if q.message is not None else None
        return Event(kind="button", update_id=update.update_id, user_id=q.from_user.id,
                     chat_id=chat.id if chat else q.from_user.id, payload=q.data or "", callback_id=q.id,
                     language_code=q.from_user.language_code, chat_type=chat.type if chat else "private")
    if update.edited_message is not None:
        return _base(update, update.edited_message, kind="unsupported", unsupported="edited")
    msg = update.message
    if msg is None or msg.from_user is None:
        return None
    if msg.contact is not None:
        return _base(update, msg, kind="contact", contact_phone=msg.contact.phone_number,
                     contact_user_id=msg.contact.user_id)
    if msg.text is not None:
        replied = msg.reply_to_message
        formatted = any(e.type in FORMATTING for e in msg.entities)
        group: dict[str, Any] = {}
        if msg.chat.type != "private":
            head = msg.text.split(maxsplit=1)[0] if msg.text.strip() else ""
            if head.startswith("/") and "@" in head and me is not None and \
                    head.split("@", 1)[1].lower() != me[1].lower():
                return None  # a command for another bot in the group
            group = {"first_name": msg.from_user.first_name, "addressed": _addressed(msg, me),
                     "reply_to_message_id": replied.message_id if replied is not None else None}
        return Event.parse_text(msg.text, update_id=update.update_id, user_id=msg.from_user.id,
                                chat_id=msg.chat.id, language_code=msg.from_user.language_code,
                                chat_type=msg.chat.type, text_html=msg.text_html if formatted else None,
                                reply_to_text=replied.text if replied is not None and replied.text else None,
                                **group)
    caption: dict[str, Any] = {}
    if msg.caption:
        formatted = any(e.type in FORMATTING for e in msg.caption_entities)
        caption = {"text": msg.caption, "text_html": msg.caption_html if formatted else None}
    if msg.photo:
        biggest = msg.photo[-1]
        return _base(update, msg, kind="file", file_kind="photo", file_id=biggest.file_id, mime_type="image/jpeg",
                     file_size=biggest.file_size, **caption)
    if msg.document is not None:
        d = msg.document
        return _base(update, msg, kind="file", file_kind="document", file_id=d.file_id, file_name=d.file_name,
                     mime_type=d.mime_type, file_size=d.file_size, **caption)
    if msg.video is not None:  # HR's broadcasts take videos (a candidate's is refused like any type not taken)
        v = msg.video
        return _base(update, msg, kind="file", file_kind="video", file_id=v.file_id, file_name=v.file_name,
                     mime_type=v.mime_type or "video/mp4", file_size=v.file_size, **caption)
    what = next((name for name in UNSUPPORTED if getattr(msg, name, None)), "other")
    return _base(update, msg, kind="unsupported", unsupported=what)


def _addressed(msg: Message, me: tuple[int, str] | None) -> bool:
    """A group message is for the bot when it @mentions the bot or replies to one of the bot's messages."""
    if me is None:
        return False
    bot_id, username = me
    replied = msg.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    mention = f"@{username}".lower()
    return any(e.type == "mention" and msg.parse_entity(e).lower() == mention for e in msg.entities) or \
        mention in (msg.text or "").lower()


def _base(update: Update, msg: Message, **kw: Any) -> Event:
    assert msg.from_user is not None
    return Event(update_id=update.update_id, user_id=msg.from_user.id, chat_id=msg.chat.id,
                 language_code=msg.from_user.language_code, chat_type=msg.chat.type, **kw)


def _chunks(text: str) -> list[str]:
    """Split at line ends so no message exceeds Telegram's 4096 characters (a longer line is cut)."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        pieces.extend(line[i : i + TEXT_LIMIT] for i in range(0, len(line), TEXT_LIMIT))
    parts, current = [], ""
    for piece in pieces:
        if len(current) + len(piece) > TEXT_LIMIT:
            parts.append(current)
            current = ""
        current += piece
    return [*parts, current] if current or not parts else parts


class ChatPacer:
    """How many messages one chat may get in a row: a short burst, then one a second (a group: one every
    three seconds, Telegram's 20 a minute). Replies and the outbox sender both pass through it, so a reply
    burst and a nudge right after it cannot add up past Telegram's limit for that chat.

    A generic cell-rate algorithm: each chat has a theoretical arrival time; reserving is one arithmetic step
    with no await in between, so concurrent senders cannot both take the same slot."""

    def __init__(self, burst: int = 3, per_chat: float = 1.05, per_group: float = 3.05):
        self.burst, self.per_chat, self.per_group = burst, per_chat, per_group
        self._tat: dict[int, float] = {}

    def reserve(self, chat_id: int, now: float, cost: int = 1) -> float:
        """Seconds to wait before sending ``cost`` messages to ``chat_id`` now."""
        interval = self.per_group if chat_id < 0 else self.per_chat
        cost = min(cost, self.burst)
        tat = max(self._tat.get(chat_id, now), now)
        wait = max(0.0, tat + (cost - self.burst) * interval - now)
        self._tat[chat_id] = tat + cost * interval
        if len(self._tat) > 10_000:  # forget chats that have long been idle
            self._tat = {c: t for c, t in self._tat.items() if t > now}
        return wait


class TelegramAdapter:
    def __init__(self, engine: Engine, token: str, api_url: str = "https://api.telegram.org",
                 overall_max_rate: float = 30, limiter: bool = True):
        """``overall_max_rate`` is the safety net under Telegram's ~30 messages/s (0 turns it off, for
        benchmarks against a local fake server).

        Updates are handled one at a time, in order (PTB's default): measured, handling several at once was
        slower on SQLite, and one at a time keeps each person's messages in order for free. More throughput
        comes from more processes (webhook workers on PostgreSQL), where database constraints arbitrate."""
        self.engine = engine
        root = api_url.rstrip("/")
        builder: Any = ApplicationBuilder().token(token).base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
        if limiter:  # off only in tests that check the outbox's own handling of a 429
            builder = builder.rate_limiter(AIORateLimiter(overall_max_rate=overall_max_rate, max_retries=3))
        self.application: Application = builder.post_init(self._post_init).build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self._file_ids: dict[str, str] = {}  # local media path -> Telegram file_id, uploaded once
        self.pacer = ChatPacer()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: Any = None  # set by attach_sender: the outbox sender's wake-up, for urgent rows
        engine.on_queued = self._queued
        # Database work runs off the event loop, so polls and webhook requests keep being answered.
        self._db_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        # Bot API actions on groups (invite links, join requests, bans, pins), for handlers and scheduled jobs.
        self.chat_api = ChatApi(self)
        engine.ctx.chat_api = self.chat_api

    # -- startup --------------------------------------------------------------------------------------------
    async def _post_init(self, application: Application) -> None:
        self._loop = asyncio.get_running_loop()
        await self.register_commands()

    def attach_sender(self, wake: Any) -> None:
        """The outbox sender in this process (call from its event loop): woken when a turn queued an HR alert
        or a notice."""
        self._wake = wake
        self._loop = asyncio.get_running_loop()

    def _queued(self) -> None:
        # Called from the engine's worker thread once the turn's transaction has committed.
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake)

    async def register_commands(self) -> None:
        """The '/' menu in every shipped locale, plus the HR commands for each HR admin's chat."""
        texts, settings, router = self.engine.ctx.texts, self.engine.ctx.settings, self.engine.router
        public = [c for c in router.commands.values() if c.menu_key and c.audience != "hr"]
        hr = [c for c in router.commands.values() if c.menu_key and c.audience == "hr"]
        bot = self.application.bot
        for locale in settings.locales:
            cmds = [BotCommand(c.name, texts.get(locale, c.menu_key or "")) for c in public]
            lang = locale.split("-")[0]
            await bot.set_my_commands(cmds, scope=BotCommandScopeDefault(), language_code=lang)
            if locale == settings.default_locale:
                await bot.set_my_commands(cmds, scope=BotCommandScopeDefault())
        hr_locale = settings.default_locale
        hr_cmds = [BotCommand(c.name, texts.get(hr_locale, c.menu_key or "")) for c in public + hr]
        for admin in await asyncio.get_running_loop().run_in_executor(self._db_pool, self._staff_ids):
            try:
                await bot.set_my_commands(hr_cmds, scope=BotCommandScopeChat(admin))
            except BadRequest:
                # Telegram knows a chat only after the admin has pressed Start once.
                log.warning("HR admin %s has not started the bot yet; their command menu is set next start", admin)

    # -- updates --------------------------------------------------------------------------------------------
    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        event = update_to_event(update, self.chat_api.me())
        if event is None:
            return
        if event.kind == "file":
            event = await self._download(event)
        loop = asyncio.get_running_loop()
        effects = await loop.run_in_executor(self._db_pool, self.engine.handle, event)
        for effect in effects:
            await self.perform(effect)
        if event.kind == "command" and event.command == "start" and \
                event.user_id in await loop.run_in_executor(self._db_pool, self._staff_ids):
            await self.register_commands()

    def _staff_ids(self) -> list[int]:
        """Everyone in HR (config admins and members): their '/' menu lists the HR commands too."""
        ctx = self.engine.ctx
        with ctx.db.session() as session:
            return [s.telegram_id for s in ctx.staff.everyone(session)]

    async def _download(self, event: Event) -> Event:
        """Copy a file a person sent into the storage folder (incoming/) before the engine sees it, if it is a
        type and size the bot takes; the engine says what is wrong otherwise."""
        policy = self.engine.ctx.settings.file.documents
        if event.mime_type not in policy.types or not event.file_id or \
                (event.file_size or 0) > policy.max_mb * 1024 * 1024:
            return event
        incoming = self.engine.ctx.settings.storage_dir / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        target = incoming / f"{uuid.uuid4().hex}.part"
        try:
            tg_file = await self.application.bot.get_file(event.file_id)
            await tg_file.download_to_drive(target)
        except (TelegramError, OSError) as exc:
            log.warning("could not download a file from chat %s: %s", event.chat_id, type(exc).__name__)
            target.unlink(missing_ok=True)
            return event
        size = target.stat().st_size
        return dataclasses.replace(event, file_path=str(target), file_size=size)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log_failure(log, f"update {update_id}", context.error)

    async def perform(self, effect: Effect) -> None:
        """A reply as Bot API calls. A user who blocked the bot or a refused message is logged, not fatal."""
        if isinstance(effect, AnswerButton):
            try:
                await self.application.bot.answer_callback_query(effect.callback_id, text=effect.text)
            except TelegramError as exc:
                log.warning("Telegram refused to answer button press %s: %s", effect.callback_id, exc.message)
            return
        try:
            await self.send(effect)
        except Unreachable as exc:
            log.info("chat %s cannot be reached: %s", effect.chat_id, exc.reason)
            ctx = self.engine.ctx
            await asyncio.get_running_loop().run_in_executor(
                self._db_pool, mark_chat_unreachable, ctx.db, effect.chat_id, exc.reason, ctx.clock.now())
        except DeliveryError as exc:
            log.warning("could not deliver a %s to chat %s: %s", type(effect).__name__, effect.chat_id, exc.reason)

    async def send(self, message: OutMessage) -> int:
        """Deliver one message (a reply, or a row of the outbox: the sender calls this too), paced per chat.
        Returns the id of the (last) message sent; Bot API errors become the outbox's DeliveryErrors."""
        cost = len(message.paths) if isinstance(message, SendFiles) else \
            len(_chunks(message.text)) if isinstance(message, Say) else 1
        wait = self.pacer.reserve(message.chat_id, asyncio.get_running_loop().time(), cost)
        if wait > 0:
            await asyncio.sleep(wait)
        with _delivery_errors():
            if isinstance(message, Say):
                parts = [message.text] if message.html else _chunks(message.text)  # HTML: checked to fit
                sent = None
                for i, part in enumerate(parts):
                    markup = self._markup(message) if i == len(parts) - 1 else None
                    sent = await self.application.bot.send_message(message.chat_id, part, reply_markup=markup,
                                                                   **self._extra(message))
                assert sent is not None
                return sent.message_id
            if isinstance(message, SendMedia):
                return await self._send_media(message)
            return await self._send_files(message)

    async def edit(self, message: Say, message_id: int) -> None:
        """Change the text (and buttons) of a message the bot sent (a broadcast's live progress)."""
        with _delivery_errors():
            try:
                await self.application.bot.edit_message_text(
                    message.text, chat_id=message.chat_id, message_id=message_id, reply_markup=self._markup(message),
                    **({"parse_mode": "HTML"} if message.html else {}))
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():  # the same figures again: nothing to do
                    raise

    @staticmethod
    def _extra(message: Say | SendMedia) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if message.html:
            extra["parse_mode"] = "HTML"
        if message.paid:
            extra["allow_paid_broadcast"] = True
        return extra

    @staticmethod
    def _markup(effect: Say | SendMedia) -> Any:
        if effect.buttons:
            return InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.text, url=b.url) if b.url else
                  InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in effect.buttons]
            )
        if isinstance(effect, SendMedia):
            return None
        if effect.ask_contact:
            return ReplyKeyboardMarkup([[KeyboardButton(effect.ask_contact, request_contact=True)]],
                                       resize_keyboard=True, one_time_keyboard=True)
        if effect.remove_keyboard:
            return ReplyKeyboardRemove()
        return None

    async def _send_media(self, effect: SendMedia) -> int:
        bot = self.application.bot
        send = {"photo": bot.send_photo, "video": bot.send_video, "document": bot.send_document}[effect.kind]
        markup = self._markup(effect)
        extra = self._extra(effect)
        cached = effect.path[len(TELEGRAM_FILE):] if effect.path.startswith(TELEGRAM_FILE) else \
            self._file_ids.get(effect.path)
        if cached:
            return (await send(effect.chat_id, cached, caption=effect.caption, reply_markup=markup,
                               **extra)).message_id
        # A stored upload is sealed on disk: opened in memory, never written out in plain (bot/crypto.py).
        raw = Path(effect.path).read_bytes()
        sealer = self.engine.ctx.sealer
        plain = sealer.open_bytes(raw) if sealer is not None else (None if raw.startswith(FILE_MAGIC) else raw)
        if plain is None:
            raise FileNotFoundError("a sealed file that no key held opens")
        upload = InputFile(plain, filename=Path(effect.path).name)
        message = await send(effect.chat_id, upload, caption=effect.caption, reply_markup=markup, **extra)
        file_id = _file_id(message, effect.kind)
        if file_id:
            self._file_ids[effect.path] = file_id
        return message.message_id

    async def _send_files(self, effect: SendFiles) -> int:
        """Documents as media groups of up to ten (uploaded once, then by file_id)."""
        last = 0
        for start in range(0, len(effect.paths), MEDIA_GROUP_MAX):
            paths = effect.paths[start : start + MEDIA_GROUP_MAX]
            captions = list(effect.captions[start : start + MEDIA_GROUP_MAX]) + [None] * len(paths)
            handles = []
            try:
                media = []
                for path, caption in zip(paths, captions, strict=False):
                    cached = self._file_ids.get(path)
                    if cached:
                        media.append(InputMediaDocument(cached, caption=caption))
                    else:
                        handle = Path(path).open("rb")  # noqa: SIM115 - closed below, after the upload
                        handles.append(handle)
                        media.append(InputMediaDocument(handle, caption=caption, filename=Path(path).name))
                if len(media) == 1:
                    msg = await self.application.bot.send_document(effect.chat_id, media[0].media,
                                                                   caption=captions[0])
                    sent = [msg]
                else:
                    sent = list(await self.application.bot.send_media_group(effect.chat_id, media))
            finally:
                for handle in handles:
                    handle.close()
            for path, msg in zip(paths, sent, strict=False):
                file_id = _file_id(msg, "document")
                if file_id:
                    self._file_ids[path] = file_id
            last = sent[-1].message_id if sent else last
        return last

    # -- running --------------------------------------------------------------------------------------------
    async def start_polling(self, poll_timeout: int = 10) -> None:
        """Start without blocking (tests and the runner); stop with stop()."""
        await self.application.initialize()
        await self._post_init(self.application)
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(timeout=poll_timeout, allowed_updates=Update.ALL_TYPES)

    async def stop(self) -> None:
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        self._db_pool.shutdown(wait=True)


@contextmanager
def _delivery_errors() -> Iterator[None]:
    """Bot API errors as the outbox's outcomes (the one mapping, for sends and edits alike)."""
    try:
        yield
    except Forbidden as exc:
        raise Unreachable(exc.message) from None
    except RetryAfter as exc:
        retry = exc.retry_after
        raise RateLimited(retry if isinstance(retry, int | float) else retry.total_seconds()) from None
    except BadRequest as exc:
        raise Rejected(exc.message) from None
    except (NetworkError, TelegramError) as exc:
        raise Transient(f"{type(exc).__name__}: {exc.message}") from None
    except OSError as exc:  # a stored file has gone missing: sending again will not bring it back
        raise Rejected(f"file not readable: {type(exc).__name__}") from None


class ChatApi:
    """What the bot does to groups besides sending: the bot's rights, join-request invite links, approving and
    declining join requests, removing a member (ban, then unban so they may come back), pinning. Async methods
    for the event loop (scheduled jobs); ``run`` calls one from the engine's worker thread and waits for it.
    Bot API errors become the outbox's DeliveryErrors (Unreachable, Rejected, RateLimited, Transient)."""

    def __init__(self, adapter: TelegramAdapter):
        self.adapter = adapter

    @property
    def _bot(self) -> Any:
        return self.adapter.application.bot

    def me(self) -> tuple[int, str] | None:
        """The bot's id and username once PTB has asked Telegram (None before)."""
        try:
            user = self._bot.bot
        except RuntimeError:
            return None
        return (user.id, user.username) if user is not None and user.username else None

    def username(self) -> str:
        me = self.me()
        return me[1] if me else self.adapter.engine.ctx.settings.file.telegram.bot_username

    def run(self, coro: Any, timeout: float = 30) -> Any:
        loop = self.adapter._loop
        if loop is None:
            coro.close()
            raise Transient("the Telegram adapter is not running")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    async def rights(self, chat_id: int) -> dict[str, bool]:
        """The bot's own standing in a group: admin or not, and the admin rights the cohort group needs."""
        with _delivery_errors():
            member = await self._bot.get_chat_member(chat_id, self._bot.id)
        admin = member.status in ("administrator", "creator")
        return {"admin": admin, **{right: admin and bool(getattr(member, right, member.status == "creator"))
                                   for right in ("can_invite_users", "can_restrict_members", "can_pin_messages")}}

    async def create_join_link(self, chat_id: int, name: str) -> str:
        with _delivery_errors():
            link = await self._bot.create_chat_invite_link(chat_id, name=name[:32], creates_join_request=True)
        return str(link.invite_link)

    async def revoke_link(self, chat_id: int, link: str) -> None:
        with _delivery_errors():
            await self._bot.revoke_chat_invite_link(chat_id, link)

    async def approve(self, chat_id: int, user_id: int) -> None:
        with _delivery_errors():
            await self._bot.approve_chat_join_request(chat_id, user_id)

    async def decline(self, chat_id: int, user_id: int) -> None:
        with _delivery_errors():
            await self._bot.decline_chat_join_request(chat_id, user_id)

    async def remove(self, chat_id: int, user_id: int) -> None:
        """Out of the group, but free to come back through the invite link (ban, then unban)."""
        with _delivery_errors():
            await self._bot.ban_chat_member(chat_id, user_id)
            await self._bot.unban_chat_member(chat_id, user_id, only_if_banned=True)

    async def pin(self, chat_id: int, message_id: int) -> None:
        with _delivery_errors():
            await self._bot.pin_chat_message(chat_id, message_id, disable_notification=False)

    async def send(self, message: OutMessage) -> int:
        """The adapter's one send (paced per chat), for a message that must be pinned once it is there."""
        return await self.adapter.send(message)


def _file_id(message: Message, kind: str) -> str | None:
    if kind == "photo" and message.photo:
        return message.photo[-1].file_id
    media = getattr(message, kind, None)
    return getattr(media, "file_id", None)
