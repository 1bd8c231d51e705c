"""The risk score: each reason appears when, and only when, its signal is there; as_of and before_outcome keep later
events out; the order follows the signals; a weight that is not a number is one clear sentence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.analytics.evaluate import evaluate
from bot.analytics.risk import SIGNALS, reason_texts, score_candidates, top_at_risk
from bot.config import ConfigError, Settings, load_settings
from bot.i18n import Texts
from store.db import Database
from store.models import (
    Candidate,
    CandidateTask,
    FaqQuery,
    Interaction,
    LessonProgress,
    Outbox,
    RiskSignal,
    Ticket,
)
from tests.conftest import NOW, ROOT

T0 = NOW.astimezone(UTC)
COHORT = "prod-2026-12"  # training 2026-12-15; NOW is 18 days before
DOCS = ("health_certificate", "id_copy", "photos")


@dataclass
class Ctx:
    settings: Settings


def with_thresholds(settings: Settings, **values: Any) -> Ctx:
    risk = settings.file.risk
    risk = risk.model_copy(update={"thresholds": risk.thresholds.model_copy(update=values)})
    file = settings.file.model_copy(update={"risk": risk})
    out = load_settings(ROOT / "config.yaml", env=settings.env)
    out.file = file
    return Ctx(out)


def make_cohort(db: Database, n: int = 5) -> list[int]:
    """n candidates doing everything on time: bound, seen an hour ago, 2 lessons passed, documents handed in."""
    ids = []
    with db.session() as s:
        for i in range(n):
            c = Candidate(name=f"C{i}", phone=f"+861380000{i:04d}", role="line_operator", department="production",
                          cohort_id=COHORT, stage="waiting_training", stage_changed_at=T0 - timedelta(days=20),
                          telegram_user_id=500 + i, telegram_chat_id=500 + i, bound_at=T0 - timedelta(days=15),
                          created_at=T0 - timedelta(days=20), updated_at=T0 - timedelta(days=20))
            s.add(c)
            s.flush()
            assert c.id is not None
            ids.append(c.id)
            s.add(Interaction(candidate_id=c.id, kind="text", at=T0 - timedelta(hours=1)))
            for lesson in ("culture", "safety"):
                s.add(LessonProgress(candidate_id=c.id, lesson_id=lesson, attempts=1, best_correct=3, questions=3,
                                     passed_at=T0 - timedelta(days=5), updated_at=T0 - timedelta(days=5)))
            for task in DOCS:
                s.add(CandidateTask(candidate_id=c.id, task_id=task, status="done",
                                    updated_at=T0 - timedelta(days=3)))
    return ids


def reasons(db: Database, ctx: Any, at: datetime = T0, **kw: Any) -> dict[int, set[str]]:
    with db.session() as s:
        return {r.candidate_id: {k.removeprefix("risk_reason_") for k in r.reasons}
                for r in score_candidates(s, ctx, at, **kw)}


def add(db: Database, *rows: Any) -> None:
    with db.session() as s:
        for r in rows:
            s.add(r)


def update(db: Database, model: Any, change: Callable[[Any], None], **where: Any) -> None:
    with db.session() as s:
        from sqlmodel import select

        for row in s.exec(select(model).filter_by(**where)).all():
            change(row)
            s.add(row)


def check_only(db: Database, ctx: Any, signal: str, x: int, make: Callable[[], None], at: datetime = T0) -> None:
    """Before ``make``: x does not have ``signal``. After: x has exactly its former reasons plus ``signal``, and
    nobody else's reasons moved."""
    before = reasons(db, ctx, at)
    assert signal not in before[x], before
    make()
    after = reasons(db, ctx, at)
    assert after[x] == before[x] | {signal}, (before[x], after[x])
    assert {k: v for k, v in after.items() if k != x} == {k: v for k, v in before.items() if k != x}


@pytest.fixture
def ids(db: Database) -> list[int]:
    return make_cohort(db)


@pytest.fixture
def ctx(settings: Settings) -> Ctx:
    return Ctx(settings)


def test_a_cohort_doing_everything_has_no_reasons_and_score_zero(db: Database, ctx: Ctx, ids: list[int]) -> None:
    with db.session() as s:
        risks = score_candidates(s, ctx, T0)
    assert {r.candidate_id for r in risks} == set(ids)
    assert all(r.score == 0 and r.reasons == () and set(r.features) == set(SIGNALS) for r in risks)


def test_inactive_relative_to_the_cohort(db: Database, ctx: Ctx, ids: list[int]) -> None:
    x = ids[0]
    check_only(db, ctx, "inactive", x, lambda: update(
        db, Interaction, lambda r: setattr(r, "at", T0 - timedelta(days=9)), candidate_id=x))
    # When the whole cohort is as quiet, nobody stands out.
    update(db, Interaction, lambda r: setattr(r, "at", T0 - timedelta(days=9)))
    assert all("inactive" not in r for r in reasons(db, ctx).values())


def test_lessons_behind_the_cohort(db: Database, ctx: Ctx, ids: list[int]) -> None:
    x = ids[1]
    check_only(db, ctx, "lessons_behind", x, lambda: update(
        db, LessonProgress, lambda r: setattr(r, "passed_at", None), candidate_id=x))


def test_deadline_missed_and_near(db: Database, settings: Settings, ids: list[int]) -> None:
    ctx = with_thresholds(settings, training_soon_days=0)
    x, y = ids[2], ids[3]
    after_due = datetime(2026, 12, 11, 12, 0, tzinfo=UTC)  # health certificate was due 12-10
    # Everyone keeps writing, so silence is not what is measured here.
    add(db, *[Interaction(candidate_id=c, kind="text", at=after_due - timedelta(hours=2)) for c in ids])
    check_only(db, ctx, "deadline_missed", x, lambda: update(
        db, CandidateTask, lambda r: setattr(r, "status", "open"), candidate_id=x, task_id="health_certificate"),
        at=after_due)
    update(db, CandidateTask, lambda r: setattr(r, "status", "submitted"), candidate_id=x, task_id="health_certificate")
    near = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)  # 2 days before the photos' due date
    add(db, *[Interaction(candidate_id=c, kind="text", at=near - timedelta(hours=2)) for c in ids])
    check_only(db, ctx, "deadline_near", y, lambda: update(
        db, CandidateTask, lambda r: setattr(r, "status", "open"), candidate_id=y, task_id="photos"), at=near)
    # Handed in, not yet checked: not missed.
    assert "deadline_missed" not in reasons(db, ctx, after_due)[x]


def test_unreachable(db: Database, ctx: Ctx, ids: list[int]) -> None:
    x = ids[0]
    check_only(db, ctx, "unreachable", x, lambda: update(
        db, Candidate, lambda r: setattr(r, "unreachable_at", T0 - timedelta(minutes=30)), id=x))


def test_withdrawal_intent_from_a_signal_or_a_withdrawal_ticket(db: Database, ctx: Ctx, ids: list[int]) -> None:
    x, y = ids[0], ids[1]
    check_only(db, ctx, "withdrawal_intent", x, lambda: add(
        db, RiskSignal(candidate_id=x, kind="withdrawal_intent", at=T0 - timedelta(hours=3))))
    check_only(db, ctx, "withdrawal_intent", y, lambda: add(
        db, Ticket(kind="withdrawal", candidate_id=y, question="...", created_at=T0 - timedelta(hours=3),
                   status="answered", answered_at=T0 - timedelta(hours=2))))


def test_open_ticket_of_any_kind_after_a_day(db: Database, ctx: Ctx, ids: list[int]) -> None:
    x, y = ids[0], ids[1]
    # Asked an hour ago: not yet late.
    add(db, Ticket(kind="question", candidate_id=y, question="q", created_at=T0 - timedelta(hours=1)))
    check_only(db, ctx, "open_ticket", x, lambda: add(
        db, Ticket(kind="feedback", candidate_id=x, question="f", created_at=T0 - timedelta(days=2))))
    # Answered: gone.
    update(db, Ticket, lambda r: (setattr(r, "status", "answered"), setattr(r, "answered_at", T0)), candidate_id=x)
    assert "open_ticket" not in reasons(db, ctx, T0 + timedelta(minutes=1))[x]


def test_negative_faq_votes(db: Database, ctx: Ctx, ids: list[int]) -> None:
    x = ids[4]
    add(db, FaqQuery(candidate_id=ids[0], at=T0 - timedelta(hours=2), text="q", outcome="answer", vote="up",
                     voted_at=T0 - timedelta(hours=2)))
    check_only(db, ctx, "faq_down_votes", x, lambda: add(
        db, FaqQuery(candidate_id=x, at=T0 - timedelta(hours=2), text="q", outcome="answer", vote="down",
                     voted_at=T0 - timedelta(hours=2))))


def test_quiet_after_a_nudge(db: Database, ctx: Ctx, ids: list[int]) -> None:
    x, y = ids[0], ids[1]
    later = T0 + timedelta(hours=50)
    add(db, *[Interaction(candidate_id=c, kind="text", at=later - timedelta(hours=1)) for c in ids if c != x])

    def nudge(cid: int, at: datetime) -> Outbox:
        return Outbox(dedupe_key=f"n{cid}{at}", kind="nudge", candidate_id=cid, chat_id=cid, due_at=at,
                      planned_at=at, status="sent", sent_at=at)

    # y was nudged and came back: not quiet.
    add(db, nudge(y, T0 - timedelta(hours=5)))
    # x is also quiet for 51 hours in a cohort that wrote an hour ago; quiet after a nudge is what is added.
    check_only(db, ctx, "quiet_after_nudge", x, lambda: add(db, nudge(x, T0 - timedelta(minutes=30))), at=later)
    # 47 hours after the nudge: too early to say.
    assert "quiet_after_nudge" not in reasons(db, ctx, T0 + timedelta(hours=47))[x]


def test_training_soon_with_work_open(db: Database, ctx: Ctx, ids: list[int]) -> None:
    x = ids[0]
    soon = datetime(2026, 12, 12, 1, 0, tzinfo=UTC)  # 3 days before training, after every document's due date
    add(db, *[Interaction(candidate_id=c, kind="text", at=soon - timedelta(hours=1)) for c in ids])
    before = reasons(db, ctx, soon)
    assert all(not r for r in before.values())  # training is close, but nothing is open: nothing to say
    update(db, LessonProgress, lambda r: setattr(r, "passed_at", None), candidate_id=x, lesson_id="safety")
    # One lesson behind a cohort that passed two: lessons_behind and training_soon come together.
    assert reasons(db, ctx, soon)[x] == {"lessons_behind", "training_soon"}


def test_as_of_ignores_what_happened_later_and_before_outcome_stops_at_the_outcome(
        db: Database, ctx: Ctx, ids: list[int]) -> None:
    x = ids[0]
    add(db, RiskSignal(candidate_id=x, kind="withdrawal_intent", at=T0 + timedelta(days=1)))
    assert "withdrawal_intent" not in reasons(db, ctx, T0)[x]
    assert "withdrawal_intent" in reasons(db, ctx, T0 + timedelta(days=2))[x]
    # Marked withdrawn before the signal: scored as they stood then, the signal does not count.
    update(db, Candidate, lambda r: (setattr(r, "outcome", "withdrawn"),
                                     setattr(r, "outcome_at", T0 + timedelta(hours=12))), id=x)
    assert "withdrawal_intent" not in reasons(db, ctx, T0 + timedelta(days=2), before_outcome=True)[x]
    with db.session() as s:
        risk = next(r for r in score_candidates(s, ctx, T0 + timedelta(days=2), before_outcome=True)
                    if r.candidate_id == x)
    assert risk.as_of == T0 + timedelta(hours=12)


def test_order_follows_the_signals_and_texts_read_in_both_languages(
        db: Database, ctx: Ctx, ids: list[int], settings: Settings) -> None:
    a, b, c = ids[0], ids[1], ids[2]
    add(db, RiskSignal(candidate_id=a, kind="withdrawal_intent", at=T0 - timedelta(hours=1)))
    update(db, Candidate, lambda r: setattr(r, "unreachable_at", T0 - timedelta(hours=1)), id=a)
    update(db, LessonProgress, lambda r: setattr(r, "passed_at", None), candidate_id=b)
    update(db, Interaction, lambda r: setattr(r, "at", T0 - timedelta(days=12)), candidate_id=b)
    update(db, Interaction, lambda r: setattr(r, "at", T0 - timedelta(days=6)), candidate_id=c)
    with db.session() as s:
        risks = score_candidates(s, ctx, T0)
    assert [r.candidate_id for r in risks][:3] == [a, b, c]
    assert risks[0].score == 85 and risks[0].score > risks[1].score > risks[2].score > 0
    texts = Texts.load(settings.content_dir, settings.locales, settings.default_locale)
    zh = reason_texts(risks[1], settings, texts, "zh-CN")
    en = reason_texts(risks[1], settings, texts, "en")
    assert zh[0].startswith("12 天没有互动") and en[0].startswith("no interaction for 12 days"), (zh, en)
    assert "完成 0 节课" in zh[1] and "0 lessons passed" in en[1]


def test_evaluate_measures_separation_and_says_when_too_few() -> None:
    perfect = [(90.0, True)] * 10 + [(10.0, False)] * 90
    out = evaluate(perfect)
    assert out["auc"] == 1.0 and out["top_decile_lift"] == 10.0 and out["n"] == 100 and out["withdrawn"] == 10
    assert evaluate([(50.0, i % 2 == 0) for i in range(100)])["auc"] == 0.5
    few = evaluate([(90.0, True)] * 3 + [(10.0, False)] * 50)
    assert few["auc"] is None and few["top_decile_lift"] is None and few["enough"] is False
    assert evaluate([])["n"] == 0


def test_a_weight_that_is_not_a_number_is_one_clear_sentence(tmp_path: Path) -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("inactive: 30 ", "inactive: lots ")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    (problem,) = err.value.problems
    assert "risk.weights.inactive" in str(problem) and "number" in str(problem)


def test_the_fast_first_pass_keeps_exactly_those_the_full_score_puts_above(db: Database, ctx: Ctx) -> None:
    from tests.analytics_world import populate

    populate(db, 1500, T0, seed=11)
    with db.session() as s:
        full = score_candidates(s, ctx, T0)
        for threshold in (1, 20, 40, 60):
            fast = score_candidates(s, ctx, T0, min_score=threshold)
            assert [(r.candidate_id, r.score, r.reasons) for r in fast] == \
                [(r.candidate_id, r.score, r.reasons) for r in full if r.score >= threshold]
            above = [(r.candidate_id, r.score, r.reasons, r.details) for r in full if r.score >= threshold]
            for top in (1, 10, 37):  # /atrisk: reasons only for the first few, and the count of all
                listed, total = top_at_risk(s, ctx, T0, where=None, min_score=threshold, top=top)
                assert total == len(above)
                assert [(r.candidate_id, r.score, r.reasons, r.details) for r in listed] == above[:top]
        # The first pass counts exactly as the detailed one at every score there is (same arithmetic, same order).
        for threshold in sorted({r.score for r in full} | {r.score + 1 for r in full}):
            _, total = top_at_risk(s, ctx, T0, where=None, min_score=threshold, top=1)
            assert total == sum(1 for r in full if r.score >= threshold), threshold
    assert sum(1 for r in full if r.score >= 40) > 50  # the world has people at risk to compare
