"""End to end: the real python-telegram-bot adapter, polling a fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.telegram.adapter import TelegramAdapter
from store.db import Database
from store.models import Candidate, ProcessedUpdate
from tests.fake_telegram import FakeTelegram, texts

HR = 100000001



async def test_invite_link_binding_and_welcome(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str],
                                               db: Database) -> None:
    user = tg.user(5001, "San")
    replies = await user.send(f"/start {demo['张三']}", expect=3)
    assert "欢迎你,张三!" in replies[0]["text"] and "第1位加入生产部" in replies[0]["text"]
    assert replies[1]["photo"] and "李建国" in replies[1]["caption"]
    buttons = [b["callback_data"] for row in replies[2]["reply_markup"]["inline_keyboard"] for b in row]
    assert "menu:status" in buttons
    with db.session() as s:
        assert s.exec(select(Candidate).where(Candidate.name == "张三")).one().telegram_user_id == 5001

    # The photo went up once; the next welcome reuses Telegram's file_id instead of uploading again.
    await tg.user(5002).send(f"/start {demo['李娜']}", expect=3)
    photos = tg.calls_of("sendPhoto")
    assert isinstance(photos[0].params["photo"], dict) and photos[0].params["photo"]["size"] > 1000  # upload
    assert photos[1].params["photo"] == replies[1]["photo"][-1]["file_id"]


async def test_contact_binding_and_reply_keyboard(tg: FakeTelegram, bot: TelegramAdapter) -> None:
    user = tg.user(5100)
    [prompt] = await user.send("/start")
    keyboard = prompt["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    replies = await user.share_contact("8613800000020", expect=3)
    assert "欢迎你,罗斌!" in replies[0]["text"]
    assert replies[0]["reply_markup"] == {"remove_keyboard": True}


async def test_stranger_and_foreign_contact(tg: FakeTelegram, bot: TelegramAdapter) -> None:
    stranger = tg.user(5200)
    reply = await stranger.share_contact("+8613912345678")
    assert "没有找到" in texts(reply)
    reply = await stranger.share_contact("+8613800000001", owner_id=42)
    assert "只能分享你自己的手机号" in texts(reply)
    reply = await stranger.send("/status")
    assert "我还不知道你是谁" in texts(reply)


async def test_status_by_command_and_button(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str]) -> None:
    user = tg.user(5001, language_code="en")
    await user.send(f"/start {demo['张三']}", expect=3)
    [status] = await user.send("/status")
    assert "Current stage: Waiting for training" in status["text"]
    assert "days to go until training" in status["text"]  # the count itself follows the real clock here
    answered = len(tg.calls_of("answerCallbackQuery"))
    [status2] = await user.click("menu:status")
    assert "Current stage" in status2["text"]
    assert len(tg.calls_of("answerCallbackQuery")) == answered + 1


async def test_hr_stage_and_non_admin(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str],
                                      db: Database) -> None:
    cand = tg.user(5006)
    await cand.send(f"/start {demo['杨帆']}", expect=3)
    hr = tg.user(HR, "HR")
    before = len(cand.inbox)
    [ack] = await hr.send("/stage 6 waiting_training")
    assert "已通知本人" in ack["text"]
    await tg.wait_for(lambda: len(cand.inbox) > before)
    assert "你的入职进度有更新:待入职" in cand.inbox[-1]["text"]

    [refused] = await cand.send("/stage 6 onboarded")
    assert "我不认识 /stage" in refused["text"]
    with db.session() as s:
        assert s.exec(select(Candidate).where(Candidate.name == "杨帆")).one().stage == "waiting_training"


async def test_odd_input_gets_helpful_answers(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str]) -> None:
    user = tg.user(5001)
    await user.send(f"/start {demo['张三']}", expect=3)
    assert "只能处理文字和按钮" in texts(await user.send_sticker())
    assert "只能处理文字和按钮" in texts(await user.send_voice())
    assert "重新发一次" in texts(await user.edit("edited text"))
    assert "不认识 /nope" in texts(await user.send("/nope"))


async def test_blocked_user_does_not_break_hr(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str],
                                              db: Database) -> None:
    cand = tg.user(5006)
    await cand.send(f"/start {demo['杨帆']}", expect=3)
    tg.blocked.add(5006)  # the candidate blocks the bot
    hr = tg.user(HR)
    [ack] = await hr.send("/stage 6 background_check")
    assert "杨帆" in ack["text"]
    # The notice goes through the outbox: the sender tries it within about a second and gets the 403.
    await tg.wait_for(lambda: any(not c.ok and c.method == "sendMessage" for c in tg.calls), timeout=3)
    failed = [c for c in tg.calls if not c.ok and c.method == "sendMessage"]
    assert failed[-1].params["chat_id"] == 5006 and failed[-1].code == 403
    # The 403 is remembered (a risk signal; no more nudges), and HR is told the truth next time.
    await tg.wait_for(lambda: _unreachable(db, "杨帆"))
    [ack] = await hr.send("/stage 6 waiting_training")
    assert "无法通知本人" in ack["text"]
    # The bot keeps working for everyone else.
    assert "欢迎你,黄磊!" in texts(await tg.user(5007).send(f"/start {demo['黄磊']}", expect=3))


def _unreachable(db: Database, name: str) -> bool:
    with db.session() as s:
        return s.exec(select(Candidate).where(Candidate.name == name)).one().unreachable_at is not None


async def test_429_is_retried_after_retry_after(tg: FakeTelegram, bot: TelegramAdapter,
                                                demo: dict[str, str]) -> None:
    user = tg.user(5001)
    await user.send(f"/start {demo['张三']}", expect=3)
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    [status] = await user.send("/status")
    assert "当前阶段" in status["text"]
    tries = [c for c in tg.calls_of("sendMessage") if c.params["chat_id"] == 5001][-2:]
    assert [c.ok for c in tries] == [False, True]
    assert tries[1].at - tries[0].at >= 1.0


async def test_400_from_telegram_is_survived(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str]) -> None:
    user = tg.user(5001)
    await user.send(f"/start {demo['张三']}", expect=3)
    tg.fail_next("sendMessage", 400, "Bad Request: message is too long")
    await user.send("/status", expect=0)
    [status] = await user.send("/status")
    assert "当前阶段" in status["text"]


async def test_duplicate_update_delivered_twice_is_handled_once(tg: FakeTelegram, bot: TelegramAdapter,
                                                                demo: dict[str, str], db: Database) -> None:
    user = tg.user(5001)
    await user.send(f"/start {demo['张三']}", expect=3)
    update = {"update_id": 999_999, "message": user._msg(text="/status", entities=[
        {"type": "bot_command", "offset": 0, "length": 7}])}
    before = len(user.inbox)
    tg._updates.append(update)
    tg._updates.append(dict(update))  # Telegram redelivers after a crash: same update_id
    tg._new_update.set()
    await tg.wait_for(lambda: len(user.inbox) > before)
    await asyncio.sleep(0.5)
    assert len(user.inbox) == before + 1
    with db.session() as s:
        assert s.get(ProcessedUpdate, 999_999) is not None


async def test_commands_registered_per_locale_and_for_hr(tg: FakeTelegram, bot: TelegramAdapter) -> None:
    scopes = {(scope, lang): [c["command"] for c in cmds] for (scope, lang), cmds in tg.commands.items()}
    default = '{"type": "default"}'
    assert "status" in scopes[(default, "zh")] and "stage" not in scopes[(default, "zh")]
    assert "status" in scopes[(default, "en")]
    zh = {c["command"]: c["description"] for c in tg.commands[(default, "zh")]}
    en = {c["command"]: c["description"] for c in tg.commands[(default, "en")]}
    assert zh["status"] == "查看我的入职进度" and en["status"] == "Where do I stand?"
    hr_scope = f'{{"chat_id": {HR}, "type": "chat"}}'
    assert "stage" in scopes[(hr_scope, "")]


async def test_no_reply_burst_past_what_one_chat_may_receive(tg: FakeTelegram, bot: TelegramAdapter,
                                                             demo: dict[str, str]) -> None:
    """Telegram answers 429 past a short burst into one chat: replies are paced per chat, and /resources
    sends its files as one media group (uploaded once, then by file_id)."""
    tg.enforce_limits, tg.chat_burst = True, 3
    user = tg.user(5001, "San")
    await user.send(f"/start {demo['张三']}", expect=3)
    await user.send("/resources", expect=4)  # the intro, then three documents in one album
    await user.send("/resources", expect=4)
    await user.send("/status")
    assert [c for c in tg.calls if c.code == 429] == []
    groups = tg.calls_of("sendMediaGroup")
    assert len(groups) == 2 and all(len(g.params["media"]) == 3 for g in groups)
    assert [m["media"].startswith("attach://") for m in groups[0].params["media"]] == [True] * 3
    assert not any(m["media"].startswith("attach://") for m in groups[1].params["media"])  # reused file ids
    assert [m.get("caption") for m in groups[0].params["media"]] == ["《入职指南》", "《生产部介绍手册》",
                                                                     "《新人常见问题解答》"]
