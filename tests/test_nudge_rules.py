"""flows/nudges.yaml validation: each rule of checking, with the exact file:line:col and sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app import load_content
from bot.config import Settings
from bot.i18n import Texts
from bot.nudges.planner import NudgeRenderer
from bot.nudges.rules import RulesError, load_rules
from store.db import Database
from store.models import Outbox
from tests.conftest import NOW

GOOD = """rules:
  - id: training_soon
    trigger: {before_training: 10, at: "10:00"}
    audience: {stage: [waiting_training]}
    message: nudge_training_in_10_days
    buttons: [status]
    priority: 80
"""


@pytest.fixture
def texts(settings: Settings) -> Texts:
    return load_content(settings).texts


def errors(tmp_path: Path, settings: Settings, texts: Texts, body: str) -> list[str]:
    path = tmp_path / "nudges.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(settings, texts, path)
    return [str(p).replace(f"{path}:", "") for p in info.value.problems]


def test_shipped_rules_load(settings: Settings, texts: Texts) -> None:
    rules = load_rules(settings, texts)
    assert [r.id for r in rules.rules] == ["after_interview", "training_in_10_days", "task_due_in_2_days",
                                           "friday_news", "quiet_for_5_days"]


def test_good_rule(tmp_path: Path, settings: Settings, texts: Texts) -> None:
    path = tmp_path / "nudges.yaml"
    path.write_text(GOOD, encoding="utf-8")
    [rule] = load_rules(settings, texts, path).rules
    assert (rule.kind, rule.param, rule.at, rule.priority) == ("before_training", 10, "10:00", 80)
    assert rule.audience == {"stage": frozenset({"waiting_training"})}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    priority: 80", "    priorty: 80", "7:5: unknown key 'priorty'; did you mean 'priority'?"),
    ("    message: nudge_training_in_10_days\n", "", "2:5: missing 'message:'"),
    ("{before_training: 10, at: \"10:00\"}", "{before_trainig: 10, at: \"10:00\"}",
     "3:15: unknown trigger 'before_trainig'; did you mean 'before_training'?"),
    ("{before_training: 10, at: \"10:00\"}", "{stage_entered: waiting_trainng}",
     "3:15: unknown stage 'waiting_trainng'; did you mean 'waiting_training'?"),
    ("{before_training: 10, at: \"10:00\"}", "{before_task_due: 2, task: health_cert}",
     "3:35: unknown task 'health_cert'; did you mean 'health_certificate'?"),
    ("{before_training: 10, at: \"10:00\"}", "{weekly: fridy, at: \"17:00\"}",
     "3:15: unknown weekday 'fridy'; did you mean 'friday'?"),
    ("{before_training: 10, at: \"10:00\"}", "{weekly: friday}", "3:5: weekly needs 'at:' (time of day, HH:MM)"),
    ("{before_training: 10, at: \"10:00\"}", "{before_training: ten}",
     "3:15: before_training takes a number of days (0-365), not 'ten'"),
    ("at: \"10:00\"", "at: \"25:00\"",
     "3:36: '25:00' is not a time of day; write it as HH:MM in quotes, e.g. \"10:00\""),
    ("at: \"10:00\"", "at: \"22:30\"", "3:36: 22:30 falls in the quiet hours (21:00-09:00); pick a daytime hour"),
    ("{before_training: 10, at: \"10:00\"}", "{stage_entered: offer_sent, delay: soon}",
     "3:42: 'soon' is not a duration; write e.g. 1d, 12h or 30m"),
    ("{before_training: 10, at: \"10:00\"}", "{after_event: lesson_done}",
     "3:15: unknown event 'lesson_done'; did you mean 'lesson_completed'?"),
    ("{before_training: 10, at: \"10:00\"}", "{before_training: 10, task: id_copy}",
     "3:36: before_training takes at, not 'task'"),
    ("{stage: [waiting_training]}", "{stage: [waiting]}",
     "4:24: unknown stage 'waiting'; did you mean 'waiting_training'?"),
    ("{stage: [waiting_training]}", "{team: production}",
     "4:16: unknown audience filter 'team'; use one of: stage, cohort, role, department"),
    ("    buttons: [status]", "    buttons: [statu]",
     "6:15: unknown button 'statu'; did you mean 'status'? (or flow:<flow id>)"),
    ("    priority: 80", "    priority: 800", "7:5: priority is a whole number from 0 to 100 (higher wins at the cap)"),
    ("    message: nudge_training_in_10_days", "    message: nudge_nope",
     "5:5: text 'nudge_nope' is missing from content/zh-CN/messages.yaml; add it there"),
    ("    message: nudge_training_in_10_days", "    message: nudge_task_due",
     "5:5: text 'nudge_task_due' (zh-CN) uses {{ tasks }}, which a before_training nudge does not provide; use "
     "one of: cohort, company, days_left, department, name, role, stage, todo"),
])
def test_each_rule(tmp_path: Path, settings: Settings, texts: Texts, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    found = errors(tmp_path, settings, texts, GOOD.replace(old, new, 1))
    assert expected in found, found


def test_duplicate_ids_and_every_problem_at_once(tmp_path: Path, settings: Settings, texts: Texts) -> None:
    body = GOOD + GOOD.replace("rules:\n", "").replace("buttons: [status]", "buttons: [nope]")
    # The second rule repeats the id and has a bad button: both are reported, in one go.
    assert errors(tmp_path, settings, texts, body) == [
        "8:5: duplicate rule id 'training_soon' (first at rule 1)",
        "12:15: unknown button 'nope'; use one of: status, learn, ask, points, profile, resources, language, help "
        "(or flow:<flow id>)",
    ]


def test_yaml_syntax_error(tmp_path: Path, settings: Settings, texts: Texts) -> None:
    [problem] = errors(tmp_path, settings, texts, "rules:\n  - id: [unclosed\n")
    assert "YAML syntax error" in problem


def test_validate_command_reports_rules(tmp_path: Path, settings: Settings, texts: Texts) -> None:
    assert errors(tmp_path, settings, texts, "rule:\n  - id: x\n") == [
        "1:1: the file must start with 'rules:' and a list of rules"]


def test_buttons_can_start_a_flow(tmp_path: Path, settings: Settings, texts: Texts, db: Database,
                                  demo: dict[str, str]) -> None:
    body = GOOD.replace("buttons: [status]", "buttons: [learn, flow:shoe_size]")
    path = tmp_path / "nudges.yaml"
    path.write_text(body, encoding="utf-8")
    rules = load_rules(settings, texts, path, flows={"shoe_size", "profile"})
    rules.flow_titles = {"shoe_size": {"zh-CN": "登记劳保鞋尺码", "en": "Safety-shoe size"}}
    assert rules.rules[0].buttons == ("learn", "flow:shoe_size")
    renderer = NudgeRenderer(db, settings, texts, rules)
    row = Outbox(dedupe_key="k", kind="nudge", rule_id="training_soon", candidate_id=1, chat_id=1, due_at=NOW,
                 planned_at=NOW, status="pending")
    _, buttons = renderer(row, NOW)
    assert json.loads(buttons or "[]") == [[{"text": "📘 学习", "data": "menu:learn"}],
                                           [{"text": "✍️ 登记劳保鞋尺码", "data": "go:shoe_size"}]]
    with pytest.raises(RulesError) as info:
        load_rules(settings, texts, path, flows={"profile"})
    assert [p.message for p in info.value.problems] == [
        "unknown flow 'shoe_size'; use one of: profile"]
