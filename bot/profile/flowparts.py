"""What profile adds to the flow runner: `save_to: profile.<field>` (and set_field) and the `profile` flow texts
can use, the ID number masked."""

from __future__ import annotations

import logging
from typing import Any

from bot.crypto import Sealer
from bot.engine.core import Turn
from bot.flows.runner import FlowRunner
from bot.profile.service import SEALED, ProfileError, profile_view, save_field

PROFILE_FLOW = "profile"

log = logging.getLogger(__name__)


def install(runner: FlowRunner, sealer: Sealer | None) -> None:
    def save(turn: Turn, name: str, value: str) -> None:
        assert turn.candidate is not None and turn.candidate.id is not None
        flow = runner.flows.get(PROFILE_FLOW)
        # A sealed field reached in a flow begun before the runner's gates (consent) were asked, or withdrawn
        # since: the gate answers (the notice), nothing is kept. The profile flow's steps are named after fields.
        if name in SEALED and flow is not None and not all(gate(turn, flow, name, True) for gate in runner.gates):
            return
        try:
            save_field(turn.session, turn.candidate.id, name, value, sealer, turn.ctx.clock.now())
        except ProfileError as err:
            # No key to encrypt with: refuse to store it, tell the candidate, carry on without it.
            log.warning("a sensitive profile field was not stored: HRBOT_SECRET_KEY is not set")
            turn.say(turn.t(err.key))

    def view(turn: Turn) -> Any:
        assert turn.candidate is not None and turn.candidate.id is not None
        return profile_view(turn.session, turn.candidate.id, sealer)

    runner.stores["profile"] = save
    runner.context_values["profile"] = view
