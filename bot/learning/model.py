"""Lessons, quizzes, rewards and resources as plain data, after loading and checking."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.flows.model import L10n


@dataclass(frozen=True)
class QuizQuestion:
    question: L10n
    options: list[L10n]
    answer: int  # 0-based index of the right option
    explanation: L10n


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
class LearningContent:
    """Everything content/ holds for learning, checked."""

    lessons: dict[str, Lesson] = field(default_factory=dict)
    rewards: dict[str, Reward] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
