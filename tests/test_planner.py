"""The planner, travelling in time: every trigger, the weekly cap with priorities, quiet hours, stale
reminders after downtime, and dedupe across restarts. No sleeping: the clock is a FixedClock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from bot.clock import FixedClock
from bot.config import Settings
from bot.engine.core import Engine
from bot.hr.service import set_stage
from bot.nudges.planner import NudgeRenderer, tick
from bot.nudges.rules import RuleSet, load_rules
from store.db import Database
from store.models import Candidate, CandidateTask, Outbox
from tests.chat import Chat
from tests.conftest import SHANGHAI


def at(day: str, hhmm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SHANGHAI)


def rules(tmp_path: Path, engine: Engine, body: str) -> RuleSet:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n" + body, encoding="utf-8")
    return load_rules(engine.ctx.settings, engine.ctx.texts, path)


def run(engine: Engine, ruleset: RuleSet, when: datetime) -> None:
    tick(engine.ctx.db, engine.ctx.settings, ruleset, when.astimezone(SHANGHAI))
    RENDERERS[id(engine)] = NudgeRenderer(engine.ctx.db, engine.ctx.settings, engine.ctx.texts, ruleset)


def outbox(db: Database) -> list[tuple[str | None, str, str | None]]:
    with db.session() as s:
        return [(o.rule_id, o.status, o.reason) for o in s.exec(select(Outbox).order_by(Outbox.id)).all()]


RENDERERS: dict[int, NudgeRenderer] = {}


def texts_of(engine: Engine) -> list[str]:
    """The queued nudges as the sender would write them at the moment they were queued."""
    render = RENDERERS[id(engine)]
    with engine.ctx.db.session() as s:
        rows = s.exec(select(Outbox).where(Outbox.status == "pending").order_by(Outbox.id)).all()
    return [render(o, o.planned_at)[0] for o in rows]


def bind(engine: Engine, demo: dict[str, str], name: str, user_id: int, lang: str = "zh-hans") -> Chat:
    chat = Chat(engine, user_id, language_code=lang)
    chat.send(f"/start {demo[name]}")
    return chat


def test_stage_entered_with_delay_and_time(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database,
                                           clock: FixedClock) -> None:
    rs = rules(tmp_path, engine, """
  - id: after_interview
    trigger: {stage_entered: interview_passed, delay: 1d, at: "10:00"}
    message: nudge_after_interview
    buttons: [status]
""")
    bind(engine, demo, "朱婷", 1)  # imported at interview_passed on 2026-11-27 10:00
    run(engine, rs, at("2026-11-28", "09:59"))
    assert outbox(db) == []
    run(engine, rs, at("2026-11-28", "10:00"))
    assert outbox(db) == [("after_interview", "pending", None)]
    [text] = texts_of(engine)
    assert text.startswith("朱婷,恭喜你通过面试!")
    run(engine, rs, at("2026-11-28", "10:01"))
    assert len(outbox(db)) == 1  # decided once


def test_stage_entered_again_is_a_new_occurrence(tmp_path: Path, engine: Engine, demo: dict[str, str],
                                                 db: Database, clock: FixedClock) -> None:
    rs = rules(tmp_path, engine, """
  - id: offer_out
    trigger: {stage_entered: offer_sent, delay: 2h}
    message: nudge_after_interview
""")
    bind(engine, demo, "朱婷", 1)
    with db.session() as s:
        cand = s.exec(select(Candidate).where(Candidate.name == "朱婷")).one()
        set_stage(s, engine.ctx.settings, cand, "offer_sent", "test", at("2026-11-30", "11:00"))
    run(engine, rs, at("2026-11-30", "12:59"))
    assert outbox(db) == []
    run(engine, rs, at("2026-11-30", "13:00"))
    assert [r[1] for r in outbox(db)] == ["pending"]


def test_before_training(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database) -> None:
    rs = rules(tmp_path, engine, """
  - id: ten_days
    trigger: {before_training: 10, at: "10:00"}
    message: nudge_training_in_10_days
""")
    bind(engine, demo, "王伟", 1)
    run(engine, rs, at("2026-12-05", "09:59"))
    assert outbox(db) == []
    run(engine, rs, at("2026-12-05", "10:00"))
    [text] = texts_of(engine)
    assert "距离培训还有 10 天" in text and "2026年12月15日 周二 08:30" in text and "一号厂区培训中心201室" in text


def test_before_task_due_one_message_per_deadline_only_while_open(tmp_path: Path, engine: Engine,
                                                                   demo: dict[str, str], db: Database,
                                                                   clock: FixedClock) -> None:
    rs = rules(tmp_path, engine, """
  - id: task_due
    trigger: {before_task_due: 2, at: "10:00"}
    message: nudge_task_due
""")
    bind(engine, demo, "王伟", 1)  # id copy due Dec 8; health certificate and photos due Dec 10
    run(engine, rs, at("2026-12-06", "10:00"))
    [first] = texts_of(engine)
    assert "「提交身份证复印件2张」将于 2026年12月8日 周二 截止(还剩 2 天)" in first
    with db.session() as s:
        cand = s.exec(select(Candidate).where(Candidate.name == "王伟")).one()
        s.add(CandidateTask(candidate_id=cand.id, task_id="photos", status="done", updated_at=clock.now()))
    run(engine, rs, at("2026-12-08", "10:00"))
    second = texts_of(engine)[1]
    assert "「提交健康证明」将于 2026年12月10日 周四 截止" in second and "照片" not in second


def test_task_handed_in_after_queueing_drops_the_reminder(tmp_path: Path, engine: Engine, demo: dict[str, str],
                                                          db: Database, clock: FixedClock) -> None:
    rs = rules(tmp_path, engine, """
  - id: task_due
    trigger: {before_task_due: 2, task: id_copy, at: "10:00"}
    message: nudge_task_due
""")
    bind(engine, demo, "王伟", 1)
    run(engine, rs, at("2026-12-06", "10:00"))
    assert outbox(db) == [("task_due", "pending", None)]
    with db.session() as s:
        cand = s.exec(select(Candidate).where(Candidate.name == "王伟")).one()
        s.add(CandidateTask(candidate_id=cand.id, task_id="id_copy", status="submitted", updated_at=clock.now()))
    run(engine, rs, at("2026-12-06", "10:01"))
    assert outbox(db) == [("task_due", "dropped", "no longer applies")]


def test_weekly(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database) -> None:
    rs = rules(tmp_path, engine, """
  - id: news
    trigger: {weekly: friday, at: "17:00"}
    message: nudge_friday_news
""")
    bind(engine, demo, "王伟", 1)
    run(engine, rs, at("2026-11-27", "16:59"))
    assert outbox(db) == []
    run(engine, rs, at("2026-11-27", "17:00"))
    run(engine, rs, at("2026-12-04", "17:00"))
    assert [r[1] for r in outbox(db)] == ["pending", "pending"]
    assert "本周公司动态" in texts_of(engine)[0]


def test_inactive_for(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database, clock: FixedClock) -> None:
    rs = rules(tmp_path, engine, """
  - id: quiet
    trigger: {inactive_for: 5, at: "19:00"}
    message: nudge_inactive
""")
    chat = bind(engine, demo, "王伟", 1)  # last seen 2026-11-27 10:00
    clock.set(at("2026-11-29", "12:00"))
    chat.send("/status")  # activity moves the anchor
    run(engine, rs, at("2026-12-02", "19:00"))
    assert outbox(db) == []
    run(engine, rs, at("2026-12-04", "18:59"))
    assert outbox(db) == []
    run(engine, rs, at("2026-12-04", "19:00"))
    assert [r[1] for r in outbox(db)] == ["pending"]
    assert "好几天没见你啦" in texts_of(engine)[0]


def test_after_event(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database, clock: FixedClock) -> None:
    rs = rules(tmp_path, engine, """
  - id: welcome_followup
    trigger: {after_event: bound, delay: 3h}
    message: nudge_inactive
""")
    bind(engine, demo, "王伟", 1)  # bound at 10:00
    run(engine, rs, at("2026-11-27", "12:59"))
    assert outbox(db) == []
    run(engine, rs, at("2026-11-27", "13:00"))
    assert [r[1] for r in outbox(db)] == ["pending"]


def test_audience_and_missing_cohort(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database) -> None:
    rs = rules(tmp_path, engine, """
  - id: ten_days
    trigger: {before_training: 10, at: "10:00"}
    audience: {department: warehouse}
    message: nudge_training_in_10_days
  - id: task_due
    trigger: {before_task_due: 2}
    message: nudge_task_due
""")
    bind(engine, demo, "王伟", 1)  # production: not in the audience of ten_days
    bind(engine, demo, "林峰", 2)  # no cohort: no training date, so no date rules (and no crash)
    run(engine, rs, at("2026-12-05", "10:00"))
    run(engine, rs, at("2026-12-05", "10:01"))
    # Recorded once, so HR can see why 林峰 gets no reminders; 王伟 is simply not in that audience.
    assert outbox(db) == [("task_due", "skipped", "no training date: not in a cohort yet; date reminders start "
                                                 "once HR assigns one")]
    with db.session() as s:
        assert s.exec(select(Outbox)).one().candidate_id == 19


def test_weekly_cap_with_priorities(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database) -> None:
    rs = rules(tmp_path, engine, """
  - id: news
    trigger: {weekly: friday, at: "17:00"}
    message: nudge_friday_news
    priority: 10
  - id: ten_days
    trigger: {before_training: 10, at: "10:00"}
    message: nudge_training_in_10_days
    priority: 80
  - id: task_due
    trigger: {before_task_due: 2, at: "10:00"}
    message: nudge_task_due
    priority: 90
""")
    bind(engine, demo, "张三", 1)  # ID copy handed in; health certificate and photos due 10 Dec
    run(engine, rs, at("2026-11-27", "17:00"))
    # Friday 4 Dec: the news would leave no room for the reminders due on 5 and 8 Dec.
    run(engine, rs, at("2026-12-04", "17:00"))
    assert outbox(db)[1:] == [
        ("news", "skipped", "weekly cap: keeping room for 2 higher-priority message(s) due in the next 7 days")]
    run(engine, rs, at("2026-12-05", "10:00"))
    run(engine, rs, at("2026-12-08", "10:00"))
    assert [r[:2] for r in outbox(db)][2:] == [("ten_days", "pending"), ("task_due", "pending")]
    # Two automated messages in the last 7 days: next Friday's news is held back and says why.
    run(engine, rs, at("2026-12-11", "17:00"))
    assert outbox(db)[-1] == ("news", "skipped", "weekly cap: 2 automated messages in the last 7 days (at most 2)")


def test_deadlines_beat_the_general_reminder(tmp_path: Path, engine: Engine, demo: dict[str, str],
                                             db: Database) -> None:
    rs = rules(tmp_path, engine, """
  - id: ten_days
    trigger: {before_training: 10, at: "10:00"}
    message: nudge_training_in_10_days
    priority: 80
  - id: task_due
    trigger: {before_task_due: 2, at: "10:00"}
    message: nudge_task_due
    priority: 90
""")
    bind(engine, demo, "王伟", 1)  # deadlines on 8 Dec (ID copy) and 10 Dec (health certificate, photos)
    for day in ("2026-12-05", "2026-12-06", "2026-12-08"):
        run(engine, rs, at(day, "10:00"))
    assert outbox(db) == [
        ("ten_days", "skipped", "weekly cap: keeping room for 2 higher-priority message(s) due in the next 7 days"),
        ("task_due", "pending", None),
        ("task_due", "pending", None),
    ]


def test_hr_messages_do_not_count(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database) -> None:
    from bot.outbox.store import enqueue

    rs = rules(tmp_path, engine, """
  - id: news
    trigger: {weekly: friday, at: "17:00"}
    message: nudge_friday_news
""")
    bind(engine, demo, "王伟", 1)
    with db.session() as s:
        for i in range(3):
            enqueue(s, dedupe_key=f"hr:{i}", kind="message", chat_id=1, text="hi", now=at("2026-11-27", "11:00"))
    run(engine, rs, at("2026-11-27", "17:00"))
    assert outbox(db)[-1] == ("news", "pending", None)


def test_quiet_hours_hold_until_morning(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database) -> None:
    rs = rules(tmp_path, engine, """
  - id: offer_out
    trigger: {stage_entered: waiting_training, delay: 12h}
    message: nudge_after_interview
""")
    bind(engine, demo, "王伟", 1)  # at waiting_training since 10:00: due 22:00, in the quiet hours
    run(engine, rs, at("2026-11-27", "22:00"))
    run(engine, rs, at("2026-11-28", "08:59"))
    assert outbox(db) == []
    run(engine, rs, at("2026-11-28", "09:00"))
    assert [r[1] for r in outbox(db)] == ["pending"]


def test_stale_after_downtime(tmp_path: Path, engine: Engine, demo: dict[str, str], db: Database) -> None:
    rs = rules(tmp_path, engine, """
  - id: ten_days
    trigger: {before_training: 10, at: "10:00"}
    message: nudge_training_in_10_days
  - id: news
    trigger: {weekly: friday, at: "17:00"}
    message: nudge_friday_news
""")
    bind(engine, demo, "王伟", 1)
    # The server was down from Friday 4 Dec until Monday 7 Dec 10:00.
    run(engine, rs, at("2026-12-07", "10:00"))
    assert outbox(db) == [
        ("news", "skipped", "stale: fell due 2026-12-04 17:00, worth sending until 2026-12-05 17:00"),
        ("ten_days", "skipped", "stale: fell due 2026-12-05 10:00, worth sending until 2026-12-07 10:00"),
    ]


def test_dedupe_across_restart(tmp_path: Path, engine: Engine, demo: dict[str, str], settings: Settings) -> None:
    rs = rules(tmp_path, engine, """
  - id: news
    trigger: {weekly: friday, at: "17:00"}
    message: nudge_friday_news
""")
    bind(engine, demo, "王伟", 1)
    for _ in range(3):  # three processes, one after the other, each with its own connection pool
        fresh = Database(settings.database_url)
        tick(fresh, settings, rs, at("2026-11-27", "17:05"))
        fresh.dispose()
    assert len(outbox(engine.ctx.db)) == 1


def test_unreachable_candidates_are_not_planned(tmp_path: Path, engine: Engine, demo: dict[str, str],
                                                db: Database, clock: FixedClock) -> None:
    rs = rules(tmp_path, engine, """
  - id: news
    trigger: {weekly: friday, at: "17:00"}
    message: nudge_friday_news
""")
    chat = bind(engine, demo, "王伟", 1)
    with db.session() as s:
        cand = s.exec(select(Candidate).where(Candidate.name == "王伟")).one()
        cand.unreachable_at = clock.now()
        s.add(cand)
    run(engine, rs, at("2026-11-27", "17:00"))
    assert outbox(db) == []
    chat.send("/status")  # they came back: reachable again
    run(engine, rs, at("2026-12-04", "17:00"))
    assert outbox(db) == [
        ("news", "skipped", "stale: fell due 2026-11-27 17:00, worth sending until 2026-11-28 17:00"),
        ("news", "pending", None),
    ]


def test_shipped_rules_cadence(engine: Engine, demo: dict[str, str], db: Database) -> None:
    """The demo's five rules over three weeks for one candidate: at most two a week, never at night."""
    chat = bind(engine, demo, "张三", 1)
    assert chat.texts()
    rs = engine.ctx.rules
    t = at("2026-11-27", "10:00")
    while t < at("2026-12-18", "10:00"):
        run(engine, rs, t)
        with db.session() as s:  # the sender's part, done at once
            s.execute(update(Outbox).where(col(Outbox.status) == "pending").values(status="sent"))
        t += timedelta(minutes=30)
    with db.session() as s:
        sent = s.exec(select(Outbox).where(Outbox.status == "sent")).all()
    times = sorted(o.planned_at for o in sent)
    assert times, "some nudges are due in three weeks"
    for i, when in enumerate(times):
        assert sum(1 for w in times[: i + 1] if when - w < timedelta(days=7)) <= 2
        assert 9 <= when.astimezone(SHANGHAI).hour < 21
    assert {o.rule_id for o in sent} >= {"training_in_10_days", "task_due_in_2_days"}


def test_cache_skips_nothing_that_falls_due(engine: Engine, demo: dict[str, str], db: Database,
                                            clock: FixedClock) -> None:
    """The elected process skips candidates whose state is unchanged and who have nothing due. Check it: after
    every cached tick over three weeks, a tick without the cache must find nothing more to do."""
    from bot.nudges.planner import PlannerCache

    zhang = bind(engine, demo, "张三", 1)
    bind(engine, demo, "罗斌", 2)
    bind(engine, demo, "朱婷", 3)
    cache = PlannerCache()
    settings, rs = engine.ctx.settings, engine.ctx.rules
    t = at("2026-11-27", "10:00")
    step = awake = 0
    while t < at("2026-12-18", "10:00"):
        awake += not (t.hour >= 21 or t.hour < 9)  # ticks outside the quiet hours do the work
        cached = tick(db, settings, rs, t, cache)
        check = tick(db, settings, rs, t)
        assert (check.queued, check.skipped, check.dropped) == (0, 0, 0), (t, cached, check)
        with db.session() as s:  # the sender's part, done at once
            s.execute(update(Outbox).where(col(Outbox.status) == "pending").values(status="sent"))
        step += 1
        if step == 100:  # state changes the cache must notice: activity, a task handed in, a new stage
            clock.set(t)
            zhang.send("/status")
            with db.session() as s:
                cand = s.exec(select(Candidate).where(Candidate.name == "罗斌")).one()
                s.add(CandidateTask(candidate_id=cand.id, task_id="id_copy", status="done", updated_at=t))
                zhu = s.exec(select(Candidate).where(Candidate.name == "朱婷")).one()
                set_stage(s, settings, zhu, "background_check", "test", t)
        t += timedelta(minutes=30)
    with db.session() as s:
        assert len(s.exec(select(Outbox).where(Outbox.status == "sent")).all()) >= 6
    assert cache.hits > 0.8 * 3 * awake  # most daytime ticks skipped most candidates
