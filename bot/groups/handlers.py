"""Chat handlers: cohort groups (/link_cohort, /unlink_cohort, /pin, join requests, FAQ answers when addressed),
the feedback box (/feedback) and the Q&A board (/questions)."""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select

from bot.crypto import write_sealed
from bot.engine.core import Engine, Router, Turn
from bot.engine.effects import Button, Say
from bot.engine.staff import Staff
from bot.faq.runtime import FaqRuntime
from bot.groups import service
from bot.groups.buttons import FeedbackButton, QaHide, QaPage
from bot.logsafe import log_failure
from bot.onboarding.invites import PUBLIC_START
from bot.outbox.transport import DeliveryError
from store.models import Candidate, CohortGroup, FeedbackDraft, Ticket

_DRAFT = FeedbackDraft.__table__.c  # type: ignore[attr-defined]
_HAS_DRAFT = select(_DRAFT.candidate_id).where(_DRAFT.candidate_id == bindparam("cid"))

log = logging.getLogger(__name__)

GROUP_COMMANDS = ("link_cohort", "unlink_cohort", "pin")
NEEDED_RIGHTS = ("can_invite_users", "can_restrict_members")  # join requests; removing a withdrawn candidate
_MENTION = re.compile(r"@\w+")


def covers_cohort(staff: Staff, settings: Any, cohort_id: str) -> bool:
    """May this HR member act on a whole cohort? Admins and unscoped members always; else by cohort or its
    department."""
    if staff.everyone:
        return True
    cohort = settings.cohorts.get(cohort_id)
    return cohort_id in staff.cohorts or (cohort is not None and cohort.department in staff.departments)


def _group_say(turn: Turn, text: str, buttons: tuple[tuple[Button, ...], ...] = (), chat_id: int | None = None) -> None:
    """Everything the bot says in a group is an outbox row (paced to Telegram's 20 a minute per group, retried
    on 429), including answers to the group's own messages."""
    turn.send(Say(turn.event.chat_id if chat_id is None else chat_id, text, buttons), kind="notice")


def _revoke(api: Any, chat_id: int, link: str | None, cohort_id: str) -> None:
    """The old join link stops working (best effort: the bot may have lost its rights there; a request through
    a link left alive is declined anyway, as the group no longer belongs to the cohort)."""
    if not link:
        return
    try:
        api.run(api.revoke_link(chat_id, link))
    except DeliveryError as exc:
        log.warning("revoking cohort %s's old join link: Telegram said %s", cohort_id, exc.reason)
    except Exception as exc:  # noqa: BLE001 - a timeout must not undo the move or the unlink
        log_failure(log, f"revoking cohort {cohort_id}'s old join link", exc)


class GroupHandlers:
    def __init__(self, engine: Engine, faq: FaqRuntime):
        self.engine = engine
        self.faq = faq

    def register(self, router: Router) -> None:
        for name in GROUP_COMMANDS:  # in a private chat: they belong in the group
            router.command(name, self.private_group_command, audience="hr", writes=True)
        router.menu_entry(55, "group", "menu_group", self.join_entry)
        router.group_handler = self.group_event
        router.status_lines.append(self.status_line)

    # -- candidates ---------------------------------------------------------------------------------------
    def join_entry(self, turn: Turn) -> None:
        assert turn.candidate is not None
        group = service.group_of_cohort(turn.session, turn.candidate.cohort_id)
        if group is None or turn.candidate.outcome == "withdrawn":
            turn.say(turn.t("groups_no_group"), buttons=self.engine.main_menu(turn.locale))
            return
        turn.say(turn.t("groups_join_prompt"),
                 buttons=((Button(turn.t("groups_join_button"), "", url=group.invite_link),),))

    def status_line(self, turn: Turn) -> str | None:
        cand = turn.candidate
        if cand is None or cand.outcome == "withdrawn" or service.group_of_cohort(turn.session, cand.cohort_id) is None:
            return None
        return turn.t("groups_status_line")

    def private_group_command(self, turn: Turn) -> None:
        turn.say(turn.t("groups_command_in_group", command=turn.event.command or ""))

    # -- everything from groups ---------------------------------------------------------------------------
    def group_event(self, turn: Turn) -> None:
        ev = turn.event
        if ev.kind == "join_request":
            self.join_request(turn)
        elif ev.kind == "command" and ev.command in GROUP_COMMANDS:
            if turn.staff is None or not turn.staff.can_act:
                turn.audit("hr_denied", detail=f"/{ev.command} in a group")
                _group_say(turn, turn.t("groups_not_hr"))
                return
            {"link_cohort": self.link, "unlink_cohort": self.unlink, "pin": self.pin}[ev.command or ""](turn)
        elif ev.kind == "text" and ev.addressed:
            self.group_question(turn)
        elif ev.kind == "bot_status":
            self.bot_status(turn)
        # Anything else (chatter, stickers, other commands, members coming and going): nothing, ever.

    def _api(self, turn: Turn) -> Any:
        api = turn.ctx.chat_api
        if api is None:
            _group_say(turn, turn.t("groups_no_telegram"))
        return api

    def link(self, turn: Turn) -> None:
        ev, settings, staff = turn.event, turn.ctx.settings, turn.staff
        assert staff is not None
        args = [a for a in ev.args if a]
        if not args or len(args) > 2 or (len(args) == 2 and args[1].lower() != "move"):
            _group_say(turn, turn.t("groups_link_usage"))
            return
        cohort_id, move = args[0], len(args) == 2
        cohort = settings.cohorts.get(cohort_id)
        if cohort is None or not covers_cohort(staff, settings, cohort_id):
            known = ", ".join(c for c in settings.cohorts if covers_cohort(staff, settings, c))
            _group_say(turn, turn.t("groups_unknown_cohort", cohort=cohort_id, cohorts=known))
            return
        session = turn.session
        existing = service.group_of_cohort(session, cohort_id)
        here = service.group_of_chat(session, ev.chat_id)
        if existing is not None and existing.chat_id == ev.chat_id:
            _group_say(turn, turn.t("groups_already_here", cohort=cohort.name[turn.locale]))
            return
        if here is not None:
            _group_say(turn, turn.t("groups_chat_taken", cohort=here.cohort_id))
            return
        if existing is not None and not move:
            _group_say(turn, turn.t("groups_linked_elsewhere", cohort=cohort_id))
            return
        api = self._api(turn)
        if api is None:
            return
        try:
            rights = api.run(api.rights(ev.chat_id))
            missing = [r for r in NEEDED_RIGHTS if not rights.get(r)]
            if not rights.get("admin") or missing:
                _group_say(turn, turn.t("groups_need_admin") if not rights.get("admin") else
                           turn.t("groups_need_right", right=turn.t(f"groups_right_{missing[0]}")))
                return
            link = api.run(api.create_join_link(ev.chat_id, f"cohort {cohort_id}"))
        except DeliveryError as exc:
            log.warning("linking a group to cohort %s: Telegram said %s", cohort_id, exc.reason)
            _group_say(turn, turn.t("groups_telegram_refused"))
            return
        now = turn.ctx.clock.now()
        if existing is not None:  # moving: the old group is told, and the link row follows the cohort
            _group_say(turn, turn.t("groups_moved_away", cohort=cohort.name[turn.locale]), chat_id=existing.chat_id)
            old, old_link = existing.chat_id, existing.invite_link
            existing.chat_id, existing.invite_link, existing.linked_by, existing.linked_at = \
                ev.chat_id, link, ev.user_id, now
            session.add(existing)
            turn.audit("group_move", detail=f"cohort={cohort_id} from={old} to={ev.chat_id}")
            _revoke(api, old, old_link, cohort_id)
        else:
            session.add(CohortGroup(cohort_id=cohort_id, chat_id=ev.chat_id, invite_link=link, linked_by=ev.user_id,
                                    linked_at=now))
            turn.audit("group_link", detail=f"cohort={cohort_id} chat={ev.chat_id}")
        note = "" if rights.get("can_pin_messages") else "\n" + turn.t("groups_pin_right_missing")
        _group_say(turn, turn.t("groups_linked", cohort=cohort.name[turn.locale]) + note)

    def unlink(self, turn: Turn) -> None:
        group = service.group_of_chat(turn.session, turn.event.chat_id)
        staff = turn.staff
        assert staff is not None
        if group is None or not covers_cohort(staff, turn.ctx.settings, group.cohort_id):
            _group_say(turn, turn.t("groups_not_linked"))
            return
        turn.session.delete(group)
        turn.audit("group_unlink", detail=f"cohort={group.cohort_id} chat={group.chat_id}")
        if turn.ctx.chat_api is not None:
            _revoke(turn.ctx.chat_api, group.chat_id, group.invite_link, group.cohort_id)
        _group_say(turn, turn.t("groups_unlinked", cohort=group.cohort_id))

    def pin(self, turn: Turn) -> None:
        ev = turn.event
        group = service.group_of_chat(turn.session, ev.chat_id)
        assert turn.staff is not None
        if group is None or not covers_cohort(turn.staff, turn.ctx.settings, group.cohort_id):
            _group_say(turn, turn.t("groups_not_linked"))
            return
        raw = (ev.text or "").split(None, 1)
        text = raw[1].strip() if len(raw) > 1 else ""
        if ev.reply_to_message_id is None and not text:
            _group_say(turn, turn.t("groups_pin_usage"))
            return
        if len(text) > 4096:
            _group_say(turn, turn.t("groups_pin_too_long"))
            return
        api = self._api(turn)
        if api is None:
            return
        try:
            if not api.run(api.rights(ev.chat_id)).get("can_pin_messages"):
                _group_say(turn, turn.t("groups_need_right", right=turn.t("groups_right_can_pin_messages")))
                return
            # A new announcement is sent through the adapter's one (paced) send, then pinned: pinning needs its id.
            message_id = ev.reply_to_message_id if not text else api.run(api.send(Say(ev.chat_id, text)))
            api.run(api.pin(ev.chat_id, message_id))
        except DeliveryError as exc:
            log.warning("pinning in a cohort group: Telegram said %s", exc.reason)
            _group_say(turn, turn.t("groups_telegram_refused"))
            return
        turn.audit("group_pin", detail=f"cohort={group.cohort_id} message={message_id}")

    def join_request(self, turn: Turn) -> None:
        ev = turn.event
        decision = service.decide_join(turn.session, ev.chat_id, ev.user_id)
        api = turn.ctx.chat_api
        if api is None:
            return
        cand, group = decision.candidate, decision.group
        try:
            api.run(api.approve(ev.chat_id, ev.user_id) if decision.approve else api.decline(ev.chat_id, ev.user_id))
        except DeliveryError as exc:  # the request was withdrawn or handled already: nothing to welcome
            log.info("join request in chat %s: Telegram said %s", ev.chat_id, exc.reason)
            return
        if decision.approve and cand is not None and group is not None:
            number, _ = service.record_join(turn.session, group, cand, turn.ctx.clock.now())
            settings = turn.ctx.settings
            locale = settings.default_locale
            role = settings.roles.get(cand.role)
            turn.audit("group_join_approved", cand.id, f"cohort={group.cohort_id} n={number}")
            _group_say(turn, turn.ctx.texts.get(locale, "groups_welcome", first_name=ev.first_name or "",
                                                role=role.name[locale] if role else cand.role, number=number))
            return
        # Declined: HR hears why (the group hears nothing).
        turn.audit("group_join_declined", cand.id if cand else None, f"reason={decision.reason} chat={ev.chat_id}")
        texts = turn.ctx.texts
        cohort_id = group.cohort_id if group else None
        turn.ctx.hr.tell(turn, cand, "groups_hr_declined", lambda loc: {
            "reason": texts.get(loc, f"groups_declined_{decision.reason}"), "first_name": ev.first_name or "",
            "user_id": ev.user_id, "cohort": cohort_id or "", "name": cand.name if cand else None,
            "candidate_id": cand.id if cand else None})

    def bot_status(self, turn: Turn) -> None:
        """The bot was taken out of a linked group (the link goes: Telegram drops its invite links with it) or is
        no longer an admin there (join requests cannot be handled): HR is told what to do."""
        group = service.group_of_chat(turn.session, turn.event.chat_id)
        status = turn.event.payload or ""
        if group is None or status in ("administrator", "creator"):
            return
        removed = status in ("left", "kicked")
        if removed:
            turn.session.delete(group)
        turn.audit("group_bot_removed" if removed else "group_bot_demoted", detail=f"cohort={group.cohort_id}")
        turn.ctx.hr.tell(turn, None, "groups_hr_bot_removed" if removed else "groups_hr_bot_demoted",
                         {"cohort": group.cohort_id})

    def group_question(self, turn: Turn) -> None:
        """A question addressed to the bot in a group: a confident answer that needs nobody's data, else a short
        "ask me in private" with a link that names nothing."""
        if service.group_of_chat(turn.session, turn.event.chat_id) is None:
            return  # not a cohort group: the bot keeps quiet there
        if service.said_lately(turn.session, turn.event.chat_id, turn.ctx.clock.now()) >= \
                turn.ctx.settings.file.groups.answers_per_minute:
            log.info("a cohort group asked more than groups.answers_per_minute in a minute: not answered")
            return  # a flood of mentions must not become a flood of answers
        text = _MENTION.sub(" ", turn.event.text or "").strip()[:1000]
        locale = turn.ctx.settings.default_locale
        texts = turn.ctx.texts
        if not text:
            return
        try:
            match, quits = self.faq.match(text)
            faq = self.faq.current().faq
            if not quits and match.outcome == "answer" and match.id and not faq.variables(match.id, locale):
                _group_say(turn, faq.render(match.id, locale, {}))
                return
        except Exception as exc:  # noqa: BLE001 - the group gets the private link instead
            log_failure(log, "FAQ answer in a group", exc)
        username = turn.ctx.chat_api.username() if turn.ctx.chat_api is not None else \
            turn.ctx.settings.file.telegram.bot_username
        url = f"https://t.me/{username}?start={PUBLIC_START}"
        _group_say(turn, texts.get(locale, "groups_ask_private"),
                   buttons=((Button(texts.get(locale, "groups_ask_private_button"), "", url=url),),))


class FeedbackHandlers:
    """/feedback: a category, the text or a photo, whether to stay anonymous; then a ticket with a deadline."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        router.command("feedback", self.start, audience="candidate", menu_key="cmd_feedback")
        router.menu_entry(70, "feedback", "menu_feedback", self.start)
        router.button(FeedbackButton, self.button, audience="candidate")
        router.interceptors.append(self.intercept)

    def _cancel_row(self, turn: Turn) -> tuple[Button, ...]:
        return (FeedbackButton("cancel").button(turn.t("feedback_cancel_button")),)

    def start(self, turn: Turn) -> None:
        cats = [FeedbackButton("cat", c).button(turn.t(f"feedback_cat_{c}")) for c in service.CATEGORIES]
        rows = tuple(tuple(cats[i : i + 2]) for i in range(0, len(cats), 2))
        turn.say(turn.t("feedback_intro", hours=turn.ctx.settings.file.feedback.answer_hours),
                 buttons=(*rows, self._cancel_row(turn)))

    def _draft(self, turn: Turn) -> FeedbackDraft | None:
        assert turn.candidate is not None
        return turn.session.get(FeedbackDraft, turn.candidate.id)

    def button(self, turn: Turn, data: FeedbackButton) -> None:
        assert turn.candidate is not None and turn.candidate.id is not None
        draft = self._draft(turn)
        if data.action == "cancel":
            if draft is not None:
                turn.session.delete(draft)
            turn.say(turn.t("feedback_cancelled"), buttons=self.engine.main_menu(turn.locale))
        elif data.action == "cat":
            if data.value not in service.CATEGORIES:
                turn.say(turn.t("button_expired"), buttons=self.engine.main_menu(turn.locale))
                return
            now = turn.ctx.clock.now()
            if draft is None:
                draft = FeedbackDraft(candidate_id=turn.candidate.id, category=data.value, started_at=now)
            draft.category = data.value
            turn.session.add(draft)
            turn.say(turn.t("feedback_ask_text", category=turn.t(f"feedback_cat_{data.value}"),
                            limit=turn.ctx.settings.file.feedback.max_chars), buttons=(self._cancel_row(turn),))
        elif draft is None or (draft.text is None and draft.attachment is None):
            turn.say(turn.t("feedback_nothing"), buttons=self.engine.main_menu(turn.locale))
        else:
            self._submit(turn, draft, anonymous=data.value == "yes")

    def intercept(self, turn: Turn) -> bool:
        """While a feedback is being written, the next text or photo is it (not an FAQ question)."""
        ev = turn.event
        if turn.candidate is None or ev.kind not in ("text", "file", "unsupported", "command", "button"):
            return False
        # Every event of every candidate passes here, and a draft is rare: a one-column look-up by key first
        # (a third of what loading the object costs), the object only when there is one.
        if turn.session.execute(_HAS_DRAFT, {"cid": turn.candidate.id}).first() is None:
            return False
        draft = self._draft(turn)
        if draft is None:
            return False
        if ev.kind == "command":
            if ev.command == "cancel":
                turn.session.delete(draft)
                turn.say(turn.t("feedback_cancelled"), buttons=self.engine.main_menu(turn.locale))
                return True
            if ev.command != "feedback":
                turn.session.delete(draft)  # another command: the feedback is dropped, never left waiting
            return False
        if ev.kind == "button":
            if not isinstance(turn.button, FeedbackButton):
                turn.session.delete(draft)
            return False
        if draft.text is not None or draft.attachment is not None:
            return False  # written already, waiting for the anonymity choice: a new line is a question again
        policy = turn.ctx.settings.file.feedback
        cancel = (self._cancel_row(turn),)
        if ev.kind == "unsupported" or (ev.kind == "file" and (ev.file_kind != "photo" or not ev.file_path)):
            turn.say(turn.t("feedback_not_text"), buttons=cancel)
            return True
        text = (ev.text or "").strip()
        if ev.kind == "text" and not text:
            turn.say(turn.t("feedback_empty"), buttons=cancel)
            return True
        if len(text) > policy.max_chars:
            turn.say(turn.t("feedback_too_long", count=len(text), limit=policy.max_chars), buttons=cancel)
            return True
        if ev.kind == "file" and ev.file_path:
            draft.attachment = self._keep_photo(turn, ev.file_path)
        draft.text = text
        turn.session.add(draft)
        turn.say(turn.t("feedback_ask_anonymous"),
                 buttons=((FeedbackButton("anon", "no").button(turn.t("feedback_anon_no")),
                           FeedbackButton("anon", "yes").button(turn.t("feedback_anon_yes"))), cancel[0]))
        return True

    @staticmethod
    def _keep_photo(turn: Turn, incoming: str) -> str:
        """Keep the photo under <storage>/<candidate>/, sealed like the documents when a key is set (opened in
        memory to show HR, re-sealed by `hrbot keys rotate`, removed with the candidate's data)."""
        assert turn.candidate is not None
        folder = turn.ctx.settings.storage_dir / str(turn.candidate.id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"feedback-{uuid.uuid4().hex}.jpg"
        sealer = turn.ctx.sealer
        if sealer is None:
            shutil.move(incoming, target)
            return str(target)
        write_sealed(target, Path(incoming).read_bytes(), sealer)
        Path(incoming).unlink(missing_ok=True)
        return str(target)

    def _submit(self, turn: Turn, draft: FeedbackDraft, anonymous: bool) -> None:
        cand, settings, now = turn.candidate, turn.ctx.settings, turn.ctx.clock.now()
        assert cand is not None and cand.id is not None
        text = draft.text or turn.ctx.texts.get(settings.default_locale, "feedback_photo_only")
        ticket = Ticket(kind="feedback", candidate_id=cand.id, question=text, created_at=now, category=draft.category,
                        anonymous=anonymous, attachment=draft.attachment, due_at=service.feedback_due(settings, now))
        turn.session.add(ticket)
        turn.session.delete(draft)
        turn.session.flush()
        # The audit trail HR reads (its actor is the sender's Telegram id) must not tie anonymous feedback to its
        # sender either when HR may not know who sent it: then there is no entry.
        if not settings.sender_hidden(ticket.kind, anonymous):
            turn.audit("feedback_sent", cand.id, f"ticket {ticket.id} category={ticket.category} anonymous={anonymous}")
        texts = turn.ctx.texts
        attachment = ticket.attachment if ticket.attachment and Path(ticket.attachment).exists() else None
        turn.ctx.hr.tell(turn, cand, "feedback_hr_new",
                         lambda loc: service.ticket_values(settings, texts, loc, ticket, cand),
                         media=("photo", attachment) if attachment else None)
        turn.say(turn.t("feedback_received", ticket=ticket.id, hours=settings.file.feedback.answer_hours,
                        anonymous=anonymous),
                 buttons=self.engine.main_menu(turn.locale))


class BoardHandlers:
    """/questions: the cohort's answered questions, anonymised, newest first, a page at a time; HR can hide one."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        router.command("questions", self.show, audience="anyone", menu_key="cmd_questions")
        router.menu_entry(75, "questions", "menu_questions", self.show)
        router.button(QaPage, self.page, audience="anyone")
        router.button(QaHide, self.hide, audience="hr", writes=True)

    def show(self, turn: Turn) -> None:
        if turn.candidate is not None:
            self._render(turn, turn.candidate.cohort_id, 0)
            return
        if turn.staff is None:
            turn.say(turn.t("not_bound"), ask_contact=turn.t("share_phone_button"))
            return
        args = turn.event.args
        cohort = args[0] if args else ""
        if not cohort or cohort not in turn.ctx.settings.cohorts or \
                not covers_cohort(turn.staff, turn.ctx.settings, cohort):
            turn.say(turn.t("board_hr_usage", cohorts=", ".join(
                c for c in turn.ctx.settings.cohorts if covers_cohort(turn.staff, turn.ctx.settings, c))))
            return
        self._render(turn, cohort, 0)

    def page(self, turn: Turn, data: QaPage) -> None:
        if turn.candidate is not None:
            self._render(turn, turn.candidate.cohort_id, max(0, data.page))
        elif turn.staff is not None and data.cohort in turn.ctx.settings.cohorts and \
                covers_cohort(turn.staff, turn.ctx.settings, data.cohort):
            self._render(turn, data.cohort, max(0, data.page))
        else:
            turn.say(turn.t("button_expired"))

    def _render(self, turn: Turn, cohort_id: str | None, page: int) -> None:
        hr = turn.candidate is None
        menu = () if hr else self.engine.main_menu(turn.locale)
        if not cohort_id:
            turn.say(turn.t("board_no_cohort"), buttons=menu)
            return
        scope = turn.staff.where() if hr and turn.staff is not None else None
        items, total = service.board(turn.session, cohort_id, page, scope)
        if not items and page > 0:
            page = 0
            items, total = service.board(turn.session, cohort_id, page, scope)
        if not items:
            turn.say(turn.t("board_empty"), buttons=menu)
            return
        tz = turn.ctx.settings.tz
        rows: list[dict[str, Any]] = [
            {"n": page * service.BOARD_PAGE + i + 1, "question": it.question, "answer": it.answer,
                 "date": turn.ctx.texts.format_date(turn.locale, it.answered_at.astimezone(tz).date()),
                 "id": it.ticket_id} for i, it in enumerate(items)]
        pages = (total + service.BOARD_PAGE - 1) // service.BOARD_PAGE
        cohort_arg = cohort_id if hr else ""
        nav: list[Button] = []
        if page > 0:
            nav.append(QaPage(page - 1, cohort_arg).button(turn.t("board_prev")))
        if page + 1 < pages:
            nav.append(QaPage(page + 1, cohort_arg).button(turn.t("board_next")))
        buttons: list[tuple[Button, ...]] = []
        if hr and turn.staff is not None and turn.staff.can_act:
            buttons += [(QaHide(r["id"]).button(turn.t("board_hide_button", n=r["n"])),) for r in rows]
        if nav:
            buttons.append(tuple(nav))
        turn.say(turn.t("board", items=rows, page=page + 1, pages=pages, total=total, hr=hr),
                 buttons=tuple(buttons) + tuple(menu))

    def hide(self, turn: Turn, data: QaHide) -> None:
        ticket = turn.session.get(Ticket, data.ticket)
        cand = turn.session.get(Candidate, ticket.candidate_id) if ticket is not None else None
        if ticket is None or ticket.kind != "question" or not turn.in_scope(cand):
            turn.say(turn.t("hr_ticket_not_found", ticket=data.ticket))
            return
        if ticket.board_hidden_at is None:
            ticket.board_hidden_at, ticket.board_hidden_by = turn.ctx.clock.now(), turn.event.user_id
            turn.session.add(ticket)
            turn.audit("qa_hide", ticket.candidate_id, f"ticket {ticket.id}")
        turn.say(turn.t("board_hidden", ticket=ticket.id))
