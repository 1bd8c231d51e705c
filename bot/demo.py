"""The demo company: the plant in config.yaml plus about 30 candidates from content/demo/."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from bot.config import Settings
from bot.hr.importer import ImportResult, import_candidates
from bot.yamlsrc import load_file
from store.db import Database
from store.models import Candidate, CandidateTask


def database_is_empty(db: Database) -> bool:
    with db.session() as session:
        return session.exec(select(Candidate.id).limit(1)).first() is None


def load_demo(db: Database, settings: Settings, now: datetime) -> ImportResult:
    demo_dir = settings.content_dir / "demo"
    result = import_candidates(db, settings, demo_dir / "candidates.csv", now, actor="demo")
    progress = load_file(demo_dir / "progress.yaml").data or {}
    with db.session() as session:
        for ext_id, task_ids in progress.items():
            cand = session.exec(select(Candidate).where(Candidate.external_id == ext_id)).first()
            if cand is None or cand.id is None:
                continue
            for task_id in task_ids:
                exists = session.exec(select(CandidateTask).where(
                    CandidateTask.candidate_id == cand.id, CandidateTask.task_id == task_id)).first()
                if exists is None:
                    session.add(CandidateTask(candidate_id=cand.id, task_id=task_id, status="done", updated_at=now))
    return result
