"""SQLModel tables. Times are aware UTC (SQLModel stores them as UTC); the company timezone is applied only when
showing them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Cohort(SQLModel, table=True):
    """A training batch. config.yaml is the source; rows are synced from it so queries can join on them."""

    id: str = Field(primary_key=True, max_length=48)
    department: str = Field(max_length=48, index=True)
    training_date: date
    capacity: int = 50
    updated_at: datetime


class Candidate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    name: str = Field(max_length=100)
    phone: str = Field(max_length=20, unique=True, description="E.164, e.g. +8613800000001")
    email: str | None = Field(default=None, max_length=254)
    role: str = Field(max_length=48)
    department: str = Field(max_length=48, index=True)
    cohort_id: str | None = Field(default=None, foreign_key="cohort.id", index=True, max_length=48)
    stage: str = Field(max_length=48, index=True)
    stage_changed_at: datetime
    language: str | None = Field(default=None, max_length=8, description="chosen with /language or import")
    telegram_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True, nullable=True))
    telegram_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    invite_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    invite_issued_at: datetime | None = None
    invite_expires_at: datetime | None = None
    bound_at: datetime | None = None
    welcome_number: int | None = Field(default=None, description="N in 'you are our Nth new colleague'")
    last_seen_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class CandidateTask(SQLModel, table=True):
    """Progress on a config task; a missing row means 'open'."""

    __table_args__ = (UniqueConstraint("candidate_id", "task_id"),)

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    task_id: str = Field(max_length=48)
    status: str = Field(default="open", max_length=16, description="open | submitted | done | rejected")
    updated_at: datetime


class DepartmentCounter(SQLModel, table=True):
    """How many candidates have joined each department through the bot (for the welcome number)."""

    department: str = Field(primary_key=True, max_length=48)
    joined: int = 0


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled; a redelivered update is ignored."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime


class Interaction(SQLModel, table=True):
    """One candidate action, for analytics and the at-risk list. Holds no message text."""

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    kind: str = Field(max_length=32)
    detail: str | None = Field(default=None, max_length=64)
    at: datetime = Field(index=True)


class AuditLog(SQLModel, table=True):
    """Who changed what: HR actions, imports, bindings."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=48)
    candidate_id: int | None = Field(default=None, index=True)
    detail: str | None = Field(default=None, max_length=500)
