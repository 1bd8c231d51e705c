"""/broadcast as a guided conversation, /broadcasts, and the buttons of both.

The conversation lives in the database: a ``broadcast`` row with status ``draft`` holds the audience, the
content and the step the HR member is at (``content.step``: waiting for the text, a link, a time), so a
restart in the middle loses nothing. Typed answers reach it through an interceptor that claims a text or a
file only from an HR member whose draft waits for one.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from bot.broadcast import service
from bot.broadcast.buttons import BroadcastButton
from bot.broadcast.progress import aware, hr_key, progress_message
from bot.broadcast.service import Audience, BroadcastError
from bot.engine.core import Router, Turn
from bot.engine.effects import TELEGRAM_FILE, Button
from store.models import Broadcast

STEP_MINUTES = 60  # a draft waiting for typed input longer than this no longer claims what HR types
MEDIA_KINDS = ("photo", "document", "video")
URL = re.compile(r"https?://[^\s<>\"]+|tg://[^\s<>\"]+", re.IGNORECASE)


class BroadcastHandlers:
    def __init__(self, lessons: dict[str, Any]):
        self.lessons = lessons  # lesson id -> Lesson (its title per locale)
        self.router: Router | None = None

    def register(self, router: Router) -> None:
        self.router = router
        router.command("broadcast", self.start, audience="hr", menu_key="cmd_broadcast", writes=True)
        router.command("broadcasts", self.listing, audience="hr", menu_key="cmd_broadcasts")
        router.button(BroadcastButton, self.on_button, audience="hr", writes=True)
        router.interceptors.append(self.intercept)

    # -- commands ---------------------------------------------------------------------------------------------
    def start(self, turn: Turn) -> None:
        now = turn.ctx.clock.now()
        uid = turn.event.user_id
        turn.session.execute(update(Broadcast).where(col(Broadcast.created_by) == uid,
                                                     col(Broadcast.status) == "draft")
                             .values(status="cancelled", finished_at=now))
        content = service.new_content()
        content["hr_locale"] = turn.locale
        bc = Broadcast(created_by=uid, created_at=now, audience="all", content=json.dumps(content), status="draft",
                       hr_chat_id=turn.event.chat_id)
        turn.session.add(bc)
        turn.session.flush()
        turn.say(turn.t("bc_ask_audience"), buttons=self._audience_menu(turn, bc, chosen=False))

    def listing(self, turn: Turn) -> None:
        staff = turn.staff
        assert staff is not None
        rows = service.recent(turn.session, 10, created_by=None if staff.everyone else staff.telegram_id)
        if not rows:
            turn.say(turn.t("bc_list_empty"))
            return
        figs = service.figures(turn.session, [b.id for b in rows if b.id is not None])
        lines = [turn.t("bc_list_head")]
        for b in rows:
            assert b.id is not None
            f = figs[b.id]
            when = aware(b.scheduled_at or b.started_at or b.created_at)
            lines.append(turn.t("bc_list_line", id=b.id, status=turn.t(f"bc_status_{b.status}"),
                                when=self._local(turn, when), audience=self._audience_text(turn, b.audience),
                                sent=f.sent, total=b.total, unreachable=f.unreachable, failed=f.failed,
                                dropped=f.dropped, excluded=b.excluded))
        turn.say("\n".join(lines))

    # -- buttons ----------------------------------------------------------------------------------------------
    def on_button(self, turn: Turn, data: BroadcastButton) -> None:
        bc = turn.session.get(Broadcast, data.id)
        staff = turn.staff
        assert staff is not None
        # Someone else's broadcast: as if it did not exist (an admin may stop or look at any).
        if bc is None or (bc.created_by != turn.event.user_id and not (staff.role == "admin" and
                                                                       data.action in ("stop", "unr"))):
            turn.say(turn.t("bc_gone"))
            return
        if data.action == "stop":
            self._stop(turn, bc)
            return
        if data.action == "unr":
            self._unreachable(turn, bc)
            return
        if bc.status != "draft":
            turn.say(turn.t("bc_already", id=bc.id, status=turn.t(f"bc_status_{bc.status}")))
            return
        content = service.load_content(bc)
        handler = getattr(self, f"_b_{data.action}")
        handler(turn, bc, content, data.value)

    def _b_dim(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        options = self._options(turn, value)
        if not options:
            turn.say(turn.t("bc_no_options"), buttons=self._audience_menu(turn, bc))
            return
        buttons = [BroadcastButton("set", bc.id or 0, f"{value}={i}").button(label) for i, label in options]
        rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
        rows.append((BroadcastButton("back", bc.id or 0).button(turn.t("bc_button_back")),))
        turn.say(turn.t(f"bc_pick_{value}"), buttons=tuple(rows))

    def _b_set(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        aud = self._audience(turn, bc)
        dim, _, ident = value.partition("=")
        try:
            aud = service.parse_audience("all", {}) if dim == "all" else \
                service.parse_audience(Audience(aud.parts).with_part(dim, ident).text, self._known(turn))
        except BroadcastError as err:
            turn.say(turn.t(err.key, **err.values), buttons=self._audience_menu(turn, bc))
            return
        bc.audience = aud.text
        turn.say(self._summary(turn, bc), buttons=self._audience_menu(turn, bc))

    def _b_back(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        turn.say(self._summary(turn, bc), buttons=self._audience_menu(turn, bc))

    def _b_next(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        found = self._reach(turn, bc)
        if not found.recipients:
            turn.say(turn.t("bc_nobody", excluded=found.excluded), buttons=self._audience_menu(turn, bc))
            return
        if content["texts"] or content["media"]:
            self._preview(turn, bc, content)
            return
        self._set_step(turn, bc, content, "content")
        turn.say(turn.t("bc_ask_content", limit=service.TEXT_LIMIT, caption=service.CAPTION_LIMIT),
                 buttons=((BroadcastButton("cancel", bc.id or 0).button(turn.t("bc_button_cancel")),),))

    def _b_lang(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        if value not in turn.ctx.settings.locales:
            turn.say(turn.t("bc_gone"))
            return
        self._set_step(turn, bc, content, f"text:{value}")
        turn.say(turn.t("bc_ask_lang", language=turn.ctx.texts.get(value, "language_name")),
                 buttons=((BroadcastButton("preview", bc.id or 0).button(turn.t("bc_button_back")),),))

    def _b_url(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        self._set_step(turn, bc, content, "button_url")
        turn.say(turn.t("bc_ask_url"),
                 buttons=((BroadcastButton("preview", bc.id or 0).button(turn.t("bc_button_back")),),))

    def _b_menu(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        assert self.router is not None
        names = [e.name for e in self.router.menu]
        if value in names:
            content["button"] = {"menu": value}
            self._save(bc, content)
            self._preview(turn, bc, content)
            return
        buttons = [BroadcastButton("menu", bc.id or 0, e.name).button(turn.t(e.text_key)) for e in self.router.menu]
        rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
        rows.append((BroadcastButton("preview", bc.id or 0).button(turn.t("bc_button_back")),))
        turn.say(turn.t("bc_pick_menu"), buttons=tuple(rows))

    def _b_nobtn(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        content["button"] = None
        self._save(bc, content)
        self._preview(turn, bc, content)

    def _b_urgent(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        bc.urgent = not bc.urgent
        self._summary_after_preview(turn, bc, content)

    def _b_preview(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        self._set_step(turn, bc, content, None)
        self._preview(turn, bc, content)

    def _b_when(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        self._set_step(turn, bc, content, "schedule")
        turn.say(turn.t("bc_ask_time"),
                 buttons=((BroadcastButton("preview", bc.id or 0).button(turn.t("bc_button_back")),),))

    def _b_now(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        bc.scheduled_at = None
        self._confirm(turn, bc, content)

    def _b_go(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        when = aware(bc.scheduled_at)
        if when is None or when <= turn.ctx.clock.now():
            bc.scheduled_at = None
            turn.say(turn.t("bc_time_past", when=self._local(turn, when)) if when else turn.t("bc_gone"))
            self._summary_after_preview(turn, bc, content)
            return
        self._confirm(turn, bc, content)

    def _b_cancel(self, turn: Turn, bc: Broadcast, content: dict[str, Any], value: str) -> None:
        bc.status = "cancelled"
        bc.finished_at = turn.ctx.clock.now()
        turn.say(turn.t("bc_draft_cancelled"))

    # -- typed input ------------------------------------------------------------------------------------------
    def intercept(self, turn: Turn) -> bool:
        ev = turn.event
        if turn.staff is None or not turn.staff.can_act or ev.kind not in ("text", "file") or ev.reply_to_text:
            return False
        now = turn.ctx.clock.now()
        bc = turn.session.exec(select(Broadcast).where(col(Broadcast.created_by) == ev.user_id,
                                                       col(Broadcast.status) == "draft")
                               .order_by(col(Broadcast.id).desc())).first()
        if bc is None:
            return False
        content = service.load_content(bc)
        step = content.get("step")
        at = content.get("step_at")
        if not step or not at or datetime.fromisoformat(at) < now - timedelta(minutes=STEP_MINUTES):
            return False
        try:
            if step == "schedule" and ev.kind == "text":
                when = service.parse_when(ev.text or "", now, turn.ctx.settings.tz)
                bc.scheduled_at = when.astimezone(UTC)
                self._set_step(turn, bc, content, None)
                found = self._reach(turn, bc)
                turn.say(turn.t("bc_confirm_time", when=self._local(turn, when), n=len(found.recipients)),
                         buttons=((BroadcastButton("go", bc.id or 0).button(turn.t("bc_button_go")),),
                                  (BroadcastButton("preview", bc.id or 0).button(turn.t("bc_button_back")),)))
                return True
            if step == "button_url" and ev.kind == "text":
                self._take_url(turn, bc, content, ev.text or "")
            elif step == "content" or step.startswith("text:"):
                self._take_content(turn, bc, content, step)
            else:
                return False
        except BroadcastError as err:
            turn.say(turn.t(err.key, **err.values))
            return True
        self._set_step(turn, bc, content, None)
        self._preview(turn, bc, content)
        return True

    def _take_content(self, turn: Turn, bc: Broadcast, content: dict[str, Any], step: str) -> None:
        ev = turn.event
        settings = turn.ctx.settings
        media = content.get("media")
        if ev.kind == "file":
            if step != "content":
                raise BroadcastError("bc_text_only")
            kind = ev.file_kind or "document"
            if kind not in MEDIA_KINDS:
                raise BroadcastError("bc_bad_media")
            if kind == "photo" and (ev.file_size or 0) > service.PHOTO_LIMIT:
                raise BroadcastError("bc_photo_too_big", mb=round((ev.file_size or 0) / 1024 / 1024, 1))
            ref = f"{TELEGRAM_FILE}{ev.file_id}" if ev.file_id else ev.file_path
            if not ref:
                raise BroadcastError("bc_bad_media")
            media = {"kind": kind, "ref": ref}
        text = ev.text or ""
        if text.strip():
            body = service.typed_text(text, ev.text_html)
            service.check_length(body, True, caption=media is not None)
        elif ev.kind == "text":
            raise BroadcastError("bc_empty_text")
        else:
            body = ""
        if media is not None:  # every language's text becomes a caption: each must fit
            for other in content["texts"].values():
                service.check_length(other, True, caption=True)
        locale = step.split(":", 1)[1] if step.startswith("text:") else \
            service.guess_locale(text, settings.locales, settings.default_locale)
        content["media"] = media
        if body:
            if step == "content":
                content["texts"] = {}
            content["texts"][locale] = body
        content["html"] = True

    def _take_url(self, turn: Turn, bc: Broadcast, content: dict[str, Any], text: str) -> None:
        match = URL.search(text)
        if match is None:
            raise BroadcastError("bc_bad_url")
        label = (text[: match.start()] + text[match.end() :]).strip(" |-–—:：\n") or turn.t("bc_default_link_label")
        if len(label) > 64:
            raise BroadcastError("bc_bad_url")
        content["button"] = {"url": match.group(0), "label": label}

    # -- the steps ----------------------------------------------------------------------------------------------
    def _confirm(self, turn: Turn, bc: Broadcast, content: dict[str, Any]) -> None:
        staff = turn.staff
        assert staff is not None and bc.id is not None
        found = self._reach(turn, bc)
        if not found.recipients:
            turn.say(turn.t("bc_nobody", excluded=found.excluded), buttons=self._audience_menu(turn, bc))
            return
        settings = turn.ctx.settings
        now = turn.ctx.clock.now()
        assert self.router is not None
        labels = {loc: "" for loc in settings.locales}
        btn = content.get("button") or {}
        if btn.get("menu"):
            entry = next((e for e in self.router.menu if e.name == btn["menu"]), None)
            labels = {loc: turn.ctx.texts.get(loc, entry.text_key) if entry else btn["menu"]
                      for loc in settings.locales}
        turn.session.flush()
        paid = bc.urgent and settings.file.broadcasts.paid_for_urgent
        if not service.queue(turn.session, bc, found, now, default_locale=settings.default_locale,
                             menu_labels=labels, paid=paid, actor=f"telegram:{turn.event.user_id}"):
            turn.session.refresh(bc)
            turn.say(turn.t("bc_already", id=bc.id, status=turn.t(f"bc_status_{bc.status}")))
            return
        turn.session.refresh(bc)
        if bc.status == "scheduled":
            turn.say(turn.t("bc_scheduled", id=bc.id, n=bc.total, when=self._local(turn, aware(bc.scheduled_at))),
                     buttons=((BroadcastButton("stop", bc.id).button(turn.t("bc_button_stop")),),))
            return
        message = progress_message(turn.ctx.texts, turn.locale, bc, service.Figures())
        turn.send(message, kind="hr_alert", dedupe_key=hr_key(bc.id))
        quiet = not bc.urgent and service_is_quiet(turn, now)
        if quiet:
            turn.say(turn.t("bc_quiet_wait"))

    def _stop(self, turn: Turn, bc: Broadcast) -> None:
        assert bc.id is not None
        dropped = service.cancel(turn.session, bc.id, turn.ctx.clock.now(), f"telegram:{turn.event.user_id}")
        if dropped is None:
            turn.say(turn.t("bc_already", id=bc.id, status=turn.t(f"bc_status_{bc.status}")))
            return
        turn.say(turn.t("bc_stopped", id=bc.id, dropped=dropped))

    def _unreachable(self, turn: Turn, bc: Broadcast) -> None:
        assert bc.id is not None
        from store.models import Candidate

        names = []
        for cid, name in service.unreachable_names(turn.session, bc.id):
            cand = turn.session.get(Candidate, cid)
            if turn.in_scope(cand) and cand is not None:
                names.append(f"• {name} (#{cid}, {cand.phone})")
        turn.say(turn.t("bc_unreachable_list", id=bc.id, n=len(names)) + ("\n" + "\n".join(names) if names else ""))

    def _preview(self, turn: Turn, bc: Broadcast, content: dict[str, Any]) -> None:
        """The message as candidates will see it, once per language given, then the figures and the choices."""
        settings = turn.ctx.settings
        assert self.router is not None
        btn = content.get("button") or {}
        entry = next((e for e in self.router.menu if e.name == btn.get("menu")), None)
        given = [loc for loc in settings.locales if loc in content["texts"]] or [settings.default_locale]
        for loc in given:
            turn.say(turn.t("bc_preview_head", language=turn.ctx.texts.get(loc, "language_name")))
            label = turn.ctx.texts.get(loc, entry.text_key) if entry else None
            message = service.message_for(content, loc, settings.default_locale, turn.event.chat_id, label)
            turn.effects.append(message)
        self._summary_after_preview(turn, bc, content)

    def _summary_after_preview(self, turn: Turn, bc: Broadcast, content: dict[str, Any]) -> None:
        settings = turn.ctx.settings
        found = self._reach(turn, bc)
        lines = [self._summary(turn, bc, found)]
        missing = [loc for loc in settings.locales if loc not in content["texts"]]
        given = [loc for loc in settings.locales if loc in content["texts"]]
        if missing and given:
            lines.append(turn.t("bc_one_language", given=turn.ctx.texts.get(given[0], "language_name"),
                                missing=", ".join(turn.ctx.texts.get(m, "language_name") for m in missing)))
        if bc.urgent:
            lines.append(turn.t("bc_urgent_on"))
        bid = bc.id or 0
        rows: list[tuple[Button, ...]] = []
        for loc in missing:
            rows.append((BroadcastButton("lang", bid, loc).button(
                turn.t("bc_button_lang", language=turn.ctx.texts.get(loc, "language_name"))),))
        if content.get("button"):
            rows.append((BroadcastButton("nobtn", bid).button(turn.t("bc_button_nobtn")),))
        else:
            rows.append((BroadcastButton("url", bid).button(turn.t("bc_button_url")),
                         BroadcastButton("menu", bid).button(turn.t("bc_button_menu"))))
        rows.append((BroadcastButton("urgent", bid).button(turn.t("bc_button_urgent_off" if bc.urgent else
                                                                  "bc_button_urgent_on")),))
        rows.append((BroadcastButton("now", bid).button(turn.t("bc_button_now", n=len(found.recipients))),
                     BroadcastButton("when", bid).button(turn.t("bc_button_when"))))
        rows.append((BroadcastButton("back", bid).button(turn.t("bc_button_audience")),
                     BroadcastButton("cancel", bid).button(turn.t("bc_button_cancel"))))
        turn.say("\n".join(lines), buttons=tuple(rows))

    # -- helpers ------------------------------------------------------------------------------------------------
    def _known(self, turn: Turn) -> dict[str, list[str]]:
        return service.known_ids(turn.ctx.settings, self.lessons)

    def _audience(self, turn: Turn, bc: Broadcast) -> Audience:
        try:
            return service.parse_audience(bc.audience, self._known(turn))
        except BroadcastError:
            return Audience()

    def _reach(self, turn: Turn, bc: Broadcast) -> service.Reach:
        assert turn.staff is not None
        return service.reach(turn.session, self._audience(turn, bc), turn.staff.where())

    def _summary(self, turn: Turn, bc: Broadcast, found: service.Reach | None = None) -> str:
        found = found or self._reach(turn, bc)
        text = turn.t("bc_summary", audience=self._audience_text(turn, bc.audience), n=len(found.recipients),
                      excluded=found.excluded, not_started=len(found.not_started),
                      unreachable=len(found.unreachable))
        if turn.staff is not None and not turn.staff.everyone:
            text += "\n" + turn.t("bc_scoped")
        return text

    def _audience_text(self, turn: Turn, expr: str) -> str:
        try:
            aud = service.parse_audience(expr, self._known(turn))
        except BroadcastError:
            return expr
        if not aud.parts:
            return turn.t("bc_everyone")
        names = dict(self._options_all(turn))
        return turn.t("bc_and").join(f"{turn.t(f'bc_dim_{d}')}: {names.get((d, v), v)}" for d, v in aud.parts)

    def _options_all(self, turn: Turn) -> list[tuple[tuple[str, str], str]]:
        return [((d, i), label) for d in service.DIMENSIONS for i, label in self._options(turn, d, scoped=False)]

    def _options(self, turn: Turn, dim: str, scoped: bool = True) -> list[tuple[str, str]]:
        s, loc = turn.ctx.settings, turn.locale
        staff = turn.staff
        if dim == "cohort":
            out = [(c.id, c.name.get(loc, c.id)) for c in s.file.cohorts]
            if scoped and staff is not None and not staff.everyone:
                out = [(i, n) for i, n in out if i in staff.cohorts or s.cohorts[i].department in staff.departments]
            return out
        if dim == "department":
            out = [(d.id, d.name.get(loc, d.id)) for d in s.file.departments]
            if scoped and staff is not None and not staff.everyone and staff.departments:
                out = [(i, n) for i, n in out if i in staff.departments]
            return out
        if dim == "role":
            return [(r.id, r.name.get(loc, r.id)) for r in s.file.roles]
        if dim == "stage":
            return [(st.id, st.label.get(loc, st.id)) for st in s.file.stages]
        if dim == "lesson":
            return [(i, les.title.get(loc, i) if hasattr(les.title, "get") else i) for i, les in self.lessons.items()]
        return []

    def _audience_menu(self, turn: Turn, bc: Broadcast, chosen: bool = True) -> tuple[tuple[Button, ...], ...]:
        bid = bc.id or 0
        rows: list[tuple[Button, ...]] = [
            (BroadcastButton("set", bid, "all").button(turn.t("bc_everyone")),
             BroadcastButton("dim", bid, "cohort").button(turn.t("bc_dim_cohort") + " …")),
            (BroadcastButton("dim", bid, "department").button(turn.t("bc_dim_department") + " …"),
             BroadcastButton("dim", bid, "role").button(turn.t("bc_dim_role") + " …")),
            (BroadcastButton("dim", bid, "stage").button(turn.t("bc_dim_stage") + " …"),
             BroadcastButton("dim", bid, "lesson").button(turn.t("bc_dim_lesson") + " …")),
        ]
        if chosen:
            rows.append((BroadcastButton("next", bid).button(turn.t("bc_button_next")),))
        rows.append((BroadcastButton("cancel", bid).button(turn.t("bc_button_cancel")),))
        return tuple(rows)

    @staticmethod
    def _set_step(turn: Turn, bc: Broadcast, content: dict[str, Any], step: str | None) -> None:
        content["step"] = step
        content["step_at"] = turn.ctx.clock.now().isoformat() if step else None
        BroadcastHandlers._save(bc, content)

    @staticmethod
    def _save(bc: Broadcast, content: dict[str, Any]) -> None:
        bc.content = json.dumps(content, ensure_ascii=False)

    @staticmethod
    def _local(turn: Turn, when: datetime | None) -> str:
        if when is None:
            return "-"
        return when.astimezone(turn.ctx.settings.tz).strftime("%Y-%m-%d %H:%M")


def service_is_quiet(turn: Turn, now: datetime) -> bool:
    quiet = turn.ctx.settings.file.nudges.quiet_hours
    return bool(quiet.contains(now.astimezone(turn.ctx.settings.tz).strftime("%H:%M")))
