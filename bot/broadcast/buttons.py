"""What broadcast buttons carry (see bot.engine.buttons)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.engine.buttons import ButtonData

Action = Literal[
    "dim",      # list the values of a dimension (value: cohort | department | role | stage | lesson)
    "set",      # add a condition (value: dimension=id, or all)
    "back",     # back to the audience menu
    "next",     # audience chosen: ask for the content
    "lang",     # add the text in another language (value: locale)
    "url",      # add a button that opens a link
    "menu",     # add a button that opens a bot menu entry (value: the entry, or empty: list them)
    "nobtn",    # remove the button
    "urgent",   # toggle: send in quiet hours too
    "now",      # confirm: send now
    "when",     # ask for a time
    "go",       # confirm the scheduled time
    "cancel",   # drop the draft
    "stop",     # cancel a running or scheduled broadcast
    "unr",      # list who could not be reached
    "preview",  # show the preview again
]


@dataclass(frozen=True)
class BroadcastButton(ButtonData, prefix="bc"):
    action: Action
    id: int
    value: str = ""
