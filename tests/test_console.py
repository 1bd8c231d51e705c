"""The HR console in chat: /find (list, paging, pick, card, scope), /msg threads and their bad input, outcomes by
button, by the CLI and per cohort."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.console.buttons import FindPick, pack_query, unpack_query
from bot.engine.core import Engine
from bot.engine.effects import Say
from bot.hr import members
from bot.learning import points as ledger
from store.db import Database
from store.models import AuditLog, Candidate, HrMessage, LessonProgress
from tests.chat import Chat
from tests.conftest import HR_ADMIN, NOW, ROOT

SCOPED, VIEWER = 200000001, 200000002


def cand_row(db: Database, name: str) -> Candidate:
    with db.session() as s:
        return s.exec(select(Candidate).where(Candidate.name == name)).one()


def add_member(engine: Engine, db: Database, telegram_id: int, role: str, departments: str = "",
               name: str | None = None) -> None:
    with db.session() as s:
        members.add(s, engine.ctx.settings, telegram_id, role=role, departments=departments, name=name,
                    actor="test", now=NOW)
    engine.ctx.staff.refresh()


def labels(chat: Chat) -> list[str]:
    return [b.text for e in chat.last if isinstance(e, Say) for row in e.buttons for b in row]


def test_find_several_matches_pages_and_pick(engine: Engine, demo: dict[str, str]) -> None:
    hr = Chat(engine, HR_ADMIN)
    hr.send("/find 0000")  # part of every demo phone number: 30 matches, 8 a page
    assert "共 30 位候选人" in hr.texts() and "第 1/4 页" in hr.texts()
    first = [b for b in labels(hr) if "·" in b]
    assert len(first) == 8 and first[0].startswith("张三 · 生产部")
    hr.click("下一页")
    assert "第 2/4 页" in hr.texts()
    second = [b for b in labels(hr) if "·" in b]
    assert second[0].startswith("吴强") and not set(first) & set(second)
    assert any("上一页" in b for b in labels(hr))
    hr.click("上一页")
    assert "第 1/4 页" in hr.texts()
    hr.click("李娜 ·")  # pick one: her card
    assert "👤 李娜(编号 2,E2026002)" in hr.texts()

    # Part of a name, the end of a phone, an external id, an id: one match is the card at once.
    for query, who in (("/find 娜", "李娜"), ("/find 0020", "罗斌"), ("/find E2026013", "Nguyen Van An"),
                       ("/find nguyen", "Nguyen Van An"), ("/find +86 138 0000 0006", "杨帆"), ("/find 7", "黄磊")):
        hr.send(query)
        assert f"👤 {who}" in hr.texts(), query
    # A close name (a typo) is offered in a list, never shown as if it were the one.
    hr.send("/find 张山")
    assert "相近" in hr.texts() and any(b.startswith("张三 ·") for b in labels(hr))
    hr.send("/find Davd Chen")
    assert any(b.startswith("David Chen ·") for b in labels(hr))
    # Nothing found, and nothing asked.
    assert "没有找到与\"赵钱孙\"匹配" in hr.send("/find 赵钱孙")[0].text  # type: ignore[union-attr]
    assert "用法:/find" in hr.send("/find")[0].text  # type: ignore[union-attr]


def test_the_card_shows_everything_hr_needs(engine: Engine, demo: dict[str, str], db: Database) -> None:
    cand = Chat(engine, 1)
    cand.send(f"/start {demo['张三']}")
    me = cand_row(db, "张三")
    with db.session() as s:
        ledger.award(s, me.id or 0, 30, "lesson", "lesson:safety_rules", NOW)
        s.add(LessonProgress(candidate_id=me.id or 0, lesson_id="safety_rules", attempts=2, best_correct=3,
                             questions=4, passed_at=NOW, updated_at=NOW))
    cand.send("公司股票代码是多少")
    cand.click("问HR")  # an open ticket
    hr = Chat(engine, HR_ADMIN)
    hr.send("/msg 1 明天请带身份证")
    hr.send("/find 张三")
    card = hr.texts()
    for part in ("生产操作工 · 生产部", "阶段:待入职", "2026年12月生产部集中培训", "还有 18 天", "积分:30",
                 "提交健康证明,截止 2026年12月10日", "(未完成)", "车间安全规范:测验 3/4,共 2 次", "待回答问题:1",
                 "公司股票代码是多少", "→", "明天请带身份证", "Telegram:已关联", "最近活跃:2026年11月27日"):
        assert part in card, part
    assert labels(hr) == ["🔀 设置阶段", "✉️ 发私信", "🚪 标记放弃", "✅ 标记已参加培训"]
    # Someone who never started the bot: the card says so and offers a new invite link, shown to HR only.
    hr.send("/find 李娜")
    assert "尚未启动机器人" in hr.texts() and "🔗 重新生成邀请链接" in labels(hr)
    hr.click("重新生成邀请链接")
    link = hr.texts().split("\n")[1]
    assert link.startswith("https://t.me/") and "?start=" in link
    token = link.rsplit("=", 1)[1]
    assert token != demo["李娜"]
    other = Chat(engine, 2)
    assert "欢迎你,李娜" in other.send(f"/start {token}")[0].text  # type: ignore[union-attr]
    with db.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "reissue_invite")).one().candidate_id == 2
        assert s.exec(select(AuditLog).where(AuditLog.action == "view_card")).first() is not None


def test_scoped_member_cannot_find_or_reach_another_department(engine: Engine, demo: dict[str, str],
                                                              db: Database) -> None:
    Chat(engine, 1).send(f"/start {demo['张三']}")
    add_member(engine, db, SCOPED, "hr", departments="warehouse")
    wh = Chat(engine, SCOPED)
    for query in ("/find 张三", "/find 1", "/find E2026001", "/find 13800000001", "/find 张"):
        assert "没有找到" in wh.send(query)[0].text, query  # type: ignore[union-attr]
    wh.send("/find 0000")  # only their own six
    assert "共 6 位候选人" in wh.texts() and all("仓储" in b for b in labels(wh))
    assert "没有找到" in wh.press(FindPick(1).button("forged"))[-1].text  # type: ignore[union-attr]
    assert "没有找到" in wh.send("/msg 1 你好")[0].text  # type: ignore[union-attr]
    wh.send("/find 罗斌")
    assert "👤 罗斌" in wh.texts()
    with db.session() as s:
        assert s.exec(select(HrMessage)).all() == []


def test_viewer_reads_but_cannot_write(engine: Engine, demo: dict[str, str], db: Database) -> None:
    Chat(engine, 1).send(f"/start {demo['张三']}")
    add_member(engine, db, VIEWER, "viewer")
    viewer = Chat(engine, VIEWER)
    assert "只读" in viewer.send("/msg 1 你好")[0].text  # type: ignore[union-attr]
    viewer.send("/find 张三")
    assert "👤 张三" in viewer.texts() and labels(viewer) == []  # no buttons that would write
    assert "只读" in viewer.send("/attended prod-2026-12")[0].text  # type: ignore[union-attr]
    with db.session() as s:
        assert s.exec(select(HrMessage)).all() == []
        assert s.exec(select(AuditLog).where(AuditLog.action == "hr_denied_read_only")).all()
    # A stranger: /find does not exist for them.
    assert "不认识 /find" in Chat(engine, 777).send("/find 张三")[0].text  # type: ignore[union-attr]


def test_msg_bad_input_sends_nothing(engine: Engine, demo: dict[str, str], db: Database) -> None:
    cand = Chat(engine, 1)
    cand.send(f"/start {demo['张三']}")
    hr = Chat(engine, HR_ADMIN)
    assert "用法:/msg" in hr.send("/msg")[0].text  # type: ignore[union-attr]
    assert "用法:/msg" in hr.send("/msg 1")[0].text  # type: ignore[union-attr]
    assert "4096" in hr.send("/msg 1 " + "长" * 4097)[0].text  # type: ignore[union-attr]
    assert "还没有启动机器人" in hr.send("/msg 李娜 你好")[0].text  # type: ignore[union-attr]
    assert "匹配到 30 位" in hr.send("/msg 0000 你好")[0].text  # type: ignore[union-attr]
    with db.session() as s:
        me = s.get(Candidate, 1)
        assert me is not None
        me.unreachable_at = NOW
        s.add(me)
    assert "已屏蔽机器人" in hr.send("/msg 1 你好")[0].text  # type: ignore[union-attr]
    with db.session() as s:
        assert s.exec(select(HrMessage)).all() == []
    assert all(e.chat_id == HR_ADMIN for e in hr.last if isinstance(e, Say))


def test_thread_by_reply_and_by_button_goes_to_that_hr_member(engine: Engine, demo: dict[str, str],
                                                               db: Database) -> None:
    cand = Chat(engine, 1)
    cand.send(f"/start {demo['张三']}")
    add_member(engine, db, SCOPED, "hr", departments="production", name="王老师")
    hr, other_hr = Chat(engine, SCOPED), Chat(engine, HR_ADMIN)
    hr.send("/msg 1 明天能来面谈吗?")
    [to_cand] = hr.says(1)
    assert "来自 HR 王老师 的消息" in to_cand.text and "#msg1" in to_cand.text
    # The candidate answers by replying: it goes to 王老师 only, not to the FAQ, not to every admin.
    cand.send("可以,上午十点", reply_to=to_cand.text)
    assert "已发给 HR 王老师" in cand.texts()
    [to_hr] = cand.says(SCOPED)
    assert "张三(编号 1)回复" in to_hr.text and "上午十点" in to_hr.text
    assert cand.says(HR_ADMIN) == []
    # HR answers by replying to that.
    hr.send("好的,到前台找我", reply_to=to_hr.text)
    [back] = hr.says(1)
    assert "到前台找我" in back.text and "#msg3" in back.text
    # By the button: the next typed message goes to HR (the FAQ is not asked), once.
    cand.last = [back]
    cand.click("回复 HR")
    assert "发给 HR 王老师 本人" in cand.texts()
    cand.send("宿舍是几人间")
    assert cand.says(SCOPED) and "宿舍是几人间" in cand.says(SCOPED)[0].text
    cand.send("宿舍是几人间")  # the next one is a question for the FAQ again
    assert cand.says(SCOPED) == [] and "人间" in cand.texts()
    # Cancel.
    cand.last = [back]
    cand.click("回复 HR")
    cand.click("取消")
    assert "什么都没有发送" in cand.texts()
    assert cand_row(db, "张三").hr_reply_to is None
    # The card's message button asks for the text next.
    other_hr.send("/find 张三")
    other_hr.click("发私信")
    assert "#to1" in other_hr.texts()
    other_hr.send("请回电话")
    assert "来自 HR 的消息" in other_hr.says(1)[0].text and "请回电话" in other_hr.says(1)[0].text
    with db.session() as s:
        rows = s.exec(select(HrMessage).order_by(HrMessage.id)).all()  # type: ignore[arg-type]
        assert [(r.direction, r.hr_id) for r in rows] == [("out", SCOPED), ("in", SCOPED), ("out", SCOPED),
                                                          ("in", SCOPED), ("out", HR_ADMIN)]
        audits = s.exec(select(AuditLog).where(AuditLog.action.in_(("hr_message_out", "hr_message_in")))).all()  # type: ignore[attr-defined]
        assert len(audits) == 5 and all("明天" not in (a.detail or "") for a in audits)
    other_hr.send("/find 张三")
    assert "上午十点" in other_hr.texts() and "请回电话" in other_hr.texts()  # the thread, in the card


def test_outcomes_by_button(engine: Engine, demo: dict[str, str], db: Database) -> None:
    hr = Chat(engine, HR_ADMIN)
    hr.send("/find 王伟")
    hr.click("标记放弃")
    assert "放弃的原因" in hr.texts()
    hr.click("找到了别的工作")
    assert "已标记:已放弃(找到了别的工作)" in hr.texts() and "阶段已设为已放弃" in hr.texts()
    row = cand_row(db, "王伟")
    assert (row.outcome, row.outcome_reason, row.outcome_by, row.stage) == \
        ("withdrawn", "other_job", f"telegram:{HR_ADMIN}", "withdrawn")
    assert row.outcome_at is not None
    hr.send("/find 刘洋")
    hr.click("标记已参加培训")
    assert "已参加培训" in hr.texts()
    hr.send("/find 刘洋")
    assert "结果:已参加培训" in hr.texts()
    hr.click("标记已参加培训")
    assert "没有变化" in hr.texts()
    hr.click("查看卡片")
    hr.click("设置阶段")
    hr.click("集中培训")
    assert cand_row(db, "刘洋").stage == "training"
    with db.session() as s:
        marks = s.exec(select(AuditLog).where(AuditLog.action == "mark_outcome")).all()
        assert [m.detail for m in marks] == ["withdrawn reason=other_job", "attended"]


def test_cohort_attended_except_with_confirmation(engine: Engine, demo: dict[str, str], db: Database) -> None:
    hr = Chat(engine, HR_ADMIN)
    assert "用法:/attended" in hr.send("/attended")[0].text  # type: ignore[union-attr]
    assert "没有批次" in hr.send("/attended nope")[0].text  # type: ignore[union-attr]
    assert "不是批次" in hr.send("/attended prod-2026-12 except 20")[0].text  # type: ignore[union-attr]
    hr.send("/find 孙浩")
    hr.click("标记放弃")
    hr.click("家庭原因")
    hr.send("/attended prod-2026-12 except 3,5")  # 13 in the cohort, 2 excepted, 1 already withdrawn
    assert "将 2026年12月生产部集中培训 的 10 位" in hr.texts() and "王伟 (3)" in hr.texts()
    assert "1 位已有结果" in hr.texts()
    with db.session() as s:
        assert s.exec(select(Candidate).where(Candidate.outcome == "attended")).all() == []  # nothing yet
    confirm = hr.button("确认标记 10 位")
    hr.press(confirm)
    assert "已将 2026年12月生产部集中培训 的 10 位" in hr.texts()
    hr.press(confirm)  # a double tap marks nobody twice
    assert "没有需要标记的人" in hr.texts()
    with db.session() as s:
        attended = s.exec(select(Candidate).where(Candidate.outcome == "attended")).all()
        assert len(attended) == 10 and {c.name for c in attended}.isdisjoint({"王伟", "陈静", "孙浩"})
        assert cand_row(db, "孙浩").outcome == "withdrawn"
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "mark_cohort_attended")).all()) == 1
    hr.send("/attended prod-2027-01")
    hr.click("取消")
    assert "已取消" in hr.texts()
    with db.session() as s:
        assert s.exec(select(Candidate).where(Candidate.cohort_id == "prod-2027-01",
                                              Candidate.outcome != None)).all() == []  # noqa: E711


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, db: Database) -> CliRunner:
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


def test_outcomes_from_the_cli(cli: CliRunner, demo: dict[str, str], db: Database) -> None:
    result = cli.invoke(app, ["candidates", "mark", "E2026003", "withdrawn"])
    assert result.exit_code == 2 and "other_job" in result.output
    result = cli.invoke(app, ["candidates", "mark", "E2026003", "withdrawn", "--reason", "去了隔壁厂"])
    assert result.exit_code == 0 and "stage -> withdrawn" in result.output
    result = cli.invoke(app, ["candidates", "mark", "13800000004", "attended"])
    assert result.exit_code == 0, result.output
    assert cli.invoke(app, ["candidates", "mark", "999", "attended"]).exit_code == 1
    assert cli.invoke(app, ["candidates", "mark", "4", "absent"]).exit_code == 2
    rows = {r["name"]: r for r in __import__("json").loads(cli.invoke(app, ["candidates", "list", "--json"]).output)}
    assert rows["王伟"]["outcome"] == "withdrawn" and rows["刘洋"]["outcome"] == "attended"
    assert rows["张三"]["outcome"] is None and rows["张三"]["telegram_user_id"] is None
    assert cand_row(db, "王伟").outcome_reason == "去了隔壁厂" and cand_row(db, "王伟").outcome_by == "cli"
    with db.session() as s:
        details = [a.detail for a in s.exec(select(AuditLog).where(AuditLog.action == "mark_outcome")).all()]
        assert details == ["withdrawn reason=(free text)", "attended"]

    result = cli.invoke(app, ["cohorts", "mark-attended", "prod-2027-01", "--except", "14,15", "--dry-run"])
    assert result.exit_code == 0 and "would mark 3" in result.output
    result = cli.invoke(app, ["cohorts", "mark-attended", "prod-2027-01", "--except", "14,15"])
    assert "marked 3" in result.output
    assert cli.invoke(app, ["cohorts", "mark-attended", "prod-2027-01", "--except", "1"]).exit_code == 2
    assert cli.invoke(app, ["cohorts", "mark-attended", "nope"]).exit_code == 2
    with db.session() as s:
        assert len(s.exec(select(Candidate).where(Candidate.outcome == "attended")).all()) == 4
        assert s.exec(select(AuditLog).where(AuditLog.action == "mark_outcome", AuditLog.actor == "cli")).first()


def test_query_rides_in_page_buttons() -> None:
    for q in ("张三", "0000", "Nguyen Van An", "王" * 13):
        packed = pack_query(q)
        assert packed is not None and ":" not in packed and unpack_query(packed) == q
    assert pack_query("王" * 14) is None
    assert unpack_query("%%%") is None


def test_the_name_index_follows_changes(engine: Engine, demo: dict[str, str], db: Database) -> None:
    from datetime import timedelta

    from bot.console.search import NameIndex

    index, settings = NameIndex(), engine.ctx.settings
    with db.session() as s:
        assert index.search(s, settings, "张三").ids == [1]
        row = s.get(Candidate, 1)
        assert row is not None
        row.name, row.updated_at = "张三丰", row.updated_at + timedelta(seconds=1)
        s.add(Candidate(name="赵六", phone="+8613800000099", role="line_operator", department="production",
                        stage="waiting_training", stage_changed_at=NOW, created_at=NOW, updated_at=NOW))
    with db.session() as s:
        assert index.search(s, settings, "张三丰").ids == [1]
        assert index.search(s, settings, "13800000099").exact
        assert index.search(s, settings, "赵六").ids
        s.delete(s.get(Candidate, 31))
    with db.session() as s:
        assert index.search(s, settings, "赵六").ids == []  # erased: read again from scratch


def test_strangers_and_candidates_cannot_use_the_console(engine: Engine, demo: dict[str, str], db: Database) -> None:
    from bot.console.buttons import CardAction, HrReply

    cand, other = Chat(engine, 1), Chat(engine, 2)
    cand.send(f"/start {demo['张三']}")
    other.send(f"/start {demo['李娜']}")
    for line in ("/find 张三", "/msg 1 你好", "/attended prod-2026-12"):
        assert "我不认识" in cand.send(line)[0].text  # type: ignore[union-attr]
    cand.press(CardAction("attended", 2).button("forged"))
    assert "按钮已经失效" in cand.texts()
    assert cand_row(db, "李娜").outcome is None
    # HR writes to 张三; 李娜 cannot answer in that thread with a forged button.
    Chat(engine, HR_ADMIN).send("/msg 1 你好")
    other.press(HrReply(1).button("forged"))
    assert "无法在这里回复" in other.texts() and cand_row(db, "李娜").hr_reply_to is None
    with db.session() as s:
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "hr_denied")).all()) == 4


def test_a_quoted_marker_or_a_pending_message_never_hijacks_a_ticket_answer(engine: Engine, demo: dict[str, str],
                                                                          db: Database) -> None:
    a, b = Chat(engine, 1), Chat(engine, 2)
    a.send(f"/start {demo['张三']}")
    b.send(f"/start {demo['李娜']}")
    hr = Chat(engine, HR_ADMIN)
    hr.send("/msg 2 你好")  # thread #msg1 is with 李娜
    a.send("公司股票代码 #msg1 是多少")  # 张三 quotes the marker in a question
    a.click("问HR")
    [ticket] = a.says(HR_ADMIN)
    hr.send("/find 李娜")
    hr.click("发私信")  # a message to 李娜 is pending ...
    hr.send("代码是 600000", reply_to=ticket.text)  # ... but HR answers 张三's ticket by replying to it
    assert any("600000" in e.text for e in hr.says(1))
    assert not any("600000" in e.text for e in hr.says(2))
    with db.session() as s:
        assert [m.text for m in s.exec(select(HrMessage)).all()] == ["你好"]


def test_withdraw_reasons_are_the_same_list_in_every_language(engine: Engine) -> None:
    texts = engine.ctx.texts
    lists = [list(texts.raw(loc, "withdraw_reasons")) for loc in engine.ctx.settings.locales]
    assert all(lst == lists[0] for lst in lists) and len(lists[0]) >= 5
