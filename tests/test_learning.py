"""Lessons, quizzes, points and rewards in chat; concurrent redemption cannot overspend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlmodel import select

from bot.config import Settings
from bot.engine.core import Engine
from bot.learning import points as ledger
from bot.learning.model import Lesson, QuizQuestion, Reward
from bot.learning.quiz import needed, record_attempt
from store.db import Database
from store.models import Interaction, LessonProgress, PointsEntry, Redemption, RewardStock
from tests.chat import Chat

HR = 100000001
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def zhang_san(engine: Engine, demo: dict[str, str]) -> Chat:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    return chat


def take_lesson(chat: Chat, title: str, answers: list[str]) -> None:
    chat.send("/learn")
    chat.click(title)
    while chat.button("继续"):
        chat.click("继续")
        if "第1/" in chat.texts():
            break
    for answer in answers:
        chat.click(answer)


def test_learn_lists_the_candidates_lessons_first(engine: Engine, demo: dict[str, str]) -> None:
    driver = Chat(engine, 20)
    driver.send(f"/start {demo['罗斌']}")  # a forklift driver: the line-tools lesson is not for him
    driver.send("/learn")
    labels = [b.text for row in driver.says()[-1].buttons for b in row]
    assert labels[-1] == "📘 生产岗常见工具使用技巧"
    assert "已完成 0/5" in driver.texts()


def test_lesson_parts_quiz_feedback_retry_and_points_once(engine: Engine, demo: dict[str, str],
                                                          db: Database) -> None:
    chat = zhang_san(engine, demo)
    chat.send("/learn")
    chat.click("我们的使命")
    assert "约12分钟" in chat.texts() and "欢迎来到华东精工" in chat.texts()
    chat.click("继续")
    assert "让每一个产品都有温度" in chat.texts()
    chat.click("继续")
    chat.click("继续")
    assert "https://www.example.com/hdjg/culture-video" in chat.texts()
    chat.click("继续")
    assert "第1/3题" in chat.texts()
    chat.click("A")  # wrong
    assert "❌ 不对哦,正确答案是 B. 让每一个产品都有温度" in chat.texts() and "第2/3题" in chat.texts()
    chat.click("A")  # wrong again
    chat.click("A")  # right
    assert "✅ 答对了" in chat.texts()
    assert "这次答对 1/3 题,需要答对 2 题" in chat.texts()
    chat.click("再做一次测验")
    assert "第1/3题" in chat.texts()
    chat.click("B")
    chat.click("B")
    chat.click("A")
    assert "测验通过!答对 3/3 题" in chat.texts() and "获得 50 积分,现在共有 50 积分" in chat.texts()
    chat.send("/learn")
    chat.click("✅ 我们的使命")  # review it: allowed, but the points come once
    for _ in range(4):
        chat.click("继续")
    for answer in ("B", "B", "A"):
        chat.click(answer)
    assert "积分之前已经领过了,现在共有 50 积分" in chat.texts()
    with db.session() as s:
        progress = s.exec(select(LessonProgress)).one()
        assert (progress.attempts, progress.best_correct, progress.questions) == (3, 3, 3)
        assert [e.delta for e in s.exec(select(PointsEntry))] == [50]
        assert s.exec(select(Interaction).where(Interaction.detail == "lesson_completed")).one()
    chat.send("/points")
    assert "你现在有 50 积分" in chat.texts() and "完成课程「我们的使命——让每一个产品都有温度」" in chat.texts()


def test_rewards_confirm_redeem_and_hr_marks_delivered(engine: Engine, demo: dict[str, str], db: Database) -> None:
    chat = zhang_san(engine, demo)
    chat.send("/rewards")
    chat.click("定制保温杯")
    assert "确定用 40 积分兑换「定制保温杯」吗" in chat.texts()
    chat.click("确定兑换")
    assert "积分还不够" in chat.texts() and "你现在有 0 积分" in chat.texts()
    with db.session() as s:
        ledger.award(s, 1, 60, "hr", "test:grant", NOW)
    chat.send("/rewards")
    chat.click("定制保温杯")
    chat.click("确定兑换")
    assert "兑换成功" in chat.texts() and "剩余 20 积分" in chat.texts()
    alert = chat.says(HR)[0]
    assert "兑换 #1:张三" in alert.text and "定制保温杯" in alert.text
    hr = Chat(engine, HR)
    delivered = [b for row in alert.buttons for b in row][0]
    hr.press(delivered)
    assert "已发放,本人已收到通知" in hr.texts() and "已经发放,请查收" in hr.texts(1)
    hr.press(delivered)
    assert "之前已经标记为已发放" in hr.texts()
    chat.send("/points")
    assert "-40 兑换「定制保温杯」" in chat.texts()
    with db.session() as s:
        assert s.exec(select(Redemption)).one().status == "delivered"


def test_out_of_stock(engine: Engine, demo: dict[str, str], db: Database) -> None:
    gift = Reward("one_left", {"zh-CN": "最后一个", "en": "Last one"}, cost=10, stock=1)
    with db.session() as s:
        ledger.award(s, 1, 100, "hr", "grant:1", NOW)
        ledger.award(s, 2, 100, "hr", "grant:2", NOW)
    with db.session() as s:
        assert ledger.redeem(s, 1, gift, NOW).outcome == "ok"
    with db.session() as s:
        result = ledger.redeem(s, 2, gift, NOW)
    assert (result.outcome, result.balance) == ("out_of_stock", 100)  # the points came back


def test_concurrent_redemption_cannot_overspend(engine: Engine, demo: dict[str, str], db: Database,
                                                settings: Settings) -> None:
    """Eight taps at once with points for three: exactly three redemptions, balance 0, ledger consistent."""
    gift = Reward("flask", {"zh-CN": "杯子", "en": "Flask"}, cost=40, stock=100)
    with db.session() as s:
        ledger.award(s, 1, 120, "hr", "grant", NOW)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def tap() -> None:
        start.wait()
        for _ in range(20):  # SQLite may say "busy" under this much contention; the bot would retry the update
            try:
                with db.session() as s:
                    outcomes.append(ledger.redeem(s, 1, gift, NOW).outcome)
                return
            except Exception as exc:  # noqa: BLE001
                if "locked" not in str(exc):
                    raise

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["not_enough"] * 5 + ["ok"] * 3
    with db.session() as s:
        assert ledger.balance(s, 1) == 0
        assert sum(e.delta for e in s.exec(select(PointsEntry).where(PointsEntry.candidate_id == 1))) == 0
        assert len(s.exec(select(Redemption)).all()) == 3
        assert s.get(RewardStock, "flask").redeemed == 3  # type: ignore[union-attr]


def test_concurrent_redemption_of_the_last_one(engine: Engine, demo: dict[str, str], db: Database) -> None:
    gift = Reward("last", {"zh-CN": "最后", "en": "Last"}, cost=10, stock=1)
    with db.session() as s:
        for cid in range(1, 7):
            ledger.award(s, cid, 10, "hr", f"grant:{cid}", NOW)
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def tap(cid: int) -> None:
        start.wait()
        for _ in range(20):
            try:
                with db.session() as s:
                    outcomes.append(ledger.redeem(s, cid, gift, NOW).outcome)
                return
            except Exception as exc:  # noqa: BLE001
                if "locked" not in str(exc) and "could not serialize" not in str(exc):
                    raise

    threads = [threading.Thread(target=tap, args=(cid,)) for cid in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["out_of_stock"] * 5
    with db.session() as s:
        assert s.get(RewardStock, "last").redeemed == 1  # type: ignore[union-attr]
        assert sum(ledger.balance(s, cid) for cid in range(1, 7)) == 50


def test_quiz_scoring_counts_the_pass_mark_and_pays_a_lesson_once(engine: Engine, demo: dict[str, str],
                                                                   db: Database) -> None:
    """bot.learning.quiz on its own: 2 of 3 passes at 0.6, the points come once, every attempt is counted."""
    lesson = Lesson("drill", {"zh-CN": "演练", "en": "Drill"}, 5, [], 15, [], [
        QuizQuestion({"zh-CN": "一", "en": "One"}, [{"zh-CN": "是", "en": "Yes"}, {"zh-CN": "否", "en": "No"}], 0,
                     {"zh-CN": "对", "en": "Right"})] * 3)
    assert [needed(0.6, n) for n in (3, 4, 5)] == [2, 3, 3]
    with db.session() as s:
        failed = record_attempt(s, 1, lesson, {"0": 0, "1": 1, "2": 1}, 0.6, NOW)
        passed = record_attempt(s, 1, lesson, {"0": 0, "1": 0, "2": 1}, 0.6, NOW)
        again = record_attempt(s, 1, lesson, {"0": 0, "1": 0, "2": 0}, 0.6, NOW)
    assert (failed.correct, failed.passed, failed.awarded) == (1, False, 0)
    assert (passed.correct, passed.passed, passed.awarded) == (2, True, 15)
    assert (again.correct, again.passed, again.awarded) == (3, True, 0)
    with db.session() as s:
        progress = s.exec(select(LessonProgress).where(LessonProgress.lesson_id == "drill")).one()
        assert (progress.attempts, progress.best_correct, progress.questions) == (3, 3, 3)
        assert ledger.balance(s, 1) == 15
