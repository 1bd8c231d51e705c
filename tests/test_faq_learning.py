"""Learning from use: a candidate's tap on a "did you mean" suggestion, or HR linking an answered ticket to an
existing entry, proposes the question as an example question of that entry. It waits in the database (the same
question is one proposal, its taps counted) until HR exports it as `add_to:` for `hrbot faq merge`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.engine.core import Engine
from bot.engine.effects import Button
from bot.faq.runtime import FaqRuntime
from store.db import Database
from store.models import FaqProposal, Ticket
from tests.chat import Chat
from tests.faqtools import faq_settings

HR = 100000001
QUESTION = "宿舍可以住单间吗"
SECOND = "李娜"


@pytest.fixture
def settings(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """FAQ files copied to tmp_path (merged into here), and the CLI pointed at them and the test database."""
    monkeypatch.setenv("HRBOT_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    return faq_settings(tmp_path, db_url)


def candidate(engine: Engine, demo: dict[str, str], name: str, user_id: int) -> Chat:
    chat = Chat(engine, user_id)
    chat.send(f"/start {demo[name]}")
    return chat


def suggestions(chat: Chat) -> list[Button]:
    return [b for row in chat.says()[-1].buttons for b in row if b.data.startswith("faqs:")]


def proposals(db: Database) -> list[FaqProposal]:
    with db.session() as s:
        return list(s.exec(select(FaqProposal).order_by(FaqProposal.id)).all())  # type: ignore[arg-type]


def test_taps_become_one_counted_proposal_that_reaches_the_faq_only_through_review(
        engine: Engine, demo: dict[str, str], settings: Settings, db: Database) -> None:
    faq_file = settings.content_path(settings.file.faq.file)
    before = faq_file.read_text(encoding="utf-8")
    first = candidate(engine, demo, "张三", 1)
    first.send(QUESTION)
    picks = suggestions(first)
    assert picks, first.texts()
    first.press(picks[0])
    first.press(picks[0])  # the same button again: one tap
    entry = picks[0].data.split(":")[-1]
    second = candidate(engine, demo, SECOND, 2)
    second.send(QUESTION + "?")  # the same question (normalised), another candidate
    [pick] = [b for b in suggestions(second) if b.data.endswith(f":{entry}")]
    second.press(pick)
    [row] = proposals(db)
    assert (row.source, row.entry_id, row.question, row.taps, row.status, row.ticket_id, row.created_by) == \
        ("tap", entry, QUESTION, 2, "pending", None, None)
    assert faq_file.read_text(encoding="utf-8") == before  # nothing a candidate typed reaches content/ unreviewed

    runner = CliRunner()
    listed = runner.invoke(app, ["faq", "proposals"])
    assert listed.exit_code == 0, listed.output
    assert f"1\texample for {entry} (tap)" in listed.output and "2 taps" in listed.output
    rows = json.loads(runner.invoke(app, ["faq", "proposals", "--json"]).output)
    assert [(r["source"], r["add_to"], r["taps"], r["ticket"]) for r in rows] == [("tap", entry, 2, None)]

    exported = runner.invoke(app, ["faq", "propose", "--export"])
    assert exported.exit_code == 0 and f"exported proposal 1 (example for {entry})" in exported.output
    pending_file = settings.content_path(settings.file.faq.pending_file)
    [item] = YAML().load(pending_file.read_text(encoding="utf-8"))["pending"]
    assert (item["add_to"], list(item["questions"]), item["proposal"], item["taps"]) == (entry, [QUESTION], 1, 2)
    assert runner.invoke(app, ["faq", "propose", "--export"]).output.startswith("no pending proposals")

    merged = runner.invoke(app, ["faq", "merge"])
    assert merged.exit_code == 0 and f"added example questions to {entry}" in merged.output
    assert QUESTION in faq_file.read_text(encoding="utf-8")
    time.sleep(FaqRuntime.CHECK_EVERY + 0.1)
    first.send(QUESTION)  # the running bot now answers it at once
    assert "是下面这些吗" not in first.texts() and first.button("👍")


def test_a_rejected_example_counts_taps_but_is_never_exported(engine: Engine, demo: dict[str, str],
                                                              settings: Settings, db: Database) -> None:
    chat = candidate(engine, demo, "张三", 1)
    chat.send(QUESTION)
    chat.press(suggestions(chat)[0])
    runner = CliRunner()
    assert runner.invoke(app, ["faq", "propose", "--reject", "1"]).exit_code == 0
    chat.send(QUESTION)
    chat.press(suggestions(chat)[0])
    [row] = proposals(db)
    assert (row.status, row.taps) == ("rejected", 2)
    assert "no pending proposals to export." in runner.invoke(app, ["faq", "propose", "--export"]).output
    assert not settings.content_path(settings.file.faq.pending_file).exists()


def test_hr_links_an_answered_ticket_to_an_existing_entry(engine: Engine, demo: dict[str, str],
                                                          settings: Settings, db: Database) -> None:
    chat = candidate(engine, demo, "张三", 1)
    chat.send("宿舍楼里能洗澡吗,有没有热水")
    if not any(  # answered or not: the candidate asks HR anyway
            b.data.startswith("faqask:") for row in chat.says()[-1].buttons for b in row):
        chat.click("👎")
    chat.click("faqask:")
    hr = Chat(engine, HR)
    hr.send("/reply 1 有,24小时热水。")
    buttons = [b for row in hr.says()[-1].buttons for b in row]
    add = buttons[0]
    assert add.data.startswith("faqadd:")
    links = [b for b in buttons if b.data.startswith("faqlink:")]
    assert 1 <= len(links) <= 3 and all(b.text.startswith("📌 就是这条:") for b in links)
    hr.press(links[0])
    entry = links[0].data.split(":")[-1]
    assert "问题 #1 已提议作为" in hr.texts() and "hrbot faq proposals" in hr.texts()
    hr.press(links[-1])
    assert "问题 #1 已经提议加入FAQ了" in hr.texts()
    hr.press(add)  # one proposal per ticket, whichever way
    assert "问题 #1 已经提议加入FAQ了" in hr.texts()
    [row] = proposals(db)
    assert (row.source, row.entry_id, row.ticket_id, row.created_by, row.question) == \
        ("hr_link", entry, 1, HR, "宿舍楼里能洗澡吗,有没有热水")
    with db.session() as s:
        assert s.exec(select(Ticket)).one().added_to_faq_at is not None
    exported = CliRunner().invoke(app, ["faq", "propose", "--export"])
    assert exported.exit_code == 0, exported.output
    [item] = YAML().load(settings.content_path(settings.file.faq.pending_file).read_text(encoding="utf-8"))["pending"]
    assert (item["add_to"], item["ticket"], item["source"]) == (entry, 1, "hr_link")
