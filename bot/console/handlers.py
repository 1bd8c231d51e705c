"""HR in chat: /find and the candidate card, /msg and the 1:1 threads both ways, /attended and outcome buttons."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from sqlmodel import col, select

from bot.console import service
from bot.console.buttons import (
    CardAction,
    CardStage,
    CohortMark,
    FindPage,
    FindPick,
    HrReply,
    HrReplyCancel,
    WithdrawReason,
    pack_query,
    unpack_query,
)
from bot.console.search import NameIndex
from bot.engine.core import Engine, Router, Turn
from bot.engine.effects import Button, Say
from bot.engine.staff import Staff
from bot.hr.service import HrError, set_stage, stage_notice
from bot.onboarding import invites
from store.models import AuditLog, Candidate, HrMessage

MSG_REF = re.compile(r"#msg(\d+)")  # in every 1:1 message, either way: a Telegram reply to it continues the thread
TO_REF = re.compile(r"#to(\d+)")  # in the card's "type your message" prompt
PAGE = 8  # candidates per page of a /find list
COMPOSE_SECONDS = 15 * 60  # how long the card's "message" button waits for the text

Rows = tuple[tuple[Button, ...], ...]


def scope_of(staff: Staff | None) -> Callable[[str, str], bool] | None:
    if staff is None or staff.everyone:
        return None
    return lambda dep, coh: dep in staff.departments or coh in staff.cohorts


class ConsoleHandlers:
    def __init__(self, engine: Engine, lesson_titles: dict[str, dict[str, str]]):
        self.engine = engine
        self.lesson_titles = lesson_titles
        self.index = NameIndex()
        self._compose: dict[int, tuple[int, float]] = {}  # HR user id -> (candidate id, when the button was tapped)
        # Lines other capabilities add under the card (the app registers them: analytics adds the risk score).
        self.card_notes: list[Callable[[Turn, Candidate], str | None]] = []

    def register(self, router: Router) -> None:
        router.command("find", self.find, audience="hr", menu_key="cmd_find")
        router.command("msg", self.msg, audience="hr", menu_key="cmd_msg", writes=True)
        router.command("attended", self.attended, audience="hr", menu_key="cmd_attended", writes=True)
        router.button(FindPick, self.pick, audience="hr")
        router.button(FindPage, self.page, audience="hr")
        router.button(CardAction, self.card_action, audience="hr", writes=True)
        router.button(CardStage, self.card_stage, audience="hr", writes=True)
        router.button(WithdrawReason, self.withdraw, audience="hr", writes=True)
        router.button(CohortMark, self.cohort_mark, audience="hr", writes=True)
        router.button(HrReply, self.reply_button, audience="candidate")
        router.button(HrReplyCancel, self.reply_cancel, audience="candidate")
        router.interceptors.insert(0, self.intercept)  # before flows and the FAQ: threads take typed text first

    # -- /find and the card ---------------------------------------------------------------------------------------
    def find(self, turn: Turn) -> None:
        query = " ".join(turn.event.args).strip()
        if not query:
            turn.say(turn.t("find_usage"))
            return
        self._results(turn, query, 1)

    def page(self, turn: Turn, data: FindPage) -> None:
        query = unpack_query(data.query)
        if query is None:
            turn.say(turn.t("button_expired"))
            return
        self._results(turn, query, data.page)

    def _results(self, turn: Turn, query: str, page: int) -> None:
        found = self.index.search(turn.session, turn.ctx.settings, query, scope_of(turn.staff))
        ids = found.ids
        if not ids:
            turn.say(turn.t("find_none", query=query))
            return
        if len(ids) == 1 and not found.fuzzy:  # a close name is offered, never shown as if it were the one
            cand = self._candidate(turn, ids[0])
            if cand is None:
                turn.say(turn.t("find_none", query=query))
            else:
                self._card(turn, cand)
            return
        pages = max(1, (len(ids) + PAGE - 1) // PAGE)
        page = min(max(page, 1), pages)
        chunk = ids[(page - 1) * PAGE: page * PAGE]
        cands = {c.id: c for c in turn.session.exec(select(Candidate).where(col(Candidate.id).in_(chunk))).all()}
        settings = turn.ctx.settings
        rows: list[tuple[Button, ...]] = []
        for cid in chunk:
            c = cands.get(cid)
            if c is None or not turn.in_scope(c):
                continue
            dept = settings.departments.get(c.department)
            stage = settings.stages.get(c.stage)
            label = " · ".join([c.name, dept.name[turn.locale] if dept else c.department,
                                stage.label[turn.locale] if stage else c.stage, "…" + c.phone[-4:]])
            rows.append((FindPick(cid).button(label[:60]),))
        packed = pack_query(query)
        nav = []
        if packed is not None and page > 1:
            nav.append(FindPage(page - 1, packed).button(turn.t("find_prev")))
        if packed is not None and page < pages:
            nav.append(FindPage(page + 1, packed).button(turn.t("find_next")))
        if nav:
            rows.append(tuple(nav))
        turn.say(turn.t("find_list", total=len(ids), query=query, page=page, pages=pages, fuzzy=found.fuzzy),
                 buttons=tuple(rows))

    def pick(self, turn: Turn, data: FindPick) -> None:
        cand = self._candidate(turn, data.candidate)
        if cand is None:
            turn.say(turn.t("find_none", query=str(data.candidate)))
            return
        self._card(turn, cand)

    def _candidate(self, turn: Turn, cid: int) -> Candidate | None:
        """The candidate, if this HR member may see them; outside the scope is the same as not there."""
        cand = turn.session.get(Candidate, cid)
        return cand if cand is not None and turn.in_scope(cand) else None

    def _card(self, turn: Turn, cand: Candidate) -> None:
        ctx = turn.ctx
        values = service.card_values(ctx.settings, ctx.texts, turn.session, cand, ctx.clock.now(), turn.locale,
                                     self.lesson_titles)
        turn.audit("view_card", cand.id)
        rows: Rows = ()
        if turn.staff is not None and turn.staff.can_act:
            assert cand.id is not None
            rows = ((CardAction("stages", cand.id).button(turn.t("card_button_stage")),
                     CardAction("msg", cand.id).button(turn.t("card_button_msg"))),
                    (CardAction("withdrawn", cand.id).button(turn.t("card_button_withdrawn")),
                     CardAction("attended", cand.id).button(turn.t("card_button_attended"))))
            if cand.telegram_user_id is None:
                rows += ((CardAction("invite", cand.id).button(turn.t("card_button_invite")),),)
        notes = [n for n in (note(turn, cand) for note in self.card_notes) if n]
        turn.say("\n".join([turn.t("card", **values), *notes]), buttons=rows)

    def card_action(self, turn: Turn, data: CardAction) -> None:
        cand = self._candidate(turn, data.candidate)
        if cand is None:
            turn.say(turn.t("find_none", query=str(data.candidate)))
            return
        assert cand.id is not None
        settings = turn.ctx.settings
        if data.action == "stages":
            current = settings.stages.get(cand.stage)
            buttons = [CardStage(cand.id, s.id).button(s.label[turn.locale]) for s in settings.file.stages]
            turn.say(turn.t("card_choose_stage", name=cand.name,
                            stage=current.label[turn.locale] if current else cand.stage),
                     buttons=tuple(tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2)))
        elif data.action == "msg":
            if self._unreachable(turn, cand):
                return
            self._compose[turn.event.user_id] = (cand.id, time.monotonic())
            turn.say(turn.t("msg_compose", name=cand.name, id=cand.id))
        elif data.action == "withdrawn":
            texts = turn.ctx.texts
            buttons = [WithdrawReason(cand.id, r).button(str(service.reason_label(texts, turn.locale, r)))
                       for r in service.reason_ids(texts)]
            turn.say(turn.t("withdraw_choose", name=cand.name),
                     buttons=tuple(tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2)))
        elif data.action == "attended":
            self._mark(turn, cand, "attended", None)
        else:  # invite
            if cand.telegram_user_id is not None:
                turn.say(turn.t("card_invite_bound", name=cand.name))
                return
            now = turn.ctx.clock.now()
            token = invites.issue(cand, now, settings.file.invites.ttl_days)
            turn.session.add(cand)
            turn.audit("reissue_invite", cand.id)
            assert cand.invite_expires_at is not None
            expires = cand.invite_expires_at.astimezone(settings.tz).date()
            turn.say(turn.t("card_invite_new", name=cand.name, link=settings.invite_link(token),
                            expires=turn.ctx.texts.format_date(turn.locale, expires)))

    def card_stage(self, turn: Turn, data: CardStage) -> None:
        cand = self._candidate(turn, data.candidate)
        if cand is None:
            turn.say(turn.t("find_none", query=str(data.candidate)))
            return
        settings = turn.ctx.settings
        try:
            change = set_stage(turn.session, settings, cand, data.stage, f"telegram:{turn.event.user_id}",
                               turn.ctx.clock.now())
        except HrError as err:
            turn.say(turn.t(err.key, **err.values))
            return
        label = settings.stages[change.new].label[turn.locale]
        show = ((FindPick(cand.id or 0).button(turn.t("card_button_show")),),)
        if not change.changed:
            turn.say(turn.t("hr_stage_unchanged", name=cand.name, id=cand.id, stage=label), buttons=show)
        elif cand.telegram_chat_id is None:
            turn.say(turn.t("hr_stage_set_not_bound", name=cand.name, id=cand.id, stage=label), buttons=show)
        elif cand.unreachable_at is not None:
            turn.say(turn.t("hr_stage_set_unreachable", name=cand.name, id=cand.id, stage=label), buttons=show)
        else:
            turn.send(stage_notice(settings, turn.ctx.texts, cand), candidate_id=cand.id)
            turn.say(turn.t("hr_stage_set", name=cand.name, id=cand.id, stage=label), buttons=show)

    # -- outcomes -------------------------------------------------------------------------------------------------
    def withdraw(self, turn: Turn, data: WithdrawReason) -> None:
        cand = self._candidate(turn, data.candidate)
        if cand is None:
            turn.say(turn.t("find_none", query=str(data.candidate)))
            return
        if data.reason not in service.reason_ids(turn.ctx.texts):
            turn.say(turn.t("button_expired"))
            return
        self._mark(turn, cand, "withdrawn", data.reason)

    def _mark(self, turn: Turn, cand: Candidate, outcome: str, reason: str | None) -> None:
        settings, texts = turn.ctx.settings, turn.ctx.texts
        done = service.mark(turn.session, settings, cand, outcome, reason, f"telegram:{turn.event.user_id}",
                            turn.ctx.clock.now())
        show = ((FindPick(cand.id or 0).button(turn.t("card_button_show")),),)
        label = turn.t(f"outcome_{outcome}")
        if not done.changed:
            turn.say(turn.t("outcome_unchanged", name=cand.name, id=cand.id, outcome=label), buttons=show)
            return
        stage = settings.stages[done.stage].label[turn.locale] if done.stage else None
        turn.say(turn.t("outcome_marked", name=cand.name, id=cand.id, outcome=label,
                        reason=service.reason_label(texts, turn.locale, reason), stage=stage), buttons=show)

    def attended(self, turn: Turn) -> None:
        settings = turn.ctx.settings
        cohorts = ", ".join(settings.cohorts)
        args = list(turn.event.args)
        if not args:
            turn.say(turn.t("attended_usage", cohorts=cohorts, example=next(iter(settings.cohorts), "COHORT")))
            return
        cohort, rest = args[0], args[1:]
        if cohort not in settings.cohorts:
            turn.say(turn.t("attended_unknown_cohort", cohort=cohort, cohorts=cohorts))
            return
        if rest and rest[0].lower() in ("except", "除了", "除", "排除"):
            rest = rest[1:]
        excepted = service.parse_ids(" ".join(rest))
        if excepted is None:
            turn.say(turn.t("attended_bad_except", ref=" ".join(rest), cohort=cohort, name=""))
            return
        try:
            plan = service.cohort_plan(turn.session, cohort, excepted, turn.staff.where() if turn.staff else None)
        except HrError as err:
            turn.say(turn.t(err.key, **err.values))
            return
        name = settings.cohorts[cohort].name[turn.locale]
        if not plan.to_mark:
            turn.say(turn.t("attended_nothing", cohort=name, skipped=plan.skipped))
            return
        # The request is an audit row (ids only): the confirm button names it, so nothing is kept in memory.
        request = AuditLog(at=turn.ctx.clock.now(), actor=f"telegram:{turn.event.user_id}",
                           action="attended_requested",
                           detail=f"cohort={cohort} except={','.join(str(i) for i in sorted(excepted)) or '-'}")
        turn.session.add(request)
        turn.session.flush()
        assert request.id is not None
        turn.say(turn.t("attended_confirm", cohort=name, count=len(plan.to_mark), skipped=plan.skipped,
                        excepted=", ".join(f"{c.name} ({c.id})" for c in plan.excepted)),
                 buttons=((CohortMark("ok", request.id).button(turn.t("attended_confirm_button",
                                                                     count=len(plan.to_mark))),
                           CohortMark("no", request.id).button(turn.t("attended_cancel_button"))),))

    def cohort_mark(self, turn: Turn, data: CohortMark) -> None:
        request = turn.session.get(AuditLog, data.request)
        actor = f"telegram:{turn.event.user_id}"
        if request is None or request.action != "attended_requested" or request.actor != actor:
            turn.say(turn.t("button_expired"))
            return
        fields = dict(part.split("=", 1) for part in (request.detail or "").split())
        cohort = fields.get("cohort", "")
        settings = turn.ctx.settings
        if cohort not in settings.cohorts:
            turn.say(turn.t("button_expired"))
            return
        name = settings.cohorts[cohort].name[turn.locale]
        answered = turn.session.exec(select(AuditLog).where(
            col(AuditLog.action).in_(("mark_cohort_attended", "attended_cancelled")),
            col(AuditLog.detail).startswith(f"request={request.id} "))).first()
        if answered is not None:  # a second tap, or the other button after the first
            turn.say(turn.t("attended_nothing", cohort=name, skipped=0))
            return
        now = turn.ctx.clock.now()
        if data.action == "no":
            turn.session.add(AuditLog(at=now, actor=actor, action="attended_cancelled",
                                      detail=f"request={request.id} cancelled"))
            turn.say(turn.t("attended_cancelled"))
            return
        excepted = service.parse_ids(fields.get("except", "-").replace("-", "")) or set()
        try:
            plan = service.cohort_plan(turn.session, cohort, excepted, turn.staff.where() if turn.staff else None)
        except HrError:  # an excepted candidate left the cohort since: mark the others all the same
            plan = service.cohort_plan(turn.session, cohort, set(), turn.staff.where() if turn.staff else None)
            plan = service.CohortPlan(cohort, [c for c in plan.to_mark if c.id not in excepted], [], plan.skipped)
        count = service.mark_cohort(turn.session, settings, plan, actor, now, request.id)
        turn.say(turn.t("attended_done", cohort=name, count=count))

    # -- 1:1 threads ----------------------------------------------------------------------------------------------
    def msg(self, turn: Turn) -> None:
        raw = (turn.event.text or "").split(None, 2)  # /msg REF TEXT: the text as typed, line breaks kept
        if len(raw) < 3 or not raw[2].strip():
            turn.say(turn.t("msg_usage"))
            return
        ref, text = raw[1], raw[2].strip()
        if self._too_long(turn, text):
            return
        found = self.index.search(turn.session, turn.ctx.settings, ref, scope_of(turn.staff))
        if not found.ids:
            turn.say(turn.t("find_none", query=ref))
            return
        if len(found.ids) > 1:
            turn.say(turn.t("msg_ambiguous", ref=ref, count=len(found.ids)))
            return
        cand = self._candidate(turn, found.ids[0])
        if cand is None:
            turn.say(turn.t("find_none", query=ref))
            return
        self._send_from_hr(turn, cand, text)

    def _too_long(self, turn: Turn, text: str) -> bool:
        if len(text) > service.MAX_TEXT:
            turn.say(turn.t("msg_too_long", length=len(text), limit=service.MAX_TEXT))
            return True
        return False

    def _unreachable(self, turn: Turn, cand: Candidate) -> bool:
        if cand.telegram_chat_id is None:
            turn.say(turn.t("msg_not_started", name=cand.name, phone=cand.phone, id=cand.id))
            return True
        if cand.unreachable_at is not None:
            turn.say(turn.t("msg_blocked", name=cand.name, phone=cand.phone))
            return True
        return False

    def _send_from_hr(self, turn: Turn, cand: Candidate, text: str) -> None:
        """HR -> candidate: a row in the thread, the message through the outbox, an audit row (ids only)."""
        if self._unreachable(turn, cand):
            return
        assert turn.staff is not None and cand.id is not None and cand.telegram_chat_id is not None
        now = turn.ctx.clock.now()
        row = service.record_message(turn.session, cand, turn.event.user_id, "out", text, now)
        name = service.hr_name(turn.session, turn.event.user_id) or turn.staff.name
        loc = cand.language or turn.ctx.settings.default_locale
        texts = turn.ctx.texts
        assert row.id is not None
        turn.send(Say(cand.telegram_chat_id, texts.get(loc, "msg_to_candidate", hr_name=name, message=row.id,
                                                        text=text),
                      buttons=((HrReply(row.id).button(texts.get(loc, "msg_reply_button")),),)),
                  kind="notice", candidate_id=cand.id)
        turn.audit("hr_message_out", cand.id, f"hrmessage {row.id}")
        turn.say(turn.t("msg_sent", name=cand.name, message=row.id))

    def _deliver_to_hr(self, turn: Turn, cand: Candidate, hr_id: int, text: str) -> None:
        """Candidate -> the HR member they answer: a row in the thread and an urgent message to that member."""
        assert cand.id is not None
        cand.hr_reply_to = None
        turn.session.add(cand)
        staff = turn.ctx.staff.lookup(turn.session, hr_id)
        if staff is None or not staff.covers(cand):  # no longer in HR, or no longer theirs
            turn.say(turn.t("msg_reply_expired"), buttons=self.engine.main_menu(turn.locale))
            return
        now = turn.ctx.clock.now()
        row = service.record_message(turn.session, cand, hr_id, "in", text, now)
        assert row.id is not None
        loc = turn.ctx.settings.default_locale
        texts = turn.ctx.texts
        turn.send(Say(hr_id, texts.get(loc, "msg_from_candidate", name=cand.name, id=cand.id, message=row.id,
                                       text=text),
                      buttons=((FindPick(cand.id).button(texts.get(loc, "card_button_show")),),)),
                  kind="hr_alert", candidate_id=cand.id)
        turn.audit("hr_message_in", cand.id, f"hrmessage {row.id} to {hr_id}")
        turn.say(turn.t("msg_reply_sent", hr_name=service.hr_name(turn.session, hr_id) or staff.name),
                 buttons=self.engine.main_menu(turn.locale))

    def reply_button(self, turn: Turn, data: HrReply) -> None:
        cand = turn.candidate
        assert cand is not None
        message = turn.session.get(HrMessage, data.message)
        if message is None or message.candidate_id != cand.id:
            turn.say(turn.t("msg_reply_expired"), buttons=self.engine.main_menu(turn.locale))
            return
        cand.hr_reply_to = message.hr_id
        turn.session.add(cand)
        turn.say(turn.t("msg_reply_prompt", hr_name=service.hr_name(turn.session, message.hr_id)),
                 buttons=((HrReplyCancel(message.id or 0).button(turn.t("msg_reply_cancel_button")),),))

    def reply_cancel(self, turn: Turn, data: HrReplyCancel) -> None:
        cand = turn.candidate
        assert cand is not None
        cand.hr_reply_to = None
        turn.session.add(cand)
        turn.say(turn.t("msg_reply_cancelled"), buttons=self.engine.main_menu(turn.locale))

    def intercept(self, turn: Turn) -> bool:
        """Typed text that belongs to a thread: HR's reply (or the text the card's button asked for), or a
        candidate's answer (a reply to HR's message, or the next message after "reply to HR")."""
        ev = turn.event
        cand = turn.candidate
        if ev.kind != "text":
            if ev.kind == "command" or (ev.kind == "button" and not isinstance(turn.button, HrReply | HrReplyCancel)):
                self._compose.pop(ev.user_id, None)  # any command or other button cancels a pending message
                if cand is not None and cand.hr_reply_to is not None and ev.kind == "command":
                    cand.hr_reply_to = None
                    turn.session.add(cand)
            return False
        text = (ev.text or "").strip()
        # Only the first line of the message replied to: the rest may quote what someone typed.
        head = (ev.reply_to_text or "").split("\n", 1)[0]
        if turn.staff is not None:
            ref = MSG_REF.search(head)
            to = TO_REF.search(head)
            pending = self._compose.pop(ev.user_id, None)
            target: int | None = None
            if ref is not None:
                message = turn.session.get(HrMessage, int(ref.group(1)))
                target = message.candidate_id if message is not None else -1
            elif to is not None:
                target = int(to.group(1))
            elif pending is not None and not ev.reply_to_text and time.monotonic() - pending[1] < COMPOSE_SECONDS:
                target = pending[0]
            if target is not None:
                if not turn.staff.can_act:
                    turn.say(turn.t("hr_read_only"))
                    return True
                found = self._candidate(turn, target)
                if found is None:
                    turn.say(turn.t("msg_hr_reply_gone"))
                elif not self._too_long(turn, text):
                    self._send_from_hr(turn, found, text)
                return True
        if cand is not None and text:
            ref = MSG_REF.search(head)
            if ref is not None:
                message = turn.session.get(HrMessage, int(ref.group(1)))
                if message is None or message.candidate_id != cand.id:
                    turn.say(turn.t("msg_reply_expired"), buttons=self.engine.main_menu(turn.locale))
                else:
                    self._deliver_to_hr(turn, cand, message.hr_id, text)
                return True
            if cand.hr_reply_to is not None:
                self._deliver_to_hr(turn, cand, cand.hr_reply_to, text)
                return True
        return False
