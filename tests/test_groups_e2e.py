"""End to end through the real adapter and the fake Bot API server: a cohort group linked by HR, members let in
and welcomed, strangers and other cohorts declined (HR told, the group told nothing), a withdrawn candidate
removed, FAQ answers in the group only when the bot is addressed, the feedback box's 24-hour promise kept by
time travel, and a Q&A board without personal data."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.clock import FixedClock
from bot.console import service as console
from bot.engine.core import Engine
from bot.groups.jobs import GroupJobs
from bot.telegram.adapter import TelegramAdapter
from store.db import Database
from store.models import AuditLog, Candidate, CohortGroup, GroupRemoval, Ticket
from tests.conftest import HR_ADMIN, NOW
from tests.fake_telegram import FakeGroup, FakeTelegram, FakeUser

COHORT = "prod-2026-12"


async def link(tg: FakeTelegram, group: FakeGroup, hr: FakeUser, cohort: str = COHORT) -> str:
    before = len(group.inbox)
    group.post(hr, f"/link_cohort {cohort}")
    await tg.wait_for(lambda: len(group.inbox) > before)
    return str(group.inbox[-1]["text"])


async def bound(tg: FakeTelegram, demo: dict[str, str], name: str, user_id: int, first_name: str) -> FakeUser:
    user = tg.user(user_id, first_name)
    await user.send(f"/start {demo[name]}", expect=3)
    return user


async def quiet(seconds: float = 0.6) -> None:
    await asyncio.sleep(seconds)


def jobs(engine: Engine, adapter: TelegramAdapter) -> GroupJobs:
    ctx = engine.ctx
    return GroupJobs(ctx.db, ctx.settings, ctx.texts, ctx.rules, ctx.clock, adapter.chat_api)


async def test_members_let_in_and_welcomed_others_declined_with_hr_told(
        tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str], db: Database) -> None:
    group, hr = tg.group(), tg.user(HR_ADMIN)
    assert "已经绑定「2026年12月生产部集中培训」" in await link(tg, group, hr)
    [made] = tg.calls_of("createChatInviteLink")
    assert made.params["creates_join_request"] in (True, "true", "True")
    with db.session() as s:
        row = s.get(CohortGroup, COHORT)
        assert row is not None and row.chat_id == group.id and row.invite_link == group.links[-1]["invite_link"]

    zhang = await bound(tg, demo, "张三", 5001, "小张")
    [entry] = await zhang.click("👥 加入同期群")
    button = entry["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == group.links[-1]["invite_link"]
    [status] = await zhang.send("/status")
    assert "同期群已开放" in status["text"]

    group.request_join(zhang)
    await tg.wait_for(lambda: 5001 in group.approved and len(group.inbox) >= 2)
    welcome = group.inbox[-1]["text"]
    assert "欢迎 小张 加入" in welcome and "生产操作工" in welcome and "第 1 位伙伴" in welcome
    assert "张三" not in welcome  # the Telegram first name, not the name on the offer

    li = await bound(tg, demo, "李娜", 5002, "Lina")
    group.request_join(li)
    await tg.wait_for(lambda: 5002 in group.approved and len(group.inbox) >= 3)
    assert "第 2 位伙伴" in group.inbox[-1]["text"]

    # A stranger (no candidate bound to the account) and a candidate of another cohort: declined, HR told why,
    # and the group hears nothing.
    in_group = len(group.inbox)
    told = len(hr.inbox)
    group.request_join(tg.user(6001, "路人"))
    await tg.wait_for(lambda: 6001 in group.declined and len(hr.inbox) > told)
    assert "没有绑定任何候选人" in hr.inbox[-1]["text"] and "6001" in hr.inbox[-1]["text"]
    zhu = await bound(tg, demo, "朱婷", 5014, "婷")
    told = len(hr.inbox)
    group.request_join(zhu)
    await tg.wait_for(lambda: 5014 in group.declined and len(hr.inbox) > told)
    assert "不属于这个批次" in hr.inbox[-1]["text"] and "朱婷" in hr.inbox[-1]["text"]
    await quiet()
    assert len(group.inbox) == in_group
    assert group.members == {5001, 5002}


async def test_group_faq_only_when_addressed_and_bad_input(tg: FakeTelegram, bot: TelegramAdapter,
                                                           demo: dict[str, str], db: Database) -> None:
    group, hr = tg.group(), tg.user(HR_ADMIN)
    member = tg.user(5101, "小李")

    # Bad input first: a candidate's /link_cohort, an unknown cohort, /link_cohort in a private chat.
    group.post(member, f"/link_cohort {COHORT}")
    await tg.wait_for(lambda: len(group.inbox) >= 1)
    assert "只有 HR 管理员" in group.inbox[-1]["text"]
    assert "没有找到批次「nope」" in await link(tg, group, hr, "nope")
    [private] = await hr.send(f"/link_cohort {COHORT}")
    assert "请在要绑定的 Telegram 群里发送 /link_cohort" in private["text"]
    await link(tg, group, hr)
    with db.session() as s:
        assert s.get(CohortGroup, COHORT) is not None

    before = len(group.inbox)
    group.post(member, "宿舍是几人间")  # chatter among people: the bot keeps quiet
    group.post(member, "大家好,我是新来的")
    await quiet(1.0)
    assert len(group.inbox) == before

    group.post(member, "宿舍是几人间", mention=True)
    await tg.wait_for(lambda: len(group.inbox) > before)
    assert "4人间" in group.inbox[-1]["text"]
    answer = group.inbox[-1]
    group.post(member, "食堂怎么样", reply_to=answer)  # a reply to the bot is addressed to it
    await tg.wait_for(lambda: len(group.inbox) > before + 1, timeout=10)
    assert "食堂" in group.inbox[-1]["text"]
    # Not sure, or an answer built from one person's data: a short "ask me in private" with a link naming nothing.
    group.post(member, "公司股票代码是多少", mention=True)
    await tg.wait_for(lambda: len(group.inbox) > before + 2, timeout=10)
    private_link = group.inbox[-1]
    assert "私聊" in private_link["text"]
    assert private_link["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://t.me/DemoPlantHRBot?start=ask"
    group.post(member, "培训什么时候开始", mention=True)
    await tg.wait_for(lambda: len(group.inbox) > before + 3, timeout=10)
    assert "私聊" in group.inbox[-1]["text"] and "天" not in group.inbox[-1]["text"]
    with db.session() as s:  # nobody in the group was taken for a candidate
        assert s.exec(select(Candidate).where(Candidate.telegram_user_id == 5101)).first() is None


async def test_rights_and_moving_a_cohort(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str],
                                          db: Database) -> None:
    hr = tg.user(HR_ADMIN)
    no_invite = tg.group(-1001000000002, can_invite_users=False)
    assert "邀请用户" in await link(tg, no_invite, hr)
    not_admin = tg.group(-1001000000003, bot_status="member")
    assert "请先把我设为这个群的管理员" in await link(tg, not_admin, hr)
    assert not tg.calls_of("createChatInviteLink")

    first, second = tg.group(-1001000000004), tg.group(-1001000000005)
    await link(tg, first, hr)
    assert "已经绑定在另一个群" in await link(tg, second, hr)
    before = len(first.inbox)
    second.post(hr, f"/link_cohort {COHORT} move")
    await tg.wait_for(lambda: len(second.inbox) >= 2 and len(first.inbox) > before)
    assert "已经绑定" in second.inbox[-1]["text"]
    assert "迁到新的群" in first.inbox[-1]["text"]
    with db.session() as s:
        row = s.get(CohortGroup, COHORT)
        assert row is not None and row.chat_id == second.id and row.invite_link == second.links[-1]["invite_link"]
        assert s.exec(select(AuditLog).where(AuditLog.action == "group_move")).first() is not None

    # The old group's join link is revoked (Telegram turns people away from it); /unlink_cohort unlinks the new
    # one and revokes its link too.
    assert first.links[-1]["is_revoked"] and not second.links[-1]["is_revoked"]
    zhang = await bound(tg, demo, "张三", 5001, "小张")
    assert first.request_join(zhang) == 0 and 5001 not in first.requests
    second.post(hr, "/unlink_cohort")
    await tg.wait_for(lambda: "解除" in second.inbox[-1].get("text", ""), timeout=10)
    with db.session() as s:
        assert s.get(CohortGroup, COHORT) is None
    assert second.links[-1]["is_revoked"] and len(tg.calls_of("revokeChatInviteLink")) == 2


async def test_withdrawn_candidate_removed_and_pin(tg: FakeTelegram, bot: TelegramAdapter, engine: Engine,
                                                   demo: dict[str, str], db: Database) -> None:
    group, hr = tg.group(), tg.user(HR_ADMIN)
    await link(tg, group, hr)
    zhang = await bound(tg, demo, "张三", 5001, "小张")
    group.request_join(zhang)
    await tg.wait_for(lambda: 5001 in group.members)

    group.post(hr, "/pin 明天上午9点在一号门集合,请带身份证")
    await tg.wait_for(lambda: bool(group.pinned), timeout=10)
    pinned = next(m for m in group.inbox if m["message_id"] == group.pinned[-1])
    assert "一号门集合" in pinned["text"]

    def withdraw() -> None:  # as `hrbot candidates mark 1 withdrawn` and the card's button do
        with db.session() as s:
            cand = s.get(Candidate, 1)
            assert cand is not None and cand.name == "张三"
            console.mark(s, engine.ctx.settings, cand, "withdrawn", "other_job", "cli", NOW)

    await asyncio.to_thread(withdraw)  # off the event loop, which the adapter's turn in flight may still need
    result = await jobs(engine, bot).tick()
    assert result["removed"] == 1
    assert 5001 not in group.members and 5001 not in group.banned  # out, but free to come back if reinstated
    [ban] = tg.calls_of("banChatMember")
    [unban] = tg.calls_of("unbanChatMember")
    assert int(ban.params["user_id"]) == int(unban.params["user_id"]) == 5001
    with db.session() as s:
        assert [r.status for r in s.exec(select(GroupRemoval)).all()] == ["done"]
    assert (await jobs(engine, bot).tick())["removed"] == 0  # once

    told = len(hr.inbox)
    group.request_join(zhang)  # withdrawn: declined, HR told
    await tg.wait_for(lambda: 5001 in group.declined and len(hr.inbox) > told)
    assert "放弃入职" in hr.inbox[-1]["text"]


async def test_feedback_reminded_at_20h_and_escalated_at_24h(tg: FakeTelegram, bot: TelegramAdapter, engine: Engine,
                                                             demo: dict[str, str], db: Database,
                                                             clock: FixedClock) -> None:
    hr = tg.user(HR_ADMIN)
    zhang = await bound(tg, demo, "张三", 5001, "小张")
    [intro] = await zhang.send("/feedback")
    assert "24 小时内" in intro["text"]
    await zhang.click("🏠 宿舍")
    [refused] = await zhang.send_sticker()
    assert "只能收文字或照片" in refused["text"]
    [refused] = await zhang.send("太" * 1001)
    assert "超过了 1000 字" in refused["text"]
    [ask] = await zhang.send("宿舍热水晚上十点以后就没了,洗不了澡")
    assert "匿名" in ask["text"]
    told = len(hr.inbox)
    [received] = await zhang.click("🙈 匿名")
    assert "已收到" in received["text"] and "24 小时内" in received["text"]
    await tg.wait_for(lambda: len(hr.inbox) > told)
    note = hr.inbox[-1]["text"]
    assert "📮 意见 #1" in note and "张三" in note and "希望对团队匿名" in note and "热水" in note

    with db.session() as s:
        ticket = s.get(Ticket, 1)
        assert ticket is not None and ticket.kind == "feedback" and ticket.category == "dorm" and ticket.anonymous
        assert ticket.due_at is not None and ticket.due_at == (NOW + timedelta(hours=24))

    run = jobs(engine, bot)
    clock.set(NOW + timedelta(hours=19, minutes=59))
    assert (await run.tick())["reminded"] == 0
    clock.set(NOW + timedelta(hours=20))
    assert (await run.tick())["reminded"] == 1
    await tg.wait_for(lambda: "⏰ 意见 #1" in hr.inbox[-1].get("text", ""))
    assert (await run.tick())["reminded"] == 0  # once
    clock.set(NOW + timedelta(hours=24))
    assert (await run.tick())["escalated"] == 1
    await tg.wait_for(lambda: "🔴 意见 #1" in hr.inbox[-1].get("text", ""))
    assert "已标记为逾期" in hr.inbox[-1]["text"]
    with db.session() as s:
        ticket = s.get(Ticket, 1)
        assert ticket is not None and ticket.escalated_at is not None and ticket.status == "open"
    assert (await run.tick())["escalated"] == 0

    # HR answers by replying to the alert (the existing ticket path): the candidate gets it in the chat.
    [ack] = await hr.reply(hr.inbox[-1], "已经联系后勤,本周内热水改为24小时供应。")
    assert "已把回复发给 张三" in ack["text"]
    await tg.wait_for(lambda: "24小时供应" in zhang.inbox[-1].get("text", ""))


async def test_qa_board_shows_no_personal_data(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str]) -> None:
    hr = tg.user(HR_ADMIN)
    zhang = await bound(tg, demo, "张三", 5001, "小张")
    li = await bound(tg, demo, "李娜", 5002, "Lina")
    await zhang.send("我是张三,手机 138 0000 0001,邮箱 zhangsan@example.com,公司股票代码是多少")
    await zhang.click("🙋 问HR")
    await hr.send("/reply 1 张三你好:公司还没有上市。有事可以打 021-6543 2100 找王老师,或者问李娜。")
    await tg.wait_for(lambda: "没有上市" in zhang.inbox[-1].get("text", ""))

    [board] = await li.send("/questions")
    text = board["text"]
    assert "公司股票代码是多少" in text and "公司还没有上市" in text
    for personal in ("张三", "李娜", "138 0000 0001", "13800000001", "zhangsan", "6543", "2100"):
        assert personal not in text, personal

    [hr_board] = await hr.send(f"/questions {COHORT}")
    await hr.click("🙈 隐藏第 1 条")
    [after] = await li.send("/questions")
    assert "公司股票代码" not in after["text"]
    assert "还没有 HR 答复过的问题" in after["text"]
    assert hr_board["text"]
