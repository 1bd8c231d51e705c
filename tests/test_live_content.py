"""Live edits: texts, flows and lessons edited in a running bot take effect within a few seconds, without a
restart; a broken edit is logged with its file:line:col and the last good version stays in use; a turn reads
one version of everything."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import pytest

from bot.app import Editable, editable_files, load_editable
from bot.config import Settings
from bot.engine.core import Engine
from bot.live import LiveContent
from tests.chat import Chat
from tests.conftest import ROOT, make_settings

WAIT = 1.2  # the running bot looks at the files' times at most once a second


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """A copy of the project (config.yaml, content/, flows/) in tmp_path, to edit under the running bot."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    return make_settings(db_url, tmp_path / "config.yaml", storage=tmp_path / "files")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    st = path.stat()  # a later mtime even on a file system with coarse times
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def chen_jing(engine: Engine, demo: dict[str, str]) -> Chat:
    """陈静 still has to give her safety-shoe size (the shoe_size flow)."""
    chat = Chat(engine, 5)
    chat.send(f"/start {demo['陈静']}")
    return chat


def test_a_lesson_title_a_text_and_a_flow_step_change_without_a_restart(
        engine: Engine, demo: dict[str, str], tmp_path: Path) -> None:
    chat = chen_jing(engine, demo)
    chat.send("/learn")
    assert "📘 入职前小课程" in chat.texts() and "我们的使命——让每一个产品都有温度" in chat.texts()
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    chat.send("45")  # waiting at the flow's `confirm` step
    assert "确认一下:45 码,对吗?" in chat.texts()

    edit(tmp_path / "content" / "zh-CN" / "messages.yaml", "📘 入职前小课程(", "📘 入职前的小课程(")
    edit(tmp_path / "content" / "lessons" / "01_company_culture.yaml", "我们的使命——让每一个产品都有温度",
         "公司使命")
    edit(tmp_path / "flows" / "shoe_size.yaml", "确认一下:{{ vars.size }} 码,对吗?",
         "请再确认:{{ vars.size }} 码,没错吧?")
    time.sleep(WAIT)

    chat.send("对")  # typed where a button is expected: the step is shown again, as edited; the flow continues
    assert "请再确认:45 码,没错吧?" in chat.texts()
    chat.click("对")
    assert "好的,已登记 45 码" in chat.texts()
    chat.send("/learn")
    assert "📘 入职前的小课程" in chat.texts() and "公司使命" in chat.texts()
    assert "让每一个产品都有温度" not in chat.texts()
    # The main menu's labels are texts too.
    edit(tmp_path / "content" / "zh-CN" / "messages.yaml", "menu_learn: 📘 学习", "menu_learn: 📘 学一学")
    time.sleep(WAIT)
    chat.send("/learn")
    assert any(b.text == "📘 学一学" for row in engine.main_menu("zh-CN") for b in row)


def test_a_step_that_vanished_in_a_live_edit_restarts_the_flow(engine: Engine, demo: dict[str, str],
                                                               tmp_path: Path) -> None:
    chat = chen_jing(engine, demo)
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    chat.send("45")
    edit(tmp_path / "flows" / "shoe_size.yaml", "- id: confirm", "- id: confirm_size")
    time.sleep(WAIT)
    chat.send("45")
    assert chat.texts().startswith("抱歉,这部分内容刚刚更新过,我们从头开始") and "你平时穿多大码的鞋" in chat.texts()


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    # A key twice in a text file: one of the two texts would be lost.
    ("content/zh-CN/messages.yaml", "menu_learn: 📘 学习\n", "menu_learn: 📘 学习\nmenu_learn: 📘 学一学\n",
     "messages.yaml:{line}:1: duplicate key \"menu_learn\""),
    # A quote left open in a lesson.
    ("content/lessons/01_company_culture.yaml", 'title: {zh-CN: "我们的使命',
     'title: {zh-CN: "公司使命\n  minutes: 1\n  x: "我们的使命',
     "01_company_culture.yaml:4:18: the quote \" opened here is not closed on its line"),
    # A flow step that goes nowhere.
    ("flows/shoe_size.yaml", "goto: ask_size", "goto: ask_sizes",
     "shoe_size.yaml:19:73: button target 'ask_sizes' is not a step of this flow"),
])
def test_a_broken_edit_is_logged_and_the_last_good_version_stays(
        engine: Engine, demo: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture,
        file: str, old: str, new: str, where: str) -> None:
    chat = chen_jing(engine, demo)
    path = tmp_path / file
    line = path.read_text(encoding="utf-8").split(old)[0].count("\n") + 2
    with caplog.at_level(logging.ERROR, logger="bot.live"):
        edit(path, old, new)
        time.sleep(WAIT)
        chat.send("/learn")
    assert "still using the previous version" in caplog.text
    assert str(tmp_path) in caplog.text and where.format(line=line) in caplog.text
    assert "📘 入职前小课程" in chat.texts() and "我们的使命——让每一个产品都有温度" in chat.texts()
    assert any(b.text == "📘 学习" for row in engine.main_menu("zh-CN") for b in row)
    # Fixed: the next edit is read.
    edit(path, new, old)
    edit(tmp_path / "content" / "zh-CN" / "messages.yaml", "📘 入职前小课程(", "📘 入职前的小课程(")
    time.sleep(WAIT)
    chat.send("/learn")
    assert "📘 入职前的小课程" in chat.texts()


def test_a_turn_reads_one_version_and_the_hot_path_looks_at_most_once_a_second(settings: Settings) -> None:
    first = load_editable(settings)
    looks = []

    def files() -> list[Path]:
        looks.append(1)
        return editable_files(settings)

    live: LiveContent[Editable] = LiveContent(lambda: load_editable(settings), files, first)
    looks.clear()
    for _ in range(1000):
        assert live.current() is first
    assert len(looks) <= 1
    messages = settings.content_dir / "zh-CN" / "messages.yaml"
    with live.turn():
        edit(messages, "menu_learn: 📘 学习", "menu_learn: 📘 学一学")
        live.check_every = 0.0
        assert live.current() is first and live.current().texts.get("zh-CN", "menu_learn") == "📘 学习"
    after = live.current()
    assert after is not first and after.texts.get("zh-CN", "menu_learn") == "📘 学一学" and live.version == 2
    assert after.library.lessons.keys() == first.library.lessons.keys()


def test_the_watched_files(settings: Settings) -> None:
    names = {p.relative_to(settings.base_dir).as_posix() for p in editable_files(settings)}
    assert {"content/zh-CN/messages.yaml", "content/en/messages.yaml", "content/lessons/01_company_culture.yaml",
            "content/rewards.yaml", "content/resources.yaml", "flows/shoe_size.yaml"} <= names
    assert not {"content/faq.yaml", "content/intents.yaml", "content/demo/progress.yaml"} & names
