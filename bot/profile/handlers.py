"""/profile: the personal information centre. Viewing shows the ID number masked; editing runs the profile flow."""

from __future__ import annotations

from dataclasses import dataclass

from bot.crypto import Sealer
from bot.engine.buttons import ButtonData
from bot.engine.core import Router, Turn
from bot.flows.model import PROFILE_FIELDS
from bot.flows.runner import FlowRunner
from bot.profile.service import profile_view

PROFILE_FLOW = "profile"


@dataclass(frozen=True)
class ProfileButton(ButtonData, prefix="pf"):
    """"show" the profile, "all": fill in everything, or a field's name: edit just that one."""

    field: str = "show"


class ProfileHandlers:
    def __init__(self, runner: FlowRunner, sealer: Sealer | None):
        self.runner = runner
        self.sealer = sealer
        flow = runner.flows.get(PROFILE_FLOW)
        # Which step asks for which field: editing one field runs just that step.
        self.field_steps = {s.save_to.split(".", 1)[1]: s.id for s in flow.steps
                            if s.kind == "ask" and s.save_to and s.save_to.startswith("profile.")} if flow else {}

    def register(self, router: Router) -> None:
        router.button(ProfileButton, self.edit, audience="candidate")
        if PROFILE_FLOW not in self.runner.flows:
            return  # no flows/profile.yaml: no personal information centre (an old button says so)
        router.command("profile", self.show, audience="candidate", menu_key="cmd_profile")
        router.menu_entry(50, "profile", "menu_profile", self.show)

    def show(self, turn: Turn) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        view = profile_view(turn.session, cand.id, self.sealer)
        rows = [{"label": turn.t(f"profile_field_{f}"), "value": self._shown(f, view[f], turn.locale)}
                for f in PROFILE_FIELDS]
        buttons = [(ProfileButton(f).button(turn.t("profile_edit_button", field=turn.t(f"profile_field_{f}"))),)
                   for f in PROFILE_FIELDS if f in self.field_steps]
        buttons.insert(0, (ProfileButton("all").button(turn.t("profile_fill_all_button")),))
        turn.say(turn.t("profile_view", fields=rows, complete=all(view[f] for f in PROFILE_FIELDS)),
                 buttons=tuple(buttons))

    def _shown(self, field: str, value: str | None, locale: str) -> str | None:
        """A field answered with a button is stored as the button's id; show its label."""
        flow = self.runner.flows[PROFILE_FLOW]
        step = flow.by_id.get(self.field_steps.get(field, ""))
        if value and step is not None and step.choices:
            return next((c.text[locale] for c in step.choices if c.id == value), value)
        return value

    def edit(self, turn: Turn, data: ProfileButton) -> None:
        what = data.field
        if PROFILE_FLOW not in self.runner.flows:
            turn.say(turn.t("button_expired"), buttons=self.runner.main_menu(turn.locale))
        elif what == "all":
            self.runner.start(turn, PROFILE_FLOW, fresh=True)
        elif what in self.field_steps:
            self.runner.start(turn, PROFILE_FLOW, step_id=self.field_steps[what], only=True)
        else:
            self.show(turn)
