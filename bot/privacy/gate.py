"""The consent gate: before the ID number, the emergency contact or a document is collected, the candidate must
have accepted the current privacy notice; if not, the notice is shown with accept / decline and nothing is
collected."""

from __future__ import annotations

from bot.engine.core import Turn
from bot.flows.model import Flow
from bot.privacy import consent
from bot.privacy.buttons import PrivacyButton


def needs_consent(flow: Flow, step_id: str | None, only: bool) -> bool:
    """Does running this flow (or just this step) collect something sensitive?"""
    steps = [s for s in flow.steps if not only or s.id == step_id]
    return any(s.save_to and s.save_to.startswith("profile.") and s.save_to.split(".", 1)[1]
               in consent.SENSITIVE_FIELDS for s in steps)


def show_notice(turn: Turn, then: str = "menu", step: str = "-", only: bool = False, intro: str = "privacy_ask"
                ) -> None:
    settings = turn.ctx.settings
    turn.say(turn.t(intro) + "\n\n" + turn.t("privacy_notice", **consent.notice_values(settings)),
             buttons=((PrivacyButton("accept", then, step, int(only)).button(turn.t("privacy_accept_button")),),
                      (PrivacyButton("decline", then, step, int(only)).button(turn.t("privacy_decline_button")),)))


def allowed(turn: Turn, then: str = "menu", step: str = "-", only: bool = False) -> bool:
    """True if the candidate accepted the current notice; otherwise the notice is shown and False returned."""
    cand = turn.candidate
    if cand is None or cand.id is None:
        return False
    if consent.has_consent(turn.session, cand.id, consent.notice_version(turn.ctx.settings, turn.ctx.texts)):
        return True
    show_notice(turn, then, step, only)
    return False


def flow_gate(turn: Turn, flow: Flow, step_id: str | None, only: bool) -> bool:
    """FlowRunner gate: flows that ask for sensitive fields wait for consent."""
    if not needs_consent(flow, step_id, only):
        return True
    return allowed(turn, flow.id, step_id or "-", only)
