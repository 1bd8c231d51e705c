"""Free text in chat: withdrawal signals, FAQ answers with votes, "did you mean", tickets to HR and HR's replies."""

from __future__ import annotations

import logging
import re

from sqlmodel import Session

from bot.engine.core import Engine, Router, Turn
from bot.engine.effects import Button
from bot.faq import service
from bot.faq.buttons import FaqAdd, FaqAskHr, FaqLink, FaqPick, FaqVote, StayOption
from bot.faq.catalog import FaqEntry
from bot.faq.pending import propose, propose_example
from bot.faq.runtime import FaqRuntime
from bot.logsafe import log_failure
from bot.profile.idnumber import mask_id_numbers_in
from bot.status.service import template_values
from store.models import Candidate, FaqQuery, Ticket

log = logging.getLogger(__name__)

TICKET_REF = re.compile(r"#(\d+)")
_CJK = re.compile(r"[\u3400-\u9fff]")


def entry_label(entry: FaqEntry, locale: str) -> str:
    """The example question to show on a "did you mean" button: one written in the reader's language."""
    chinese = locale.startswith("zh")
    for q in entry.questions:
        if bool(_CJK.search(q)) == chinese:
            return q
    return entry.questions[0]


class FaqHandlers:
    def __init__(self, engine: Engine, runtime: FaqRuntime):
        self.engine = engine
        self.runtime = runtime

    def register(self, router: Router) -> None:
        router.command("ask", self.prompt, audience="candidate", menu_key="cmd_ask")
        router.command("inbox", self.inbox, audience="hr", menu_key="cmd_inbox")
        router.command("reply", self.reply_command, audience="hr", menu_key="cmd_reply", writes=True)
        router.button(FaqVote, self.vote, audience="candidate")
        router.button(FaqPick, self.pick, audience="candidate")
        router.button(FaqAskHr, self.ask_hr, audience="candidate")
        router.button(StayOption, self.stay_option, audience="candidate")
        router.button(FaqAdd, self.add_to_faq, audience="hr", writes=True)
        router.button(FaqLink, self.link_to_entry, audience="hr", writes=True)
        router.menu_entry(30, "ask", "menu_ask", self.prompt)
        router.text_handler = self.free_text

    # -- candidates ---------------------------------------------------------------------------------------
    def prompt(self, turn: Turn) -> None:
        turn.say(turn.t("faq_prompt"))

    def free_text(self, turn: Turn) -> None:
        ev = turn.event
        if turn.is_hr and ev.reply_to_text:
            ref = TICKET_REF.search(ev.reply_to_text)
            if ref:
                if turn.staff is not None and not turn.staff.can_act:
                    turn.say(turn.t("hr_read_only"))
                    return
                self._answer(turn, ref.group(1), ev.text or "")
                return
        if turn.candidate is None:
            if turn.is_hr:
                turn.say(turn.t("hr_reply_hint"))
            else:
                turn.say(turn.t("not_bound"), ask_contact=turn.t("share_phone_button"))
            return
        cand, now, policy = turn.candidate, turn.ctx.clock.now(), turn.ctx.settings.file.faq
        assert cand.id is not None
        text = mask_id_numbers_in((ev.text or "").strip()[:1000])  # stored: never keep an ID number
        if service.over_rate_limit(turn.session, cand.id, now, policy.rate_limit.count, policy.rate_limit.seconds):
            # Not matched, but kept, so that "ask HR" under the reply has a question to hand over.
            query = service.record_query(turn.session, cand, text, "rate_limited", now)
            turn.say(turn.t("faq_rate_limited"), buttons=self._ask_hr_button(turn, query))
            return
        match, quits = self.runtime.match(text)
        if quits:
            self._withdrawal(turn, cand, text)
            return
        query = service.record_query(turn.session, cand, text, match.outcome, now, entry_id=match.id,
                                     best_id=match.best, score=match.score)
        if match.outcome == "answer" and match.id:
            self._say_answer(turn, query, match.id)
        elif match.outcome == "suggest":
            faq = self.runtime.current().faq
            assert query.id is not None
            rows = [(FaqPick(query.id, s).button(entry_label(faq.by_id[s], turn.locale)),)
                    for s in match.suggestions]
            rows.append((FaqAskHr(query.id).button(turn.t("faq_none_of_these")),))
            turn.say(turn.t("faq_suggest"), buttons=tuple(rows))
        elif match.outcome == "empty":
            turn.say(turn.t("faq_empty"))
        else:
            turn.say(turn.t("faq_unknown"), buttons=self._ask_hr_button(turn, query))

    def _say_answer(self, turn: Turn, query: FaqQuery, entry_id: str) -> None:
        assert turn.candidate is not None
        faq = self.runtime.current().faq
        try:
            # Most answers are plain text: the candidate's data is read only for those that use it.
            ctx = template_values(turn.ctx.settings, turn.ctx.texts, turn.session, turn.candidate,
                                         turn.ctx.clock.now(), turn.locale) \
                if faq.variables(entry_id, turn.locale) else {}
            text = faq.render(entry_id, turn.locale, ctx)
        except Exception as exc:  # noqa: BLE001 - a broken answer must not leave the candidate without a reply
            log_failure(log, f"FAQ answer {entry_id} ({turn.locale})", exc)
            turn.say(turn.t("faq_answer_failed"), buttons=self._ask_hr_button(turn, query))
            return
        assert query.id is not None
        turn.say(text, buttons=((FaqVote(query.id, "up").button(turn.t("faq_vote_up")),
                                 FaqVote(query.id, "down").button(turn.t("faq_vote_down"))),))

    @staticmethod
    def _ask_hr_button(turn: Turn, query: FaqQuery) -> tuple[tuple[Button, ...], ...]:
        assert query.id is not None
        return ((FaqAskHr(query.id).button(turn.t("faq_ask_hr_button")),),)

    def _own_query(self, turn: Turn, query_id: int) -> FaqQuery | None:
        """The query a button names, if it is the presser's own."""
        assert turn.candidate is not None
        query = service.own_query(turn.session, turn.candidate, str(query_id))
        if query is None:
            turn.say(turn.t("button_expired"), buttons=self.engine.main_menu(turn.locale))
        return query

    def vote(self, turn: Turn, data: FaqVote) -> None:
        query = self._own_query(turn, data.query)
        if query is None:
            return
        service.vote(turn.session, query, data.value, turn.ctx.clock.now())
        if data.value == "up":
            turn.say(turn.t("faq_thanks"))
        else:
            turn.say(turn.t("faq_sorry"), buttons=self._ask_hr_button(turn, query))

    def pick(self, turn: Turn, data: FaqPick) -> None:
        query = self._own_query(turn, data.query)
        if query is None:
            return
        entry_id = data.entry
        if entry_id not in self.runtime.current().faq.by_id:  # the FAQ changed since the buttons were sent
            turn.say(turn.t("button_expired"), buttons=self.engine.main_menu(turn.locale))
            return
        if query.entry_id != entry_id:  # learning from use: the question is proposed as an example of the entry
            loaded = self.runtime.current()
            propose_example(turn.session, entry_id=entry_id, question=query.text, key=loaded.normalize(query.text),
                            source="tap", locale=turn.locale, now=turn.ctx.clock.now(), faq_query_id=query.id)
        query.entry_id = entry_id
        turn.session.add(query)
        self._say_answer(turn, query, entry_id)

    def ask_hr(self, turn: Turn, data: FaqAskHr) -> None:
        query = self._own_query(turn, data.query)
        if query is None:
            return
        assert turn.candidate is not None
        opened = service.open_ticket(turn.session, turn.candidate, "question", query.text, turn.ctx.clock.now(),
                                     query)
        ticket = opened.ticket
        if not opened.new:
            turn.say(turn.t("faq_ticket_exists", ticket=ticket.id))
            return
        self._tell_hr(turn, "hr_ticket_new", ticket, turn.candidate)
        turn.say(turn.t("faq_ticket_opened", ticket=ticket.id), buttons=self.engine.main_menu(turn.locale))

    def _withdrawal(self, turn: Turn, cand: Candidate, text: str) -> None:
        now = turn.ctx.clock.now()
        query = service.record_query(turn.session, cand, text, "withdrawal", now)
        ticket = service.open_ticket(turn.session, cand, "withdrawal", text, now, query).ticket
        self._tell_hr(turn, "hr_withdrawal_alert", ticket, cand)
        turn.say(turn.t("faq_withdrawal_reply", name=cand.name),
                 buttons=((StayOption(ticket.id or 0, "batch").button(turn.t("faq_withdrawal_batch_button")),),
                          (StayOption(ticket.id or 0, "talk").button(turn.t("faq_withdrawal_talk_button")),)))

    def stay_option(self, turn: Turn, data: StayOption) -> None:
        assert turn.candidate is not None
        ticket = turn.session.get(Ticket, data.ticket)
        if ticket is None or ticket.candidate_id != turn.candidate.id:
            turn.say(turn.t("button_expired"), buttons=self.engine.main_menu(turn.locale))
            return
        key = {"batch": "faq_withdrawal_batch_button", "talk": "faq_withdrawal_talk_button"}[data.option]
        cand, texts = turn.candidate, turn.ctx.texts
        turn.ctx.hr.tell(turn, cand, "hr_withdrawal_option",
                         lambda loc: {"ticket": ticket.id, "name": cand.name, "candidate_id": cand.id,
                                      "option": texts.get(loc, key)})
        turn.say(turn.t("faq_withdrawal_ack"), buttons=self.engine.main_menu(turn.locale))

    def _tell_hr(self, turn: Turn, key: str, ticket: Ticket, cand: Candidate) -> None:
        """HR gets the ticket at once (the HR members whose scope covers the candidate)."""
        settings = turn.ctx.settings
        dept = settings.departments.get(cand.department)
        cohort = settings.cohorts.get(cand.cohort_id or "")
        turn.ctx.hr.tell(turn, cand, key, lambda loc: {
            "ticket": ticket.id, "name": cand.name, "candidate_id": cand.id, "phone": cand.phone,
            "department": dept.name[loc] if dept else cand.department, "cohort": cohort.name[loc] if cohort else "",
            "question": ticket.question})

    # -- HR -----------------------------------------------------------------------------------------------
    def reply_command(self, turn: Turn) -> None:
        args = turn.event.args
        if len(args) < 2:
            turn.say(turn.t("hr_reply_usage"))
            return
        # The answer is the text after the ticket number, as typed (line breaks kept).
        raw = (turn.event.text or "").split(None, 2)
        self._answer(turn, args[0], raw[2] if len(raw) > 2 else " ".join(args[1:]))

    def _answer(self, turn: Turn, ref: str, answer: str) -> None:
        try:
            ticket = service.answer_ticket(turn.session, ref, turn.event.user_id, answer, turn.ctx.clock.now(),
                                           visible=turn.in_scope)
        except service.TicketError as err:
            turn.say(turn.t(err.key, **err.values))
            return
        cand = turn.session.get(Candidate, ticket.candidate_id)
        assert cand is not None
        turn.audit("answer_ticket", cand.id, f"ticket {ticket.id}")
        buttons = self._proposal_buttons(turn, ticket) if ticket.kind == "question" else ()
        name = self._shown_name(turn, ticket, cand)
        if cand.telegram_chat_id is None or cand.unreachable_at is not None:
            turn.say(turn.t("hr_reply_unreachable", name=name, ticket=ticket.id), buttons=buttons)
            return
        locale = cand.language or turn.ctx.settings.default_locale
        turn.say(turn.ctx.texts.get(locale, "hr_answer_to_candidate", question=ticket.question,
                                    answer=ticket.answer or ""), chat_id=cand.telegram_chat_id)
        turn.say(turn.t("hr_reply_sent", name=name, ticket=ticket.id), buttons=buttons)

    @staticmethod
    def _shown_name(turn: Turn, ticket: Ticket, cand: Candidate) -> str:
        """Who HR is told a ticket is from: anonymous feedback stays anonymous when the company says HR must not
        see who sent it (feedback.anonymous_to_hr)."""
        if turn.ctx.settings.sender_hidden(ticket.kind, ticket.anonymous):
            return turn.t("feedback_anonymous_name")
        return cand.name

    def _proposal_buttons(self, turn: Turn, ticket: Ticket) -> tuple[tuple[Button, ...], ...]:
        """Under HR's "answered": add the question as a new entry, or say which existing entry it asks about (the
        closest ones)."""
        rows: list[tuple[Button, ...]] = [(FaqAdd(ticket.id or 0).button(turn.t("hr_add_faq_button")),)]
        try:
            faq = self.runtime.current().faq
            closest = self.runtime.closest(ticket.question)
        except Exception as exc:  # noqa: BLE001 - the answer went out; the buttons are a convenience
            log_failure(log, f"closest FAQ entries for ticket {ticket.id}", exc)
            return tuple(rows)
        for entry_id in closest:
            label = entry_label(faq.by_id[entry_id], turn.locale)
            rows.append((FaqLink(ticket.id or 0, entry_id).button(turn.t("hr_faq_link_button", question=label)),))
        return tuple(rows)

    def inbox(self, turn: Turn) -> None:
        tickets, total = service.open_tickets(turn.session, scope=turn.staff.where() if turn.staff else None)
        if not tickets:
            turn.say(turn.t("hr_inbox_empty"))
            return
        now = turn.ctx.clock.now()
        settings = turn.ctx.settings
        rows = []
        for ticket, cand in tickets:
            cohort = settings.cohorts.get(cand.cohort_id or "")
            name = self._shown_name(turn, ticket, cand)
            rows.append({"id": ticket.id, "name": name, "candidate_id": cand.id if name == cand.name else "-",
                         "cohort": cohort.name[turn.locale] if cohort else "", "question": ticket.question,
                         "withdrawal": ticket.kind == "withdrawal", "feedback": ticket.kind == "feedback",
                         **service.age_parts(ticket.created_at, now)})
        turn.say(turn.t("hr_inbox", tickets=rows, total=total, more=total - len(rows)))

    @staticmethod
    def _answered_ticket(turn: Turn, ticket_id: int) -> Ticket | None:
        """The answered ticket a button under HR's answer names, if it is in this HR member's scope."""
        ticket = turn.session.get(Ticket, ticket_id)
        if ticket is None or not turn.in_scope(turn.session.get(Candidate, ticket.candidate_id)):
            turn.say(turn.t("hr_ticket_not_found", ticket=ticket_id))
            return None
        if ticket.status != "answered" or not ticket.answer:
            turn.say(turn.t("hr_faq_not_answered", ticket=ticket.id))
            return None
        return ticket

    def add_to_faq(self, turn: Turn, data: FaqAdd) -> None:
        """Keep the answered question as a proposal in the database; HR reviews it with `hrbot faq proposals`."""
        ticket = self._answered_ticket(turn, data.ticket)
        if ticket is None:
            return
        cand = turn.session.get(Candidate, ticket.candidate_id)
        locale = (cand.language if cand else None) or turn.ctx.settings.default_locale
        similar = self._similar_entry(turn.session, ticket)
        added = propose(turn.session, ticket, answer_locale=locale, similar_to=similar, by=turn.event.user_id,
                        now=turn.ctx.clock.now())
        turn.say(turn.t("hr_faq_proposed" if added else "hr_faq_already_proposed", ticket=ticket.id))

    def link_to_entry(self, turn: Turn, data: FaqLink) -> None:
        """HR says an answered question asks what an existing entry answers: propose it as an example question."""
        ticket = self._answered_ticket(turn, data.ticket)
        if ticket is None:
            return
        loaded = self.runtime.current()
        entry = loaded.faq.by_id.get(data.entry)
        if entry is None:  # the FAQ changed since the buttons were sent
            turn.say(turn.t("button_expired"))
            return
        if ticket.added_to_faq_at is not None:
            turn.say(turn.t("hr_faq_already_proposed", ticket=ticket.id))
            return
        cand = turn.session.get(Candidate, ticket.candidate_id)
        locale = (cand.language if cand else None) or turn.ctx.settings.default_locale
        propose_example(turn.session, entry_id=entry.id, question=ticket.question,
                        key=loaded.normalize(ticket.question), source="hr_link", locale=locale,
                        now=turn.ctx.clock.now(), ticket=ticket, by=turn.event.user_id)
        turn.audit("faq_link", ticket.candidate_id, f"ticket {ticket.id} -> {entry.id}")
        turn.say(turn.t("hr_faq_linked", ticket=ticket.id, question=entry_label(entry, turn.locale)))

    @staticmethod
    def _similar_entry(session: Session, ticket: Ticket) -> str | None:
        query = session.get(FaqQuery, ticket.faq_query_id) if ticket.faq_query_id else None
        return query.best_id if query is not None else None

