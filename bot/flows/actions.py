"""The named actions a flow's `do:` step can run, with the arguments each takes (checked at load)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ActionSpec:
    args: tuple[str, ...]
    required: tuple[str, ...]
    summary: str


ACTIONS = {
    "award_points": ActionSpec(("points", "ref"), ("points",), "add points to the candidate's ledger, once per ref"),
    "set_field": ActionSpec(("field", "value"), ("field", "value"), "set profile.<field> or vars.<name>"),
    "complete_task": ActionSpec(("task",), ("task",), "mark a task from config.yaml done"),
    "notify_hr": ActionSpec(("text",), ("text",), "send every HR admin a message about this candidate"),
    "start_flow": ActionSpec(("flow",), ("flow",), "leave this flow and start another"),
}
