"""The one way a capability tells HR something: a ticket, a withdrawal alert, a document to check, a reward
to hand out. Each HR member gets it in their language, through the outbox (kind hr_alert: urgent, not held
by quiet hours or the nudge cap, retried like any outbox message).

Who is told is one decision, made here: every HR admin in config.yaml by default; the app can hand in a
resolver that reads HR members and their scopes (departments, cohorts) so that only those whose scope
covers the candidate are told."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.config import Settings
from bot.engine.effects import Button, Say, SendMedia
from bot.engine.staff import StaffDirectory
from bot.i18n import Texts
from store.models import Candidate

if TYPE_CHECKING:
    from bot.engine.core import Turn

log = logging.getLogger(__name__)
ABOUT = "hr_alert:about:"  # dedupe key prefix of an HR alert about a candidate: hr_alert:about:<id>:<random>


@dataclass(frozen=True)
class HrRecipient:
    chat_id: int
    locale: str


Recipients = Callable[[Session, Candidate | None], list[HrRecipient]]
Values = Mapping[str, Any] | Callable[[str], Mapping[str, Any]]


class HrNotifier:
    def __init__(self, settings: Settings, texts: Texts, staff: StaffDirectory, recipients: Recipients | None = None):
        self.settings, self.texts, self.staff = settings, texts, staff
        self.recipients: Recipients = recipients or self.in_scope

    def in_scope(self, session: Session, candidate: Candidate | None) -> list[HrRecipient]:
        """Every HR member who may act on the candidate (config admins, then members whose scope covers them;
        viewers only read, so they are not alerted), in the company's language."""
        return [HrRecipient(s.telegram_id, self.settings.default_locale) for s in self.staff.everyone(session)
                if s.can_act and s.covers(candidate)]

    def tell(self, turn: Turn, candidate: Candidate | None, key: str, values: Values | None = None, *,
             buttons: Callable[[str], tuple[tuple[Button, ...], ...]] | None = None,
             media: tuple[str, str] | None = None) -> int:
        """Queue the text ``key`` (with ``values``, or a function of the locale giving them) for each HR member
        the candidate's data may be shown to; ``media`` (kind, path) sends it as that file's caption.
        Returns how many were told."""
        told = self.recipients(turn.session, candidate)
        if not told:
            log.warning("nobody in HR to tell (%s): add hr_admins to config.yaml", key)
        for r in told:
            vals = (values(r.locale) if callable(values) else values) or {}
            text = self.texts.get(r.locale, key, **vals)
            rows = buttons(r.locale) if buttons else ()
            message = SendMedia(r.chat_id, media[0], media[1], text, rows) if media else Say(r.chat_id, text, rows)
            # The key names the candidate the alert is about (not its recipient): erasure finds it by that.
            turn.send(message, kind="hr_alert",
                      dedupe_key=f"{ABOUT}{candidate.id}:{uuid.uuid4().hex}" if candidate is not None else None)
        return len(told)
