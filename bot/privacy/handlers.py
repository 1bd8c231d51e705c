"""Candidate side of privacy: the consent answer, /privacy (the notice, their state, withdrawing), /mydata and
/delete_my_data."""

from __future__ import annotations

import logging

from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.engine.core import Engine, Router, Turn
from bot.flows.runner import FlowRunner
from bot.privacy import access, consent, gate
from bot.privacy.buttons import PrivacyButton
from bot.privacy.erase import erase_candidate, erase_files
from bot.profile.service import opened
from store.models import CandidateProfile, DocumentUpload

log = logging.getLogger(__name__)


class PrivacyHandlers:
    def __init__(self, engine: Engine, runner: FlowRunner):
        self.engine, self.runner = engine, runner

    def register(self, router: Router) -> None:
        self.runner.gates.append(gate.flow_gate)
        router.button(PrivacyButton, self.on_button, audience="candidate")
        router.command("privacy", self.privacy, audience="candidate", menu_key="cmd_privacy")
        router.command("mydata", self.mydata, audience="candidate", menu_key="cmd_mydata")
        router.command("delete_my_data", self.delete_my_data, audience="candidate", menu_key="cmd_delete_my_data")

    # -- the notice and consent ------------------------------------------------------------------------------

    def privacy(self, turn: Turn) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        settings = turn.ctx.settings
        version = consent.notice_version(settings, turn.ctx.texts)
        row = consent.latest(turn.session, cand.id)
        state = "none" if row is None else "old" if row.decision == "accepted" and row.version != version \
            else row.decision
        when = turn.ctx.texts.format_date(turn.locale, row.at.astimezone(settings.tz).date()) if row else None
        buttons = []
        if state != "accepted":
            buttons.append((PrivacyButton("accept").button(turn.t("privacy_accept_button")),))
        else:
            buttons.append((PrivacyButton("withdraw").button(turn.t("privacy_withdraw_button")),))
        buttons.append((PrivacyButton("erase").button(turn.t("privacy_erase_button")),))
        turn.say(turn.t("privacy_notice", **consent.notice_values(settings)) + "\n\n" +
                 turn.t("privacy_state", state=state, at=when, version=settings.file.privacy.notice_version),
                 buttons=tuple(buttons))

    def on_button(self, turn: Turn, data: PrivacyButton) -> None:
        handler = {"accept": self.accept, "decline": self.decline, "withdraw": self.ask_withdraw,
                   "withdraw_yes": self.withdraw, "erase": self.ask_erase, "erase_yes": self.erase,
                   "cancel": self.cancel}.get(data.action)
        if handler is None:
            turn.say(turn.t("button_expired"), buttons=self.engine.main_menu(turn.locale))
            return
        handler(turn, data)

    def accept(self, turn: Turn, data: PrivacyButton) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        version = consent.notice_version(turn.ctx.settings, turn.ctx.texts)
        if not consent.has_consent(turn.session, cand.id, version):
            consent.record(turn.session, cand.id, version, "accepted", turn.ctx.clock.now())
            turn.session.flush()
        if data.then in self.runner.flows:
            turn.say(turn.t("privacy_accepted"))
            flow = self.runner.flows[data.then]
            step = data.step if data.step in flow.by_id else None  # "-", or a step gone since: from the start
            self.runner.start(turn, data.then, step_id=step, only=bool(data.only) and step is not None,
                              fresh=step is None)
        elif data.then == "document":
            turn.say(turn.t("privacy_accepted_send_again"))
        else:
            turn.say(turn.t("privacy_accepted"), buttons=self.engine.main_menu(turn.locale))

    def decline(self, turn: Turn, data: PrivacyButton) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        consent.record(turn.session, cand.id, consent.notice_version(turn.ctx.settings, turn.ctx.texts),
                       "declined", turn.ctx.clock.now())
        turn.say(turn.t("privacy_declined"), buttons=self.engine.main_menu(turn.locale))
        turn.ctx.hr.tell(turn, cand, "privacy_hr_declined", {"candidate_id": cand.id, "name": cand.name})

    def ask_withdraw(self, turn: Turn, data: PrivacyButton) -> None:
        turn.say(turn.t("privacy_withdraw_confirm"),
                 buttons=((PrivacyButton("withdraw_yes").button(turn.t("privacy_withdraw_yes_button")),),
                          (PrivacyButton("cancel").button(turn.t("privacy_cancel_button")),)))

    def withdraw(self, turn: Turn, data: PrivacyButton) -> None:
        """Consent withdrawn: what was collected under it (ID number, emergency contact, document files) goes."""
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        now = turn.ctx.clock.now()
        consent.record(turn.session, cand.id, consent.notice_version(turn.ctx.settings, turn.ctx.texts),
                       "withdrawn", now)
        turn.session.execute(update(CandidateProfile).where(col(CandidateProfile.candidate_id) == cand.id).values(
            id_number_enc=None, id_number_hash=None, emergency_name_enc=None, emergency_phone_enc=None))
        storage = turn.ctx.settings.storage_dir
        paths = turn.session.exec(select(DocumentUpload.stored_path)
                                  .where(DocumentUpload.candidate_id == cand.id)).all()
        turn.session.execute(delete(DocumentUpload).where(col(DocumentUpload.candidate_id) == cand.id))
        turn.session.flush()
        for rel in paths:
            (storage / rel).unlink(missing_ok=True)
        turn.say(turn.t("privacy_withdrawn"), buttons=self.engine.main_menu(turn.locale))
        turn.ctx.hr.tell(turn, cand, "privacy_hr_withdrawn", {"candidate_id": cand.id, "name": cand.name})

    def cancel(self, turn: Turn, data: PrivacyButton) -> None:
        turn.say(turn.t("privacy_cancelled"), buttons=self.engine.main_menu(turn.locale))

    # -- access --------------------------------------------------------------------------------------------

    def mydata(self, turn: Turn) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        settings, texts = turn.ctx.settings, turn.ctx.texts
        data = access.personal_data(turn.session, cand.id, turn.ctx.sealer)
        labels = texts.raw(turn.locale, "privacy_table_labels") or {}
        counts = [{"label": labels.get(t, t), "count": len(rows)} for t, rows in data.items()
                  if t not in ("candidate", "candidateprofile")]
        role, dept, stage = settings.roles.get(cand.role), settings.departments.get(cand.department), \
            settings.stages.get(cand.stage)
        profile = opened(turn.session.get(CandidateProfile, cand.id), turn.ctx.sealer)
        row = consent.latest(turn.session, cand.id)
        path = access.write_json(settings.storage_dir / "exports", cand.id, data, turn.ctx.clock.now())
        turn.say(turn.t("privacy_mydata_summary", name=cand.name, phone=cand.phone, email=cand.email,
                        role=role.name[turn.locale] if role else cand.role,
                        department=dept.name[turn.locale] if dept else cand.department,
                        stage=stage.label[turn.locale] if stage else cand.stage, cohort=cand.cohort_id,
                        has_id_number=bool(profile["id_number"]), has_emergency=bool(profile["emergency_name"]),
                        legal_name=profile["legal_name"], consent=row.decision if row else "none", counts=counts))
        turn.media("document", str(path), turn.t("privacy_mydata_file_caption"))

    # -- erasure -------------------------------------------------------------------------------------------

    def delete_my_data(self, turn: Turn) -> None:
        self.ask_erase(turn, PrivacyButton("erase"))

    def ask_erase(self, turn: Turn, data: PrivacyButton) -> None:
        turn.say(turn.t("privacy_erase_confirm"),
                 buttons=((PrivacyButton("erase_yes").button(turn.t("privacy_erase_yes_button")),),
                          (PrivacyButton("cancel").button(turn.t("privacy_cancel_button")),)))

    def erase(self, turn: Turn, data: PrivacyButton) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        cid = cand.id
        locale = turn.locale
        # HR hears that it happened (the id only: the name is about to go).
        turn.ctx.hr.tell(turn, None, "privacy_hr_erased", {"candidate_id": cid})
        erase_candidate(turn.session, turn.ctx.settings, cid, turn.ctx.clock.now(), actor="candidate")
        turn.session.flush()
        turn.candidate = None
        turn.say(turn.ctx.texts.get(locale, "privacy_erased"), remove_keyboard=True)
        # Files go now; the transaction commits when the turn ends (a failure there leaves the files' rows
        # pointing at nothing, which /docs and erasure both tolerate).
        erase_files(turn.ctx.settings, cid)
        log.info("candidate %s erased their data", cid)
