"""/status, /language, /menu, /help."""

from __future__ import annotations

from bot.engine.core import Engine, Router, Turn
from bot.engine.effects import Button
from bot.status.service import status_view
from store.models import AuditLog


class StatusHandlers:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        router.command("status", self.status, audience="candidate", menu_key="cmd_status")
        router.command("menu", self.menu, audience="candidate", menu_key="cmd_menu")
        router.command("language", self.language, audience="candidate", menu_key="cmd_language")
        router.command("help", self.help, audience="anyone", menu_key="cmd_help")
        router.button("menu", self.menu_button, audience="candidate")
        router.button("lang", self.set_language, audience="candidate")
        router.menu_entry(10, "menu_status", "menu:status")
        router.menu_entry(90, "menu_language", "menu:language")
        router.menu_entry(95, "menu_help", "menu:help")

    def status(self, turn: Turn) -> None:
        assert turn.candidate is not None
        view = status_view(turn.ctx.settings, turn.ctx.texts, turn.session, turn.candidate, turn.ctx.clock.now(),
                           turn.locale)
        actions = self.engine.router.task_actions
        doable = tuple((Button("✍️ " + t.title, actions[t.id]),) for t in view["tasks"]  # type: ignore[attr-defined]
                       if t.id in actions)
        turn.say(turn.t("status", **view), buttons=doable + self.engine.main_menu(turn.locale))

    def menu(self, turn: Turn) -> None:
        turn.say(turn.t("menu_prompt"), buttons=self.engine.main_menu(turn.locale))

    def help(self, turn: Turn) -> None:
        if turn.candidate is None and not turn.is_hr:
            turn.say(turn.t("not_bound"), ask_contact=turn.t("share_phone_button"))
            return
        text = turn.t("help_candidate") if turn.candidate else ""
        if turn.is_hr:
            text = (text + "\n\n" if text else "") + turn.t("help_hr")
        turn.say(text, buttons=self.engine.main_menu(turn.locale) if turn.candidate else ())

    def menu_button(self, turn: Turn) -> None:
        action = (turn.event.payload or "").split(":", 1)[-1]
        {"status": self.status, "language": self.language, "help": self.help}.get(action, self.menu)(turn)

    def language(self, turn: Turn) -> None:
        buttons = tuple(
            (Button(turn.ctx.texts.get(loc, "language_name"), f"lang:{loc}"),) for loc in turn.ctx.settings.locales
        )
        turn.say(turn.t("language_choose"), buttons=buttons)

    def set_language(self, turn: Turn) -> None:
        assert turn.candidate is not None
        loc = (turn.event.payload or "").split(":", 1)[-1]
        if loc not in turn.ctx.settings.locales:
            self.language(turn)
            return
        turn.candidate.language = loc
        turn.session.add(turn.candidate)
        turn.session.add(AuditLog(at=turn.ctx.clock.now(), actor=f"telegram:{turn.event.user_id}",
                                  action="language", candidate_id=turn.candidate.id, detail=loc))
        turn.locale = loc
        turn.say(turn.t("language_set"), buttons=self.engine.main_menu(loc))
