"""The buttons flows put under their messages."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.buttons import ButtonData


@dataclass(frozen=True)
class FlowButton(ButtonData, prefix="f"):
    """An answer in a flow: the session, the version the session has once the step is saved (an older version
    means the tap is on an old message), and the choice (a button id, "next", or a quiz option's index)."""

    session: int
    version: int
    choice: str


@dataclass(frozen=True)
class StartFlow(ButtonData, prefix="go"):
    """Start (or resume) a flow by id: offered on /status for a task a flow completes, and by nudges."""

    flow: str


# The widest session number and version the load-time check of button ids plans for (10 and 6 digits).
WIDEST_SESSION, WIDEST_VERSION = 10**10 - 1, 10**6 - 1
