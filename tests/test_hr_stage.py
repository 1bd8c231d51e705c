"""/stage by HR admins; everyone else is refused and nothing changes."""

from __future__ import annotations

from sqlmodel import select

from bot.engine.core import Engine
from store.db import Database
from store.models import AuditLog, Candidate
from tests.chat import Chat

HR = 100000001  # from config.yaml


def stage_of(db: Database, name: str) -> str:
    with db.session() as s:
        return s.exec(select(Candidate).where(Candidate.name == name)).one().stage


def test_hr_moves_a_bound_candidate_and_they_are_told(engine: Engine, demo: dict[str, str], db: Database) -> None:
    cand = Chat(engine, 5001)
    cand.send(f"/start {demo['杨帆']}")
    hr = Chat(engine, HR)
    hr.send("/stage +86 138 0000 0006 waiting_training")  # phone with spaces still resolves
    assert "杨帆" in hr.texts() and "待入职" in hr.texts() and "已通知本人" in hr.texts()
    to_candidate = hr.texts(chat_id=5001)
    assert "你的入职进度有更新:待入职" in to_candidate
    assert stage_of(db, "杨帆") == "waiting_training"
    with db.session() as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "set_stage")).one()
    assert audit.actor == f"hr:{HR}" and audit.detail == "offer_sent -> waiting_training"


def test_hr_by_id_and_external_id(engine: Engine, demo: dict[str, str], db: Database) -> None:
    hr = Chat(engine, HR)
    hr.send("/stage 9 offer_sent")
    assert "吴强" in hr.texts() and "还没有绑定" in hr.texts()
    hr.send("/stage E2026014 background_check")
    assert stage_of(db, "朱婷") == "background_check"


def test_candidate_in_english_is_told_in_english(engine: Engine, demo: dict[str, str]) -> None:
    Chat(engine, 5013, language_code="en").send(f"/start {demo['Nguyen Van An']}")
    hr = Chat(engine, HR)
    hr.send("/stage E2026013 training")
    assert "Your onboarding status has changed: Group training" in hr.texts(chat_id=5013)


def test_unknown_stage_suggests(engine: Engine, demo: dict[str, str], db: Database) -> None:
    hr = Chat(engine, HR)
    hr.send("/stage 6 waiting_trainng")
    assert "waiting_training" in hr.texts() and "你是想输入" in hr.texts()
    assert stage_of(db, "杨帆") == "offer_sent"


def test_unknown_candidate_and_usage(engine: Engine, demo: dict[str, str]) -> None:
    hr = Chat(engine, HR)
    hr.send("/stage 99999 training")
    assert "没有找到候选人「99999」" in hr.texts()
    hr.send("/stage")
    assert "用法" in hr.texts() and "waiting_training" in hr.texts()


def test_same_stage_does_not_notify(engine: Engine, demo: dict[str, str]) -> None:
    Chat(engine, 5001).send(f"/start {demo['杨帆']}")
    hr = Chat(engine, HR)
    hr.send("/stage 6 offer_sent")
    assert "无需更新" in hr.texts() and hr.says(chat_id=5001) == []


def test_non_admin_cannot_change_stages(engine: Engine, demo: dict[str, str], db: Database) -> None:
    cand = Chat(engine, 5001)
    cand.send(f"/start {demo['杨帆']}")
    cand.send("/stage 6 onboarded")
    cand_refusal = cand.texts()
    cand.send("/nosuchcommand 6 onboarded")
    assert cand_refusal == cand.texts().replace("nosuchcommand", "stage")  # no hint that /stage exists
    stranger = Chat(engine, 777)
    stranger.send("/stage 6 onboarded")
    assert "我不认识 /stage" in stranger.texts()
    assert stage_of(db, "杨帆") == "offer_sent"
