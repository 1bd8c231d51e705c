"""HR chat commands (admins only, by numeric Telegram id)."""

from __future__ import annotations

from bot.engine.core import Router, Turn
from bot.hr.service import HrError, find_candidate, set_stage, stage_notice


class HrHandlers:
    def register(self, router: Router) -> None:
        router.command("stage", self.stage, audience="hr", menu_key="cmd_stage", writes=True)

    def stage(self, turn: Turn) -> None:
        settings = turn.ctx.settings
        args = turn.event.args
        stages = "\n".join(f"• {s.id}: {s.label[turn.locale]}" for s in settings.file.stages)
        if len(args) < 2:
            turn.say(turn.t("hr_stage_usage", stages=stages))
            return
        # The stage is the last word; everything before it names the candidate ("+86 138 0000 0006" too).
        ref, stage_id = " ".join(args[:-1]), args[-1]
        try:
            cand = find_candidate(turn.session, ref, settings)
            if not turn.in_scope(cand):  # outside this HR member's scope: as if there were no such candidate
                raise HrError("hr_candidate_not_found", ref=ref)
            change = set_stage(turn.session, settings, cand, stage_id, f"hr:{turn.event.user_id}",
                               turn.ctx.clock.now())
        except HrError as err:
            turn.say(turn.t(err.key, **err.values))
            return
        label = settings.stages[change.new].label
        if not change.changed:
            turn.say(turn.t("hr_stage_unchanged", name=cand.name, id=cand.id, stage=label[turn.locale]))
            return
        if cand.telegram_chat_id is None:
            turn.say(turn.t("hr_stage_set_not_bound", name=cand.name, id=cand.id, stage=label[turn.locale]))
            return
        if cand.unreachable_at is not None:
            turn.say(turn.t("hr_stage_set_unreachable", name=cand.name, id=cand.id, stage=label[turn.locale]))
            return
        turn.send(stage_notice(settings, turn.ctx.texts, cand), candidate_id=cand.id)
        turn.say(turn.t("hr_stage_set", name=cand.name, id=cand.id, stage=label[turn.locale]))
