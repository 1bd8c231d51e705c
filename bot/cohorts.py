"""Keeps the cohort table in step with config.yaml, the source of truth for training batches."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.config import Settings
from store.models import Cohort


def sync_cohorts(session: Session, settings: Settings, now: datetime) -> None:
    """Insert or update every configured cohort; a cohort removed from config stays (candidates may use it)."""
    for c in settings.file.cohorts:
        row = session.get(Cohort, c.id)
        if row is None:
            session.add(Cohort(id=c.id, department=c.department, training_date=c.training_date,
                               capacity=c.capacity, updated_at=now))
        elif (row.department, row.training_date, row.capacity) != (c.department, c.training_date, c.capacity):
            row.department, row.training_date, row.capacity, row.updated_at = (
                c.department, c.training_date, c.capacity, now)
            session.add(row)
