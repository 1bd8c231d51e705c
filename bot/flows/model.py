"""Flows as plain data, after loading and checking."""

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


@dataclass
class Step:
    id: str
    kind: str  # one of STEP_KINDS, or a kind another capability adds (a lesson quiz's "question" and "result")
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
class FlowLibrary:
    """Everything flows/ holds, checked."""

    flows: dict[str, Flow] = field(default_factory=dict)
