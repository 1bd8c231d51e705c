"""Flows, lessons, rewards and resources as plain data, after loading and checking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

L10n = dict[str, str]  # locale -> text

STEP_KINDS = ("say", "ask", "lesson", "quiz", "branch", "do", "goto", "call", "end")
PROFILE_FIELDS = ("legal_name", "id_number", "education", "emergency_name", "emergency_phone")


@dataclass(frozen=True)
class Choice:
    id: str
    text: L10n
    goto: str | None = None


@dataclass(frozen=True)
class QuizQuestion:
    question: L10n
    options: list[L10n]
    answer: int  # 0-based index of the right option
    explanation: L10n


@dataclass
class Step:
    id: str
    kind: str  # one of STEP_KINDS, or the internal "question" and "result" of a lesson's quiz
    line: int = 0
    text: L10n | None = None
    next: str | None = None
    image: str | None = None
    wait: bool = False
    choices: list[Choice] = field(default_factory=list)
    input_type: str = "text"
    regex: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    retry: L10n | None = None
    save_to: str | None = None
    target: str | None = None  # lesson id (lesson, quiz), step id (goto), flow id (call), action name (do)
    args: dict[str, Any] = field(default_factory=dict)
    cases: list[tuple[str, str]] = field(default_factory=list)  # (expression, step id) for branch
    otherwise: str | None = None
    question: QuizQuestion | None = None
    index: int = 0  # question number in its quiz (0-based)


@dataclass
class Flow:
    id: str
    title: L10n
    steps: list[Step]
    file: str = ""
    lesson: str | None = None  # set for the flows generated from a lesson

    def __post_init__(self) -> None:
        self.by_id = {s.id: s for s in self.steps}

    def after(self, step: Step) -> str | None:
        """The step that follows ``step`` when it names none: the next one in the file."""
        if step.next:
            return step.next
        i = self.steps.index(step)
        return self.steps[i + 1].id if i + 1 < len(self.steps) else None


@dataclass
class LessonPart:
    text: L10n | None = None
    image: str | None = None  # path under content/
    video: str | None = None  # path under content/
    link: str | None = None  # a URL (an online video)
    caption: L10n | None = None


@dataclass
class Lesson:
    id: str
    title: L10n
    minutes: int
    roles: list[str]
    points: int
    parts: list[LessonPart]
    quiz: list[QuizQuestion]
    file: str = ""

    def suits(self, role: str) -> bool:
        return not self.roles or role in self.roles


@dataclass
class Reward:
    id: str
    name: L10n
    cost: int
    stock: int
    description: L10n | None = None


@dataclass
class Resource:
    id: str
    title: L10n
    file: dict[str, str] | None = None  # locale -> path under content/
    url: str | None = None
    departments: list[str] = field(default_factory=list)


@dataclass
class Library:
    """Everything flows/ and the learning content hold, checked."""

    flows: dict[str, Flow] = field(default_factory=dict)
    lessons: dict[str, Lesson] = field(default_factory=dict)
    rewards: dict[str, Reward] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
