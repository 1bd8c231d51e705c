"""/status: stage, training date and place, days left in the company timezone, tasks, timeline."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.clock import FixedClock
from bot.engine.core import Engine
from store.db import Database
from store.models import Candidate, CandidateTask
from tests.chat import Chat
from tests.conftest import SHANGHAI


def bound(engine: Engine, demo: dict[str, str], name: str, user_id: int, lang: str = "zh-hans") -> Chat:
    chat = Chat(engine, user_id, language_code=lang)
    chat.send(f"/start {demo[name]}")
    return chat


def test_status_shows_stage_training_days_and_tasks(engine: Engine, demo: dict[str, str]) -> None:
    chat = bound(engine, demo, "王伟", 1)
    chat.send("/status")
    text = chat.texts()
    assert "当前阶段:待入职" in text
    assert "培训时间:2026年12月15日 周二 08:30" in text
    assert "一号厂区培训中心201室(苏州市工业园区星湖街88号)" in text
    assert "距离培训还有 18 天" in text
    # Open tasks with deadlines, most urgent first (id copy is due 7 days before, health cert 5 days).
    assert text.index("提交身份证复印件2张") < text.index("提交健康证明")
    assert "提交健康证明 —— 截止 2026年12月10日 周四(还剩 13 天)" in text
    assert "登记劳保鞋尺码" in text.split("已完成:")[1]  # done in the demo data
    assert "✅ 面试通过 → ✅ 背景调查 → ✅ 已发offer → 🔵 待入职 → ⚪ 集中培训" in text


def test_days_left_uses_company_timezone(engine: Engine, demo: dict[str, str], clock: FixedClock) -> None:
    chat = bound(engine, demo, "王伟", 1)
    # 23:30 UTC on Dec 13 is already Dec 14 in Shanghai: one day to go, not two.
    clock.set(datetime(2026, 12, 13, 23, 30, tzinfo=UTC))
    chat.send("/status")
    assert "距离培训还有 1 天" in chat.texts()


def test_overdue_tasks_are_marked(engine: Engine, demo: dict[str, str], clock: FixedClock) -> None:
    chat = bound(engine, demo, "王伟", 1)
    clock.set(datetime(2026, 12, 12, 9, 0, tzinfo=SHANGHAI))
    chat.send("/status")
    text = chat.texts()
    assert "⚠️ 提交健康证明 —— 已逾期 2 天(截止 2026年12月10日 周四)" in text
    assert "距离培训还有 3 天" in text


def test_done_task_leaves_next_steps(engine: Engine, demo: dict[str, str], db: Database,
                                     clock: FixedClock) -> None:
    chat = bound(engine, demo, "王伟", 1)
    with db.session() as s:
        c = s.exec(select(Candidate).where(Candidate.name == "王伟")).one()
        s.add(CandidateTask(candidate_id=c.id, task_id="health_certificate", status="done", updated_at=clock.now()))
    chat.send("/status")
    next_steps = chat.texts().split("下一步:")[1].split("已完成")[0]
    assert "提交健康证明" not in next_steps


def test_role_specific_tasks(engine: Engine, demo: dict[str, str]) -> None:
    clerk = bound(engine, demo, "梁红", 2)
    clerk.send("/status")
    assert "叉车" not in clerk.texts() and "劳保鞋" not in clerk.texts()
    driver = bound(engine, demo, "罗斌", 3)
    driver.send("/status")
    assert "提交叉车操作证" in driver.texts()


def test_no_cohort_yet(engine: Engine, demo: dict[str, str]) -> None:
    chat = bound(engine, demo, "林峰", 4)
    chat.send("/status")
    text = chat.texts()
    assert "培训时间:待定" in text and "距离培训" not in text
    assert "• 提交健康证明\n" in text + "\n"  # tasks listed without a deadline


def test_status_in_english(engine: Engine, demo: dict[str, str]) -> None:
    chat = bound(engine, demo, "王伟", 1, lang="en")
    chat.send("/status")
    text = chat.texts()
    assert "Current stage: Waiting for training" in text
    assert "Training: Tue 15 Dec 2026, 08:30" in text
    assert "18 days to go until training" in text
    assert "Hand in a health certificate: due Thu 10 Dec 2026 (13 days left)" in text


def test_withdrawn_has_no_timeline(engine: Engine, demo: dict[str, str]) -> None:
    chat = bound(engine, demo, "孙浩", 5)
    chat.send("/status")
    assert "已放弃入职" in chat.texts() and "进度:" not in chat.texts()


def test_language_switch_persists(engine: Engine, demo: dict[str, str], db: Database) -> None:
    chat = bound(engine, demo, "王伟", 1)
    chat.send("/language")
    chat.click("lang:en")
    assert "English" in chat.texts()
    chat.send("/status")
    assert "Current stage" in chat.texts()
    with db.session() as s:
        assert s.exec(select(Candidate).where(Candidate.name == "王伟")).one().language == "en"


def test_menu_button_shows_status(engine: Engine, demo: dict[str, str]) -> None:
    chat = bound(engine, demo, "王伟", 1)
    chat.click("📋 我的进度")
    assert "当前阶段:待入职" in chat.texts()
