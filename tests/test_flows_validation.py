"""Flow, lesson, reward and resource checks: one test per rule, each with the exact file:line:col and message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import load_library
from bot.cli import app
from bot.config import Settings
from bot.flows.checker import LibraryError
from tests.conftest import ROOT, make_settings

FLOW = """\
flow:
  id: demo
  title: {zh-CN: 演示, en: Demo}
  steps:
    - id: hello
      say: {zh-CN: "你好,{{ name }}", en: "Hello, {{ name }}"}
    - id: size
      ask:
        text: {zh-CN: "鞋码?", en: "Shoe size?"}
        type: number
        save_to: vars.size
    - id: check
      branch:
        - if: "vars.size | int > 45"
          goto: big
        - else: done
    - id: big
      do: notify_hr
      with:
        text: {zh-CN: "大码 {{ vars.size }}", en: "Large {{ vars.size }}"}
    - id: done
      end: {zh-CN: 好的, en: OK}
"""

LESSON = """\
lesson:
  id: safety
  title: {zh-CN: 安全, en: Safety}
  minutes: 5
  points: 10
  parts:
    - text: {zh-CN: 戴好安全帽, en: Wear a hard hat}
  quiz:
    - question: {zh-CN: "要戴什么?", en: "What do you wear?"}
      options:
        - {zh-CN: 安全帽, en: A hard hat}
        - {zh-CN: 拖鞋, en: Slippers}
      answer: 1
      explanation: {zh-CN: 安全第一, en: Safety first}
    - question: {zh-CN: 第二题, en: Second}
      options: [{zh-CN: 是, en: "Yes"}, {zh-CN: 否, en: "No"}]
      answer: 1
      explanation: {zh-CN: 对, en: Right}
    - question: {zh-CN: 第三题, en: Third}
      options: [{zh-CN: 是, en: "Yes"}, {zh-CN: 否, en: "No"}]
      answer: 2
      explanation: {zh-CN: 对, en: Right}
"""


def library_settings(tmp_path: Path, flow: str = FLOW, lesson: str = LESSON, extra: dict[str, str] | None = None
                     ) -> Settings:
    """The demo config, with flows and content (lessons, rewards, resources) in tmp_path."""
    (tmp_path / "flows").mkdir(exist_ok=True)
    (tmp_path / "content" / "lessons").mkdir(parents=True, exist_ok=True)
    (tmp_path / "flows" / "demo.yaml").write_text(flow, encoding="utf-8")
    (tmp_path / "content" / "lessons" / "safety.yaml").write_text(lesson, encoding="utf-8")
    for name, text in (extra or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config += f"\ncontent_dir: {tmp_path / 'content'}\nflows_dir: {tmp_path / 'flows'}\n"
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    return make_settings("sqlite://", tmp_path / "config.yaml")


def problems(tmp_path: Path, flow: str = FLOW, lesson: str = LESSON, extra: dict[str, str] | None = None
             ) -> list[str]:
    settings = library_settings(tmp_path, flow, lesson, extra)
    with pytest.raises(LibraryError) as exc:
        load_library(settings)
    return [str(p).replace(str(tmp_path) + "/", "") for p in exc.value.problems]


def test_good_files_load(tmp_path: Path) -> None:
    lib = load_library(library_settings(tmp_path))
    assert list(lib.flows) == ["demo"] and list(lib.lessons) == ["safety"]
    assert [s.kind for s in lib.flows["demo"].steps] == ["say", "ask", "branch", "do", "end"]


def test_the_shipped_flows_and_lessons_load() -> None:
    lib = load_library(make_settings("sqlite://"))
    assert {"profile", "shoe_size"} <= set(lib.flows)
    assert len(lib.lessons) >= 5 and all(3 <= len(ls.quiz) <= 5 for ls in lib.lessons.values())
    assert lib.rewards and len(lib.resources) >= 4


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    flow = FLOW.replace("      do: notify_hr\n", "      do: notify_hr\n      nxt: done\n")
    assert problems(tmp_path, flow) == ["flows/demo.yaml:19:7: unknown key 'nxt'; did you mean 'next'?"]


def test_duplicate_step_id(tmp_path: Path) -> None:
    flow = FLOW.replace("    - id: big\n", "    - id: size\n").replace("goto: big", "goto: size")
    assert problems(tmp_path, flow) == [
        "flows/demo.yaml:17:7: duplicate step id 'size' (first used on line 7); step ids must be unique in a flow"]


def test_unknown_target_with_did_you_mean(tmp_path: Path) -> None:
    assert problems(tmp_path, FLOW.replace("goto: big", "goto: bgi")) == [
        "flows/demo.yaml:15:11: branch target 'bgi' is not a step of this flow; did you mean 'big'?",
        "flows/demo.yaml:17:7: step 'big' can never be reached: no step leads to it; link it (next, goto, branch, "
        "a button) or remove it",
    ]


def test_unreachable_step(tmp_path: Path) -> None:
    flow = FLOW + "    - id: lost\n      say: {zh-CN: 迷路, en: Lost}\n      next: done\n"
    assert problems(tmp_path, flow) == [
        "flows/demo.yaml:23:7: step 'lost' can never be reached: no step leads to it; link it (next, goto, branch, "
        "a button) or remove it"]


def test_branch_without_else(tmp_path: Path) -> None:
    assert problems(tmp_path, FLOW.replace("        - else: done\n", "")) == [
        "flows/demo.yaml:13:7: branch has no `else`; add - else: <step> so every candidate goes somewhere"]


def test_quiz_answer_out_of_range(tmp_path: Path) -> None:
    lesson = LESSON.replace("      answer: 2\n", "      answer: 3\n")
    assert problems(tmp_path, lesson=lesson) == [
        "content/lessons/safety.yaml:21:7: answer 3 is not an option number: count the options from 1 "
        "(this question has 2)"]


def test_quiz_needs_three_to_five_questions(tmp_path: Path) -> None:
    lesson = LESSON.split("    - question: {zh-CN: 第二题")[0]
    assert problems(tmp_path, lesson=lesson) == [
        "content/lessons/safety.yaml:8:3: quiz must be a list of 3 to 5 questions"]


def test_missing_lesson_and_media_file(tmp_path: Path) -> None:
    flow = FLOW.replace("    - id: done\n", "    - id: learn\n      lesson: safty\n    - id: done\n").replace(
        "        - else: done", "        - else: learn")
    lesson = LESSON.replace("    - text: {zh-CN: 戴好安全帽, en: Wear a hard hat}\n",
                            "    - image: media/helmet.png\n")
    assert problems(tmp_path, flow, lesson) == [
        "content/lessons/safety.yaml:7:7: image 'media/helmet.png' not found under content; add the file or fix "
        "the path",
        "flows/demo.yaml:22:7: unknown lesson 'safty'; did you mean 'safety'?; lessons are content/lessons/*.yaml",
    ]


def test_template_variables_that_do_not_exist(tmp_path: Path) -> None:
    flow = FLOW.replace('"你好,{{ name }}"', '"你好,{{ nmae }}"').replace('"Large {{ vars.size }}"',
                                                                        '"Large {{ vars.sise }}"')
    assert problems(tmp_path, flow) == [
        "flows/demo.yaml:6:13: {{ nmae }} does not exist; did you mean 'name'?; available: name, company, "
        "department, role, stage, cohort, days_left, tasks, points, vars, profile",
        "flows/demo.yaml:20:45: vars.sise is never saved in this flow; did you mean 'size'?; saved: size",
    ]


def test_button_data_over_64_bytes(tmp_path: Path) -> None:
    too_long = "b" * 45  # f:<10-digit session>:<6-digit version>:<id> is then 65 bytes
    flow = FLOW.replace("        type: number\n", f"        buttons:\n          - {{id: {too_long}, text: "
                                                 "{zh-CN: 是, en: 'Yes'}}\n")
    assert problems(tmp_path, flow) == [
        f"flows/demo.yaml:11:14: button id '{too_long}' makes the button data 65 bytes; Telegram allows 64: "
        "shorten the id"]


def test_missing_translation(tmp_path: Path) -> None:
    assert problems(tmp_path, FLOW.replace("{zh-CN: 好的, en: OK}", "{zh-CN: 好的}")) == [
        "flows/demo.yaml:22:7: the closing text: the en translation is missing; add `en: ...`"]


def test_unknown_action_argument_task_and_field(tmp_path: Path) -> None:
    flow = FLOW.replace("      do: notify_hr\n", "      do: notify_hrr\n")
    assert problems(tmp_path, flow) == [
        "flows/demo.yaml:18:7: unknown action 'notify_hrr'; did you mean 'notify_hr'?; actions: award_points, "
        "complete_task, notify_hr, set_field, start_flow"]
    flow = FLOW.replace("      do: notify_hr\n      with:\n        text: {zh-CN: \"大码 {{ vars.size }}\", en: "
                        "\"Large {{ vars.size }}\"}\n",
                        "      do: complete_task\n      with: {task: shoe_sise, points: 3}\n")
    assert problems(tmp_path, flow) == [
        "flows/demo.yaml:19:31: complete_task takes no argument 'points'",
        "flows/demo.yaml:19:14: unknown task 'shoe_sise'; did you mean 'shoe_size'?",
    ]
    flow = FLOW.replace("save_to: vars.size", "save_to: profile.legal_nme").replace("vars.size", "1")
    assert problems(tmp_path, flow) == [
        "flows/demo.yaml:11:9: unknown profile field 'legal_nme'; did you mean 'legal_name'?; fields: legal_name, "
        "id_number, education, emergency_name, emergency_phone"]


def test_step_kinds_and_input_types(tmp_path: Path) -> None:
    flow = FLOW.replace("      say: {zh-CN: \"你好,{{ name }}\", en: \"Hello, {{ name }}\"}\n", "      sya: hi\n")
    assert problems(tmp_path, flow)[0] == (
        "flows/demo.yaml:5:7: a step needs exactly one kind (say, ask, lesson, quiz, branch, do, goto, call, end); "
        "found none; did you mean 'say'?")
    assert problems(tmp_path, FLOW.replace("type: number", "type: nmber")) == [
        "flows/demo.yaml:10:9: unknown type 'nmber'; did you mean 'number'?"]


def test_call_to_an_unknown_flow_and_yes_no_button(tmp_path: Path) -> None:
    flow = FLOW.replace("      do: notify_hr\n      with:\n        text: {zh-CN: \"大码 {{ vars.size }}\", en: "
                        "\"Large {{ vars.size }}\"}\n", "      call: profil\n")
    assert problems(tmp_path, flow) == ["flows/demo.yaml:18:7: unknown flow 'profil'"]
    flow = FLOW.replace("        type: number\n", "        buttons:\n          - {id: yes, text: {zh-CN: 是, en: "
                                                 "'Yes'}}\n")
    assert problems(tmp_path, flow) == [
        "flows/demo.yaml:11:13: button id True must be snake_case (YAML reads yes/no/on/off as true/false: pick "
        "another id)"]


def test_rewards_and_resources(tmp_path: Path) -> None:
    extra = {
        "content/rewards.yaml": "rewards:\n  - id: gift\n    name: {zh-CN: 礼包, en: Gift}\n    cost: -5\n"
                                "    stock: 3\n    stok: 4\n",
        "content/resources.yaml": "resources:\n  - id: guide\n    title: {zh-CN: 指南, en: Guide}\n"
                                  "    file: resources/guide.md\n",
    }
    assert problems(tmp_path, extra=extra) == [
        "content/rewards.yaml:6:5: unknown key 'stok'; did you mean 'stock'?",
        "content/rewards.yaml:4:5: cost must be a whole number from 1 to 1000000",
        "content/resources.yaml:4:5: file 'resources/guide.md' not found under content; add the file or fix the "
        "path",
    ]


def test_every_problem_at_once_and_validate_exits_non_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = FLOW.replace("goto: big", "goto: bgi").replace("{zh-CN: 好的, en: OK}", "{zh-CN: 好的}")
    lesson = LESSON.replace("      answer: 2\n", "      answer: 0\n")
    found = problems(tmp_path, flow, lesson)
    assert len(found) == 4
    monkeypatch.setenv("HRBOT_CONFIG", str(tmp_path / "config.yaml"))
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 1
    assert "flows/demo.yaml:15:11: branch target 'bgi'" in result.output
    assert "content/lessons/safety.yaml:21:7: answer 0 is not an option number" in result.output


def test_schema_and_diagram() -> None:
    runner = CliRunner()
    schema = json.loads(runner.invoke(app, ["flows", "schema"]).output)
    assert schema["properties"]["flow"]["required"] == ["id", "title", "steps"]
    kinds = [s["title"] for s in schema["properties"]["flow"]["properties"]["steps"]["items"]["oneOf"]]
    assert kinds == ["say", "ask", "lesson", "quiz", "branch", "do", "goto", "call", "end"]
    diagram = runner.invoke(app, ["flows", "diagram", "shoe_size", "--lang", "en"]).output
    assert diagram.startswith("flowchart TD\n")
    assert 'confirm -->|"Let me retype it"| ask_size' in diagram
    assert 'big_feet -->|"vars.size #124; int >= 46"| tell_hr_big' in diagram
    wrong = runner.invoke(app, ["flows", "diagram", "shoe_siz"])
    assert wrong.exit_code == 1 and "did you mean 'shoe_size'?" in wrong.output


def test_an_unquoted_hash_in_a_text_is_refused(tmp_path: Path) -> None:
    """Under zh-CN:/en: a " #" would silently cut the text; a comment after a number stays fine."""
    flow = FLOW.replace("      end: {zh-CN: 好的, en: OK}\n",
                        "      end:\n        zh-CN: 问题 #1 已记录\n        en: \"Question #1 noted\"\n")
    lesson = LESSON.replace("  points: 10\n", "  points: 10   # enough for a flask\n")
    assert problems(tmp_path, flow, lesson) == [
        "flows/demo.yaml:23:16: this text contains \" #\", which YAML reads as the start of a comment, so the rest "
        "of the line is lost; put the text in double quotes or use `key: |-` and the text on the next line"]


def test_with_must_be_a_mapping(tmp_path: Path) -> None:
    flow = FLOW.replace("      with:\n        text: {zh-CN: \"大码 {{ vars.size }}\", en: \"Large {{ vars.size }}\"}\n",
                        "      with: 5\n")
    assert problems(tmp_path, flow) == [
        "flows/demo.yaml:19:7: `with` must be a mapping of the action's arguments, e.g. with: {points: 10}",
        "flows/demo.yaml:18:7: notify_hr needs `with: {text: ...}`",
    ]
