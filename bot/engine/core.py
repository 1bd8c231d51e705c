"""The engine: resolves who is talking, routes an event to a capability's handler, returns effects.

Each event is one database transaction: the update id is recorded, the handler runs, the interaction is
logged, then everything commits together. A redelivered update id is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from bot.clock import Clock
from bot.config import Settings
from bot.engine import buttons as button_types
from bot.engine.buttons import ButtonData, ButtonDataError
from bot.engine.effects import AnswerButton, Button, Effect, Message, Say, SendFiles, SendMedia
from bot.engine.events import Event
from bot.engine.notify import HrNotifier
from bot.engine.staff import Staff, StaffDirectory
from bot.i18n import Texts, locale_from_telegram
from bot.logsafe import log_failure
from store.db import Database
from store.models import AuditLog, Candidate, Interaction, ProcessedUpdate

log = logging.getLogger(__name__)

# Statements that run for every update, built once: core SQL skips the ORM's per-call work.
_CLAIM_UPDATE = insert(ProcessedUpdate.__table__)  # type: ignore[attr-defined]
_LOG_INTERACTION = insert(Interaction.__table__)  # type: ignore[attr-defined]
_TOUCH_CANDIDATE = (
    update(Candidate.__table__)  # type: ignore[attr-defined]
    .where(Candidate.__table__.c.id == bindparam("cid"))  # type: ignore[attr-defined]
    .values(last_seen_at=bindparam("seen"))
)

_CANDIDATE_BY_USER = select(Candidate).where(Candidate.telegram_user_id == bindparam("uid"))


@dataclass
class AppContext:
    """Everything a handler may need; built once in bot.app and passed down (no globals)."""

    settings: Settings
    db: Database
    texts: Texts
    clock: Clock
    staff: StaffDirectory = field(init=False)  # who is HR, role and scope (bot.engine.staff)
    hr: HrNotifier = field(init=False)  # tells HR (bot.engine.notify): those whose scope covers the candidate
    # The nudge rules the scheduler runs (bot.nudges.rules.RuleSet). The app loads and hands them over; the
    # engine never reads them, so it names no capability's type.
    rules: Any = None
    # Entered around each turn: content that can change while the bot runs (bot.live) is read from one version
    # for the whole turn.
    content_turn: Callable[[], AbstractContextManager[Any]] = nullcontext
    # Bot API actions on chats other than sending (invite links, join requests, bans, pins, the bot's rights in a
    # group), set by the Telegram adapter; None where there is no Telegram (the shell). Untyped here: the engine
    # names no adapter's type.
    chat_api: Any = None
    # The key for sealed fields and files (bot.crypto.Sealer), None without HRBOT_SECRET_KEY.
    sealer: Any = None

    def __post_init__(self) -> None:
        self.staff = StaffDirectory(self.settings)
        self.hr = HrNotifier(self.settings, self.texts, self.staff)


@dataclass(frozen=True)
class MenuButton(ButtonData, prefix="menu"):
    """A main-menu entry by name ("status", "points" ...): the entries capabilities register."""

    entry: str


@dataclass
class Turn:
    """One event being handled: who sent it, in which language, and the effects produced so far."""

    ctx: AppContext
    event: Event
    session: Session
    candidate: Candidate | None
    staff: Staff | None  # an HR member (config admin or hrmember row), with role and scope
    locale: str
    effects: list[Effect] = field(default_factory=list)
    # Messages for other chats (HR alerts, notices to a candidate): written to the outbox with this turn's
    # transaction and delivered by the sender, like every message the bot starts on its own.
    outgoing: list[Outgoing] = field(default_factory=list)
    button: ButtonData | None = None  # the typed data of the button pressed, once the router has read it
    handled_by: str | None = None  # the handler the router chose (None: the router's own fallback answer)
    flows_left: int = 0  # conversation flows this event paused (a command or another menu's button leaves them)

    @property
    def is_hr(self) -> bool:
        return self.staff is not None

    def in_scope(self, cand: Candidate | None) -> bool:
        """May this HR member see and reach ``cand``? (False for anyone not in HR.)"""
        return self.staff is not None and self.staff.covers(cand)

    def audit(self, action: str, candidate_id: int | None = None, detail: str | None = None) -> None:
        """Who did what to whom (ids and names of things, never message texts)."""
        self.session.add(AuditLog(at=self.ctx.clock.now(), actor=f"telegram:{self.event.user_id}", action=action,
                                  candidate_id=candidate_id, detail=detail[:500] if detail else None))

    def t(self, key: str, **values: Any) -> str:
        """A text in the language of the person this turn answers."""
        return self.ctx.texts.get(self.locale, key, **values)

    def say(self, text: str, *, chat_id: int | None = None, buttons: tuple[tuple[Button, ...], ...] = (),
            ask_contact: str | None = None, remove_keyboard: bool = False) -> None:
        """Reply in this chat, or, with another ``chat_id``, send a notice there through the outbox."""
        self._emit(Say(chat_id=self.event.chat_id if chat_id is None else chat_id, text=text, buttons=buttons,
                       ask_contact=ask_contact, remove_keyboard=remove_keyboard))

    def media(self, kind: str, path: str, caption: str | None = None, *, chat_id: int | None = None,
              buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        self._emit(SendMedia(chat_id=self.event.chat_id if chat_id is None else chat_id, kind=kind, path=path,
                             caption=caption, buttons=buttons))

    def files(self, paths: list[str], captions: list[str | None]) -> None:
        """Several documents in this chat at once (one media group, not a burst of messages)."""
        if len(paths) == 1:
            self.media("document", paths[0], captions[0])
        elif paths:
            self._emit(SendFiles(self.event.chat_id, tuple(paths), tuple(captions)))

    def send(self, message: Message, *, kind: str = "notice", candidate_id: int | None = None,
             dedupe_key: str | None = None) -> None:
        """A message for another chat, delivered by the outbox sender: ``kind`` is notice or hr_alert.
        ``dedupe_key``: queued once whatever repeats (a key already in the outbox queues nothing)."""
        self.outgoing.append(Outgoing(message, kind, candidate_id, dedupe_key))

    def _emit(self, message: Message) -> None:
        if message.chat_id == self.event.chat_id:
            self.effects.append(message)
        else:
            self.send(message)


@dataclass(frozen=True)
class Outgoing:
    message: Message
    kind: str  # notice | hr_alert
    candidate_id: int | None = None
    dedupe_key: str | None = None


Handler = Callable[[Turn], None]
B = TypeVar("B", bound=ButtonData)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    audience: str  # candidate | hr | anyone
    menu_key: str | None = None  # text key of the command's description for setMyCommands
    writes: bool = False  # an HR command that changes things or writes to people: not for viewers


@dataclass(frozen=True)
class MenuEntry:
    order: int
    name: str
    text_key: str
    handler: Handler


@dataclass(frozen=True)
class ButtonRoute:
    handler: Callable[[Turn, Any], None]
    audience: str
    writes: bool = False


class Router:
    """Capabilities register their commands, button prefixes and main-menu entries here."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self.buttons: dict[type[ButtonData], ButtonRoute] = {}
        self.menu: list[MenuEntry] = []
        self.contact_handler: Handler | None = None
        self.text_handler: Handler | None = None
        self.file_handler: Handler | None = None
        # Consulted before routing; one that returns True has handled the event (a flow waiting for input).
        self.interceptors: list[Callable[[Turn], bool]] = []
        # Tasks that can be done right in the chat: task id -> the button that starts it (/status shows them).
        self.task_actions: dict[str, ButtonData] = {}
        # Events from groups (messages, join requests): one capability claims them; without it they are ignored.
        self.group_handler: Handler | None = None
        # Extra lines under a candidate's /status (a capability's own: e.g. their cohort's group).
        self.status_lines: list[Callable[[Turn], str | None]] = []

    def command(self, name: str, handler: Handler, audience: str, menu_key: str | None = None,
                writes: bool = False) -> None:
        if name in self.commands:
            raise ValueError(f"command /{name} registered twice")
        self.commands[name] = Command(name, handler, audience, menu_key, writes)

    def button(self, kind: type[B], handler: Callable[[Turn, B], None], audience: str,
               writes: bool = False) -> None:
        """Presses of ``kind`` go to ``handler`` with their typed data (the engine has parsed them)."""
        if kind in self.buttons:
            raise ValueError(f"button type {kind.__name__} registered twice")
        self.buttons[kind] = ButtonRoute(handler, audience, writes)

    def menu_entry(self, order: int, name: str, text_key: str, handler: Handler) -> None:
        """A main-menu button: ``MenuButton(name)``, answered by ``handler``."""
        if any(e.name == name for e in self.menu):
            raise ValueError(f"menu entry {name!r} registered twice")
        self.menu.append(MenuEntry(order, name, text_key, handler))
        self.menu.sort(key=lambda e: e.order)

    def menu_names(self) -> set[str]:
        return {e.name for e in self.menu}

    def check(self) -> None:
        """At start-up: every declared button type has a handler, or a press of it would go nowhere."""
        unclaimed = sorted(k.__name__ for k in button_types.declared().values() if k not in self.buttons)
        if unclaimed:
            raise RuntimeError(f"button types without a handler: {', '.join(unclaimed)}")


# Writes one message for another chat into the outbox, in the turn's session (the app passes the outbox's own).
Enqueue = Callable[[Session, Outgoing, datetime], None]


class Engine:
    def __init__(self, ctx: AppContext, router: Router, enqueue: Enqueue | None = None):
        self.ctx = ctx
        self.router = router
        self.enqueue = enqueue
        self._menus: dict[tuple[str, int, int], tuple[tuple[Button, ...], ...]] = {}
        # Told (from the thread that handled the update) when messages were queued for the outbox sender.
        self.on_queued: Callable[[], None] | None = None
        # Shown every turn once it is handled (which handler the router chose): tests and diagnostics.
        self.observers: list[Callable[[Turn], None]] = []
        router.button(MenuButton, self._menu_button, audience="candidate")

    # -- public -------------------------------------------------------------------------------------------
    def handle(self, event: Event) -> list[Effect]:
        """Handle one event; never raises: a failure becomes a friendly sentence in the user's language."""
        try:
            with self.ctx.content_turn(), self.ctx.db.session() as session:
                if event.update_id is not None and not self._first_time(session, event.update_id):
                    return []
                turn = self._turn(session, event)
                self._dispatch(turn)
                for observe in self.observers:
                    observe(turn)
                self._record(turn)
                self._queue(turn)
            if turn.outgoing and self.on_queued is not None:
                self.on_queued()
            return turn.effects
        except Exception as exc:  # noqa: BLE001 - the user must get an answer whatever broke
            log_failure(log, f"update {event.update_id} ({event.kind})", exc)
            self._mark_processed_after_failure(event)
            locale = self.locale_for(event.language_code)
            effects: list[Effect] = [Say(event.chat_id, self.ctx.texts.get(locale, "error_generic"))]
            if event.callback_id:
                effects.insert(0, AnswerButton(event.callback_id))
            return effects

    def main_menu(self, locale: str) -> tuple[tuple[Button, ...], ...]:
        """The menu under most replies: the same for every candidate in a language, so built once per menu."""
        # Capabilities register entries while the app is built; the texts may be edited while it runs (bot.live).
        key = (locale, len(self.router.menu), getattr(self.ctx.texts, "version", 0))
        menu = self._menus.get(key)
        if menu is None and len(self._menus) > 64:
            self._menus.clear()
        if menu is None:
            buttons = [MenuButton(e.name).button(self.ctx.texts.get(locale, e.text_key)) for e in self.router.menu]
            menu = self._menus[key] = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
        return menu

    # -- internals ----------------------------------------------------------------------------------------
    def _first_time(self, session: Session, update_id: int) -> bool:
        """Claim the update id; the primary key says whether this or another worker saw it before."""
        try:
            # Core statements, not ORM objects: this runs for every update and the unit of work is costly.
            session.execute(_CLAIM_UPDATE, {"update_id": update_id, "processed_at": self.ctx.clock.now()})
        except IntegrityError:
            session.rollback()
            return False
        return True

    def _mark_processed_after_failure(self, event: Event) -> None:
        if event.update_id is None:
            return
        try:
            with self.ctx.db.session() as session:
                if session.get(ProcessedUpdate, event.update_id) is None:
                    session.add(ProcessedUpdate(update_id=event.update_id, processed_at=self.ctx.clock.now()))
        except Exception:  # noqa: BLE001 - best effort; the database itself may be what failed
            log.warning("could not record failed update %s", event.update_id)

    def locale_for(self, language_code: str | None) -> str:
        """The shipped locale for a Telegram app language, else the default (for people with no preference)."""
        return locale_from_telegram(language_code, self.ctx.settings.locales) or self.ctx.settings.default_locale

    def _turn(self, session: Session, event: Event) -> Turn:
        candidate = None
        if event.chat_type == "private":
            candidate = session.execute(_CANDIDATE_BY_USER, {"uid": event.user_id}).scalars().first()
        locale = (candidate.language if candidate else None) or self.locale_for(event.language_code)
        staff = self.ctx.staff.lookup(session, event.user_id)
        return Turn(self.ctx, event, session, candidate, staff, locale)

    def _allowed(self, turn: Turn, audience: str, writes: bool = False) -> bool:
        if audience == "anyone":
            return True
        if audience == "hr":
            ev = turn.event
            what = f"/{ev.command}" if ev.kind == "command" else type(turn.button).__name__
            if turn.staff is None:
                # The same answer as for a command that does not exist: no hint that HR commands exist.
                turn.audit("hr_denied", detail=what)
                if ev.kind == "command":
                    turn.say(turn.t("unknown_command", command=ev.command or ""), buttons=self._menu_for(turn))
                else:
                    self._fallback(turn, "button_expired")
                return False
            if writes and not turn.staff.can_act:
                turn.audit("hr_denied_read_only", detail=what)
                turn.say(turn.t("hr_read_only"))
                return False
            return True
        if turn.candidate is None:
            turn.say(turn.t("not_bound"), ask_contact=turn.t("share_phone_button"))
            return False
        return True

    def _dispatch(self, turn: Turn) -> None:
        ev = turn.event
        if ev.chat_type != "private":
            # Groups are for people: only what the cohort-group capability claims is answered, never as a DM.
            if self.router.group_handler is not None:
                turn.handled_by = _name(self.router.group_handler)
                self.router.group_handler(turn)
            return
        if ev.kind == "button":
            try:
                turn.button = button_types.parse(ev.payload or "")
            except ButtonDataError as exc:
                log.info("button data from user %s not understood: %s", ev.user_id, exc)
        for intercept in self.router.interceptors:
            if intercept(turn):
                return
        if ev.kind == "command":
            cmd = self.router.commands.get(ev.command or "")
            if cmd is None:
                turn.say(turn.t("unknown_command", command=ev.command or ""), buttons=self._menu_for(turn))
            elif self._allowed(turn, cmd.audience, cmd.writes):
                turn.handled_by = _name(cmd.handler)
                cmd.handler(turn)
        elif ev.kind == "button":
            turn.effects.append(AnswerButton(ev.callback_id or ""))
            route = self.router.buttons.get(type(turn.button)) if turn.button is not None else None
            if route is None:  # data no declared type reads: tampered, or from a bot version long gone
                self._fallback(turn, "button_expired")
            elif self._allowed(turn, route.audience, route.writes):
                turn.handled_by = _name(route.handler)
                route.handler(turn, turn.button)
        elif ev.kind == "contact" and self.router.contact_handler:
            self.router.contact_handler(turn)
        elif ev.kind == "text" and self.router.text_handler:
            self.router.text_handler(turn)
        elif ev.kind == "file" and self.router.file_handler:
            self.router.file_handler(turn)
        elif ev.unsupported == "edited":
            self._fallback(turn, "edited_message")
        else:
            self._fallback(turn, "unsupported_message")

    def _fallback(self, turn: Turn, key: str) -> None:
        """What we could not take: the sentence and the menu; someone not linked yet is shown how to link."""
        if turn.candidate is None and not turn.is_hr:
            turn.say(turn.t(key) + "\n" + turn.t("not_bound"), ask_contact=turn.t("share_phone_button"))
            return
        turn.say(turn.t(key), buttons=self._menu_for(turn))

    def _menu_button(self, turn: Turn, data: MenuButton) -> None:
        entry = next((e for e in self.router.menu if e.name == data.entry), None)
        if entry is None:  # an entry that no longer exists (an old message): the menu as it is now
            turn.handled_by = None
            self._fallback(turn, "button_expired")
            return
        turn.handled_by = _name(entry.handler)
        entry.handler(turn)

    def _menu_for(self, turn: Turn) -> tuple[tuple[Button, ...], ...]:
        return self.main_menu(turn.locale) if turn.candidate else ()

    def _queue(self, turn: Turn) -> None:
        if not turn.outgoing:
            return
        if self.enqueue is None:
            raise RuntimeError("a handler sent a message to another chat, but this engine has no outbox")
        now = self.ctx.clock.now()
        for out in turn.outgoing:
            self.enqueue(turn.session, out, now)

    def _record(self, turn: Turn) -> None:
        cand = turn.candidate
        if cand is None or cand.id is None:
            return
        ev = turn.event
        detail = ev.command if ev.kind == "command" else \
            (turn.button.prefix if turn.button is not None else None) or ev.unsupported
        now = self.ctx.clock.now()
        # A command is logged as typed: cut to the column (PostgreSQL refuses a longer value, losing the turn).
        turn.session.execute(_LOG_INTERACTION, {"candidate_id": cand.id, "kind": ev.kind,
                                                "detail": detail[:64] if detail else None,
                                                "at": now})
        if cand.unreachable_at is not None:  # they wrote to us: reachable again
            cand.unreachable_at, cand.unreachable_reason = None, None
        if cand in turn.session.dirty:
            cand.last_seen_at = now  # flushed with the handler's own changes
        else:
            turn.session.execute(_TOUCH_CANDIDATE, {"cid": cand.id, "seen": now})
            set_committed_value(cand, "last_seen_at", now)




def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
