"""content/faq.yaml and content/intents.yaml checks: every problem at once, each with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.faq.catalog import FaqError, load_faq, load_intents
from bot.faq.normalize import Normalizer
from bot.i18n import Texts, TextsError
from tests.conftest import ROOT

LOCALES = ("zh-CN", "en")
GOOD = """\
faq:
  - id: training_date
    questions:
      - 培训什么时候开始?
      - When does training start?
    answer:
      zh-CN: 培训于 {{ cohort.training_date if cohort else '待定' }} 开始。
      en: Training starts on {{ cohort.training_date if cohort else 'a date to be set' }}.
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "faq.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FaqError) as exc:
        load_faq(path, LOCALES, Normalizer(["你好", "请问"]))
    return [str(p).replace(str(path), "faq.yaml") for p in exc.value.problems]


def test_demo_faq_loads_with_at_least_50_entries(settings: Settings) -> None:
    faq = load_faq(ROOT / "content" / "faq.yaml", settings.locales, Normalizer())
    assert len(faq.entries) >= 50
    assert all(set(e.answers) == set(settings.locales) for e in faq.entries)


def test_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(GOOD, encoding="utf-8")
    faq = load_faq(path, LOCALES, Normalizer())
    assert faq.render("training_date", "en", {"cohort": None}) == "Training starts on a date to be set."


def test_unknown_key_with_did_you_mean(tmp_path: Path) -> None:
    text = GOOD.replace("    questions:", "    question:")
    assert problems(tmp_path, text) == [
        "faq.yaml:3:5: unknown key 'question'; did you mean 'questions'?",
        "faq.yaml:2:5: entry has no `questions`; add a few example phrasings",
    ]


def test_duplicate_id(tmp_path: Path) -> None:
    text = GOOD + GOOD.split("\n", 1)[1].replace("培训什么时候开始?", "培训哪天开始").replace(
        "When does training start?", "What day does training begin?")
    assert problems(tmp_path, text) == [
        "faq.yaml:9:5: duplicate id 'training_date' (first used on line 2); ids must be unique"]


def test_id_must_be_snake_case(tmp_path: Path) -> None:
    assert problems(tmp_path, GOOD.replace("id: training_date", "id: Training-Date")) == [
        "faq.yaml:2:5: id 'Training-Date' must be snake_case: lower-case letters, digits and _"]


def test_missing_translation(tmp_path: Path) -> None:
    text = GOOD.replace("      en: Training starts on {{ cohort.training_date if cohort else 'a date to be set' }}.\n",
                        "")
    assert problems(tmp_path, text) == ["faq.yaml:6:5: answer in en is missing; write it"]


def test_unknown_language(tmp_path: Path) -> None:
    text = GOOD + "      zh-TW: 培訓\n"
    assert problems(tmp_path, text) == ["faq.yaml:9:7: unknown language 'zh-TW'; did you mean 'zh-CN'?"]


def test_unknown_template_variable(tmp_path: Path) -> None:
    text = GOOD.replace("培训于 {{ cohort.training_date if cohort else '待定' }} 开始。", "你好 {{ nmae }}")
    assert problems(tmp_path, text) == [
        "faq.yaml:7:7: {{ nmae }} does not exist; did you mean 'name'?; available: name, company, department, "
        "role, stage, days_left, cohort, tasks"]


def test_answer_that_breaks_without_a_cohort(tmp_path: Path) -> None:
    text = GOOD.replace("{{ cohort.training_date if cohort else '待定' }}", "{{ cohort.training_date }}")
    [problem] = problems(tmp_path, text)
    assert problem.startswith("faq.yaml:7:7: the answer fails for a candidate without a training batch:")
    assert problem.endswith("wrap it in {% if cohort %}...{% endif %}")


def test_template_syntax_error(tmp_path: Path) -> None:
    text = GOOD.replace("培训于 {{ cohort.training_date if cohort else '待定' }} 开始。", "'{% if cohort %}开始'")
    [problem] = problems(tmp_path, text)
    assert problem.startswith("faq.yaml:7:7: template error:")


def test_question_in_two_entries_and_not_contradiction(tmp_path: Path) -> None:
    second = """\
  - id: training_place
    questions:
      - 请问,培训什么时候开始?
      - Where is the training?
    answer: {zh-CN: 在201室。, en: In room 201.}
    not:
      - when does training start
"""
    assert problems(tmp_path, GOOD + second) == [
        "faq.yaml:11:9: question '请问,培训什么时候开始?' is also an example of 'training_date'; keep it in one "
        "entry only",
        "faq.yaml:15:9: 'when does training start' is listed under `not` but is an example question of "
        "'training_date'; remove it from one of them",
    ]


def test_empty_question_and_long_id(tmp_path: Path) -> None:
    text = GOOD.replace("id: training_date", "id: " + "a" * 41).replace("      - When does training start?",
                                                                       "      - 你好!")
    assert problems(tmp_path, text) == [
        f"faq.yaml:2:5: id '{'a' * 41}' is 41 characters; keep it to 40",
        "faq.yaml:5:9: must be a question in words (not empty, not only punctuation or greetings)",
    ]


def test_not_a_list_and_yaml_syntax(tmp_path: Path) -> None:
    assert problems(tmp_path, "faq:\n  id: x\n") == [
        "faq.yaml:1:1: the file must start with `faq:` followed by a list of entries (- id: ...)"]
    assert problems(tmp_path, "faq:\n  - id: x\n    questions: [a\n") == [
        "faq.yaml:4:1: YAML syntax error: expected ',' or ']', but got '<stream end>'; check indentation and quoting"]


def test_all_problems_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("    questions:", "    questons:") + "  - id: BAD\n    answer: 1\n"
    assert problems(tmp_path, text) == [
        "faq.yaml:3:5: unknown key 'questons'; did you mean 'questions'?",
        "faq.yaml:2:5: entry has no `questions`; add a few example phrasings",
        "faq.yaml:9:5: id 'BAD' must be snake_case: lower-case letters, digits and _",
        "faq.yaml:9:5: entry has no `questions`; add a few example phrasings",
        "faq.yaml:10:5: `answer` must give one text per language: zh-CN, en",
    ]


def test_intents_checks(tmp_path: Path) -> None:
    path = tmp_path / "intents.yaml"
    path.write_text("fillers: [你好]\nwithdrawl:\n  phrases: [不去了]\n", encoding="utf-8")
    with pytest.raises(FaqError) as exc:
        load_intents(path)
    assert [str(p).replace(str(path), "intents.yaml") for p in exc.value.problems] == [
        "intents.yaml:2:1: unknown key 'withdrawl'; did you mean 'withdrawal'?"]
    path.write_text("withdrawal:\n  phrases: [不去了]\n  similarity: 180\n", encoding="utf-8")
    with pytest.raises(FaqError) as exc:
        load_intents(path)
    assert [p.message for p in exc.value.problems] == ["must be a number from 0 to 100"]
    assert load_intents(ROOT / "content" / "intents.yaml").withdrawal_phrases


def test_messages_with_an_unquoted_hash_are_refused(tmp_path: Path) -> None:
    """'问题 #12' unquoted would silently lose everything after the #: YAML reads it as a comment."""
    for loc in LOCALES:
        (tmp_path / loc).mkdir()
        (tmp_path / loc / "messages.yaml").write_text('ok: "问题 #{{ n }}"\nbad: 问题 #{{ n }} 已关闭\n',
                                                      encoding="utf-8")
    with pytest.raises(TextsError) as exc:
        Texts.load(tmp_path, LOCALES, "zh-CN")
    assert [(p.line, p.col) for p in exc.value.problems] == [(2, 6), (2, 6)]
    assert "start of a comment" in exc.value.problems[0].message


def test_unquoted_hash_in_an_answer(tmp_path: Path) -> None:
    text = GOOD.replace("      en: Training starts on {{ cohort.training_date if cohort else 'a date to be set' }}.",
                        "      en: See question #3 for the date")
    assert problems(tmp_path, text) == [
        "faq.yaml:8:11: this text contains \" #\", which YAML reads as the start of a comment, so the rest of the "
        "line is lost; put the text in double quotes or use `key: |-` and the text on the next line"]
