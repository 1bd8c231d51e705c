"""End to end through the real adapter and the fake Bot API server: a 1:1 thread between HR and a candidate, both
ways, by Telegram's reply and by the "reply to HR" button; /find with several matches and paging."""

from __future__ import annotations

from sqlmodel import select

from bot.engine.core import Engine
from bot.hr import members
from bot.telegram.adapter import TelegramAdapter
from store.db import Database
from store.models import AuditLog, HrMessage
from tests.conftest import HR_ADMIN, NOW
from tests.fake_telegram import FakeTelegram, texts

MEMBER = 200000011  # an HR member of production, with a name candidates see


async def test_thread_both_ways_by_reply_and_by_button(tg: FakeTelegram, bot: TelegramAdapter, engine: Engine,
                                                       demo: dict[str, str], db: Database) -> None:
    with db.session() as s:
        members.add(s, engine.ctx.settings, MEMBER, role="hr", departments="production", name="王老师",
                    actor="test", now=NOW)
    engine.ctx.staff.refresh()
    cand = tg.user(5001)
    await cand.send(f"/start {demo['张三']}", expect=3)
    hr, admin = tg.user(MEMBER), tg.user(HR_ADMIN)

    [ack] = await hr.send("/msg 1 明天上午能来面谈吗?")
    assert "已发给 张三" in ack["text"]
    await tg.wait_for(lambda: "明天上午" in cand.inbox[-1].get("text", ""))
    from_hr = cand.inbox[-1]
    assert "来自 HR 王老师 的消息" in from_hr["text"]

    # 1. The candidate replies to it (Telegram's reply): it reaches 王老师, not the FAQ and not the admin.
    admin_before = len(admin.inbox)
    [sent] = await cand.reply(from_hr, "可以,十点到")
    assert "已发给 HR 王老师" in sent["text"]
    await tg.wait_for(lambda: bool(hr.inbox) and "十点到" in hr.inbox[-1].get("text", ""))
    answer = hr.inbox[-1]
    assert "张三(编号 1)回复" in answer["text"]

    # 2. HR replies to that: it goes back to the candidate.
    [ack] = await hr.reply(answer, "好的,到前台找我")
    assert "已发给 张三" in ack["text"]
    await tg.wait_for(lambda: "到前台找我" in cand.inbox[-1].get("text", ""))

    # 3. The candidate taps "reply to HR"; the next typed message goes to HR (the FAQ does not answer it).
    [prompt] = await cand.click("↩️ 回复 HR")
    assert "发给 HR 王老师 本人" in prompt["text"]
    [sent] = await cand.send("宿舍是几人间")
    assert "已发给 HR 王老师" in sent["text"]
    await tg.wait_for(lambda: "宿舍是几人间" in hr.inbox[-1].get("text", ""))
    # 4. ...and only that one: the next question is the FAQ's again.
    [faq] = await cand.send("宿舍是几人间")
    assert "已发给" not in faq["text"]
    assert len(admin.inbox) == admin_before  # nothing of this thread reached the other HR admin

    with db.session() as s:
        rows = s.exec(select(HrMessage).order_by(HrMessage.id)).all()  # type: ignore[arg-type]
        assert [(r.direction, r.hr_id) for r in rows] == [("out", MEMBER), ("in", MEMBER), ("out", MEMBER),
                                                          ("in", MEMBER)]
        audited = s.exec(select(AuditLog).where(AuditLog.action.in_(("hr_message_out", "hr_message_in")))).all()  # type: ignore[attr-defined]
        assert len(audited) == 4 and not any("宿舍" in (a.detail or "") for a in audited)

    # The card shows the thread.
    [card] = await hr.send("/find 张三")
    assert "十点到" in card["text"] and "到前台找我" in card["text"]


async def test_msg_to_a_blocked_candidate_sends_nothing(tg: FakeTelegram, bot: TelegramAdapter,
                                                        demo: dict[str, str], db: Database) -> None:
    cand = tg.user(5006)
    await cand.send(f"/start {demo['杨帆']}", expect=3)
    tg.blocked.add(5006)
    hr = tg.user(HR_ADMIN)
    await hr.send("/stage 6 background_check")  # the notice meets the 403: unreachable is recorded
    await tg.wait_for(lambda: any(c.code == 403 for c in tg.calls if not c.ok))
    await tg.wait_for(lambda: _unreachable(db))
    sends = len(tg.calls_of("sendMessage"))
    [refused] = await hr.send("/msg 6 你好")
    assert "已屏蔽机器人" in refused["text"]
    assert len(tg.calls_of("sendMessage")) == sends + 1  # only HR's answer
    with db.session() as s:
        assert s.exec(select(HrMessage)).all() == []


def _unreachable(db: Database) -> bool:
    from store.models import Candidate

    with db.session() as s:
        row = s.get(Candidate, 6)
        return row is not None and row.unreachable_at is not None


async def test_find_list_pages_and_pick(tg: FakeTelegram, bot: TelegramAdapter) -> None:
    hr = tg.user(HR_ADMIN)
    [page1] = await hr.send("/find 0000")
    assert "第 1/4 页" in page1["text"]
    [page2] = await hr.click("下一页 ▶️")
    assert "第 2/4 页" in page2["text"]
    pick = next(b["text"] for row in page2["reply_markup"]["inline_keyboard"] for b in row if "马超" in b["text"])
    [card] = await hr.click(pick)
    assert "👤 马超" in texts([card])
