"""`hrbot shell`: the terminal adapter drives the same engine; buttons are typed as numbers."""

from __future__ import annotations

from bot.engine.core import Engine
from bot.shell import Shell


def run_shell(engine: Engine, lines: list[str], **kw: object) -> str:
    feed = iter(lines)
    out: list[str] = []

    def read(prompt: str) -> str:
        try:
            line = next(feed)
        except StopIteration:
            raise EOFError from None
        out.append(prompt + line)
        return line

    shell = Shell.for_user(engine, write=out.append, read=read, **kw)  # type: ignore[arg-type]
    shell.run()
    return "\n".join(out)


def test_stranger_shares_a_demo_phone_then_taps_buttons(engine: Engine, demo: dict[str, str]) -> None:
    text = run_shell(engine, ["0", "13800000001", "1", "11"], phone=None, hr=False, language_code=None)
    assert "hrbot shell" in text
    assert "[0] 📱 分享我的手机号" in text
    assert "欢迎你,张三!" in text and "[photo:" in text
    assert "[1] 📋 我的进度" in text
    assert "当前阶段:待入职" in text  # button 1
    assert "我可以帮你" in text  # button 11: help


def test_as_phone_and_english(engine: Engine, demo: dict[str, str]) -> None:
    text = run_shell(engine, ["0", "/status"], phone="138 0000 0020", hr=False, language_code="en")
    assert "Welcome, 罗斌!" in text and "Hand in your forklift licence" in text


def test_hr_shell_sees_messages_to_other_chats(engine: Engine, demo: dict[str, str]) -> None:
    run_shell(engine, ["0"], phone="13800000006", hr=False, language_code=None)  # 杨帆 binds in the shell
    text = run_shell(engine, ["/stage 6 waiting_training"], phone=None, hr=True, language_code=None)
    assert "已通知本人" in text
    assert "── → chat" in text and "你的入职进度有更新:待入职" in text


def test_shell_prints_a_cli_queued_notice_and_a_nudge(engine: Engine, demo: dict[str, str]) -> None:
    from datetime import timedelta

    from sqlmodel import select

    from bot.hr.service import queue_stage_notice, set_stage
    from store.models import Candidate, Outbox

    run_shell(engine, ["0"], phone="13800000006", hr=False, language_code=None)  # 杨帆 binds in the shell
    ctx = engine.ctx
    with ctx.db.session() as s:  # what `hrbot candidates set-stage 6 background_check` does
        cand = s.exec(select(Candidate).where(Candidate.name == "杨帆")).one()
        set_stage(s, ctx.settings, cand, "background_check", "cli", ctx.clock.now())
        assert queue_stage_notice(s, ctx.settings, ctx.texts, cand, ctx.clock.now())
    text = run_shell(engine, ["/points"], phone="13800000006", hr=False, language_code=None)
    chat = f"── → chat {cand.telegram_chat_id} ──"
    notice = text.index("你的入职进度有更新")
    assert chat in text[:notice] and notice < text.index("> /points")  # printed as soon as the shell starts
    # Six quiet days later, in the morning: the planner (ticking in the shell) has a nudge for them.
    ctx.clock.set(ctx.clock.now() + timedelta(days=6))  # type: ignore[attr-defined]
    text = run_shell(engine, [], phone="13800000006", hr=False, language_code=None)
    with ctx.db.session() as s:
        nudges = s.exec(select(Outbox).where(Outbox.kind == "nudge", Outbox.status == "sent",
                                             Outbox.candidate_id == cand.id)).all()
    assert nudges, text  # the planner ran in the shell and the sender printed what it wrote
    assert all(n.text and n.text.strip().splitlines()[0] in text for n in nudges)
    assert text.index(chat) < text.index("> /start")  # printed before the shell user typed anything
