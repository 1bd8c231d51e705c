"""Flows in chat: the `f:` buttons, /cancel, and catching the answers a waiting flow expects."""

from __future__ import annotations

from bot.engine.core import Router, Turn
from bot.flows.buttons import FlowButton, StartFlow
from bot.flows.runner import FlowRunner


class FlowHandlers:
    def __init__(self, runner: FlowRunner):
        self.runner = runner

    def register(self, router: Router) -> None:
        router.button(FlowButton, self.runner.on_button, audience="candidate")
        router.button(StartFlow, self.go, audience="candidate")
        for flow in self.runner.library.flows.values():
            for step in flow.steps:
                if step.kind == "do" and step.target == "complete_task":
                    router.task_actions.setdefault(str(step.args["task"]), StartFlow(flow.id))
        router.command("cancel", self.cancel, audience="candidate", menu_key="cmd_cancel")
        router.interceptors.append(self.intercept)

    def intercept(self, turn: Turn) -> bool:
        """A flow waiting for an answer gets the candidate's text or file; a command or another menu's button
        means they left it (it stays paused and resumes when they come back)."""
        if turn.candidate is None:
            return False
        ev = turn.event
        if ev.kind == "command" or (ev.kind == "button" and not isinstance(turn.button, FlowButton)):
            turn.flows_left = self.runner.pause(turn)
            return False
        if ev.kind not in ("text", "file"):
            return False
        row = self.runner.active(turn)
        if row is None:
            return False
        if ev.kind == "text":
            self.runner.on_text(turn, row)
        else:
            self.runner.on_file(turn, row)
        return True

    def go(self, turn: Turn, data: StartFlow) -> None:
        flow_id = data.flow
        if flow_id not in self.runner.library.flows:
            turn.say(turn.t("button_expired"), buttons=self.runner.main_menu(turn.locale))
            return
        self.runner.start(turn, flow_id)

    def cancel(self, turn: Turn) -> None:
        # The interceptor has paused it already (any command leaves a flow); say so, or that nothing was going on.
        key = "flow_cancelled" if turn.flows_left else "cancel_nothing"
        turn.say(turn.t(key), buttons=self.runner.main_menu(turn.locale))
