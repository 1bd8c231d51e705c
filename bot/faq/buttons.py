"""The buttons under FAQ answers, suggestions, tickets and withdrawal replies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.engine.buttons import ButtonData, alias
from bot.engine.core import MenuButton


@dataclass(frozen=True)
class FaqVote(ButtonData, prefix="faqv"):
    query: int
    value: Literal["up", "down"]


@dataclass(frozen=True)
class FaqPick(ButtonData, prefix="faqs"):
    """A "did you mean" suggestion: the query it answers, and the entry picked."""

    query: int
    entry: str


@dataclass(frozen=True)
class FaqAskHr(ButtonData, prefix="faqask"):
    """Hand this question to HR as a ticket."""

    query: int


@dataclass(frozen=True)
class StayOption(ButtonData, prefix="stay"):
    """After a withdrawal message: move to another batch, or have HR call."""

    ticket: int
    option: Literal["batch", "talk"]


@dataclass(frozen=True)
class FaqAdd(ButtonData, prefix="faqadd"):
    """HR: propose this answered ticket as an FAQ entry."""

    ticket: int


@dataclass(frozen=True)
class FaqLink(ButtonData, prefix="faqlink"):
    """HR: this answered ticket asks what an existing entry answers; propose its question as an example of it."""

    ticket: int
    entry: str


# The menu's "ask a question" entry before it became a MenuButton ("faqq:menu").
alias("faqq", MenuButton("ask"))
