"""No personal data in the logs at the default level: an end-to-end journey through the real adapter and the fake
Bot API server (binding by link and by phone, the privacy notice, the profile with an ID number and an emergency
contact, typed questions, a document HR approves, /mydata, a message to HR, erasure), every log line captured at
INFO (what `hrbot run` logs), then scanned for the demo candidates' names, phones, ID numbers and what they typed."""

from __future__ import annotations

import csv
import logging

import pytest

from bot.telegram.adapter import TelegramAdapter
from tests.conftest import HR_ADMIN, ROOT
from tests.fake_telegram import FakeTelegram
from tests.test_profile_documents import GOOD_ID

TYPED = ["我家的小狗叫豆豆布丁", "宿舍可以养一只仓鼠吗", "王芳 母亲", "139 1234 5678", "我的身份证号是" + GOOD_ID,
         "我找到别的工作了,月薪八千五"]


def demo_people() -> list[str]:
    with (ROOT / "content" / "demo" / "candidates.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out: list[str] = []
    for r in rows:
        digits = r["phone"].replace(" ", "")
        out += [r["name"], digits, "+86" + digits, r["phone"]]
    return out


async def test_a_journey_logs_no_personal_data(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str],
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # as `hrbot run` sets it (the URL holds the token)
    user = tg.user(5001, "San")
    await user.send(f"/start {demo['张三']}", expect=3)
    await user.send("/privacy")
    await user.click("✅ 同意")
    await user.send("/profile")
    await user.click("✍️ 填写/修改全部", expect=2)
    await user.send("张三")
    await user.send(GOOD_ID)
    await user.click("大专")
    await user.send(TYPED[2])
    await user.send(TYPED[3], expect=2)
    for line in TYPED[:2] + TYPED[4:]:
        await user.send(line)
    await user.click("🙋 问HR")  # the last question goes to HR as a ticket
    await user.send_document(b"%PDF-1.4 certificate", "张三-健康证.pdf", "application/pdf")
    await tg.wait_for(lambda: any("这是哪一项材料" in (m.get("text") or "") for m in user.inbox))
    await user.click("提交健康证明")
    await tg.wait_for(lambda: any("提交健康证明" in (m.get("caption") or "") for m in tg.sent[HR_ADMIN]))
    hr = tg.user(HR_ADMIN, "HR")
    await hr.click("✅ 通过")
    await hr.send("/inbox")
    await user.send("/mydata", expect=2)
    other = tg.user(5002, "Na", language_code="en")
    await other.send("/start")
    await other.share_contact("+8613800000002", expect=2)
    await other.send("Can I bring my cat to the dormitory?")
    await user.send("/delete_my_data")
    await user.click("确定删除")

    lines = [r.getMessage() + (r.exc_text or "") for r in caplog.records if r.levelno >= logging.INFO]
    assert lines  # the journey did log (start-up, FAQ, the sender...)
    needles = demo_people() + [GOOD_ID, "13912345678", "+8613912345678", "健康证.pdf"] + TYPED + \
        ["Can I bring my cat"]
    leaks = sorted({(n, line[:200]) for line in lines for n in needles if n in line})
    assert leaks == []
