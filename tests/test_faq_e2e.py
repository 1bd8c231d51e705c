"""FAQ end to end: the real python-telegram-bot adapter against the fake Bot API server."""

from __future__ import annotations

from sqlmodel import select

from bot.telegram.adapter import TelegramAdapter
from store.db import Database
from store.models import FaqQuery, RiskSignal, Ticket
from tests.fake_telegram import FakeTelegram, texts

HR = 100000001



async def test_question_answered_escalated_and_answered_by_hr(tg: FakeTelegram, bot: TelegramAdapter,
                                                              demo: dict[str, str], db: Database) -> None:
    user = tg.user(5001)
    await user.send(f"/start {demo['张三']}", expect=3)

    [answer] = await user.send("培训需要带电脑吗?")
    assert "不需要带电脑" in answer["text"]
    await user.click("👍 有帮助")

    [unknown] = await user.send("公司股票代码是多少")
    assert "HR" in unknown["text"]
    ask = next(b["callback_data"] for row in unknown["reply_markup"]["inline_keyboard"] for b in row
               if b["callback_data"].startswith("faqask:"))
    before_hr = len(tg.sent[HR])
    [opened] = await user.click(ask)
    assert "#1" in opened["text"]
    await tg.wait_for(lambda: len(tg.sent[HR]) > before_hr)
    forwarded = tg.sent[HR][-1]
    assert forwarded["text"].startswith("❓ 问题 #1") and "公司股票代码是多少" in forwarded["text"]

    hr = tg.user(HR, "HR")
    before = len(user.inbox)
    confirmation = await hr.reply(forwarded, "我们还没有上市哦。")
    assert "已把回复发给 张三" in texts(confirmation)
    await tg.wait_for(lambda: len(user.inbox) > before)
    assert "我们还没有上市哦。" in user.inbox[-1]["text"]
    with db.session() as s:
        assert s.exec(select(Ticket)).one().status == "answered"
        assert s.exec(select(FaqQuery).where(FaqQuery.entry_id == "training_bring")).one().vote == "up"


async def test_withdrawal_message_raises_an_alert(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str],
                                                  db: Database) -> None:
    user = tg.user(5002)
    await user.send(f"/start {demo['李娜']}", expect=3)
    before_hr = len(tg.sent[HR])
    [reply] = await user.send("家里有事来不了了,不好意思")
    assert "谢谢你告诉我们" in reply["text"]
    await tg.wait_for(lambda: len(tg.sent[HR]) > before_hr)
    assert tg.sent[HR][-1]["text"].startswith("⚠️ 流失预警")
    with db.session() as s:
        assert s.exec(select(RiskSignal)).one().kind == "withdrawal_intent"
