"""Scoring a lesson's quiz: the right answers counted against the pass mark, the candidate's progress kept, the
lesson's points awarded once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.learning import points as ledger
from bot.learning.model import Lesson
from store.models import Interaction, LessonProgress


@dataclass(frozen=True)
class QuizResult:
    correct: int
    total: int
    passed: bool
    awarded: int  # points this attempt earned: 0 if failed, or if the lesson paid out before


def record_attempt(session: Session, candidate_id: int, lesson: Lesson, answers: dict[str, int], pass_ratio: float,
                   now: datetime) -> QuizResult:
    """Score ``answers`` (question number as text -> option picked, both from 0) and record the attempt."""
    correct = sum(1 for i, q in enumerate(lesson.quiz) if answers.get(str(i)) == q.answer)
    total = len(lesson.quiz)
    passed = correct >= pass_ratio * total - 1e-9
    progress = session.exec(select(LessonProgress).where(LessonProgress.candidate_id == candidate_id,
                                                         LessonProgress.lesson_id == lesson.id)).first()
    progress = progress or LessonProgress(candidate_id=candidate_id, lesson_id=lesson.id, updated_at=now)
    progress.attempts += 1
    progress.questions = total
    progress.best_correct = max(progress.best_correct, correct)
    if passed and progress.passed_at is None:
        progress.passed_at = now
        # A domain event, for nudge rules that follow it (after_event: lesson_completed).
        session.add(Interaction(candidate_id=candidate_id, kind="event", detail="lesson_completed", at=now))
    progress.updated_at = now
    session.add(progress)
    awarded = passed and lesson.points > 0 and ledger.award(session, candidate_id, lesson.points, "lesson",
                                                            f"lesson:{lesson.id}", now)
    return QuizResult(correct, total, passed, lesson.points if awarded else 0)


def needed(ratio: float, total: int) -> int:
    """How many right answers pass a quiz of ``total`` questions."""
    return math.ceil(ratio * total - 1e-9)
