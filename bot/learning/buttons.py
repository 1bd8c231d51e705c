"""The buttons of lessons, points and rewards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.engine.buttons import ButtonData, alias
from bot.engine.core import MenuButton


@dataclass(frozen=True)
class LearnButton(ButtonData, prefix="learn"):
    """The lesson list, a lesson from its start, or its quiz again."""

    action: Literal["list", "start", "quiz"] = "list"
    lesson: str = ""


@dataclass(frozen=True)
class RewardButton(ButtonData, prefix="rw"):
    """The catalogue, "redeem this?", and "yes, redeem"."""

    action: Literal["list", "ask", "ok"] = "list"
    reward: str = ""


@dataclass(frozen=True)
class RewardDelivered(ButtonData, prefix="rwd"):
    """HR: the reward of this redemption has been handed out."""

    redemption: int


# Menus sent before the menu became MenuButton entries ("pts:show", "res:list") still work.
alias("pts", MenuButton("points"))
alias("res", MenuButton("resources"))
