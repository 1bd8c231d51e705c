"""The matcher on the demo FAQ: normalisation, the three outcomes, and the labelled set as a regression floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
    assert figures.share(figures.answered_right, figures.in_scope) >= 80
    assert figures.share(figures.right_in_reach, figures.in_scope) >= 95
    assert figures.share(figures.answered_wrong, figures.questions) <= 5
    assert figures.share(figures.oos_answered, figures.out_of_scope) <= 15
    baseline, _ = evaluate(cases, wratio_baseline(index.faq))
    assert baseline.share(baseline.answered_right, baseline.in_scope) < figures.share(figures.answered_right,
                                                                                      figures.in_scope)


def test_holdout_floor(index: FaqIndex) -> None:
    """The set never used for tuning: no worse than before the matcher used answers, sentences and pinyin
    (66.0% / 85.1% / 5.4% / 0 of 9, benchmarks/README.md)."""
    cases = read_cases(ROOT / "tests" / "data" / "faq_holdout.csv", set(index.ids))
    figures, _ = evaluate(cases, index.match)
    assert figures.share(figures.answered_right, figures.in_scope) >= 66
    assert figures.share(figures.right_in_reach, figures.in_scope) >= 85
    assert figures.share(figures.answered_wrong, figures.questions) <= 5.4
    assert figures.oos_answered == 0


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


SMALL_FAQ = """\
faq:
  - id: health_certificate
    questions: [健康证怎么办理, 健康证要自己去办吗]
    answer: {zh-CN: 健康证到区疾控中心办理，费用公司报销。, en: "Get it at the district CDC; we refund the fee."}
  - id: social_insurance
    questions: [交不交五险一金, 社保什么时候开始交]
    answer: {zh-CN: 入职当月起缴纳五险一金。, en: Social insurance and the housing fund start in your first month.}
  - id: night_shift
    questions: [夜班有补贴吗, 夜班一个月几次]
    answer: {zh-CN: 夜班每晚补贴50元，每月最多8次。, en: "Night shifts pay 50 yuan extra a night, at most 8 a month."}
  - id: meals
    questions: [包吃吗, 员工餐怎么安排]
    answer: {zh-CN: 上班期间公司提供一顿免费员工餐。, en: One free staff meal is provided on every shift.}
  - id: dorm
    questions: [有宿舍吗, 宿舍几人间]
    answer: {zh-CN: 提供4人间宿舍，每月200元。, en: "Dorm rooms for 4, 200 yuan a month."}
"""


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> FaqIndex:
    from bot.faq.catalog import load_faq
    from tests.conftest import make_settings

    settings = make_settings("sqlite://")
    _, _, normalize = load_checked(settings)
    path = tmp_path_factory.mktemp("faq") / "faq.yaml"
    path.write_text(SMALL_FAQ, encoding="utf-8")
    return FaqIndex(load_faq(path, settings.locales, normalize), normalize, shared_encoder(), settings.file.faq)


@pytest.mark.parametrize(("query", "read_as"), [
    ("jkz在哪办", "健康证在哪办"),
    ("wxyj交吗", "五险一金交吗"),
    ("is there a gym", "is there a gym"),  # English words are not initials
    ("ok吗", "ok吗"),  # letters with a vowel are a word, not initials
])
def test_pinyin_initials_read_as_the_faq_word(small_index: FaqIndex, query: str, read_as: str) -> None:
    assert small_index._spelling.expand(small_index.normalize(query)) == read_as


def test_homophone_slips_heard_as_the_faq_word(small_index: FaqIndex) -> None:
    assert small_index._spelling.homophones("页班补贴多少") == "夜班补贴多少"
    assert small_index._spelling.homophones("宿舍几人间") == "宿舍几人间"  # words the FAQ has stay


@pytest.mark.parametrize(("query", "entry"), [
    ("jkz在哪办", "health_certificate"),
    ("wxyj交吗", "social_insurance"),
    ("页班补贴多少", "night_shift"),
])
def test_pinyin_and_homophones_reach_the_entry(small_index: FaqIndex, query: str, entry: str) -> None:
    match = small_index.match(query)
    assert match.best == entry and (match.id == entry or entry in match.suggestions), match


def test_the_question_inside_a_long_message_is_found(small_index: FaqIndex) -> None:
    story = ("我从外地过来，坐了两天火车，行李也挺多的，家里人都很担心我。到了以后公司有宿舍可以住吗？")
    whole = small_index.combine(small_index.features(small_index.normalize(story),
                                                     small_index.encode_query(small_index.normalize(story))))
    with_sentences = small_index.scores(small_index.normalize(story),
                                        small_index.encode_query(small_index.normalize(story)), story)
    dorm = small_index.ids.index("dorm")
    assert with_sentences[dorm] > whole[dorm]
    assert small_index.match(story).best == "dorm"


def test_the_answer_is_evidence_for_a_question_in_another_language(small_index: FaqIndex) -> None:
    """No English example question at all: the English answer still carries an English question."""
    match = small_index.match("Do you give us a free staff meal on each shift?")
    assert match.best == "meals", match


def test_an_english_question_meets_chinese_examples_across_the_language_gap(index: FaqIndex,
                                                                             small_index: FaqIndex) -> None:
    """The gap is measured on the FAQ's own entries that have English and Chinese example questions, and given
    back to an English question's similarity to Chinese examples only."""
    assert 3 < index._lang_gap < 20
    assert small_index._lang_gap == 0  # no English example question to measure it on
    for query, raised in (("where is the training held", True), ("培训在哪里举行", False)):
        normalized = index.normalize(query)
        qv = index.encode_query(normalized)
        plain = np.maximum.reduceat(index._vectors @ qv * 100.0, index._starts)
        meaning = index.features(normalized, qv)["meaning"]
        if raised:
            assert (meaning >= plain - 1e-3).all() and (meaning > plain + 1).any()
        else:
            assert np.allclose(meaning, plain)


def test_the_glossary_reads_chinese_words_longest_first() -> None:
    from bot.faq.glossary import Glossary, english_words

    glossary = Glossary()
    words = glossary.documents([["节假日上班吗"]])[0]
    assert {"public", "holiday"} <= set(words)
    assert "festival" not in words  # 节假日 is one word of the dictionary, not 节 ("festival") + 假日
    assert glossary.documents([["hello"]]) == [[]]
    assert english_words("Do the NIGHT shifts pay?") == ["do", "night", "shift", "pay"]


def test_an_english_question_meets_chinese_example_questions_word_by_word(small_index: FaqIndex) -> None:
    """The night-shift entry has Chinese example questions only; its dictionary words (夜班 night shift, 补贴
    allowance) meet the English question's words. A Chinese question gets nothing from the glossary."""
    english = small_index.normalize("is there an allowance for night work?")
    gloss = small_index.features(english, small_index.encode_query(english))["gloss"]
    assert small_index.ids[int(np.argmax(gloss))] == "night_shift" and gloss.max() > 20
    chinese = small_index.normalize("夜班有补贴吗")
    assert not small_index.features(chinese, small_index.encode_query(chinese))["gloss"].any()
    mixed = small_index.normalize("夜班有allowance吗")
    assert small_index.ids[int(np.argmax(small_index.features(mixed, small_index.encode_query(mixed))["gloss"]))] \
        == "night_shift"


def test_the_faq_classifier_places_a_question_among_the_entries(small_index: FaqIndex) -> None:
    """Fitted on the FAQ's own example questions and answer sentences: a probability per entry, the same model for
    the same FAQ."""
    from bot.faq.matcher import _Softmax

    question = small_index.normalize("夜班一晚上补多少钱")
    learned = small_index.features(question, small_index.encode_query(question))["learned"]
    assert abs(float(learned.sum()) - 100.0) < 1e-3
    assert small_index.ids[int(np.argmax(learned))] == "night_shift" and learned.max() > 50
    again = _Softmax.fit(np.vstack([small_index._vectors, small_index._answer_vectors]),
                         np.concatenate([small_index._owners, small_index._answer_owners]), len(small_index.ids))
    assert np.array_equal(again.weights, small_index._learned.weights)


def test_a_large_faq_shares_the_probability_among_its_likeliest_entries() -> None:
    """Beyond LEARNED_AMONG entries the long tail gets nothing, so a big FAQ does not thin every probability."""
    from bot.faq.matcher import LEARNED_AMONG, _Softmax

    rng = np.random.default_rng(7)
    classes = LEARNED_AMONG * 3
    vectors = rng.normal(size=(classes * 2, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    model = _Softmax.fit(vectors, np.repeat(np.arange(classes), 2), classes)
    p = model.probabilities(vectors[0])
    assert np.count_nonzero(p) == LEARNED_AMONG and abs(float(p.sum()) - 1.0) < 1e-5
    assert int(np.argmax(p)) == 0  # the class of the vector itself
    small = _Softmax.fit(vectors[:20], np.repeat(np.arange(10), 2), 10)
    assert np.count_nonzero(small.probabilities(vectors[0])) == 10  # a small FAQ: every entry


@pytest.mark.parametrize("topic", ["宿舍", "工资", "dorm"])
def test_a_topic_word_alone_gets_did_you_mean(index: FaqIndex, topic: str) -> None:
    """One word and nothing else is a topic, not a question: the entries on it are offered, none is answered."""
    match = index.match(topic)
    assert match.outcome == "suggest" and len(match.suggestions) >= 2, match


def test_a_short_question_is_still_answered(index: FaqIndex) -> None:
    assert index.match("包吃吗").id == "meals"  # three characters: a question


def test_a_slow_rebuild_runs_beside_the_old_index(tmp_path: Path, db_url: str) -> None:
    """A FAQ of BACKGROUND_FROM entries or more is rebuilt in the background after an edit: the old index answers
    until the new one is ready, and nobody waits for it."""
    from tests.faqtools import faq_settings

    settings: Settings = faq_settings(tmp_path, db_url)
    runtime = FaqRuntime(settings)
    runtime.CHECK_EVERY = 0
    runtime.BACKGROUND_FROM = 1  # the demo FAQ counts as large
    first = runtime.current()
    faq_file = settings.content_path(settings.file.faq.file)
    faq_file.write_text(faq_file.read_text(encoding="utf-8") + """
  - id: pets
    questions: [宿舍可以养狗吗?, Can I keep a pet?]
    answer: {zh-CN: 宿舍不能养宠物。, en: No pets in the dorms.}
""", encoding="utf-8")
    assert runtime.current() is first  # the edit is being built; the old index answers meanwhile
    assert runtime._building is not None
    runtime._building.join(timeout=60)
    assert runtime.match("宿舍可以养狗吗")[0].id == "pets"
    faq_file.write_text(faq_file.read_text(encoding="utf-8").replace("  - id: pets\n", "  - id: Pets!\n"),
                        encoding="utf-8")  # a broken edit, found in the background too
    good = runtime.current()
    runtime._building.join(timeout=60)
    assert runtime.current() is good and runtime.match("宿舍可以养狗吗")[0].id == "pets"
