"""The buttons /atrisk adds to the console's own (card, note, mark withdrawn)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.buttons import ButtonData


@dataclass(frozen=True)
class AtRiskCall(ButtonData, prefix="arcall"):
    """HR: show this candidate's phone number, to call them."""

    candidate: int
