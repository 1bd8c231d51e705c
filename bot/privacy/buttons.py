"""Buttons of the privacy notice, /privacy and /delete_my_data."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.buttons import ButtonData


@dataclass(frozen=True)
class PrivacyButton(ButtonData, prefix="pv"):
    """accept | decline the notice, then: "menu", "document" (send the file again) or a flow id to start, at
    `step` ("-": its start), `only` that step; withdraw | withdraw_yes consent; erase | erase_yes | cancel."""

    action: str
    then: str = "menu"
    step: str = "-"
    only: int = 0
