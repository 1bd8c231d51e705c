"""YAML that cannot lose text: a duplicate key and a quote left open are refused with the place to fix, in every
file the project reads (config.yaml, content/, flows/), by `hrbot validate`, at start-up and on the FAQ's reload."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import ConfigError, EnvSettings, Settings, load_settings
from bot.faq.catalog import FaqError
from bot.faq.pending import merge
from bot.faq.runtime import FaqRuntime, load_checked
from bot.yamlsrc import YamlSyntaxError, load_text
from tests.conftest import ROOT
from tests.faqtools import faq_settings


def problems(text: str) -> list[str]:
    with pytest.raises(YamlSyntaxError) as info:
        load_text(text, "f.yaml")
    return [str(p) for p in info.value.problems]


def test_a_duplicate_key_names_both_lines() -> None:
    text = "step:\n  id: a\n  # a comment\n  text: first\n  say: x\n  text: second\n"
    assert problems(text) == ['f.yaml:6:3: duplicate key "text" (first at line 4)']


def test_every_duplicate_at_once_in_file_order() -> None:
    text = "a: 1\nb:\n  - {k: 1, k: 2}\n  - x: 1\n    y: 2\n    x: 3\na: 4\n"
    assert problems(text) == [
        'f.yaml:3:12: duplicate key "k" (first at line 3)',
        'f.yaml:6:5: duplicate key "x" (first at line 4)',
        'f.yaml:7:1: duplicate key "a" (first at line 1)',
    ]


def test_same_key_in_different_mappings_is_fine() -> None:
    doc = load_text("- id: a\n  text: x\n- id: b\n  text: y\n", "f.yaml")
    assert doc.data == [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}]


@pytest.mark.parametrize(("text", "where"), [
    ('a: ok\nb: "never closed\n', "2:4"),  # to the end of the file
    ('list:\n  - one\n  - "two\n  - three\n', "3:5"),
    ("a: 'single\n\nb: 2\n", "1:4"),
    ('q: [1, "x]\n', "1:8"),  # inside brackets
])
def test_a_quote_never_closed_is_reported_where_it_was_opened(text: str, where: str) -> None:
    [problem] = problems(text)
    assert problem.startswith(f"f.yaml:{where}: the quote ") and "is never closed" in problem, problem


def test_a_mismatched_quote_is_reported_where_it_was_opened() -> None:
    [problem] = problems('text: ok\nen: "Hello\'\nzh-CN: 你好\nother: 1\n')
    assert problem.startswith('f.yaml:2:5: the quote " opened here is never closed'), problem
    assert "must end with \", not '" in problem


def test_a_quote_closed_by_the_next_one_on_a_later_line() -> None:
    """The parser fails on line 2, after the text; the fix is on line 1."""
    [problem] = problems('en: "Hello\nzh-CN: "你好"\n')
    assert problem.startswith('f.yaml:1:5: the quote " opened here is not closed on its line: the next " (line 2)')


def test_a_quote_that_swallows_a_key_without_any_syntax_error() -> None:
    """Valid YAML, but `zh-CN:` became part of the English text: refused, at the opening quote."""
    [problem] = problems('answer:\n  en: "Hello\n  zh-CN: "\n')
    assert problem.startswith('f.yaml:2:7: the quote " opened here is not closed on its line: the next " (line 3)')


def test_a_quote_closed_too_early_on_its_own_line() -> None:
    [problem] = problems("a: 1\nb: 'it's here'\n")
    assert problem.startswith("f.yaml:2:4: the text quoted with ' here runs to the ' in column 7"), problem
    assert "write '' for a ' inside '...'" in problem


@pytest.mark.parametrize(("text", "data"), [
    ('en: "Hello\n  world"\n', {"en": "Hello world"}),  # a quoted text may go on, indented deeper
    ('a: "say \\"hi\\""\n', {"a": 'say "hi"'}),
    ("a: 'it''s'\n", {"a": "it's"}),
    ("a: \"it's\"\nb: '\"x\"'\n", {"a": "it's", "b": '"x"'}),
])
def test_good_quoting_passes(text: str, data: dict[str, str]) -> None:
    assert load_text(text, "f.yaml").data == data


def test_other_syntax_errors_are_unchanged() -> None:
    assert problems("faq:\n  - id: x\n    questions: [a\n") == [
        "f.yaml:4:1: YAML syntax error: expected ',' or ']', but got '<stream end>'; check indentation and quoting"]


def test_config_yaml_refuses_duplicate_keys(tmp_path: Path) -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "  answer_score: " in text and "  max_suggestions: 3\n" in text
    text = text.replace("  max_suggestions: 3\n", "  max_suggestions: 3\n  answer_score: 99\n", 1)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines, start=1) if line.startswith("  answer_score: "))
    second = next(i for i, line in enumerate(lines, start=1) if line.startswith("  answer_score: 99"))
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=EnvSettings())
    assert [str(p) for p in info.value.problems] == [
        f'{path}:{second}:3: duplicate key "answer_score" (first at line {first})']


def copy_project(tmp_path: Path) -> Path:
    """config.yaml, content/ and flows/ in tmp_path, to break."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    return tmp_path


def break_file(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` by ``new``; the line number where ``new`` starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")
    return text[:at].count("\n") + 1


def test_validate_reports_every_problem_in_content_and_flows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    root = copy_project(tmp_path)
    messages = root / "content" / "en" / "messages.yaml"
    line = break_file(messages, "welcome_back: ", "welcome_back: first\nwelcome_back: ")
    flow = root / "flows" / "shoe_size.yaml"
    flow_line = break_file(flow, 'title: {zh-CN: "登记劳保鞋尺码"', 'title: {zh-CN: "登记劳保鞋尺码')
    faq = root / "content" / "faq.yaml"
    faq_line = break_file(faq, "  - id: training_place\n", "  - id: training_place\n    id: again\n")
    monkeypatch.setenv("HRBOT_CONFIG", str(root / "config.yaml"))
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 1
    out = result.output
    assert f'{messages}:{line + 1}:1: duplicate key "welcome_back" (first at line {line})' in out
    assert f"{flow}:{flow_line}:18: the text quoted with \" here runs to the \" in column 32" in out
    assert f'{faq}:{faq_line + 1}:5: duplicate key "id" (first at line {faq_line})' in out


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("welcome_back: ", "welcome_back: 一\nwelcome_back: ", ':1: duplicate key "welcome_back" (first at line {line})'),
    ("welcome_back: ", 'welcome_back: "欢迎\nwelcome_back_x: ', ':15: the quote " opened here'),
])
def test_start_up_refuses_text_that_would_be_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str,
                                                   new: str, expected: str) -> None:
    root = copy_project(tmp_path)
    texts = root / "content" / "zh-CN" / "messages.yaml"
    line = break_file(texts, old, new)
    monkeypatch.setenv("HRBOT_CONFIG", str(root / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    result = CliRunner().invoke(app, ["shell"], input="/quit\n")
    assert result.exit_code == 1
    where = line + 1 if "duplicate" in expected else line
    assert f"{texts}:{where}" + expected.format(line=line) in result.output, result.output
    assert not (tmp_path / "never.db").exists()  # refused before anything else


def test_faq_reload_keeps_the_last_good_version_and_logs_where(tmp_path: Path, db_url: str,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    settings: Settings = faq_settings(tmp_path, db_url)
    runtime = FaqRuntime(settings)
    runtime.CHECK_EVERY = 0
    assert runtime.match("培训需要带电脑吗?")[0].id == "training_bring"
    faq = settings.content_path(settings.file.faq.file)
    good = faq.read_text(encoding="utf-8")
    line = break_file(faq, "  - id: training_bring\n", "  - id: training_bring\n    not: [x]\n    not: [y]\n")
    with caplog.at_level(logging.ERROR, logger="bot.faq.runtime"):
        assert runtime.match("培训需要带电脑吗?")[0].id == "training_bring"  # the last good version
    assert f'{faq}:{line + 2}:5: duplicate key "not" (first at line {line + 1})' in caplog.text
    with pytest.raises(FaqError) as info:
        load_checked(settings)
    assert [(p.line, p.col) for p in info.value.problems] == [(line + 2, 5)]
    caplog.clear()
    faq.write_text(good, encoding="utf-8")
    quote = break_file(faq, "      - 培训需要带电脑吗?\n", '      - "培训需要带电脑吗?\n')
    with caplog.at_level(logging.ERROR, logger="bot.faq.runtime"):
        assert runtime.match("培训需要带电脑吗?")[0].id == "training_bring"
    assert f'{faq}:{quote}:9: the quote " opened here' in caplog.text


def test_merge_refuses_an_faq_with_a_duplicate_key(tmp_path: Path, db_url: str) -> None:
    settings: Settings = faq_settings(tmp_path, db_url)
    faq = settings.content_path(settings.file.faq.file)
    pending = settings.content_path(settings.file.faq.pending_file)
    pending.write_text("pending:\n  - ticket: 1\n    add_to: dorm_room\n    questions: [宿舍楼有电梯吗]\n",
                       encoding="utf-8")
    line = break_file(faq, "  - id: dorm_room\n", "  - id: dorm_room\n    id: dorm_rooms\n")
    before = faq.read_text(encoding="utf-8")
    (tmp_path / "good").mkdir()
    _, _, normalize = load_checked(faq_settings(tmp_path / "good", db_url))
    with pytest.raises(FaqError) as info:
        merge(faq, pending, settings.locales, normalize)
    assert [str(p) for p in info.value.problems] == [
        f'{faq}:{line + 1}:5: duplicate key "id" (first at line {line})']
    assert faq.read_text(encoding="utf-8") == before
