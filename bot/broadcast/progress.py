"""Broadcasts over time, run by the process that runs the sender (bot/scheduler.py, every couple of seconds):
a scheduled broadcast starts when its time comes, HR's progress message is edited with sent / total,
unreachable and failed (at most every ``broadcasts.progress_seconds``), and a broadcast with nothing left to
send ends with a report naming who could not be reached. Everything it needs is in the database (the
broadcast row, its outbox rows, the progress message's own outbox row), so a restart picks up where it was."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.broadcast import service
from bot.broadcast.buttons import BroadcastButton
from bot.clock import Clock
from bot.config import Settings
from bot.engine.effects import Say, buttons_to_rows
from bot.i18n import Texts
from bot.logsafe import log_failure
from bot.outbox import store
from bot.outbox.transport import DeliveryError, RateLimited, Transient
from store.db import Database
from store.models import Broadcast, Outbox

log = logging.getLogger(__name__)
NAMES_SHOWN = 20


class Editor(Protocol):
    async def edit(self, message: Say, message_id: int) -> None:
        ...


def hr_key(broadcast_id: int) -> str:
    """The dedupe key of HR's progress message in the outbox (its Telegram id is kept there once sent)."""
    return f"broadcast-hr:{broadcast_id}"


def aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def progress_message(texts: Texts, locale: str, bc: Broadcast, f: service.Figures,
                     names: list[tuple[int, str]] | None = None) -> Say:
    """HR's message: live figures with a cancel button, or the report once nothing is left to send."""
    assert bc.id is not None and bc.hr_chat_id is not None
    values = {"id": bc.id, "sent": f.sent, "total": bc.total, "unreachable": f.unreachable, "failed": f.failed,
              "dropped": f.dropped, "excluded": bc.excluded}
    if names is None:
        return Say(bc.hr_chat_id, texts.get(locale, "bc_progress", **values),
                   ((BroadcastButton("stop", bc.id).button(texts.get(locale, "bc_button_stop")),),))
    key = "bc_report_cancelled" if bc.status == "cancelled" else "bc_report"
    text = texts.get(locale, key, **values)
    buttons: tuple = ()
    if names:
        shown = "、".join(n for _, n in names[:NAMES_SHOWN]) + (" …" if len(names) > NAMES_SHOWN else "")
        text += "\n" + texts.get(locale, "bc_report_names", names=shown, n=len(names))
        buttons = ((BroadcastButton("unr", bc.id).button(texts.get(locale, "bc_button_unreachable")),),)
    return Say(bc.hr_chat_id, text, buttons)


@dataclass
class _Edit:
    broadcast_id: int
    message: Say
    message_id: int
    final: bool


class BroadcastProgress:
    def __init__(self, db: Database, settings: Settings, texts: Texts, clock: Clock, editor: Editor | None,
                 wake: Callable[[], None] | None = None):
        self.db, self.settings, self.texts, self.clock = db, settings, texts, clock
        self.editor = editor
        self.wake = wake
        self.every = settings.file.broadcasts.progress_seconds
        self.monotonic = time.monotonic
        self._edited_at: dict[int, float] = {}
        self._shown: dict[int, str] = {}

    def hr_locale(self, bc: Broadcast) -> str:
        """HR members follow their Telegram app language; the broadcast keeps the one they wrote it in."""
        locale = service.load_content(bc).get("hr_locale")
        return locale if locale in self.settings.locales else self.settings.default_locale

    async def tick(self) -> int:
        """One look at every running broadcast; the number of messages edited."""
        edits, woke = await asyncio.to_thread(self._collect)
        if woke and self.wake is not None:
            self.wake()
        done = 0
        for e in edits:
            if self.editor is None:  # nothing to edit with (the shell prints the report instead)
                if e.final:
                    await asyncio.to_thread(self._finish, e.broadcast_id)
                continue
            try:
                await self.editor.edit(e.message, e.message_id)
                done += 1
            except (RateLimited, Transient) as exc:  # tried again at the next tick
                log.info("could not edit the progress of broadcast %s: %s", e.broadcast_id, exc.reason)
                continue
            except DeliveryError as exc:  # the message is gone or refused: the figures stay in /broadcasts
                log.info("could not edit the progress of broadcast %s: %s", e.broadcast_id, exc.reason)
            self._shown[e.broadcast_id] = e.message.text
            self._edited_at[e.broadcast_id] = self.monotonic()
            if e.final:
                await asyncio.to_thread(self._finish, e.broadcast_id)
        return done

    async def run(self, stop: asyncio.Event, every: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001 - the database may be away for a moment
                log_failure(log, "broadcast progress", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
            except TimeoutError:
                pass

    # -- in a worker thread ----------------------------------------------------------------------------------
    def _collect(self) -> tuple[list[_Edit], bool]:
        now = self.clock.now()
        edits: list[_Edit] = []
        woke = False
        with self.db.session() as session:
            woke = self._start_due(session, now)
            active = session.exec(select(Broadcast).where(
                col(Broadcast.status).in_(("sending", "cancelled")), col(Broadcast.finished_at).is_(None))).all()
            if not active:
                return edits, woke
            figs = service.figures(session, [b.id for b in active if b.id is not None])
            for bc in active:
                assert bc.id is not None
                f = figs[bc.id]
                final = f.waiting == 0
                if bc.hr_chat_id is None:  # from the CLI: nobody to tell
                    if final:
                        self._close(session, bc, now)
                    continue
                names = service.unreachable_names(session, bc.id) if final else None
                message = progress_message(self.texts, self.hr_locale(bc), bc, f, names)
                row = session.exec(select(Outbox).where(Outbox.dedupe_key == hr_key(bc.id))).first()
                if row is None or row.status in ("failed", "dropped"):
                    if final:  # HR never got the progress message: the report is one more (new) message
                        if row is None:
                            store.enqueue_message(session, message, kind="hr_alert", now=now,
                                                  dedupe_key=hr_key(bc.id))
                            woke = True
                        self._close(session, bc, now)
                    continue
                if row.status != "sent" or row.telegram_message_id is None:
                    if final and row.status == "pending":  # not out yet: it goes out as the report
                        rows = buttons_to_rows(message.buttons)
                        session.execute(update(Outbox).where(col(Outbox.id) == row.id).values(
                            text=message.text, buttons=json.dumps(rows, ensure_ascii=False) if rows else None))
                        self._close(session, bc, now)
                    continue
                if message.text == self._shown.get(bc.id, row.text) and not final:
                    continue
                since = self.monotonic() - self._edited_at.get(bc.id, -1e9)
                if not final and since < self.every:
                    continue
                if bc.hr_message_id != row.telegram_message_id:
                    bc.hr_message_id = row.telegram_message_id
                bc.progress_at = now
                edits.append(_Edit(bc.id, message, row.telegram_message_id, final))
        return edits, woke

    def _start_due(self, session: Session, now: datetime) -> bool:
        """Scheduled broadcasts whose time has come: sending (their rows fall due by themselves); HR is told."""
        due = session.exec(select(Broadcast).where(col(Broadcast.status) == "scheduled",
                                                   col(Broadcast.scheduled_at) <= now)).all()
        woke = False
        for bc in due:
            moved = session.execute(update(Broadcast).where(col(Broadcast.id) == bc.id,
                                                            col(Broadcast.status) == "scheduled")
                                    .values(status="sending", started_at=now))
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                continue
            session.refresh(bc)
            woke = True
            if bc.hr_chat_id is not None and bc.id is not None:
                message = progress_message(self.texts, self.hr_locale(bc), bc, service.Figures())
                store.enqueue_message(session, message, kind="hr_alert", now=now, dedupe_key=hr_key(bc.id))
        return woke

    @staticmethod
    def _close(session: Session, bc: Broadcast, now: datetime) -> None:
        session.execute(update(Broadcast).where(col(Broadcast.id) == bc.id, col(Broadcast.finished_at).is_(None))
                        .values(finished_at=now, status="done" if bc.status == "sending" else bc.status))

    def _finish(self, broadcast_id: int) -> None:
        with self.db.session() as session:
            bc = session.get(Broadcast, broadcast_id)
            if bc is not None:
                self._close(session, bc, self.clock.now())
