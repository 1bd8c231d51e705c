"""The engine: resolves who is talking, routes an event to a capability's handler, returns effects.

Each event is one database transaction: the update id is recorded, the handler runs, the interaction is
logged, then everything commits together. A redelivered update id is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from bot.clock import Clock
from bot.config import Settings
from bot.engine.effects import AnswerButton, Button, Effect, Say, SendMedia
from bot.engine.events import Event
from bot.i18n import Texts, locale_from_telegram
from bot.logsafe import log_failure
from store.db import Database
from store.models import Candidate, Interaction, ProcessedUpdate

log = logging.getLogger(__name__)

# Statements that run for every update, built once: core SQL skips the ORM's per-call work.
_CLAIM_UPDATE = insert(ProcessedUpdate.__table__)  # type: ignore[attr-defined]
_LOG_INTERACTION = insert(Interaction.__table__)  # type: ignore[attr-defined]
_TOUCH_CANDIDATE = (
    update(Candidate.__table__)  # type: ignore[attr-defined]
    .where(Candidate.__table__.c.id == bindparam("cid"))  # type: ignore[attr-defined]
    .values(last_seen_at=bindparam("seen"))
)


@dataclass
class AppContext:
    """Everything a handler may need; built once in bot.app and passed down (no globals)."""

    settings: Settings
    db: Database
    texts: Texts
    clock: Clock
    # The nudge rules the scheduler runs (bot.nudges.rules.RuleSet). The app loads and hands them over; the
    # engine never reads them, so it names no capability's type.
    rules: Any = None


@dataclass
class Turn:
    """One event being handled: who sent it, in which language, and the effects produced so far."""

    ctx: AppContext
    event: Event
    session: Session
    candidate: Candidate | None
    is_hr: bool
    locale: str
    effects: list[Effect] = field(default_factory=list)

    def t(self, key: str, **values: Any) -> str:
        """A text in the language of the person this turn answers."""
        return self.ctx.texts.get(self.locale, key, **values)

    def say(self, text: str, *, chat_id: int | None = None, buttons: tuple[tuple[Button, ...], ...] = (),
            ask_contact: str | None = None, remove_keyboard: bool = False) -> None:
        self.effects.append(
            Say(chat_id=self.event.chat_id if chat_id is None else chat_id, text=text, buttons=buttons,
                ask_contact=ask_contact, remove_keyboard=remove_keyboard)
        )

    def media(self, kind: str, path: str, caption: str | None = None, *, chat_id: int | None = None,
              buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        self.effects.append(SendMedia(chat_id=self.event.chat_id if chat_id is None else chat_id, kind=kind,
                                      path=path, caption=caption, buttons=buttons))


Handler = Callable[[Turn], None]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    audience: str  # candidate | hr | anyone
    menu_key: str | None = None  # text key of the command's description for setMyCommands


@dataclass(frozen=True)
class MenuEntry:
    order: int
    text_key: str
    payload: str


class Router:
    """Capabilities register their commands, button prefixes and main-menu entries here."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self.buttons: dict[str, tuple[Handler, str]] = {}
        self.menu: list[MenuEntry] = []
        self.contact_handler: Handler | None = None
        self.text_handler: Handler | None = None
        self.file_handler: Handler | None = None
        # Consulted before routing; one that returns True has handled the event (a flow waiting for input).
        self.interceptors: list[Callable[[Turn], bool]] = []
        # Tasks that can be done right in the chat: task id -> button data that starts it (/status shows them).
        self.task_actions: dict[str, str] = {}

    def command(self, name: str, handler: Handler, audience: str, menu_key: str | None = None) -> None:
        if name in self.commands:
            raise ValueError(f"command /{name} registered twice")
        self.commands[name] = Command(name, handler, audience, menu_key)

    def button(self, prefix: str, handler: Handler, audience: str) -> None:
        """Buttons carry 'prefix:arg' data; the handler reads the arg from event.payload."""
        if prefix in self.buttons:
            raise ValueError(f"button prefix {prefix!r} registered twice")
        self.buttons[prefix] = (handler, audience)

    def menu_entry(self, order: int, text_key: str, payload: str) -> None:
        self.menu.append(MenuEntry(order, text_key, payload))
        self.menu.sort(key=lambda e: e.order)


class Engine:
    def __init__(self, ctx: AppContext, router: Router):
        self.ctx = ctx
        self.router = router
        self._menus: dict[tuple[str, int], tuple[tuple[Button, ...], ...]] = {}

    # -- public -------------------------------------------------------------------------------------------
    def handle(self, event: Event) -> list[Effect]:
        """Handle one event; never raises: a failure becomes a friendly sentence in the user's language."""
        try:
            with self.ctx.db.session() as session:
                if event.update_id is not None and not self._first_time(session, event.update_id):
                    return []
                turn = self._turn(session, event)
                self._dispatch(turn)
                self._record(turn)
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
        key = (locale, len(self.router.menu))  # capabilities register entries while the app is built
        menu = self._menus.get(key)
        if menu is None:
            buttons = [Button(self.ctx.texts.get(locale, e.text_key), e.payload) for e in self.router.menu]
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
            candidate = session.exec(select(Candidate).where(Candidate.telegram_user_id == event.user_id)).first()
        locale = (candidate.language if candidate else None) or self.locale_for(event.language_code)
        return Turn(self.ctx, event, session, candidate, self.ctx.settings.is_hr(event.user_id), locale)

    def _allowed(self, turn: Turn, audience: str) -> bool:
        if audience == "anyone":
            return True
        if audience == "hr":
            if not turn.is_hr:
                turn.say(turn.t("hr_only"))
                return False
            return True
        if turn.candidate is None:
            turn.say(turn.t("not_bound"), ask_contact=turn.t("share_phone_button"))
            return False
        return True

    def _dispatch(self, turn: Turn) -> None:
        ev = turn.event
        if ev.chat_type != "private":
            return  # groups are for people; the cohort-group capability will claim what it needs
        for intercept in self.router.interceptors:
            if intercept(turn):
                return
        if ev.kind == "command":
            cmd = self.router.commands.get(ev.command or "")
            if cmd is None:
                turn.say(turn.t("unknown_command", command=ev.command or ""), buttons=self._menu_for(turn))
            elif self._allowed(turn, cmd.audience):
                cmd.handler(turn)
        elif ev.kind == "button":
            turn.effects.append(AnswerButton(ev.callback_id or ""))
            prefix = (ev.payload or "").split(":", 1)[0]
            entry = self.router.buttons.get(prefix)
            if entry is None:
                turn.say(turn.t("button_expired"), buttons=self._menu_for(turn))
            elif self._allowed(turn, entry[1]):
                entry[0](turn)
        elif ev.kind == "contact" and self.router.contact_handler:
            self.router.contact_handler(turn)
        elif ev.kind == "text" and self.router.text_handler:
            self.router.text_handler(turn)
        elif ev.kind == "file" and self.router.file_handler:
            self.router.file_handler(turn)
        elif ev.unsupported == "edited":
            turn.say(turn.t("edited_message"), buttons=self._menu_for(turn))
        else:
            turn.say(turn.t("unsupported_message"), buttons=self._menu_for(turn))

    def _menu_for(self, turn: Turn) -> tuple[tuple[Button, ...], ...]:
        return self.main_menu(turn.locale) if turn.candidate else ()

    def _record(self, turn: Turn) -> None:
        cand = turn.candidate
        if cand is None or cand.id is None:
            return
        ev = turn.event
        detail = ev.command if ev.kind == "command" else (ev.payload or "").split(":", 1)[0] or ev.unsupported
        now = self.ctx.clock.now()
        turn.session.execute(_LOG_INTERACTION, {"candidate_id": cand.id, "kind": ev.kind, "detail": detail or None,
                                                "at": now})
        if cand.unreachable_at is not None:  # they wrote to us: reachable again
            cand.unreachable_at, cand.unreachable_reason = None, None
        if cand in turn.session.dirty:
            cand.last_seen_at = now  # flushed with the handler's own changes
        else:
            turn.session.execute(_TOUCH_CANDIDATE, {"cid": cand.id, "seen": now})
            set_committed_value(cand, "last_seen_at", now)


