"""The personal information centre (ID number checked, encrypted, masked, never logged), document tasks with
HR's verdict, and /resources."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import build_engine
from bot.clock import FixedClock
from bot.config import Settings
from bot.crypto import Sealer
from bot.engine.core import Engine
from bot.engine.effects import SendFiles
from bot.engine.events import Event
from bot.inputs import valid_resident_id
from bot.profile.idnumber import mask_id, mask_id_numbers_in
from store.db import Database
from store.models import CandidateProfile, CandidateTask, DocumentUpload, FaqQuery
from tests.chat import Chat
from tests.conftest import make_settings

HR = 100000001
GOOD_ID = "110105199003077892"  # check digit computed per GB 11643


def test_resident_id_rules() -> None:
    assert valid_resident_id(GOOD_ID) and valid_resident_id("11010519900307789 2".replace(" ", ""))
    assert not valid_resident_id("110105199003077893")  # wrong check digit
    assert not valid_resident_id("110105199013077890")  # month 13
    assert not valid_resident_id("11010519900307789")  # 17 digits
    assert mask_id(GOOD_ID) == "1101**********7892"
    assert mask_id_numbers_in(f"我的身份证是{GOOD_ID},对吗") == "我的身份证是1101**********7892,对吗"
    sealer = Sealer("a passphrase")
    token = sealer.seal(GOOD_ID)
    assert GOOD_ID not in token and sealer.open(token) == GOOD_ID and Sealer("another").open(token) is None


@pytest.fixture
def secret_settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, storage=tmp_path / "files", secret_key="test-secret-key")


def test_profile_flow_encrypts_masks_and_never_logs(secret_settings: Settings, db: Database, clock: FixedClock,
                                                    demo: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    engine = build_engine(secret_settings, db, clock)
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send("/profile")
    assert "真实姓名:未填写" in chat.texts()
    chat.click("填写/修改全部")
    assert "个人信息处理说明" in chat.texts()  # the privacy notice first: nothing sensitive before consent
    chat.click("✅ 同意")
    chat.send("张三")
    chat.send("110105199003077893")
    assert "不是有效的18位身份证号" in chat.texts()
    chat.send(GOOD_ID)
    chat.click("大专")
    chat.send("王芳 母亲")
    chat.send("139 1234 5678")
    assert "谢谢,张三!信息已保存" in chat.texts() and "获得 20 积分" in chat.texts()
    chat.send("/profile")
    assert "身份证号:1101**********7892" in chat.texts() and "学历:大专" in chat.texts()
    assert "紧急联系人电话:+8613912345678" in chat.texts() and "已填写完整" in chat.texts()
    with db.session() as s:
        row = s.get(CandidateProfile, 1)
        assert row is not None and row.id_number_enc and GOOD_ID not in row.id_number_enc
    assert GOOD_ID not in caplog.text

    chat.click("修改学历")  # one field: just that question, then saved
    chat.click("本科及以上")
    assert "已保存" in chat.texts()
    chat.send("/profile")
    assert "学历:本科及以上" in chat.texts() and "真实姓名:张三" in chat.texts()


def test_without_a_key_the_id_number_is_refused(db_url: str, db: Database, clock: FixedClock, demo: dict[str, str],
                                                tmp_path: Path) -> None:
    engine = build_engine(make_settings(db_url, storage=tmp_path / "files"), db, clock)  # no HRBOT_SECRET_KEY
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send("/profile")
    chat.click("修改身份证号")
    chat.click("✅ 同意")
    chat.send(GOOD_ID)
    assert "身份证号暂时无法保存" in chat.texts()
    with db.session() as s:
        row = s.get(CandidateProfile, 1)
        assert row is None or row.id_number_enc is None


def test_an_id_number_typed_outside_a_flow_is_not_stored(engine: Engine, demo: dict[str, str], db: Database) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send(f"我的身份证号是{GOOD_ID}")
    with db.session() as s:
        texts = [q.text for q in s.exec(select(FaqQuery))]
    assert texts == ["我的身份证号是1101**********7892"]


def accept_notice(chat: Chat) -> None:
    """The candidate accepts the privacy notice (documents are taken only after that)."""
    chat.send("/privacy")
    chat.click("✅ 同意")


def send_file(chat: Chat, tmp_path: Path, name: str, mime: str, content: bytes = b"%PDF-1.4 x",
              size: int | None = None) -> None:
    path = tmp_path / f"incoming-{name}"
    path.write_bytes(content)
    chat.handle(Event(kind="file", file_kind="document", file_name=name, mime_type=mime, file_id="tg-file-1",
                      file_size=size if size is not None else len(content), file_path=str(path),
                      user_id=chat.user_id, chat_id=chat.user_id, update_id=None))


def test_document_task_submitted_approved_and_status(engine: Engine, demo: dict[str, str], db: Database,
                                                     tmp_path: Path, settings: Settings) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    accept_notice(chat)
    send_file(chat, tmp_path, "notes.txt", "text/plain")
    assert chat.texts() == "这个文件格式我收不了。请发 JPG/PNG/PDF 格式(拍照或PDF),大小不超过 10MB。"
    assert not (tmp_path / "incoming-notes.txt").exists()  # nothing kept of a refused file
    send_file(chat, tmp_path, "big.pdf", "application/pdf", size=11 * 1024 * 1024)
    assert "文件太大了,请发不超过 10MB" in chat.texts()
    send_file(chat, tmp_path, "health.pdf", "application/pdf")
    assert "这是哪一项材料" in chat.texts()
    chat.click("提交健康证明")
    assert "「提交健康证明」已提交" in chat.texts()
    [to_hr] = chat.media()
    assert to_hr.chat_id == HR and to_hr.kind == "document"
    assert "张三(#1)提交了「提交健康证明」" in (to_hr.caption or "")
    assert Path(to_hr.path).is_file() and Path(to_hr.path).is_relative_to(settings.storage_dir)
    chat.send("/status")
    assert "已提交,等待审核" in chat.texts()

    hr = Chat(engine, HR)
    hr.send("/docs")
    assert "待审核的材料" in hr.texts() and len(hr.media()) == 1
    hr.press([b for row in to_hr.buttons for b in row][0])  # ✅ 通过
    assert "已通过:张三 的「提交健康证明」" in hr.texts() and "审核通过了" in hr.texts(1)
    chat.send("/status")
    assert "提交健康证明 ——" not in chat.texts() and "提交健康证明" in chat.texts().split("已完成")[1]
    with db.session() as s:
        upload = s.exec(select(DocumentUpload).where(DocumentUpload.status == "approved")).one()
        assert upload.task_id == "health_certificate" and upload.decided_by == HR
    hr.send("/docs")
    assert "没有待审核的材料" in hr.texts()


def test_document_rejected_with_a_reason(engine: Engine, demo: dict[str, str], db: Database,
                                         tmp_path: Path) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    accept_notice(chat)
    send_file(chat, tmp_path, "photo.png", "image/png", b"\x89PNG demo")
    chat.click("提交一寸照片3张")
    [to_hr] = chat.media()
    assert to_hr.kind == "photo"
    hr = Chat(engine, HR)
    hr.press([b for row in to_hr.buttons for b in row][1])  # ❌ 退回
    hr.click("照片不清晰")
    assert "原因:照片不清晰" in hr.texts()
    assert "没有通过审核:照片不清晰。请重新拍照" in hr.texts(1)
    with db.session() as s:
        task = s.exec(select(CandidateTask).where(CandidateTask.candidate_id == 1,
                                                  CandidateTask.task_id == "photos")).one()
        assert task.status == "rejected"
    chat.send("/status")
    assert "未通过,请重新提交" in chat.texts()
    hr.press([b for row in to_hr.buttons for b in row][0])  # a late tap on "approve"
    assert "已经处理过了(已退回)" in hr.texts()


def test_no_open_document_tasks(engine: Engine, demo: dict[str, str], tmp_path: Path) -> None:
    chat = Chat(engine, 2)
    chat.send(f"/start {demo['李娜']}")
    accept_notice(chat)
    send_file(chat, tmp_path, "a.pdf", "application/pdf")
    chat.click("提交健康证明")
    send_file(chat, tmp_path, "b.pdf", "application/pdf")
    assert "没有需要提交的材料" in chat.texts()


def test_resources(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send("/resources")
    assert "公司企业文化视频:https://www.example.com/hdjg/culture-video" in chat.texts()
    [group] = [e for e in chat.last if isinstance(e, SendFiles)]  # one media group, not a burst of messages
    assert [p.rsplit("/", 1)[-1] for p in group.paths] == \
        ["onboarding-guide.zh-CN.md", "production-handbook.zh-CN.md", "new-hire-faq.zh-CN.md"]
    assert group.captions[0] == "《入职指南》"
    driver = Chat(engine, 20, language_code="en")
    driver.send(f"/start {demo['罗斌']}")
    driver.send("/language")
    driver.click("English")
    driver.send("/resources")
    [group] = [e for e in driver.last if isinstance(e, SendFiles)]
    assert [p.rsplit("/", 1)[-1] for p in group.paths] == ["onboarding-guide.en.md", "new-hire-faq.en.md"]
