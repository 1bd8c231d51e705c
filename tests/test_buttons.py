"""Typed button data: packing, parsing, legacy data, the start-up check, and buttons that broke before."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.documents.buttons import DocTask
from bot.engine import buttons
from bot.engine.buttons import ButtonDataError
from bot.engine.core import Engine, MenuButton, Router
from bot.engine.effects import Button
from bot.faq.buttons import FaqVote
from bot.flows.buttons import FlowButton
from bot.learning.buttons import LearnButton, RewardButton
from tests.chat import Chat
from tests.test_learning import take_lesson
from tests.test_profile_documents import accept_notice, send_file


def test_pack_and_parse_round_trip() -> None:
    for data in (FlowButton(12, 3, "next"), LearnButton("start", "safety"), FaqVote(7, "down"), MenuButton("ask"),
                 DocTask(5, "health_cert"), RewardButton()):
        assert buttons.parse(data.pack()) == data
    assert FlowButton(12, 3, "next").pack() == "f:12:3:next"
    assert LearnButton().pack() == "learn"  # defaults are not written


def test_data_sent_before_the_upgrade_still_parses() -> None:
    assert buttons.parse("learn:list") == LearnButton("list")
    assert buttons.parse("learn:quiz:02_safety") == LearnButton("quiz", "02_safety")
    assert buttons.parse("pts:show") == MenuButton("points")
    assert buttons.parse("res:list") == MenuButton("resources")
    assert buttons.parse("faqq:menu") == MenuButton("ask")
    assert buttons.parse("menu:status") == MenuButton("status")


@pytest.mark.parametrize("data", ["nope:1", "f:1:x:next", "f:1:2", "f:1:2:3:4", "faqv:1:sideways", "doc:1:",
                                  "learn:teleport", "", "faqv:99999999999999999999:up"])
def test_data_no_type_reads_is_refused(data: str) -> None:
    with pytest.raises(ButtonDataError):
        buttons.parse(data)


def test_packing_refuses_what_telegram_would_refuse() -> None:
    with pytest.raises(ButtonDataError, match="64"):
        FlowButton(1, 1, "x" * 60).pack()
    with pytest.raises(ButtonDataError, match="':'"):
        LearnButton("start", "a:b").pack()
    assert len(FaqVote(10**9, "down").pack().encode()) <= 64


def test_router_refuses_a_button_type_no_handler_claims() -> None:
    with pytest.raises(RuntimeError, match="LearnButton") as err:
        Router().check()
    assert "FlowButton" in str(err.value) and "DocTask" in str(err.value)


def test_points_button_after_a_passed_lesson_shows_the_points(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    take_lesson(chat, "我们的使命", ["B", "C", "A"])
    chat.click("我的积分")
    shown = chat.texts()
    chat.send("/points")
    assert shown == chat.texts()  # the points view, not the main menu


def test_old_menu_data_reaches_the_entry_and_unknown_entries_get_the_menu(engine: Engine,
                                                                         demo: dict[str, str]) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.press(Button("x", "pts:show"))
    points_reply = chat.texts()
    chat.send("/points")
    assert chat.texts() == points_reply
    chat.press(Button("x", "menu:shopping"))
    assert "失效" in chat.texts() and chat.says()[-1].buttons  # a short sentence and the current menu
    chat.press(Button("x", "zzz:1"))
    assert "失效" in chat.texts() and chat.says()[-1].buttons


def test_a_tampered_document_button_cannot_file_under_a_task_that_is_not_open(
        engine: Engine, demo: dict[str, str], tmp_path: Path) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    accept_notice(chat)
    send_file(chat, tmp_path, "health.pdf", "application/pdf")
    offered = {buttons.parse(b.data) for row in chat.says()[-1].buttons for b in row}
    upload = next(iter(offered)).upload  # type: ignore[attr-defined]
    offered_tasks = {d.task for d in offered}  # type: ignore[attr-defined]
    settings = engine.ctx.settings
    other = next(t.id for t in settings.tasks.values() if t.document and t.id not in offered_tasks)
    chat.press(DocTask(upload, other).button("forged"))
    assert "失效" in chat.texts()
    chat.press(DocTask(upload, sorted(offered_tasks)[0]).button("real"))
    assert "失效" not in chat.texts()


def test_a_stranger_sending_a_sticker_is_offered_the_share_phone_button(engine: Engine) -> None:
    from bot.engine.events import Event

    chat = Chat(engine, 555)
    for what in ("sticker", "voice", "location", "edited"):
        chat.handle(Event(kind="unsupported", unsupported=what, user_id=555, chat_id=555))
        (say,) = chat.says()
        assert say.ask_contact, what


def test_a_very_long_unknown_command_is_answered(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send("/" + "x" * 200)
    assert "不认识" in chat.texts()
