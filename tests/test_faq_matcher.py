"""The matcher on the demo FAQ: normalisation, the three outcomes, and the labelled set as a regression floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.faq.evaluate import CasesError, evaluate, read_cases, wratio_baseline
from bot.faq.matcher import FaqIndex
from bot.faq.normalize import Normalizer
from bot.faq.runtime import FaqRuntime, load_checked, shared_encoder
from tests.conftest import ROOT

CASES = ROOT / "tests" / "data" / "faq_cases.csv"


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    from tests.conftest import make_settings

    settings = make_settings("sqlite://")
    faq, _, normalize = load_checked(settings)
    return FaqIndex(faq, normalize, shared_encoder(), settings.file.faq)


def test_normalisation() -> None:
    norm = Normalizer(["你好", "请问一下", "请问", "谢谢", "hi", "thanks"])
    assert norm("你好,请问一下宿舍是幾人間?謝謝!") == "宿舍是几人间"
    assert norm("ＷＨＥＮ does  Training start？？") == "when does training start"
    assert norm("Hi!!! thanks") == ""
    assert norm("history") == "history"  # "hi" is removed only as a word


@pytest.mark.parametrize(("query", "entry"), [
    ("培训需要带电脑吗?", "training_bring"),        # the article's own example
    ("宿舍是几人间?", "dorm_room"),
    ("有五险一金吗?", "social_insurance"),
    ("培訓地點在哪裡", "training_place"),            # traditional characters
    ("ＷＨＥＮ ＩＳ ＰＡＹＤＡＹ", "payday"),          # full-width
    ("您好,打扰了,想问一下包吃吗?谢谢啦", "meals"),  # greetings around the question
])
def test_confident_answers(index: FaqIndex, query: str, entry: str) -> None:
    match = index.match(query)
    assert (match.outcome, match.id) == ("answer", entry), match
    assert 0 <= match.score <= 100 and match.suggestions == []


def test_out_of_scope_questions_are_not_answered(index: FaqIndex) -> None:
    for query in ("宿舍可以养狗吗", "公司股票代码是多少", "tell me a joke"):
        match = index.match(query)
        assert match.id is None and match.outcome in ("suggest", "unknown"), match


def test_a_not_example_goes_straight_to_ask_hr(index: FaqIndex) -> None:
    match = index.match("宿舍里可以养小动物吗?")  # close to a `not:` example of dorm_room
    assert (match.outcome, match.id, match.suggestions) == ("unknown", None, [])


def test_empty_after_normalisation(index: FaqIndex) -> None:
    match = index.match("你好!!")
    assert (match.outcome, match.id, match.score) == ("empty", None, 0.0)


def test_labelled_set_floor(index: FaqIndex) -> None:
    """Regression guard, set from the measured figures (benchmarks/README.md) minus a few points."""
    cases = read_cases(CASES, set(index.ids))
    assert len(cases) >= 200
    assert sum(c.expected is None for c in cases) >= 0.2 * len(cases)
    figures, _ = evaluate(cases, index.match)
    assert figures.share(figures.answered_right, figures.in_scope) >= 78
    assert figures.share(figures.right_in_reach, figures.in_scope) >= 93
    assert figures.share(figures.answered_wrong, figures.questions) <= 5
    assert figures.share(figures.oos_answered, figures.out_of_scope) <= 16
    baseline, _ = evaluate(cases, wratio_baseline(index.faq))
    assert baseline.share(baseline.answered_right, baseline.in_scope) < figures.share(figures.answered_right,
                                                                                      figures.in_scope)


def test_cases_are_not_copies_of_example_questions(index: FaqIndex) -> None:
    examples = {index.normalize(q) for e in index.faq.entries for q in e.questions + e.not_questions}
    copies = [c.query for c in read_cases(CASES, set(index.ids)) if index.normalize(c.query) in examples]
    assert copies == []


def test_bad_cases_file(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("query,expected_id\n,training_date\n宿舍,dorm_rooms\n", encoding="utf-8")
    with pytest.raises(CasesError) as exc:
        read_cases(path, {"dorm_room", "training_date"})
    assert str(exc.value).splitlines() == [
        f"{path}:2: query: empty; write the question or delete the row",
        f"{path}:3: expected_id: 'dorm_rooms' is not an id in the FAQ",
    ]


def test_runtime_reloads_an_edited_faq_and_keeps_the_last_good_one(tmp_path: Path, db_url: str) -> None:
    from tests.faqtools import faq_settings

    settings: Settings = faq_settings(tmp_path, db_url)
    runtime = FaqRuntime(settings)
    runtime.CHECK_EVERY = 0  # look at the files on every question (the bot looks once a second)
    assert runtime.match("宿舍可以养狗吗")[0].id is None
    faq_file = settings.content_path(settings.file.faq.file)
    text = faq_file.read_text(encoding="utf-8")
    faq_file.write_text(text + """
  - id: pets
    questions:
      - 宿舍可以养狗吗?
      - Can I keep a pet?
    answer: {zh-CN: 宿舍不能养宠物。, en: No pets in the dorms.}
""", encoding="utf-8")
    assert runtime.match("宿舍可以养狗吗")[0].id == "pets"
    faq_file.write_text(text.replace("  - id: salary\n", "  - id: Salary!\n"), encoding="utf-8")  # broken edit
    assert runtime.match("宿舍可以养狗吗")[0].id == "pets"  # still the last good version
