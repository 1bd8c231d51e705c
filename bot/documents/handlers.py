"""A candidate sends a file; says which task it is for; HR gets it with approve / reject buttons."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.crypto import Sealer, write_sealed
from bot.documents.buttons import DocApprove, DocReject, DocRejectReason, DocTask
from bot.engine.core import Engine, Router, Turn
from bot.engine.effects import Button
from bot.privacy import gate as privacy_gate
from bot.status.service import local_today, set_task_status, task_lines
from store.models import Candidate, DocumentUpload

log = logging.getLogger(__name__)
MIME_NAMES = {"image/jpeg": "JPG", "image/png": "PNG", "application/pdf": "PDF", "image/heic": "HEIC",
              "image/webp": "WEBP"}


class DocumentHandlers:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, router: Router) -> None:
        router.file_handler = self.on_file
        router.button(DocTask, self.pick_task, audience="candidate")
        router.button(DocApprove, self.approve, audience="hr", writes=True)
        router.button(DocReject, self.ask_reason, audience="hr", writes=True)
        router.button(DocRejectReason, self.reject, audience="hr", writes=True)
        router.command("docs", self.pending, audience="hr", menu_key="cmd_docs")

    def _limits(self, turn: Turn) -> dict[str, object]:
        policy = turn.ctx.settings.file.documents
        return {"types": "/".join(MIME_NAMES.get(t, t) for t in policy.types), "max_mb": f"{policy.max_mb:g}"}

    def on_file(self, turn: Turn) -> None:
        ev = turn.event
        cand = turn.candidate
        if cand is None or cand.id is None:
            turn.say(turn.t("not_bound"), ask_contact=turn.t("share_phone_button"))
            return
        settings = turn.ctx.settings
        policy = settings.file.documents
        mime = ev.mime_type or ("image/jpeg" if ev.file_kind == "photo" else None)
        refusal = "doc_bad_type" if mime not in policy.types else \
            "doc_too_large" if ev.file_size is not None and ev.file_size > policy.max_mb * 1024 * 1024 else None
        if refusal:
            if ev.file_path:
                Path(ev.file_path).unlink(missing_ok=True)  # nothing is kept of a file we do not take
            turn.say(turn.t(refusal, **self._limits(turn)))
            return
        assert mime is not None
        if not ev.file_path or not Path(ev.file_path).is_file():
            turn.say(turn.t("doc_not_received"))
            return
        open_tasks = self._open_document_tasks(turn, cand)
        if not open_tasks:
            Path(ev.file_path).unlink(missing_ok=True)
            turn.say(turn.t("doc_no_tasks"), buttons=self.engine.main_menu(turn.locale))
            return
        # Documents are sensitive: kept only sealed (never in plain), and only after consent to the notice.
        sealer = turn.ctx.sealer
        if sealer is None or not privacy_gate.allowed(turn, "document"):
            Path(ev.file_path).unlink(missing_ok=True)
            if sealer is None:
                log.warning("a document was refused: HRBOT_SECRET_KEY is not set")
                turn.say(turn.t("privacy_docs_no_key"), buttons=self.engine.main_menu(turn.locale))
            return
        stored = self._keep(settings.storage_dir, cand.id, Path(ev.file_path), mime, sealer)
        upload = DocumentUpload(candidate_id=cand.id, kind=ev.file_kind or "document", telegram_file_id=ev.file_id,
                                stored_path=stored, mime_type=mime, size=ev.file_size or 0, status="new",
                                created_at=turn.ctx.clock.now(), key_id=sealer.key_id)
        turn.session.add(upload)
        turn.session.flush()
        assert upload.id is not None
        turn.say(turn.t("doc_which_task"),
                 buttons=tuple((DocTask(upload.id, t.id).button(t.title),) for t in open_tasks))

    @staticmethod
    def _open_document_tasks(turn: Turn, cand: Candidate) -> list[Any]:
        """The candidate's own tasks that still wait for a document (open, or sent back)."""
        settings = turn.ctx.settings
        today = local_today(settings, turn.ctx.clock.now())
        return [t for t in task_lines(settings, turn.ctx.texts, turn.session, cand, today, turn.locale)
                if t.status in ("open", "rejected") and settings.tasks[t.id].document]

    @staticmethod
    def _keep(storage: Path, candidate_id: int, incoming: Path, mime: str, sealer: Sealer) -> str:
        """Seal the downloaded file into <storage>/<candidate>/<random>.<ext> (the plain download is removed);
        return the path under storage."""
        ext = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}.get(mime, incoming.suffix)
        folder = storage / str(candidate_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{uuid.uuid4().hex}{ext}"
        write_sealed(target, incoming.read_bytes(), sealer)
        incoming.unlink(missing_ok=True)
        return str(target.relative_to(storage))

    def pick_task(self, turn: Turn, data: DocTask) -> None:
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        upload = turn.session.get(DocumentUpload, data.upload)
        task = turn.ctx.settings.tasks.get(data.task)
        # Both the upload and the task must be the presser's own: a tampered button names someone else's.
        if upload is None or upload.candidate_id != cand.id or upload.status != "new" or task is None \
                or task.id not in {t.id for t in self._open_document_tasks(turn, cand)}:
            turn.say(turn.t("button_expired"), buttons=self.engine.main_menu(turn.locale))
            return
        now = turn.ctx.clock.now()
        upload.task_id, upload.status = task.id, "submitted"
        turn.session.add(upload)
        set_task_status(turn.session, cand.id, task.id, "submitted", now)
        turn.say(turn.t("doc_submitted", task=task.title[turn.locale]), buttons=self.engine.main_menu(turn.locale))
        turn.ctx.hr.tell(turn, cand, "doc_hr_caption", lambda loc: self._caption_values(turn, upload, cand, loc),
                         buttons=lambda loc: self._decision_buttons(turn, upload, loc),
                         media=self._media(turn, upload))

    @staticmethod
    def _caption_values(turn: Turn, upload: DocumentUpload, cand: Candidate, loc: str) -> dict[str, object]:
        task = turn.ctx.settings.tasks[upload.task_id or ""]
        return {"number": upload.id, "name": cand.name, "candidate_id": cand.id, "task": task.title[loc]}

    @staticmethod
    def _decision_buttons(turn: Turn, upload: DocumentUpload, loc: str) -> tuple[tuple[Button, ...], ...]:
        assert upload.id is not None
        return ((DocApprove(upload.id).button(turn.ctx.texts.get(loc, "doc_approve_button")),
                 DocReject(upload.id).button(turn.ctx.texts.get(loc, "doc_reject_button"))),)

    @staticmethod
    def _media(turn: Turn, upload: DocumentUpload) -> tuple[str, str]:
        kind = "photo" if upload.mime_type in ("image/jpeg", "image/png") else "document"
        return kind, str(turn.ctx.settings.storage_dir / upload.stored_path)

    def _show_to_hr(self, turn: Turn, upload: DocumentUpload, cand: Candidate) -> None:
        """The file itself, with who sent it for what, and the approve / send back buttons (in /docs)."""
        caption = turn.t("doc_hr_caption", **self._caption_values(turn, upload, cand, turn.locale))
        kind, path = self._media(turn, upload)
        turn.media(kind, path, caption, buttons=self._decision_buttons(turn, upload, turn.locale))

    def pending(self, turn: Turn) -> None:
        """/docs: documents waiting for a decision, oldest first (ten at a time)."""
        scope = turn.staff.where() if turn.staff else None
        rows = turn.session.exec(
            select(DocumentUpload, Candidate).join(Candidate, col(Candidate.id) == DocumentUpload.candidate_id)
            .where(DocumentUpload.status == "submitted", *([scope] if scope is not None else []))
            .order_by(col(DocumentUpload.created_at)).limit(10)).all()
        if not rows:
            turn.say(turn.t("doc_hr_none_pending"))
            return
        turn.say(turn.t("doc_hr_pending", count=len(rows)))
        for upload, cand in rows:
            self._show_to_hr(turn, upload, cand)

    def _upload_for_hr(self, turn: Turn, upload_id: int) -> tuple[DocumentUpload, Candidate] | None:
        upload = turn.session.get(DocumentUpload, upload_id)
        cand = turn.session.get(Candidate, upload.candidate_id) if upload else None
        if upload is None or cand is None or not turn.in_scope(cand):
            turn.say(turn.t("button_expired"))
            return None
        if upload.status != "submitted":
            turn.say(turn.t("doc_already_decided", number=upload.id, status=turn.t(f"doc_status_{upload.status}")))
            return None
        return upload, cand

    def approve(self, turn: Turn, data: DocApprove) -> None:
        found = self._upload_for_hr(turn, data.upload)
        if found is None:
            return
        upload, cand = found
        now = turn.ctx.clock.now()
        upload.status, upload.decided_at, upload.decided_by = "approved", now, turn.event.user_id
        turn.session.add(upload)
        turn.audit("approve_document", cand.id, f"upload {upload.id} task {upload.task_id}")
        assert cand.id is not None and upload.task_id is not None
        set_task_status(turn.session, cand.id, upload.task_id, "done", now)
        task = turn.ctx.settings.tasks[upload.task_id]
        turn.say(turn.t("doc_hr_approved", number=upload.id, name=cand.name, task=task.title[turn.locale]))
        if cand.telegram_chat_id is not None:
            loc = cand.language or turn.ctx.settings.default_locale
            turn.say(turn.ctx.texts.get(loc, "doc_approved", task=task.title[loc]), chat_id=cand.telegram_chat_id)

    def ask_reason(self, turn: Turn, data: DocReject) -> None:
        found = self._upload_for_hr(turn, data.upload)
        if found is None:
            return
        upload, _ = found
        reasons = turn.ctx.texts.raw(turn.locale, "doc_reject_reasons")
        turn.say(turn.t("doc_reject_which"),
                 buttons=tuple((DocRejectReason(upload.id or 0, i).button(r),) for i, r in enumerate(reasons)))

    def reject(self, turn: Turn, data: DocRejectReason) -> None:
        found = self._upload_for_hr(turn, data.upload)
        if found is None:
            return
        upload, cand = found
        reasons_hr = turn.ctx.texts.raw(turn.locale, "doc_reject_reasons")
        index = data.reason if 0 <= data.reason < len(reasons_hr) else 0
        loc = cand.language or turn.ctx.settings.default_locale
        reason = turn.ctx.texts.raw(loc, "doc_reject_reasons")[index]
        now = turn.ctx.clock.now()
        upload.status, upload.reason = "rejected", reasons_hr[index]
        upload.decided_at, upload.decided_by = now, turn.event.user_id
        turn.session.add(upload)
        turn.audit("reject_document", cand.id, f"upload {upload.id} task {upload.task_id} reason {index}")
        assert cand.id is not None and upload.task_id is not None
        set_task_status(turn.session, cand.id, upload.task_id, "rejected", now)
        task = turn.ctx.settings.tasks[upload.task_id]
        turn.say(turn.t("doc_hr_rejected", number=upload.id, name=cand.name, task=task.title[turn.locale],
                        reason=reasons_hr[index]))
        if cand.telegram_chat_id is not None:
            turn.say(turn.ctx.texts.get(loc, "doc_rejected", task=task.title[loc], reason=reason,
                                        **self._limits(turn)), chat_id=cand.telegram_chat_id)
