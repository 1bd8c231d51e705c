"""/status, /language, /menu, /help."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.buttons import ButtonData
from bot.engine.core import Engine, Router, Turn
from bot.status.service import status_view
from store.models import AuditLog


@dataclass(frozen=True)
class LanguageButton(ButtonData, prefix="lang"):
    locale: str


class StatusHandlers:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        router.command("status", self.status, audience="candidate", menu_key="cmd_status")
        router.command("menu", self.menu, audience="candidate", menu_key="cmd_menu")
        router.command("language", self.language, audience="candidate", menu_key="cmd_language")
        router.command("help", self.help, audience="anyone", menu_key="cmd_help")
        router.button(LanguageButton, self.set_language, audience="candidate")
        router.menu_entry(10, "status", "menu_status", self.status)
        router.menu_entry(90, "language", "menu_language", self.language)
        router.menu_entry(95, "help", "menu_help", self.help)

    def status(self, turn: Turn) -> None:
        assert turn.candidate is not None
        view = status_view(turn.ctx.settings, turn.ctx.texts, turn.session, turn.candidate, turn.ctx.clock.now(),
                           turn.locale)
        actions = self.engine.router.task_actions
        doable = tuple((actions[t.id].button("✍️ " + t.title),) for t in view["tasks"]  # type: ignore[attr-defined]
                       if t.id in actions)
        extra = [line for line in (f(turn) for f in self.engine.router.status_lines) if line]
        text = "\n\n".join([turn.t("status", **view), *extra])
        turn.say(text, buttons=doable + self.engine.main_menu(turn.locale))

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

    def language(self, turn: Turn) -> None:
        buttons = tuple(
            (LanguageButton(loc).button(turn.ctx.texts.get(loc, "language_name")),) for loc in turn.ctx.settings.locales
        )
        turn.say(turn.t("language_choose"), buttons=buttons)

    def set_language(self, turn: Turn, data: LanguageButton) -> None:
        assert turn.candidate is not None
        loc = data.locale
        if loc not in turn.ctx.settings.locales:
            self.language(turn)
            return
        turn.candidate.language = loc
        turn.session.add(turn.candidate)
        turn.session.add(AuditLog(at=turn.ctx.clock.now(), actor=f"telegram:{turn.event.user_id}",
                                  action="language", candidate_id=turn.candidate.id, detail=loc))
        turn.locale = loc
        turn.say(turn.t("language_set"), buttons=self.engine.main_menu(loc))
