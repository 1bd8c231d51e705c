"""/start with or without a token, a shared contact, and the welcome."""

from __future__ import annotations

from pathlib import Path

from bot.engine.core import Engine, Router, Turn
from bot.i18n import locale_from_telegram
from bot.onboarding.invites import PUBLIC_START
from bot.onboarding.service import BindResult, bind_by_contact, bind_by_token
from bot.welcome import WelcomeMedia
from store.models import Candidate


class Onboarding:
    def __init__(self, engine: Engine, welcome_media: dict[str, WelcomeMedia], content_dir: Path):
        self.engine = engine
        self.welcome_media = welcome_media
        self.content_dir = content_dir

    def register(self, router: Router) -> None:
        router.command("start", self.start, audience="anyone", menu_key="cmd_start")
        router.contact_handler = self.contact

    def start(self, turn: Turn) -> None:
        if turn.candidate is not None:
            self.welcome_back(turn)
            return
        if turn.event.args and turn.event.args[0] != PUBLIC_START:
            result = bind_by_token(turn.session, turn.event.args[0], turn.event.user_id, turn.event.chat_id,
                                   turn.ctx.clock.now())
            self._after_bind(turn, result, contact=False)
            return
        if turn.is_hr:
            turn.say(turn.t("hr_welcome"))
            return
        turn.say(turn.t("start_no_token"), ask_contact=turn.t("share_phone_button"))

    def contact(self, turn: Turn) -> None:
        if turn.candidate is not None:
            self.welcome_back(turn)
            return
        ev = turn.event
        result = bind_by_contact(turn.session, ev.contact_phone, ev.contact_user_id, ev.user_id, ev.chat_id,
                                 turn.ctx.clock.now(), turn.ctx.settings.file.phone_region)
        self._after_bind(turn, result, contact=True)

    def _after_bind(self, turn: Turn, result: BindResult, contact: bool) -> None:
        if result.outcome != "bound" or result.candidate is None:
            key = {"expired": "link_expired", "not_yours": "contact_not_yours"}.get(
                result.outcome, "contact_unknown" if contact else "link_invalid"
            )
            turn.say(turn.t(key), ask_contact=turn.t("share_phone_button") if contact or key != "link_expired"
                     else None)
            return
        turn.candidate = result.candidate
        if result.candidate.language:
            turn.locale = result.candidate.language
        else:
            # Remember the Telegram app's language: messages the bot sends on its own need it too.
            app_locale = locale_from_telegram(turn.event.language_code, turn.ctx.settings.locales)
            if app_locale:
                result.candidate.language = app_locale
                turn.session.add(result.candidate)
        self.welcome(turn, result.candidate, remove_keyboard=contact)

    def welcome(self, turn: Turn, cand: Candidate, remove_keyboard: bool) -> None:
        settings = turn.ctx.settings
        dept = settings.departments.get(cand.department)
        dept_name = dept.name[turn.locale] if dept else cand.department
        stage = settings.stages.get(cand.stage)
        turn.say(
            turn.t("welcome", name=cand.name, number=cand.welcome_number or 1, department=dept_name,
                   company=settings.file.company.name[turn.locale],
                   todo=stage.todo[turn.locale] if stage and stage.todo else ""),
            remove_keyboard=remove_keyboard,
        )
        media = self.welcome_media.get(cand.department)
        if media is not None:
            turn.media(media.kind, str(self.content_dir / media.file), media.caption.get(turn.locale))
        turn.say(turn.t("menu_prompt"), buttons=self.engine.main_menu(turn.locale))

    def welcome_back(self, turn: Turn) -> None:
        assert turn.candidate is not None
        turn.say(turn.t("welcome_back", name=turn.candidate.name), buttons=self.engine.main_menu(turn.locale),
                 remove_keyboard=turn.event.kind == "contact")
