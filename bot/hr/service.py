"""Operations HR runs from chat and from the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.config import Settings
from bot.engine.core import MenuButton
from bot.engine.effects import Say
from bot.i18n import Texts
from bot.outbox.store import enqueue_message
from bot.phones import normalize_phone
from bot.yamlsrc import suggest
from store.models import AuditLog, Candidate, Interaction


class HrError(Exception):
    """A request HR can fix; ``key`` names the text to show, ``values`` fill it."""

    def __init__(self, key: str, **values: object):
        super().__init__(key)
        self.key = key
        self.values = values


def find_candidate(session: Session, ref: str, settings: Settings) -> Candidate:
    """By id ('12' or '#12'), external id, or phone number."""
    ref = ref.strip()
    if ref.lstrip("#").isdigit() and len(ref.lstrip("#")) < 10:
        cand = session.get(Candidate, int(ref.lstrip("#")))
        if cand is not None:
            return cand
    cand = session.exec(select(Candidate).where(Candidate.external_id == ref)).first()
    if cand is not None:
        return cand
    phone = normalize_phone(ref, settings.file.phone_region)
    if phone is not None:
        cand = session.exec(select(Candidate).where(Candidate.phone == phone)).first()
        if cand is not None:
            return cand
    raise HrError("hr_candidate_not_found", ref=ref)


def check_stage(settings: Settings, stage: str) -> str:
    if stage in settings.stages:
        return stage
    raise HrError("hr_unknown_stage", stage=stage, suggestion=suggest(stage, settings.stage_order) or "",
                  stages=", ".join(settings.stage_order))


@dataclass(frozen=True)
class StageChange:
    candidate: Candidate
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def set_stage(session: Session, settings: Settings, cand: Candidate, stage: str, actor: str,
              now: datetime) -> StageChange:
    stage = check_stage(settings, stage)
    old = cand.stage
    if old != stage:
        cand.stage = stage
        cand.stage_changed_at = now
        cand.updated_at = now
        session.add(cand)
        session.add(AuditLog(at=now, actor=actor, action="set_stage", candidate_id=cand.id,
                             detail=f"{old} -> {stage}"))
        if cand.id is not None:
            session.add(Interaction(candidate_id=cand.id, kind="event", detail="stage_changed", at=now))
    return StageChange(cand, old, stage)


def stage_notice(settings: Settings, texts: Texts, cand: Candidate) -> Say:
    """The message telling a (bound) candidate their new stage, in their language, with a status button."""
    assert cand.telegram_chat_id is not None
    loc = cand.language or settings.default_locale
    stage = settings.stages[cand.stage]
    text = texts.get(loc, "stage_changed", stage=stage.label[loc], todo=stage.todo[loc] if stage.todo else "")
    return Say(cand.telegram_chat_id, text, ((MenuButton("status").button(texts.get(loc, "menu_status")),),))


def queue_stage_notice(session: Session, settings: Settings, texts: Texts, cand: Candidate, now: datetime) -> bool:
    """Queue the stage notice in the outbox (for changes made outside a chat, e.g. the CLI)."""
    if cand.telegram_chat_id is None or cand.id is None:
        return False
    return enqueue_message(session, stage_notice(settings, texts, cand), kind="message", now=now,
                           candidate_id=cand.id, dedupe_key=f"stage:{cand.id}:{cand.stage}:{now.isoformat()}",
                           priority=70)
