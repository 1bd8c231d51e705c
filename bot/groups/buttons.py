"""What the feedback box's and the Q&A board's buttons carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.engine.buttons import ButtonData


@dataclass(frozen=True)
class FeedbackButton(ButtonData, prefix="fbk"):
    """A step of /feedback: a category picked, the anonymity choice (yes/no), or cancel."""

    action: Literal["cat", "anon", "cancel"]
    value: str = ""


@dataclass(frozen=True)
class QaPage(ButtonData, prefix="qa"):
    """A page of the Q&A board; ``cohort`` only on HR's board (a candidate's is always their own cohort)."""

    page: int
    cohort: str = ""


@dataclass(frozen=True)
class QaHide(ButtonData, prefix="qah"):
    """HR takes an answered question off the board."""

    ticket: int
