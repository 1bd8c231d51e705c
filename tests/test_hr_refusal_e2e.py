"""End to end through the real adapter and the fake Bot API server: nobody outside HR can use any HR command, and
nothing tells them such commands (or HR's buttons) exist; an HR admin's /export arrives as an xlsx document."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from openpyxl import load_workbook
from sqlmodel import Session, func, select

from bot.config import Settings
from bot.engine import buttons
from bot.engine.buttons import ButtonData
from bot.engine.core import Engine
from bot.telegram.adapter import ChatPacer, TelegramAdapter
from store.db import Database
from store.models import (
    AuditLog,
    Broadcast,
    Candidate,
    CandidateTask,
    HrMember,
    HrMessage,
    Outbox,
    PointsEntry,
    Ticket,
)
from tests.conftest import HR_ADMIN
from tests.fake_telegram import FakeTelegram, FakeUser

# Rows an HR command could create; none may appear when someone outside HR tries one.
WATCHED = (Outbox, Ticket, HrMessage, Broadcast, HrMember, CandidateTask, PointsEntry)


def candidates(session: Session) -> list[dict[str, Any]]:
    """Every candidate row, but for last_seen_at: the engine notes that a candidate wrote, whatever they wrote."""
    rows = session.exec(select(Candidate).order_by(Candidate.id)).all()  # type: ignore[arg-type]
    return [{k: v for k, v in r.model_dump().items() if k != "last_seen_at"} for r in rows]


def snapshot(db: Database) -> tuple[list[dict[str, Any]], dict[str, int]]:
    with db.session() as s:
        counts = {t.__name__: s.exec(select(func.count()).select_from(t)).one() for t in WATCHED}
        return candidates(s), counts


def shape(message: dict[str, Any], command: str) -> tuple[str, Any]:
    """What a reply looks like with the command's own name taken out (the unknown-command text repeats it)."""
    return message.get("text", "").replace(f"/{command}", "/<command>"), message.get("reply_markup")


async def test_every_hr_command_is_refused_like_an_unknown_one(tg: FakeTelegram, bot: TelegramAdapter,
                                                               engine: Engine, demo: dict[str, str],
                                                               db: Database) -> None:
    hr_commands = sorted(name for name, c in engine.router.commands.items() if c.audience == "hr")
    assert {"stage", "inbox", "reply", "docs", "export"} <= set(hr_commands)
    bot.pacer = ChatPacer(per_chat=0.02)  # pacing is tested elsewhere; here it would only make the test long
    candidate, stranger = tg.user(5001, "San"), tg.user(5999, "Nobody")
    await candidate.send(f"/start {demo['张三']}", expect=3)
    before = snapshot(db)
    with db.session() as s:
        audit_before = s.exec(select(func.count()).select_from(AuditLog)).one()
    attempts = 0
    for user in (candidate, stranger):
        [unknown] = await user.send("/nosuchcommand")
        expected = shape(unknown, "nosuchcommand")
        for name in hr_commands:
            # Bare, and with arguments that would act on a real candidate, ticket or cohort.
            for line in (f"/{name}", f"/{name} 1 onboarded", f"/{name} prod-2026-12"):
                replies = await user.send(line)
                attempts += 1
                assert len(replies) == 1, (line, replies)
                assert shape(replies[0], name) == expected, (user.id, line, replies[0])
    assert not tg.calls_of("sendDocument")
    assert snapshot(db) == before  # candidates (stage, outcome, ...) and everything HR could create: unchanged
    with db.session() as s:
        new = s.exec(select(AuditLog).where(AuditLog.id > audit_before)).all()  # type: ignore[operator]
    assert [a.action for a in new] == ["hr_denied"] * attempts
    assert {a.actor for a in new} == {"telegram:5001", "telegram:5999"}
    assert {a.detail for a in new} == {f"/{name}" for name in hr_commands}


def forged(kind: type[ButtonData]) -> list[str]:
    """Well-formed data for a button type: every word its first fixed-word field allows, numbers 1, ids "x"."""
    choices: list[list[str]] = []
    for _, hint, _ in kind._spec():
        if hint is int:
            choices.append(["1"])
        elif get_origin(hint) is Literal:
            choices.append(list(get_args(hint)) if not any(len(c) > 1 for c in choices) else [get_args(hint)[0]])
        else:
            choices.append(["x"])
    out = [kind.prefix]
    for options in choices:
        out = [f"{head}:{o}" for head in out for o in options]
    return out


async def test_every_hr_button_is_refused_like_an_expired_one(tg: FakeTelegram, bot: TelegramAdapter,
                                                              engine: Engine, demo: dict[str, str],
                                                              db: Database) -> None:
    bot.pacer = ChatPacer(per_chat=0.02)
    hr_buttons = sorted((k for k, route in engine.router.buttons.items() if route.audience == "hr"),
                        key=lambda k: k.__name__)
    assert hr_buttons
    candidate, stranger = tg.user(5001, "San"), tg.user(5999, "Nobody")
    await candidate.send(f"/start {demo['张三']}", expect=3)
    before = snapshot(db)
    with db.session() as s:
        audit_before = s.exec(select(func.count()).select_from(AuditLog)).one()
    attempts = 0
    for user in (candidate, stranger):
        await user.send("/nosuchcommand")
        on = user.inbox[-1]
        [expired] = await press(user, "zzz:1", on)  # data no button type reads
        for kind in hr_buttons:
            for data in forged(kind):
                assert isinstance(buttons.parse(data), kind)
                replies = await press(user, data, on)
                attempts += 1
                assert [(r.get("text"), r.get("reply_markup")) for r in replies] == \
                    [(expired.get("text"), expired.get("reply_markup"))], (user.id, data, replies)
    assert snapshot(db) == before
    with db.session() as s:
        new = s.exec(select(AuditLog).where(AuditLog.id > audit_before)).all()  # type: ignore[operator]
    assert [a.action for a in new] == ["hr_denied"] * attempts
    assert {a.detail for a in new} == {k.__name__ for k in hr_buttons}


async def press(user: FakeUser, data: str, message: dict[str, Any]) -> list[dict[str, Any]]:
    """A tap on a button with this data under ``message`` (a client can send any data it likes)."""
    query = {"id": f"cb-{user.id}-{data}", "from": user._user(), "chat_instance": f"ci{user.id}", "data": data,
             "message": message}
    return await user._exchange({"callback_query": query}, 1)


async def test_hr_admin_gets_the_export_as_a_document(tg: FakeTelegram, bot: TelegramAdapter, settings: Settings,
                                                      db: Database) -> None:
    hr = tg.user(HR_ADMIN, "HR")
    [doc] = await hr.send("/export prod-2026-12")
    assert "共 13 人" in doc["caption"]
    [call] = tg.calls_of("sendDocument")
    name = call.params["document"]["filename"]
    assert name.startswith("candidates-prod-2026-12-") and name.endswith(".xlsx")
    ws = load_workbook(Path(settings.storage_dir) / "exports" / name).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("id", "external_id", "name") and rows[1][2] == "张三" and len(rows) == 14
