"""The terminal adapter (like `rasa shell`): same engine, same effects, printed. Buttons are numbered.

It runs the outbox too: after every line the nudge planner ticks and the sender delivers what is due, so a
nudge, an HR alert or a notice queued from the CLI (`hrbot candidates set-stage`) is printed with the chat it
is for (`── → chat N ──`), exactly what Telegram would have been asked to send."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import shutil
import uuid
from collections.abc import Callable, Mapping
from itertools import count
from pathlib import Path

from sqlmodel import select

from bot.broadcast.progress import BroadcastProgress
from bot.engine.core import Engine
from bot.engine.effects import AnswerButton, Button, Effect, Message, Say, SendFiles, SendMedia
from bot.engine.events import Event
from bot.logsafe import log_failure
from bot.nudges.planner import PlannerCache, tick
from bot.outbox.local import LocalDelivery
from bot.phones import normalize_phone
from store.models import Candidate

log = logging.getLogger(__name__)
SHELL_USER_BASE = 9_000_000_000_000  # far above today's Telegram ids, so a shell user never collides


class Shell:
    def __init__(self, engine: Engine, *, user_id: int, language_code: str | None, share_phone: str | None,
                 write: Callable[[str], None] = print, read: Callable[[str], str] = input):
        self.engine = engine
        self.user_id = user_id
        self.language_code = language_code
        self.share_phone = share_phone
        self.write = write
        self.read = read
        self.buttons: list[Button] = []
        self.contact_label: str | None = None
        self._update_ids = count(1)
        ctx = engine.ctx
        self.outbox = LocalDelivery(ctx.db, ctx.settings, ctx.texts, ctx.rules, ctx.clock, self._delivered)
        self.planner = PlannerCache()
        # Broadcasts: scheduled ones start, HR's progress message is "edited" (printed again), the report.
        self.broadcasts = BroadcastProgress(ctx.db, ctx.settings, ctx.texts, ctx.clock, _PrintedEdits(self))
        self.broadcasts.every = 0.0

    @classmethod
    def for_user(cls, engine: Engine, *, phone: str | None, hr: bool, language_code: str | None,
                 **io: Callable[..., object]) -> Shell:
        settings = engine.ctx.settings
        if hr:
            if not settings.hr_admins:
                raise SystemExit("config.yaml lists no hr_admins; add your numeric Telegram id to try --hr")
            return cls(engine, user_id=min(settings.hr_admins), language_code=language_code, share_phone=None,
                       **io)  # type: ignore[arg-type]
        if phone is None:
            return cls(engine, user_id=SHELL_USER_BASE, language_code=language_code, share_phone=None,
                       **io)  # type: ignore[arg-type]
        normalized = normalize_phone(phone, settings.file.phone_region)
        with engine.ctx.db.session() as session:
            cand = session.exec(select(Candidate).where(Candidate.phone == normalized)).first() \
                if normalized else None
        if cand is None or cand.id is None:
            raise SystemExit(f"no candidate has the phone number {phone}; see `hrbot candidates list`")
        user_id = cand.telegram_user_id or SHELL_USER_BASE + cand.id
        return cls(engine, user_id=user_id, language_code=language_code, share_phone=normalized,
                   **io)  # type: ignore[arg-type]

    # -- loop -----------------------------------------------------------------------------------------------
    def run(self, first: str | None = "/start") -> None:
        texts, locale = self.engine.ctx.texts, self._locale()
        self.write(texts.get(locale, "shell_banner"))
        self.deliver_outbox()  # what was queued while nobody was looking (a stage change from the CLI)
        if first:
            self.write(f"> {first}")
            self.send_line(first)
        while True:
            try:
                line = self.read("> ")
            except (EOFError, KeyboardInterrupt):
                self.write("")
                return
            if line.strip() in {"/quit", "/exit"}:
                return
            if line.strip():
                self.send_line(line)

    def send_line(self, line: str) -> None:
        for effect in self.engine.handle(self.event_for(line)):
            self.show(effect)
        self.deliver_outbox()

    def deliver_outbox(self) -> None:
        """Plan nudges that fell due and deliver the outbox, as the scheduler and the sender would."""
        ctx = self.engine.ctx
        try:
            tick(ctx.db, ctx.settings, ctx.rules, ctx.clock.now(), self.planner)
            self.outbox.run_due()
            for _ in range(2):  # the progress after the sender ran, then the report once all is settled
                asyncio.run(self.broadcasts.tick())
                self.outbox.run_due()
        except Exception as exc:  # noqa: BLE001 - the conversation goes on whatever the outbox does
            log_failure(log, "shell outbox", exc)

    def _delivered(self, message: Message) -> None:
        self.show(message, proactive=True)

    def event_for(self, line: str) -> Event:
        base = {"user_id": self.user_id, "chat_id": self.user_id, "update_id": None,
                "language_code": self.language_code}
        stripped = line.strip()
        if stripped.startswith("/file "):
            return self._file_event(stripped[6:].strip(), base)
        if stripped == "0" and self.contact_label:
            phone = self.share_phone or self.read(self.engine.ctx.texts.get(self._locale(), "shell_phone_prompt"))
            return Event(kind="contact", contact_phone=phone.strip(), contact_user_id=self.user_id, **base)  # type: ignore[arg-type]
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            data = self.buttons[int(stripped) - 1].data
            return Event(kind="button", payload=data, callback_id=f"shell-{next(self._update_ids)}", **base)  # type: ignore[arg-type]
        return Event.parse_text(line, **base)

    def _file_event(self, name: str, base: Mapping[str, object]) -> Event:
        """`/file PATH` sends a photo or document, as a phone would: a copy goes to the storage folder."""
        source = Path(name).expanduser()
        mime = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        kind = "photo" if mime in ("image/jpeg", "image/png") else "document"
        stored = None
        if source.is_file():
            incoming = self.engine.ctx.settings.storage_dir / "incoming"
            incoming.mkdir(parents=True, exist_ok=True)
            target = incoming / f"{uuid.uuid4().hex}.part"
            shutil.copyfile(source, target)
            stored = str(target)
        return Event(kind="file", file_kind=kind, file_id=None, file_name=source.name, mime_type=mime,
                     file_size=source.stat().st_size if source.is_file() else None, file_path=stored,
                     **base)  # type: ignore[arg-type]

    def show(self, effect: Effect, proactive: bool = False) -> None:
        if isinstance(effect, AnswerButton):
            if effect.text:
                self.write(f"  ({effect.text})")
            return
        mine = effect.chat_id == self.user_id
        prefix = f"  ── → chat {effect.chat_id} ──\n" if not mine or proactive else ""
        if isinstance(effect, SendFiles):
            self.write(prefix + "\n".join(f"[document: {p}]" + (f" {c}" if c else "")
                                           for p, c in zip(effect.paths, effect.captions, strict=False)) + "\n")
            return
        if isinstance(effect, SendMedia):
            caption = f"\n{effect.caption}" if effect.caption else ""
            lines = [f"{prefix}[{effect.kind}: {effect.path}]{caption}"]
            if mine and effect.buttons:
                self.buttons = [b for row in effect.buttons for b in row]
                lines.append("   ".join(f"[{i}] {b.text}" for i, b in enumerate(self.buttons, start=1)))
            self.write("\n".join(lines) + "\n")
            return
        assert isinstance(effect, Say)
        lines = [prefix + effect.text]
        if mine:
            if effect.buttons:
                self.buttons = [b for row in effect.buttons for b in row]
                lines.append("   ".join(f"[{i}] {b.text}" for i, b in enumerate(self.buttons, start=1)))
            if effect.ask_contact:
                self.contact_label = effect.ask_contact
                lines.append(f"[0] {effect.ask_contact}")
            elif effect.remove_keyboard:
                self.contact_label = None
        self.write("\n".join(lines) + "\n")

    def _locale(self) -> str:
        return self.engine.locale_for(self.language_code)


class _PrintedEdits:
    """The shell's "edit message": the new text is printed with the id of the message it replaces."""

    def __init__(self, shell: Shell):
        self.shell = shell

    async def edit(self, message: Say, message_id: int) -> None:
        self.shell.write(f"  ── ✎ message {message_id} now reads ──")
        self.shell.show(message, proactive=True)
