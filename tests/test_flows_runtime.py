"""Running flows in chat: answers checked by type, buttons, stale buttons, leaving and coming back, a restart
mid-flow, and a flow edited under a waiting candidate."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlmodel import select

from bot.app import build_engine
from bot.clock import FixedClock
from bot.config import Settings
from bot.engine.core import Engine
from bot.engine.events import Event
from store.db import Database
from store.models import CandidateTask, FlowSession
from tests.chat import Chat
from tests.conftest import ROOT, make_settings

HR = 100000001


def chen_jing(engine: Engine, demo: dict[str, str]) -> Chat:
    """陈静 still has to give her safety-shoe size (the shoe_size flow completes that task)."""
    chat = Chat(engine, 5)
    chat.send(f"/start {demo['陈静']}")
    return chat


def task_status(db: Database, candidate_id: int, task: str) -> str | None:
    with db.session() as s:
        row = s.exec(select(CandidateTask).where(CandidateTask.candidate_id == candidate_id,
                                                 CandidateTask.task_id == task)).first()
        return row.status if row else None


def test_status_offers_the_flow_and_the_flow_completes_the_task(engine: Engine, demo: dict[str, str],
                                                                db: Database) -> None:
    chat = chen_jing(engine, demo)
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    assert "你平时穿多大码的鞋" in chat.texts()
    chat.send("abc")  # not a number: the retry text, then the question again
    assert chat.texts().startswith("请输入35到47之间的数字") and "你平时穿多大码的鞋" in chat.texts()
    chat.send("52")  # a number, but the regex says 35-47
    assert chat.texts().startswith("请输入35到47之间的数字")
    chat.send("46")
    assert "确认一下:46 码,对吗?" in chat.texts()
    chat.send("对")  # typing where a button is expected: asked to tap, buttons shown again
    assert "请点下面的按钮" in chat.texts() and chat.button("对")
    chat.click("对")
    assert "劳保鞋要 46 码" in chat.texts(HR)  # the branch for large sizes told HR
    assert "好的,已登记 46 码" in chat.texts()
    assert task_status(db, 5, "shoe_size") == "done"
    chat.send("/status")
    assert "✍️" not in " ".join(b.text for row in chat.says()[-1].buttons for b in row)


def test_button_goto_and_stale_buttons(engine: Engine, demo: dict[str, str]) -> None:
    chat = chen_jing(engine, demo)
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    chat.send("44")
    retype = chat.button("重新输入")
    chat.press(retype)
    assert "你平时穿多大码的鞋" in chat.texts()
    chat.press(retype)  # an old button: recognised, and the current question is shown again
    assert "这个按钮已经用过了" in chat.texts() and "你平时穿多大码的鞋" in chat.texts()
    chat.send("40")
    chat.click("对")
    assert "已登记 40 码" in chat.texts()


def test_file_where_text_is_expected(engine: Engine, demo: dict[str, str], tmp_path: Path) -> None:
    chat = chen_jing(engine, demo)
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    photo = tmp_path / "x.jpg"
    photo.write_bytes(b"\xff\xd8 jpeg")
    chat.handle(Event(kind="file", file_kind="photo", mime_type="image/jpeg", file_size=7, file_path=str(photo),
                      user_id=5, chat_id=5, update_id=900001))
    assert "需要文字回答" in chat.texts() and "你平时穿多大码的鞋" in chat.texts()


def test_cancel_with_nothing_going_on_says_so(engine: Engine, demo: dict[str, str], db: Database) -> None:
    """/cancel when no flow is waiting (or right after /feedback, before a category: nothing is kept then) does
    not promise to "continue where you stopped"."""
    chat = chen_jing(engine, demo)
    chat.send("/cancel")
    assert "已取消,没有留下" in chat.texts() and "已经退出" not in chat.texts()
    chat.send("/feedback")
    chat.send("/cancel")
    assert "已取消,没有留下" in chat.texts() and "已经退出" not in chat.texts()


def test_leave_with_a_command_and_come_back(engine: Engine, demo: dict[str, str], db: Database) -> None:
    chat = chen_jing(engine, demo)
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    chat.send("43")
    chat.send("/cancel")
    assert "已经退出" in chat.texts()
    chat.send("宿舍是几人间?")  # free text goes to the FAQ again, not to the paused flow
    assert "4人间" in chat.texts()
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    assert "接着上次的「登记劳保鞋尺码」继续" in chat.texts() and "确认一下:43 码" in chat.texts()
    with db.session() as s:
        assert [r.status for r in s.exec(select(FlowSession))] == ["active"]


def test_a_restart_mid_flow_resumes(settings: Settings, db: Database, clock: FixedClock,
                                    demo: dict[str, str]) -> None:
    first = build_engine(settings, db, clock)
    chat = chen_jing(first, demo)
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    chat.send("45")
    again = Chat(build_engine(settings, db, clock), 5)  # a new process: nothing in memory
    again.send("对")
    assert "请点下面的按钮" in again.texts() and "确认一下:45 码" in again.texts()


def test_a_vanished_step_restarts_the_flow_with_an_apology(tmp_path: Path, db_url: str, db: Database,
                                                           clock: FixedClock, demo: dict[str, str]) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config += f"\ncontent_dir: {ROOT / 'content'}\nflows_dir: {flows}\n"
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    settings = make_settings(db_url, tmp_path / "config.yaml", storage=tmp_path / "files")
    chat = chen_jing(build_engine(settings, db, clock), demo)
    chat.send("/status")
    chat.click("✍️ 登记劳保鞋尺码")
    chat.send("45")  # now waiting at `confirm`
    text = (flows / "shoe_size.yaml").read_text(encoding="utf-8")
    (flows / "shoe_size.yaml").write_text(text.replace("- id: confirm", "- id: confirm_size"), encoding="utf-8")
    chat = Chat(build_engine(settings, db, clock), 5)
    chat.send("45")
    assert chat.texts().startswith("抱歉,这部分内容刚刚更新过,我们从头开始") and "你平时穿多大码的鞋" in chat.texts()
    chat.send("45")
    assert "确认一下:45 码" in chat.texts()


CALLER = """\
flow:
  id: onboarding_check
  title: {zh-CN: 入职检查, en: Onboarding check}
  steps:
    - id: intro
      say: {zh-CN: 先确认一下鞋码。, en: First your shoe size.}
    - id: shoes
      call: shoe_size
    - id: mark
      do: set_field
      with: {field: vars.checked, value: "yes"}
    - id: learn
      quiz: safety_rules
    - id: bye
      end: {zh-CN: "检查完成({{ vars.checked }})", en: "Check done ({{ vars.checked }})"}
"""


def test_call_quiz_and_set_field(tmp_path: Path, db_url: str, db: Database, clock: FixedClock,
                                 demo: dict[str, str]) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    (flows / "onboarding_check.yaml").write_text(CALLER, encoding="utf-8")
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config += f"\ncontent_dir: {ROOT / 'content'}\nflows_dir: {flows}\n"
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    settings = make_settings(db_url, tmp_path / "config.yaml", storage=tmp_path / "files")
    engine = build_engine(settings, db, clock)
    chat = chen_jing(engine, demo)
    chat.handle(Event(kind="button", payload="go:onboarding_check", callback_id="c", user_id=5, chat_id=5))
    assert "先确认一下鞋码" in chat.texts() and "你平时穿多大码的鞋" in chat.texts()  # into the called flow
    chat.send("42")
    chat.click("对")
    assert "已登记 42 码" in chat.texts() and "第1/4题" in chat.texts()  # back in the caller, on to the quiz
    for answer in ("C", "B", "B", "A"):
        chat.click(answer)
    assert "测验通过" in chat.texts() and "检查完成(yes)" in chat.texts()
    assert task_status(db, 5, "shoe_size") == "done"
