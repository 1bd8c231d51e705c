"""HR's analytics in chat: /stats (text and PNG charts in both languages, in the shipped CJK font), /atrisk (ordered
as the signals say, with its one-tap actions), the risk line on the card, /report, the daily digest by time travel,
and bad input (unknown or out-of-scope cohort, a cohort with no candidates)."""

from __future__ import annotations

import re
import struct
from datetime import timedelta
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from sqlmodel import select

from bot.analytics import charts, digest
from bot.clock import FixedClock
from bot.engine.core import Engine
from bot.engine.effects import Say, SendMedia
from bot.hr import members
from bot.i18n import Texts
from store.db import Database
from store.models import Candidate, Interaction, LessonProgress, Outbox, RiskSignal, Ticket
from tests.chat import Chat
from tests.conftest import HR_ADMIN, NOW

SCOPED, VIEWER = 200000001, 200000002
T0 = NOW


def add_member(engine: Engine, db: Database, telegram_id: int, role: str, departments: str = "") -> None:
    with db.session() as s:
        members.add(s, engine.ctx.settings, telegram_id, role=role, departments=departments, name=None,
                    actor="test", now=NOW)
    engine.ctx.staff.refresh()


def cand(db: Database, name: str) -> Candidate:
    with db.session() as s:
        return s.exec(select(Candidate).where(Candidate.name == name)).one()


def png_size(path: str) -> tuple[int, int]:
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def seed_risk(db: Database) -> dict[str, int]:
    """Three candidates of the December cohort with signals of decreasing strength; the rest are active."""
    ids = {}
    with db.session() as s:
        rows = s.exec(select(Candidate).where(Candidate.cohort_id == "prod-2026-12")).all()
        for c in rows:
            assert c.id is not None
            ids[c.name] = c.id
            c.bound_at = T0 - timedelta(days=14)
            c.telegram_user_id = c.telegram_chat_id = 700_000 + c.id
            s.add(c)
            s.add(Interaction(candidate_id=c.id, kind="text", at=T0 - timedelta(hours=2)))
            s.add(LessonProgress(candidate_id=c.id, lesson_id="company_culture", attempts=1, best_correct=3,
                                 questions=3, passed_at=T0 - timedelta(days=3), updated_at=T0))
    with db.session() as s:
        # 张三: said he may not come and blocked the bot (50 + 35).
        s.add(RiskSignal(candidate_id=ids["张三"], kind="withdrawal_intent", at=T0 - timedelta(hours=5)))
        zs = s.get(Candidate, ids["张三"])
        assert zs is not None
        zs.unreachable_at = T0 - timedelta(hours=1)
        s.add(zs)
        # 李娜: silent for 12 days, no lesson where the cohort has one, a question unanswered (30 + 7 + 10).
        for row in s.exec(select(Interaction).where(Interaction.candidate_id == ids["李娜"])).all():
            row.at = T0 - timedelta(days=12)
            s.add(row)
        for row in s.exec(select(LessonProgress).where(LessonProgress.candidate_id == ids["李娜"])).all():
            row.passed_at = None
            s.add(row)
        # 王伟: silent for 12 days (30), a question unanswered for two days (10).
        for row in s.exec(select(Interaction).where(Interaction.candidate_id == ids["王伟"])).all():
            row.at = T0 - timedelta(days=12)
            s.add(row)
        for name in ("李娜", "王伟"):
            s.add(Ticket(kind="question", candidate_id=ids[name], question="宿舍怎么申请?",
                         created_at=T0 - timedelta(days=2)))
    return ids


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_stats_sends_a_summary_and_readable_pngs_in_the_shipped_cjk_font(
        engine: Engine, demo: dict[str, str], db: Database, lang: str) -> None:
    seed_risk(db)
    hr = Chat(engine, HR_ADMIN, language_code=lang)
    hr.send("/stats")
    text = hr.texts()
    assert ("漏斗" in text) if lang == "zh-hans" else ("Funnel" in text), text
    photos = [e for e in hr.last if isinstance(e, SendMedia)]
    assert photos and all(p.kind == "photo" for p in photos)
    for p in photos:
        width, height = png_size(p.path)
        assert width == 1080 and 300 <= height <= 2000
        assert 10_000 < Path(p.path).stat().st_size < 1_000_000
    # The font the charts use has every character of every chart label in Chinese.
    assert charts.font_name() == "Noto Sans SC"
    cmap = TTFont(str(charts.font_path()), fontNumber=0).getBestCmap()
    texts = Texts.load(engine.ctx.settings.content_dir, engine.ctx.settings.locales, "zh-CN")
    labels = "".join(str(texts.raw("zh-CN", k)) for k in texts.messages["zh-CN"]
                     if k.startswith(("stats_chart", "stats_step", "stats_kind")))
    labels += "".join(t["zh-CN"] for t in (c.title for c in engine.ctx.settings.file.tasks))
    missing = {ch for ch in labels if ord(ch) > 0x2E80 and ord(ch) not in cmap}
    assert len({ch for ch in labels if ord(ch) > 0x2E80}) > 40
    assert not missing, missing


def test_stats_for_one_cohort_and_bad_input(engine: Engine, demo: dict[str, str], db: Database) -> None:
    hr = Chat(engine, HR_ADMIN, language_code="en")
    hr.send("/stats wh-2027-01")
    assert "cohort wh-2027-01" in hr.texts() and hr.media()
    hr.send("/stats nope-2027")
    assert hr.texts().startswith('There is no cohort "nope-2027"') and not hr.media()
    hr.send("/stats a b")
    assert hr.texts().startswith("Usage: /stats")
    # A member of the warehouse asking for production: answered as if it did not exist.
    add_member(engine, db, SCOPED, "hr", departments="warehouse")
    scoped = Chat(engine, SCOPED, language_code="en")
    scoped.send("/stats prod-2026-12")
    assert scoped.texts().startswith('There is no cohort "prod-2026-12"') and "wh-2027-01" in scoped.texts()
    scoped.send("/stats")
    assert "6 invited" in scoped.texts()  # the warehouse's six demo candidates only
    # A cohort with no candidates: one sentence, no chart.
    with db.session() as s:
        for c in s.exec(select(Candidate).where(Candidate.cohort_id == "qa-2027-01")).all():
            c.cohort_id = None
            s.add(c)
    hr.send("/stats qa-2027-01")
    assert hr.texts() == "Cohort qa-2027-01 has no candidates yet: nothing to count, no chart." and not hr.media()
    hr.send("/report qa-2027-01")
    assert "no candidates yet" in hr.texts() and not hr.media()


def test_atrisk_orders_by_signals_and_its_buttons_act(engine: Engine, demo: dict[str, str], db: Database) -> None:
    ids = seed_risk(db)
    hr = Chat(engine, HR_ADMIN, language_code="en")
    hr.send("/atrisk")
    text = hr.texts()
    order = [m.group(1) for m in re.finditer(r"^\d+\. (\S+) \(#", text, re.M)]
    assert order[:3] == ["张三", "李娜", "王伟"], text
    assert "said they might not come" in text and "blocked the bot" in text
    assert "no interaction for 12 days" in text and "0 lessons passed, the cohort 1" in text
    # Call: the phone. Note: the 1:1 message prompt. Withdrawn: the console's reasons.
    hr.click("📞 1.")
    assert "+8613800000001" in hr.texts()
    hr.send("/atrisk")
    hr.click("✉️ 2.")
    assert f"#to{ids['李娜']}" in hr.texts()
    hr.send("/atrisk")
    hr.click("🚪 3.")
    hr.click(hr.says()[-1].buttons[0][0].data)
    assert cand(db, "王伟").outcome == "withdrawn"
    hr.send("/atrisk")
    assert "王伟" not in hr.texts()  # an outcome takes them off the list
    # The card shows the score and its reasons.
    hr.send("/find 0000 0001")
    assert "Risk 85/100" in hr.texts() and "said they might not come" in hr.texts()


def test_atrisk_respects_scope_and_role(engine: Engine, demo: dict[str, str], db: Database) -> None:
    seed_risk(db)
    add_member(engine, db, SCOPED, "hr", departments="warehouse")
    add_member(engine, db, VIEWER, "viewer", departments="production")
    warehouse = Chat(engine, SCOPED, language_code="en")
    warehouse.send("/atrisk")
    assert "张三" not in warehouse.texts() and warehouse.texts().startswith("Nobody")
    viewer = Chat(engine, VIEWER, language_code="en")
    viewer.send("/atrisk")
    assert "张三" in viewer.texts()
    data = [b.data for s in viewer.says() for row in s.buttons for b in row]
    assert not any(d.startswith("card:") for d in data)  # a viewer reads: no note, no withdrawn
    # A forged call button for someone out of scope: not found.
    zs = cand(db, "张三")
    warehouse.press(viewer.button("📞 1."))
    assert "+8613800000001" not in warehouse.texts() and str(zs.id) in warehouse.texts()


def test_report_in_chat_is_one_self_contained_html_document(
        engine: Engine, demo: dict[str, str], db: Database) -> None:
    seed_risk(db)
    hr = Chat(engine, HR_ADMIN)
    hr.send("/report prod-2026-12")
    (doc,) = hr.media()
    assert doc.kind == "document" and doc.path.endswith(".html")
    page = Path(doc.path).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>")
    assert not re.search(r"https?://", page)
    assert page.count('src="data:image/png;base64,') >= 2 and "张三" in page
    assert '<meta name="viewport"' in page and "@media print" in page
    from html.parser import HTMLParser

    HTMLParser().feed(page)  # parses without error


def test_digest_at_nine_in_scope_only_and_not_when_nothing_changed(
        engine: Engine, demo: dict[str, str], db: Database, clock: FixedClock) -> None:
    seed_risk(db)
    add_member(engine, db, SCOPED, "hr", departments="warehouse")
    ctx = engine.ctx
    morning = NOW.replace(hour=8, minute=59) + timedelta(days=1)
    clock.set(morning)
    assert digest.run(db, ctx, clock.now()) == 0  # before 09:00 company time: nothing decided
    clock.set(morning + timedelta(minutes=1))
    assert digest.run(db, ctx, clock.now()) == 1  # the admin; the warehouse member has nobody at risk
    assert digest.run(db, ctx, clock.now()) == 0  # once a day
    with db.session() as s:
        rows = s.exec(select(Outbox).where(Outbox.kind == "digest")).all()
    sent = {r.chat_id: r for r in rows}
    assert sent[HR_ADMIN].status == "pending" and "张三" in (sent[HR_ADMIN].text or "")
    assert sent[SCOPED].status == "skipped"
    # The next day, the same people for the same reasons: nothing is sent.
    clock.set(morning + timedelta(days=1, minutes=1))
    assert digest.run(db, ctx, clock.now()) == 0
    # A new signal the day after: sent, marking who is new.
    with db.session() as s:
        s.add(RiskSignal(candidate_id=cand(db, "周敏").id or 0, kind="withdrawal_intent", at=clock.now()))
    clock.set(morning + timedelta(days=2, minutes=1))
    assert digest.run(db, ctx, clock.now()) == 1
    with db.session() as s:
        last = s.exec(select(Outbox).where(Outbox.kind == "digest", Outbox.chat_id == HR_ADMIN,
                                           Outbox.status == "pending").order_by(Outbox.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None and "周敏" in (last.text or "") and "🆕" in (last.text or "")
    # Delivered like any outbox row.
    hr = Chat(engine, HR_ADMIN)
    hr.outbox.run_due()
    assert any(isinstance(m, Say) and "周敏" in m.text for m in hr.delivered)
