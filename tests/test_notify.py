"""The one HR notifier: who is told is decided in one place, each in their language, through the outbox."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.engine.core import Engine
from bot.engine.notify import HrRecipient
from store.models import Candidate, Outbox
from tests.chat import Chat

HR, SCOPED_EN = 100000001, 424242


def test_tickets_go_to_whom_the_resolver_names_in_their_language(engine: Engine, demo: dict[str, str]) -> None:
    def production_only(session: Session, cand: Candidate | None) -> list[HrRecipient]:
        if cand is not None and cand.department == "production":
            return [HrRecipient(HR, "zh-CN"), HrRecipient(SCOPED_EN, "en")]
        return [HrRecipient(HR, "zh-CN")]

    engine.ctx.hr.recipients = production_only
    zhang = Chat(engine, 1)
    zhang.send(f"/start {demo['张三']}")  # production
    zhang.send("我找到别的工作了")  # a withdrawal alert
    assert "流失预警" in zhang.texts(HR)
    english = zhang.texts(SCOPED_EN)
    assert "张三" in english and "流失预警" not in english  # the English text of the same alert
    with engine.ctx.db.session() as s:
        rows = s.exec(select(Outbox).where(Outbox.kind == "hr_alert")).all()
        assert {r.chat_id for r in rows} == {HR, SCOPED_EN} and all(r.urgent and r.status == "sent" for r in rows)

    with engine.ctx.db.session() as s:
        other = s.exec(select(Candidate).where(Candidate.department != "production",
                                               Candidate.telegram_user_id.is_(None))).first()  # type: ignore[union-attr]
        assert other is not None
        token_name = other.name
    qc = Chat(engine, 2)
    qc.send(f"/start {demo[token_name]}")
    qc.send("我找到别的工作了")
    assert "流失预警" in qc.texts(HR) and qc.texts(SCOPED_EN) == ""


def test_with_nobody_in_hr_the_candidate_still_gets_an_answer(engine: Engine, demo: dict[str, str]) -> None:
    engine.ctx.hr.recipients = lambda session, cand: []
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send("我找到别的工作了")
    assert chat.texts() and [s for s in chat.last if getattr(s, "chat_id", 1) != 1] == []
