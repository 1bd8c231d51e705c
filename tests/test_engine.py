"""The engine's own duties: duplicates, failures, odd input, interaction log."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from bot.engine.core import Command, Engine
from bot.engine.events import Event
from store.db import Database
from store.models import Candidate, Interaction
from tests.chat import Chat


def test_duplicate_update_is_ignored(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    event = Event.parse_text("/status", user_id=1, chat_id=1, update_id=424242)
    assert engine.handle(event)
    assert engine.handle(event) == []


def test_failure_gives_friendly_answer_and_logs_no_personal_data(
        engine: Engine, demo: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")

    secret = "张三 +8613800000001 secret detail"

    def broken(turn: object) -> None:
        raise RuntimeError(secret)

    monkeypatch.setitem(engine.router.commands, "status", Command("status", broken, "candidate"))
    with caplog.at_level(logging.ERROR):
        chat.send("/status")
    assert "出了点问题" in chat.texts()
    assert "RuntimeError" in caplog.text
    assert "张三" not in caplog.text and "8613800000001" not in caplog.text
    monkeypatch.undo()
    chat.send("/status")  # not stuck
    assert "当前阶段" in chat.texts()


def test_unknown_command_sticker_and_text(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send("/whatever")
    assert "不认识 /whatever" in chat.texts() and chat.button("menu:status")
    chat.handle(Event(kind="unsupported", unsupported="sticker", user_id=1, chat_id=1))
    assert "只能处理文字和按钮" in chat.texts()
    chat.send("宿舍是几人间?")  # free text goes to the FAQ (tests/test_faq_chat.py)
    assert "4人间" in chat.texts() and chat.button("👍")


def test_stale_button_data(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.handle(Event(kind="button", payload="gone:1", callback_id="x", user_id=1, chat_id=1))
    assert "按钮已经失效" in chat.texts()


def test_stranger_gets_binding_prompt_everywhere(engine: Engine) -> None:
    chat = Chat(engine, 99)
    for line in ["/status", "hello", "/menu", "/help"]:
        chat.send(line)
        assert "我还不知道你是谁" in chat.texts(), line
        assert chat.says()[0].ask_contact


def test_group_messages_are_ignored(engine: Engine, demo: dict[str, str]) -> None:
    event = Event.parse_text("/status", user_id=1, chat_id=-100123, chat_type="supergroup")
    assert engine.handle(event) == []


def test_interactions_logged_and_last_seen(engine: Engine, demo: dict[str, str], db: Database) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send("/status")
    chat.click("menu:status")
    with db.session() as s:
        cand = s.exec(select(Candidate).where(Candidate.name == "张三")).one()
        rows = s.exec(select(Interaction).where(Interaction.candidate_id == cand.id)).all()
    assert [(r.kind, r.detail) for r in rows] == [("event", "bound"), ("command", "start"), ("command", "status"),
                                                  ("button", "menu")]
    assert cand.last_seen_at is not None
