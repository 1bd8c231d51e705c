"""What learning adds to the flow runner: lessons and quizzes as flows (lesson:<id>, quiz:<id>), their question
and result steps, the award_points action and the `points` flow texts can use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from bot.engine.core import MenuButton, Turn
from bot.flows.model import Flow, FlowLibrary, Step
from bot.flows.runner import FlowRun, FlowRunner, StepKind
from bot.learning import points as ledger
from bot.learning.buttons import LearnButton
from bot.learning.model import LearningContent, Lesson, QuizQuestion
from bot.learning.quiz import needed, record_attempt

OPTION_MARKS = "ABCD"


def lesson_flow(lesson: Lesson, with_parts: bool) -> Flow:
    """A lesson as a flow: its parts (each waits for "next"), then its quiz, then the result."""
    steps: list[Step] = []
    if with_parts:
        for i, part in enumerate(lesson.parts):
            steps.append(Step(f"part_{i}", "say", wait=True, text=part.text, image=part.image,
                              args={"video": part.video, "link": part.link, "caption": part.caption}))
    for i, q in enumerate(lesson.quiz):
        steps.append(Step(f"q_{i}", "question", args={"question": q}, index=i))
    steps.append(Step("result", "result", target=lesson.id))
    prefix = "lesson" if with_parts else "quiz"
    return Flow(f"{prefix}:{lesson.id}", lesson.title, steps, lesson.file, lesson=lesson.id)


class QuestionStep(StepKind):
    """One quiz question with lettered buttons; right after the answer, ✅/❌ with the right answer and why."""

    waits = True

    def __init__(self, runner: FlowRunner):
        self.runner = runner

    def present(self, run: FlowRun, flow: Flow, step: Step) -> None:
        turn = run.turn
        q = step.args["question"]
        assert q is not None
        total = len([s for s in flow.steps if s.kind == "question"])
        options = "\n".join(f"{OPTION_MARKS[i]}. {o[turn.locale]}" for i, o in enumerate(q.options))
        turn.say(turn.t("quiz_question", number=step.index + 1, total=total, question=q.question[turn.locale],
                        options=options),
                 buttons=(tuple(self.runner.button(run, OPTION_MARKS[i], str(i)) for i in range(len(q.options))),))

    def on_button(self, run: FlowRun, flow: Flow, step: Step, choice: str) -> None:
        turn = run.turn
        q: QuizQuestion | None = step.args.get("question")
        assert q is not None
        if not choice.isdigit() or int(choice) >= len(q.options):
            self.runner.show_again(run, flow, step)
            return
        picked = int(choice)
        answers = run.vars.setdefault("_answers", {})
        answers[str(step.index)] = picked
        right = OPTION_MARKS[q.answer] + ". " + q.options[q.answer][turn.locale]
        key = "quiz_right" if picked == q.answer else "quiz_wrong"
        turn.say(turn.t(key, right=right, explanation=q.explanation[turn.locale]))
        self.runner.advance(run, flow, step)


class ResultStep(StepKind):
    """The end of a quiz: scored (bot.learning.quiz), then passed with the points, or failed with a retry."""

    def __init__(self, lessons: Callable[[], dict[str, Lesson]]):
        self._lessons = lessons

    @property
    def lessons(self) -> dict[str, Lesson]:
        return self._lessons()

    def run(self, run: FlowRun, step: Step) -> None:
        turn = run.turn
        cand = turn.candidate
        assert cand is not None and cand.id is not None and step.target
        lesson = self.lessons[step.target]
        result = record_attempt(turn.session, cand.id, lesson, run.vars.get("_answers", {}),
                                turn.ctx.settings.file.learning.pass_ratio, turn.ctx.clock.now())
        correct, total = result.correct, result.total
        run.vars.pop("_answers", None)
        title = lesson.title[turn.locale]
        if result.passed:
            turn.say(turn.t("quiz_passed", title=title, correct=correct, total=total,
                            points=result.awarded,
                            balance=ledger.balance(turn.session, cand.id)),
                     buttons=((LearnButton().button(turn.t("learn_more_button")),),
                              (MenuButton("points").button(turn.t("points_button")),)))
        else:
            turn.say(turn.t("quiz_failed", title=title, correct=correct, total=total,
                            needed=needed(turn.ctx.settings.file.learning.pass_ratio, total)),
                     buttons=((LearnButton("quiz", lesson.id).button(turn.t("quiz_retry_button")),),
                              (LearnButton().button(turn.t("learn_more_button")),)))


def award_points(run: FlowRun, flow: Flow, step: Step) -> None:
    """`do: award_points` (with: points, ref): once per ref, by default once per flow step."""
    turn = run.turn
    cand = turn.candidate
    assert cand is not None and cand.id is not None
    args = step.args
    ref = str(args.get("ref") or f"flow:{flow.id}:{step.id}")
    if ledger.award(turn.session, cand.id, int(args["points"]), "flow", ref, turn.ctx.clock.now()):
        turn.say(turn.t("points_awarded", points=args["points"],
                        balance=ledger.balance(turn.session, cand.id)))


def points_balance(turn: Turn) -> Any:
    assert turn.candidate is not None and turn.candidate.id is not None
    return ledger.balance(turn.session, turn.candidate.id)


def _lessons(library: FlowLibrary) -> dict[str, Lesson]:
    return cast(LearningContent, library).lessons


def lesson_flows(library: FlowLibrary) -> list[Flow]:
    return [lesson_flow(lesson, with_parts) for lesson in _lessons(library).values() for with_parts in (True, False)]


def install(runner: FlowRunner) -> None:
    """Lend the runner the lesson flows (made from the current library's lessons), the quiz's steps,
    award_points and `points`."""
    runner.generators.append(lesson_flows)
    runner.step_kinds["question"] = QuestionStep(runner)
    runner.step_kinds["result"] = ResultStep(lambda: _lessons(runner.library))
    runner.actions["award_points"] = award_points
    runner.context_values["points"] = points_balance
