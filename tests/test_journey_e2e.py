"""A candidate's whole journey through the real adapter and the fake Bot API server: a lesson and its quiz (one
wrong, then right), points, a reward, a document HR approves, and /status showing it done."""

from __future__ import annotations

from sqlmodel import select

from bot.telegram.adapter import TelegramAdapter
from store.db import Database
from store.models import DocumentUpload, Redemption
from tests.fake_telegram import FakeTelegram, texts

HR = 100000001



async def test_candidate_journey(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str], db: Database) -> None:
    user = tg.user(5001, "San")
    await user.send(f"/start {demo['张三']}", expect=3)

    # A lesson, part by part, then its quiz.
    await user.send("/learn")
    await user.click("📘 生产岗常见工具使用技巧", expect=2)
    for _ in range(2):
        await user.click("继续 ▶️")
    [question] = await user.click("继续 ▶️")
    assert question["text"].startswith("✏️ 第1/3题:用游标卡尺测量前要先做什么")
    feedback, nxt = await user.click("B", expect=2)  # wrong: the right answer and why, then the next question
    assert "❌ 不对哦,正确答案是 A. 合拢量爪检查是否归零" in feedback["text"] and "第2/3题" in nxt["text"]
    await user.click("A", expect=2)  # wrong again
    replies = await user.click("B", expect=2)
    assert "需要答对 2 题" in texts(replies)  # 1 of 3: not passed
    await user.click("🔁 再做一次测验")
    await user.click("A", expect=2)
    await user.click("B", expect=2)
    replies = await user.click("B", expect=2)
    assert "测验通过!答对 3/3 题" in texts(replies) and "获得 40 积分" in texts(replies)

    # Points, and a reward.
    [points] = await user.send("/points")
    assert "你现在有 40 积分" in points["text"]
    await user.send("/rewards")
    await user.click("🎁 定制保温杯 · 40")
    before_hr = len(tg.sent[HR])
    [done] = await user.click("✅ 确定兑换")
    assert "兑换成功" in done["text"]
    await tg.wait_for(lambda: len(tg.sent[HR]) > before_hr)
    assert "定制保温杯" in tg.sent[HR][-1]["text"]

    # A document: first the privacy notice (nothing kept before consent), then sent as a PDF, downloaded by the
    # bot, stored sealed, shown to HR (opened in memory), approved.
    [notice] = await user.send_document(b"%PDF-1.4 health certificate", "health.pdf", "application/pdf")
    assert "个人信息处理说明" in notice["text"]
    [again] = await user.click("✅ 同意")
    assert "请再发一次" in again["text"]
    [which] = await user.send_document(b"%PDF-1.4 health certificate", "health.pdf", "application/pdf")
    assert "这是哪一项材料" in which["text"]
    before_hr = len(tg.sent[HR])
    await user.click("提交健康证明")
    await tg.wait_for(lambda: len(tg.sent[HR]) > before_hr)
    to_hr = tg.sent[HR][-1]
    assert to_hr["document"] and "张三(#1)提交了「提交健康证明」" in to_hr["caption"]
    assert tg.calls_of("getFile") and tg.calls_of("download")
    hr = tg.user(HR, "HR")
    before = len(user.inbox)
    await hr.click("✅ 通过")
    await tg.wait_for(lambda: len(user.inbox) > before)
    assert "审核通过了" in user.inbox[-1]["text"]

    [status] = await user.send("/status")
    assert "提交健康证明" in status["text"].split("已完成")[1]
    with db.session() as s:
        upload = s.exec(select(DocumentUpload)).one()
        assert upload.status == "approved" and upload.telegram_file_id
        assert s.exec(select(Redemption)).one().reward_id == "company_flask"


async def test_wrong_files_get_a_clear_answer(tg: FakeTelegram, bot: TelegramAdapter, demo: dict[str, str]) -> None:
    user = tg.user(5002)
    await user.send(f"/start {demo['李娜']}", expect=3)
    await user.send("/privacy")
    await user.click("✅ 同意")
    [reply] = await user.send_document(b"MZ...", "setup.exe", "application/x-msdownload")
    assert "请发 JPG/PNG/PDF 格式" in reply["text"]
    [reply] = await user.send_document(b"%PDF", "huge.pdf", "application/pdf", declared_size=15 * 1024 * 1024)
    assert "不超过 10MB" in reply["text"]
    assert not tg.calls_of("getFile")  # neither was downloaded
    [reply] = await user.send_photo(b"\xff\xd8\xff photo bytes")
    assert "这是哪一项材料" in reply["text"]
