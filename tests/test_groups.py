"""Cohort groups, the feedback box and the Q&A board through the engine (tests/chat.py), the scrubber, the weekly
update, and what the fake server and the adapter do for groups."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from sqlmodel import select
from telegram import Update

from bot.clock import FixedClock
from bot.config import Settings
from bot.crypto import FILE_MAGIC, Sealer
from bot.engine.core import Engine
from bot.engine.events import Event
from bot.groups import service
from bot.groups.scrub import Scrubber
from bot.privacy import keys
from bot.telegram.adapter import ChatPacer
from store.db import Database
from store.models import AuditLog, CohortGroup, FeedbackDraft, Outbox, Ticket
from tests.chat import Chat
from tests.conftest import HR_ADMIN, NOW, SHANGHAI, TEST_KEY
from tests.fake_telegram import FakeTelegram

GROUP = -1001000000001
_updates = count(900000)


def link_directly(db: Database, cohort: str = "prod-2026-12", chat_id: int = GROUP) -> None:
    with db.session() as s:
        s.add(CohortGroup(cohort_id=cohort, chat_id=chat_id, invite_link="https://t.me/+fakelink", linked_by=HR_ADMIN,
                          linked_at=NOW))


def group_event(engine: Engine, user_id: int, text: str, **kw: object) -> list[object]:
    event = Event.parse_text(text, user_id=user_id, chat_id=GROUP, chat_type="supergroup",  # type: ignore[arg-type]
                             update_id=next(_updates), **kw)
    return list(engine.handle(event))


def outbox_to(db: Database, chat_id: int) -> list[Outbox]:
    with db.session() as s:
        return list(s.exec(select(Outbox).where(Outbox.chat_id == chat_id)).all())


# -- the scrubber -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, gone", [
    ("我是张三,电话13800000001", ["张三", "13800000001"]),
    ("打 +86 138-0000-0001 或 138 0000 0001", ["0000"]),
    ("身份证 11010119900307789X 和 110101900307789", ["11010119900307789X", "110101900307789"]),
    ("邮箱 zhang.san@example.com", ["zhang.san", "example.com"]),
    ("座机 021-6543 2100", ["6543", "2100"]),
    ("Nguyen Van An asked: can I bring my dog? call nguyen at 555 123 4567", ["Nguyen", "nguyen", "4567"]),
    ("罗小斌说小斌的宿舍在3楼", ["罗小斌", "小斌"]),
])
def test_scrubber_removes_names_phones_ids_and_emails(text: str, gone: list[str]) -> None:
    scrub = Scrubber(["张三", "Nguyen Van An", "罗小斌"])
    out = scrub(text)
    for piece in gone:
        assert piece not in out, (piece, out)


def test_scrubber_keeps_ordinary_numbers_and_words() -> None:
    scrub = Scrubber(["张三", "Nguyen Van An"])
    assert scrub("宿舍4人间,饭补20元,12月15日08:30集合,An answer") == "宿舍4人间,饭补20元,12月15日08:30集合,An answer"


# -- groups through the engine ----------------------------------------------------------------------------------
def test_group_chatter_is_ignored_and_nobody_becomes_a_candidate(engine: Engine, demo: dict[str, str],
                                                                 db: Database) -> None:
    link_directly(db)
    Chat(engine, 1).send(f"/start {demo['张三']}")
    for line in ("宿舍是几人间", "/start", "/help", "/status", "哈哈"):
        assert group_event(engine, 1, line) == []  # the bound candidate chatting in the group: not a DM
    assert group_event(engine, 777, "你好") == []
    assert outbox_to(db, GROUP) == []
    addressed = group_event(engine, 777, "@DemoPlantHRBot 宿舍是几人间", addressed=True)
    assert addressed == []  # replies in a group are outbox rows too (paced, retried)
    [row] = outbox_to(db, GROUP)
    assert "4人间" in (row.text or "")


def test_a_flood_of_mentions_gets_at_most_the_groups_limit_of_answers_a_minute(
        engine: Engine, demo: dict[str, str], db: Database, clock: FixedClock) -> None:
    link_directly(db)
    limit = engine.ctx.settings.file.groups.answers_per_minute
    for i in range(limit + 4):
        group_event(engine, 700 + i % 3, "@DemoPlantHRBot 宿舍是几人间", addressed=True)
    assert len(outbox_to(db, GROUP)) == limit  # the rest went unanswered, nothing queued for later
    clock.set(clock.now() + timedelta(seconds=61))  # a minute on: answered again
    group_event(engine, 777, "@DemoPlantHRBot 宿舍是几人间", addressed=True)
    assert len(outbox_to(db, GROUP)) == limit + 1


def test_link_without_telegram_and_wrong_places(engine: Engine, demo: dict[str, str], db: Database) -> None:
    hr = Chat(engine, HR_ADMIN)
    hr.send("/link_cohort prod-2026-12")
    assert "请在要绑定的 Telegram 群里" in hr.texts()
    stranger = Chat(engine, 555)
    stranger.send("/link_cohort prod-2026-12")
    assert "我不认识 /link_cohort" in stranger.texts()
    group_event(engine, HR_ADMIN, "/link_cohort prod-2026-12")  # the shell: no Telegram to ask
    [row] = outbox_to(db, GROUP)
    assert "没有连上 Telegram" in (row.text or "")
    group_event(engine, HR_ADMIN, "/link_cohort")
    assert "用法" in (outbox_to(db, GROUP)[-1].text or "")
    with db.session() as s:
        assert s.get(CohortGroup, "prod-2026-12") is None


def test_group_menu_entry_and_status_line(engine: Engine, demo: dict[str, str], db: Database) -> None:
    zhang = Chat(engine, 1)
    zhang.send(f"/start {demo['张三']}")
    zhang.click("👥 加入同期群")
    assert "还在准备中" in zhang.texts()
    zhang.send("/status")
    assert "同期群已开放" not in zhang.texts()
    link_directly(db)
    zhang.click("👥 加入同期群")
    assert zhang.says()[0].buttons[0][0].url == "https://t.me/+fakelink"
    zhang.send("/status")
    assert "同期群已开放" in zhang.texts()


def test_weekly_update_posted_once_per_group_on_friday(engine: Engine, db: Database, settings: Settings) -> None:
    link_directly(db)
    link_directly(db, "prod-2027-01", GROUP - 1)
    ctx = engine.ctx
    friday = datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)  # the demo's NOW is a Friday
    assert service.queue_weekly_news(db, settings, ctx.texts, ctx.rules, friday - timedelta(minutes=1)) == 0
    assert service.queue_weekly_news(db, settings, ctx.texts, ctx.rules, friday) == 2
    assert service.queue_weekly_news(db, settings, ctx.texts, ctx.rules, friday + timedelta(hours=1)) == 0
    assert service.queue_weekly_news(db, settings, ctx.texts, ctx.rules, friday + timedelta(days=1)) == 0
    [row] = outbox_to(db, GROUP)
    assert "本周公司动态" in (row.text or "") and row.candidate_id is None and not row.urgent
    assert service.queue_weekly_news(db, settings, ctx.texts, ctx.rules, friday + timedelta(days=7)) == 2


# -- feedback ---------------------------------------------------------------------------------------------------
def test_feedback_bad_input_keeps_the_draft_and_cancel_always_works(engine: Engine, demo: dict[str, str],
                                                                    db: Database) -> None:
    zhang = Chat(engine, 1)
    zhang.send(f"/start {demo['张三']}")
    zhang.send("/feedback")
    zhang.click("💰 薪资")
    zhang.send("   ")
    assert "内容是空的" in zhang.texts()
    zhang.handle(Event(kind="unsupported", unsupported="sticker", user_id=1, chat_id=1, update_id=next(_updates)))
    assert "只能收文字或照片" in zhang.texts()
    zhang.send("长" * 1001)
    assert "超过了" in zhang.texts()
    with db.session() as s:
        draft = s.get(FeedbackDraft, 1)
        assert draft is not None and draft.category == "pay" and draft.text is None
    zhang.send("/cancel")
    assert "已取消" in zhang.texts()
    with db.session() as s:
        assert s.get(FeedbackDraft, 1) is None
    # After cancel, text is an FAQ question again; a second /feedback, then another command, drops the draft.
    zhang.send("宿舍是几人间")
    assert "4人间" in zhang.texts()
    zhang.send("/feedback")
    zhang.click("📘 培训")
    zhang.send("/status")
    with db.session() as s:
        assert s.get(FeedbackDraft, 1) is None
        assert s.exec(select(Ticket)).all() == []
    zhang.press(_anon_button("yes"))
    assert "已经提交或取消" in zhang.texts()


def _anon_button(value: str):  # type: ignore[no-untyped-def]
    from bot.groups.buttons import FeedbackButton
    return FeedbackButton("anon", value).button("x")


def test_feedback_becomes_a_ticket_hr_is_told_and_answers(engine: Engine, demo: dict[str, str], db: Database) -> None:
    zhang, hr = Chat(engine, 1), Chat(engine, HR_ADMIN)
    zhang.send(f"/start {demo['张三']}")
    zhang.send("/feedback")
    zhang.click("📋 入职流程")
    zhang.send("体检预约的电话一直打不通")
    effects = zhang.click("🙋 实名")
    assert "已收到(编号 #1)" in zhang.texts()
    note = zhang.texts(HR_ADMIN)
    assert "📮 意见 #1(📋 入职流程)" in note and "张三" in note and "希望对团队匿名" not in note
    assert effects
    hr.send("/inbox")
    assert "📮 #1" in hr.texts()
    hr.send("/reply 1 已经换了预约电话:见入职指南第3页")
    assert "入职指南第3页" in hr.texts(1)
    with db.session() as s:
        ticket = s.get(Ticket, 1)
        assert ticket is not None and ticket.status == "answered" and ticket.answered_at is not None


def test_feedback_anonymous_to_hr_hides_who(engine: Engine, demo: dict[str, str], db: Database,
                                            settings: Settings) -> None:
    settings.file = settings.file.model_copy(update={"feedback": settings.file.feedback.model_copy(
        update={"anonymous_to_hr": True})})
    zhang, hr = Chat(engine, 1), Chat(engine, HR_ADMIN)
    zhang.send(f"/start {demo['张三']}")
    zhang.send("/feedback")
    zhang.click("🏠 宿舍")
    zhang.send("宿舍楼道的灯坏了")
    zhang.click("🙈 匿名")
    note = zhang.texts(HR_ADMIN)
    assert "匿名候选人" in note and "张三" not in note and "#1" in note
    hr.send("/inbox")
    assert "张三" not in hr.texts()
    card = hr.send("/find 张三")[0].text  # type: ignore[union-attr]
    assert "张三" in card and "灯坏了" not in card  # the card does not list it as 张三's
    with db.session() as s:
        assert not s.exec(select(AuditLog).where(AuditLog.action == "feedback_sent")).all()
    hr.send("/reply 1 已经报修")
    assert "张三" not in hr.texts() and "匿名" in hr.texts()
    assert "已经报修" in hr.texts(1)


def photo_feedback(engine: Engine, demo: dict[str, str], tmp_path: Path) -> tuple[Chat, Path]:
    """张三 sends a named dorm feedback with a photo; the chat and the photo as downloaded."""
    zhang = Chat(engine, 1)
    zhang.send(f"/start {demo['张三']}")
    zhang.send("/feedback")
    zhang.click("🏠 宿舍")
    photo = tmp_path / "leak.part"
    photo.write_bytes(b"\xff\xd8jpeg")
    zhang.handle(Event(kind="file", file_kind="photo", file_path=str(photo), mime_type="image/jpeg", text="漏水",
                       user_id=1, chat_id=1, update_id=next(_updates)))
    zhang.click("🙋 实名")
    return zhang, photo


def test_feedback_photo(engine: Engine, demo: dict[str, str], db: Database, tmp_path: Path) -> None:
    zhang, photo = photo_feedback(engine, demo, tmp_path)
    [media] = [m for m in zhang.media() if m.chat_id == HR_ADMIN]
    assert media.kind == "photo" and "漏水" in (media.caption or "")
    with db.session() as s:
        ticket = s.get(Ticket, 1)
        assert ticket is not None and ticket.attachment and Path(ticket.attachment).exists()
    # Sealed at rest like the documents (the photo shows the room, sometimes the person); the download is gone.
    stored = Path(ticket.attachment).read_bytes()
    assert stored.startswith(FILE_MAGIC) and b"jpeg" not in stored and not photo.exists()
    assert engine.ctx.sealer is not None and engine.ctx.sealer.open_bytes(stored) == b"\xff\xd8jpeg"
    # `hrbot keys rotate` re-seals it under the new key, once.
    both = Sealer("the next key", [TEST_KEY])
    assert keys.rotate(db, engine.ctx.settings, both).files == 1
    assert Sealer("the next key").open_bytes(Path(ticket.attachment).read_bytes()) == b"\xff\xd8jpeg"
    assert keys.rotate(db, engine.ctx.settings, both).files == 0


def named_feedback(engine: Engine, demo: dict[str, str]) -> Chat:
    """张三 sends "希望培训时能有午休" as feedback, named, category "other"."""
    zhang = Chat(engine, 1)
    zhang.send(f"/start {demo['张三']}")
    zhang.send("/feedback")
    zhang.click("💬 其他")
    zhang.send("希望培训时能有午休")
    zhang.click("🙋 实名")
    return zhang


def test_feedback_tick_under_time_travel(engine: Engine, demo: dict[str, str], db: Database,
                                         clock: FixedClock) -> None:
    named_feedback(engine, demo)
    ctx = engine.ctx
    assert service.feedback_tick(db, ctx.settings, ctx.texts, NOW + timedelta(hours=19)) == (0, 0)
    assert service.feedback_tick(db, ctx.settings, ctx.texts, NOW + timedelta(hours=20)) == (1, 0)
    assert service.feedback_tick(db, ctx.settings, ctx.texts, NOW + timedelta(hours=23)) == (0, 0)
    assert service.feedback_tick(db, ctx.settings, ctx.texts, NOW + timedelta(hours=24)) == (0, 1)
    assert service.feedback_tick(db, ctx.settings, ctx.texts, NOW + timedelta(hours=30)) == (0, 0)
    with db.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "feedback_overdue")).first() is not None
    texts = [r.text or "" for r in outbox_to(db, HR_ADMIN)]
    assert sum("⏰ 意见 #1" in t for t in texts) == 1 and sum("🔴 意见 #1" in t for t in texts) == 1


# -- the Q&A board ----------------------------------------------------------------------------------------------
def test_board_pages_newest_first_and_hr_hides(engine: Engine, demo: dict[str, str], db: Database) -> None:
    zhang, hr = Chat(engine, 1), Chat(engine, HR_ADMIN)
    zhang.send(f"/start {demo['张三']}")
    with db.session() as s:
        for i in range(7):
            s.add(Ticket(kind="question", candidate_id=1, question=f"问题{i} 张三 13800000001", status="answered",
                         answer=f"答复{i}", answered_by=HR_ADMIN, answered_at=NOW + timedelta(minutes=i),
                         created_at=NOW))
        s.add(Ticket(kind="feedback", candidate_id=1, question="意见不上墙", status="answered", answer="好",
                     answered_at=NOW, created_at=NOW))
        s.add(Ticket(kind="question", candidate_id=14, question="别的批次的问题", status="answered", answer="好",
                     answered_at=NOW, created_at=NOW))
    zhang.send("/questions")
    [page1] = zhang.says()
    assert page1.text.index("问题6") < page1.text.index("问题2")  # type: ignore[union-attr]
    assert "问题1" not in page1.text and "第 1/2 页,共 7 条" in page1.text  # type: ignore[union-attr]
    assert "张三" not in page1.text and "13800000001" not in page1.text  # type: ignore[union-attr]
    assert "意见不上墙" not in page1.text and "别的批次" not in page1.text  # type: ignore[union-attr]
    zhang.click("下一页 ▶️")
    [page2] = zhang.says()
    assert "问题0" in page2.text and "问题6" not in page2.text  # type: ignore[union-attr]
    assert not any(b.data.startswith("qah:") for row in page2.buttons for b in row)  # type: ignore[union-attr]

    hr.send("/questions prod-2026-12")
    hr.click("🙈 隐藏第 1 条")
    assert "已从问答墙隐藏" in hr.texts()
    with db.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "qa_hide")).first() is not None
    zhang.send("/questions")
    assert "问题6" not in zhang.texts()
    # A candidate cannot hide (the same answer as a button that does not exist); HR without a cohort: usage.
    zhang.press(_hide_button(1))
    assert "已从问答墙隐藏" not in zhang.texts()
    hr.send("/questions")
    assert "用法" in hr.texts()


def _hide_button(ticket: int):  # type: ignore[no-untyped-def]
    from bot.groups.buttons import QaHide
    return QaHide(ticket).button("x")


# -- Telegram ---------------------------------------------------------------------------------------------------
async def test_fake_server_limits_a_group_to_20_messages_a_minute(tg: FakeTelegram) -> None:
    import aiohttp
    tg.group(GROUP)
    url = f"{tg.url}/bot{tg.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        for i in range(20):
            async with http.post(url, json={"chat_id": GROUP, "text": f"m{i}"}) as resp:
                assert resp.status == 200
        async with http.post(url, json={"chat_id": GROUP, "text": "one too many"}) as resp:
            body = await resp.json()
    assert resp.status == 429 and body["parameters"]["retry_after"] >= 1
    assert ChatPacer().reserve(GROUP, 0.0) == 0 and ChatPacer().per_group >= 3.0  # the adapter stays under it


def test_adapter_reads_join_requests_and_addressed_group_messages() -> None:
    bot = {"id": 7000000001, "is_bot": True, "first_name": "Bot", "username": "DemoPlantHRBot"}
    user = {"id": 42, "is_bot": False, "first_name": "小王", "language_code": "zh-hans"}
    chat = {"id": GROUP, "type": "supergroup", "title": "同期群"}
    from bot.telegram.adapter import update_to_event
    join = Update.de_json({"update_id": 1, "chat_join_request": {"chat": chat, "from": user, "user_chat_id": 42,
                                                                 "date": 1}}, None)
    event = update_to_event(join, (7000000001, "DemoPlantHRBot"))
    assert event is not None and event.kind == "join_request" and event.first_name == "小王" and \
        event.chat_id == GROUP
    plain = {"message_id": 5, "date": 1, "chat": chat, "from": user, "text": "宿舍是几人间"}
    mention = {**plain, "text": "@DemoPlantHRBot 宿舍是几人间",
               "entities": [{"type": "mention", "offset": 0, "length": 15}]}
    reply = {**plain, "reply_to_message": {"message_id": 3, "date": 1, "chat": chat, "from": bot, "text": "x"}}
    other = {**plain, "reply_to_message": {"message_id": 4, "date": 1, "chat": chat, "from": user, "text": "y"}}
    found = [update_to_event(Update.de_json({"update_id": 2, "message": m}, None), (7000000001, "DemoPlantHRBot"))
             for m in (plain, mention, reply, other)]
    assert [e.addressed for e in found if e is not None] == [False, True, True, False]
    assert "chat_join_request" in Update.ALL_TYPES and "my_chat_member" in Update.ALL_TYPES


def test_console_outcome_queues_a_removal_once(engine: Engine, demo: dict[str, str], db: Database) -> None:
    from bot.console import service as console
    link_directly(db)
    Chat(engine, 1).send(f"/start {demo['张三']}")
    with db.session() as s:
        cand = s.get(__import__("store.models", fromlist=["Candidate"]).Candidate, 1)
        console.mark(s, engine.ctx.settings, cand, "withdrawn", "other_job", "cli", NOW)
        console.mark(s, engine.ctx.settings, cand, "withdrawn", "other_job", "cli", NOW)  # unchanged: nothing
    with db.session() as s:
        from store.models import GroupRemoval
        assert len(s.exec(select(GroupRemoval)).all()) == 1


def test_adapter_leaves_other_bots_commands_alone() -> None:
    from bot.telegram.adapter import update_to_event
    user = {"id": 42, "is_bot": False, "first_name": "小王"}
    chat = {"id": GROUP, "type": "supergroup", "title": "同期群"}
    me = (7000000001, "DemoPlantHRBot")
    other = {"message_id": 5, "date": 1, "chat": chat, "from": user, "text": "/pin@OtherBot hello"}
    ours = {**other, "text": "/pin@DemoPlantHRBot hello"}
    assert update_to_event(Update.de_json({"update_id": 3, "message": other}, None), me) is None
    event = update_to_event(Update.de_json({"update_id": 4, "message": ours}, None), me)
    assert event is not None and event.command == "pin" and event.args == ("hello",)


def test_bot_taken_out_of_a_linked_group_unlinks_it_and_tells_hr(engine: Engine, demo: dict[str, str],
                                                                 db: Database) -> None:
    from bot.telegram.adapter import update_to_event
    link_directly(db)
    chat = {"id": GROUP, "type": "supergroup", "title": "同期群"}
    someone = {"id": 42, "is_bot": False, "first_name": "群主"}
    bot = {"id": 7000000001, "is_bot": True, "first_name": "Bot", "username": "DemoPlantHRBot"}
    flags = {k: False for k in ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                                "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                                "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                                "can_delete_stories")}

    def change(new: dict[str, object], update_id: int) -> Event:
        update = Update.de_json({"update_id": update_id, "my_chat_member": {
            "chat": chat, "from": someone, "date": 1, "old_chat_member": {"status": "administrator", "user": bot,
                                                                          **flags},
            "new_chat_member": {"user": bot, **new}}}, None)
        event = update_to_event(update, (7000000001, "DemoPlantHRBot"))
        assert event is not None and event.kind == "bot_status"
        return event

    hr = Chat(engine, HR_ADMIN)
    hr.handle(change({"status": "member"}, 800001))
    assert "不再是管理员" in hr.texts(HR_ADMIN)
    with db.session() as s:
        assert s.get(CohortGroup, "prod-2026-12") is not None
    hr.handle(change({"status": "kicked", "until_date": 0}, 800002))
    assert "已解除绑定" in hr.texts(HR_ADMIN)
    with db.session() as s:
        assert s.get(CohortGroup, "prod-2026-12") is None
        assert s.exec(select(AuditLog).where(AuditLog.action == "group_bot_removed")).first() is not None
    assert outbox_to(db, GROUP) == []  # nothing said in the group


def test_feedback_reminder_goes_to_hr_in_scope_and_escalation_to_every_admin(
        engine: Engine, demo: dict[str, str], db: Database) -> None:
    from bot.hr import members
    with db.session() as s:
        members.add(s, engine.ctx.settings, 300000001, role="hr", departments="quality", name="质检HR",
                    actor="test", now=NOW)
        members.add(s, engine.ctx.settings, 300000002, role="hr", departments="production", name="生产HR",
                    actor="test", now=NOW)
        members.add(s, engine.ctx.settings, 300000003, role="admin", name="另一位管理员", actor="test", now=NOW)
    engine.ctx.staff.refresh()
    named_feedback(engine, demo)
    ctx = engine.ctx
    service.feedback_tick(db, ctx.settings, ctx.texts, NOW + timedelta(hours=20))
    reminded = {r.chat_id for r in outbox_to_all(db) if "⏰" in (r.text or "")}
    assert reminded == {HR_ADMIN, 300000002, 300000003}  # in scope: admins and production, not quality
    service.feedback_tick(db, ctx.settings, ctx.texts, NOW + timedelta(hours=24))
    overdue = {r.chat_id for r in outbox_to_all(db) if "🔴" in (r.text or "")}
    assert overdue == {HR_ADMIN, 300000003}  # every admin


def outbox_to_all(db: Database) -> list[Outbox]:
    with db.session() as s:
        return list(s.exec(select(Outbox)).all())


def test_start_up_key_check_reads_the_feedback_photos(engine: Engine, demo: dict[str, str], db: Database,
                                                     tmp_path: Path) -> None:
    """A database whose only sealed data is a feedback photo: without its key, or with another, the bot must not
    start (the photo would not open when HR asks for it)."""
    photo_feedback(engine, demo, tmp_path)
    assert engine.ctx.sealer is not None
    with db.session() as s:
        assert keys._has_sealed(s) == (0, 0)  # noqa: SLF001 - no sealed profile or document: only the photo
    keys.check_keys(db, engine.ctx.sealer)  # the key it was sealed with
    keys.check_keys(db, Sealer("the next key", [TEST_KEY]))  # or a new one with the old one still held
    with pytest.raises(keys.KeyProblem, match="1 feedback photos"):
        keys.check_keys(db, None)
    with pytest.raises(keys.KeyProblem, match="wrong key"):
        keys.check_keys(db, Sealer("another key"))
