"""SQLModel tables. Times are aware UTC (SQLModel stores them as UTC); the company timezone is applied only when
showing them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
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
    unreachable_at: datetime | None = Field(default=None, description="Telegram said 403: blocked or never started")
    unreachable_reason: str | None = Field(default=None, max_length=100)
    # What became of them, as HR marks it: attended (training) or withdrawn (with a reason from a list).
    outcome: str | None = Field(default=None, max_length=16, index=True, description="attended | withdrawn")
    outcome_reason: str | None = Field(default=None, max_length=200)
    outcome_at: datetime | None = None
    outcome_by: str | None = Field(default=None, max_length=64, description="actor, e.g. telegram:<HR id>, cli")
    # An HR member the candidate is answering (tapped "reply to HR"): their next typed message goes there.
    hr_reply_to: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Erased (by the candidate, HR or the retention job): the row stays, anonymous, for the counts (bot/privacy).
    erased_at: datetime | None = None
    created_at: datetime
    updated_at: datetime = Field(index=True)  # /find reads what changed since its last search (bot/console)


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

    __table_args__ = (Index("ix_interaction_candidate_at", "candidate_id", "at"),)  # the risk score (0010)

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    kind: str = Field(max_length=32)
    detail: str | None = Field(default=None, max_length=64)
    at: datetime = Field(index=True)


class HrMember(SQLModel, table=True):
    """An HR member managed from the CLI (config.yaml's hr_admins are admins without a row).

    role: admin (everything, every candidate) | hr (acts within scope) | viewer (reads within scope).
    Scope: comma-separated department and cohort ids; both empty means every candidate. A candidate is in
    scope when their department or their cohort is listed."""

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(max_length=8)
    departments: str = Field(default="", max_length=500)
    cohorts: str = Field(default="", max_length=500)
    name: str | None = Field(default=None, max_length=60, description="shown to candidates on 1:1 messages")
    created_at: datetime
    updated_at: datetime


class HrMessage(SQLModel, table=True):
    """A 1:1 thread between an HR member and a candidate: one row per message, either way."""

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    hr_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    direction: str = Field(max_length=4, description="out (HR -> candidate) | in (candidate -> HR)")
    text: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime


class Broadcast(SQLModel, table=True):
    """One message to many candidates; each recipient is an outbox row (kind broadcast, broadcast_id)."""

    id: int | None = Field(default=None, primary_key=True)
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False), description="HR telegram id; 0 = CLI")
    created_at: datetime
    audience: str = Field(max_length=500, description="all | cohort:ID,department:ID,... (and)")
    content: str = Field(sa_column=Column(Text, nullable=False),
                         description="JSON: texts per locale, html, media {kind, path}, button")
    urgent: bool = False
    paid: bool = False
    status: str = Field(max_length=12, index=True, description="draft | scheduled | sending | done | cancelled")
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    total: int = 0
    excluded: int = 0
    hr_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    hr_message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    progress_at: datetime | None = None


class AuditLog(SQLModel, table=True):
    """Who changed what: HR actions, imports, bindings."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=48)
    candidate_id: int | None = Field(default=None, index=True)
    detail: str | None = Field(default=None, max_length=500)


class Outbox(SQLModel, table=True):
    """Every proactive message (nudge, HR message, later broadcasts), and every nudge decided against.

    ``dedupe_key`` is unique: the same occurrence is decided once and sent at most once, across restarts.
    status: pending -> sending -> sent | failed | dropped; a nudge decided against is 'skipped' at once.
    """

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=16, description="nudge | notice | hr_alert | message (before 0005) | broadcast")
    urgent: bool = Field(default=False, description="sent in quiet hours too (notices, HR alerts); nudges never")
    rule_id: str | None = Field(default=None, max_length=48)
    candidate_id: int | None = Field(default=None, foreign_key="candidate.id", index=True)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    priority: int = 0
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    buttons: str | None = Field(default=None, sa_column=Column(Text, nullable=True), description="JSON rows")
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", index=True)
    effect: str | None = Field(default=None, sa_column=Column(Text, nullable=True),
                               description="JSON of a photo, video or files message (text and buttons: above)")
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True),
                                description="JSON details a nudge is written from when sent (task ids)")
    due_at: datetime = Field(description="when the occurrence fell due")
    planned_at: datetime = Field(index=True, description="when it was decided; counts toward the weekly cap")
    expires_at: datetime | None = None
    status: str = Field(max_length=12, index=True)
    reason: str | None = Field(default=None, max_length=300, description="why skipped, dropped or failed")
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    telegram_message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class FaqQuery(SQLModel, table=True):
    """A free-text question a candidate sent and what the bot did with it (for votes, tickets, FAQ review)."""

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    at: datetime = Field(index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(max_length=12, description="answer | suggest | unknown | empty | withdrawal | rate_limited")
    entry_id: str | None = Field(default=None, max_length=48, description="entry answered (or picked)")
    best_id: str | None = Field(default=None, max_length=48, description="best-ranked entry whatever the outcome")
    score: float = 0.0
    vote: str | None = Field(default=None, max_length=4, description="up | down")
    voted_at: datetime | None = None


class Ticket(SQLModel, table=True):
    """Something a candidate asked that a person must answer: a question the FAQ could not answer, or a
    withdrawal signal. HR answers by replying in chat or with /reply."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, description="question | withdrawal")
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    faq_query_id: int | None = Field(default=None, foreign_key="faqquery.id", unique=True)
    question: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=12, index=True, description="open | answered")
    created_at: datetime = Field(index=True)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    answered_at: datetime | None = None
    added_to_faq_at: datetime | None = None
    # The feedback box (kind feedback, bot/groups): a category, whether the candidate asked to stay anonymous,
    # a photo they sent, and the 24-hour promise: when it is due, when HR was reminded, when admins were alerted.
    category: str | None = Field(default=None, max_length=16, description="training | dorm | pay | process | other")
    anonymous: bool = False
    attachment: str | None = Field(default=None, max_length=300, description="stored path of a photo sent with it")
    due_at: datetime | None = Field(default=None, index=True)
    reminded_at: datetime | None = None
    escalated_at: datetime | None = Field(default=None, description="set when overdue: every admin was alerted")
    # The cohort Q&A board: HR can take an answered question off it (audited).
    board_hidden_at: datetime | None = None
    board_hidden_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class FaqProposal(SQLModel, table=True):
    """A question proposed for the FAQ, kept here until HR reviews it (it holds a candidate's words):
    an answered ticket HR proposed as a new entry ("add to FAQ", source hr_answer), or a question proposed as an
    example of an existing entry (`entry_id`): HR linked an answered ticket to it (hr_link), or candidates tapped
    that entry under "did you mean" (tap; the same question tapped again counts in `taps`).
    `hrbot faq propose --export` writes the chosen ones to the pending file for the merge, `--reject` drops one."""

    __table_args__ = (UniqueConstraint("entry_id", "question_key"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", unique=True)
    faq_query_id: int | None = Field(default=None, foreign_key="faqquery.id",
                                     description="the first tap's query (source tap)")
    source: str = Field(default="hr_answer", max_length=12, description="hr_answer | hr_link | tap")
    entry_id: str | None = Field(default=None, max_length=48, description="the entry it is an example of")
    question: str = Field(sa_column=Column(Text, nullable=False))
    question_key: str | None = Field(default=None, max_length=300, description="the question normalised")
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answer_locale: str = Field(max_length=8, description="the language HR answered in (the candidate's)")
    similar_to: str | None = Field(default=None, max_length=48, description="closest existing FAQ entry")
    status: str = Field(default="pending", max_length=12, index=True, description="pending | exported | rejected")
    taps: int = Field(default=1, description="how many times it was proposed (taps on the same question)")
    created_at: datetime
    last_at: datetime | None = None
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True),
                                   description="the HR admin's user id (none for a candidate's tap)")
    reviewed_at: datetime | None = None


class RiskSignal(SQLModel, table=True):
    """A sign that a candidate may drop out (for HR's at-risk list)."""

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    kind: str = Field(max_length=32, description="withdrawal_intent")
    at: datetime = Field(index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")


class FlowSession(SQLModel, table=True):
    """Where a candidate is in a conversation flow (or a lesson, which runs as a flow), so a restart resumes it.

    One active or paused session per candidate and flow; ``stack`` holds the flows that `call`ed this one."""

    __table_args__ = (UniqueConstraint("candidate_id", "flow_id"),)

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    flow_id: str = Field(max_length=64, description="a flow id, or lesson:<id> / quiz:<id>")
    step_id: str = Field(max_length=48)
    status: str = Field(max_length=12, index=True, description="active | paused | done")
    vars: str = Field(default="{}", sa_column=Column(Text, nullable=False), description="JSON")
    stack: str = Field(default="[]", sa_column=Column(Text, nullable=False), description="JSON [[flow, step]]")
    version: int = Field(default=0, description="bumped on every move; a stale button is recognised")
    started_at: datetime
    updated_at: datetime


class LessonProgress(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("candidate_id", "lesson_id"),
                      Index("ix_lessonprogress_candidate_passed", "candidate_id", "passed_at"))  # risk score (0010)

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    lesson_id: str = Field(max_length=48)
    attempts: int = 0
    best_correct: int = 0
    questions: int = 0
    passed_at: datetime | None = None
    updated_at: datetime


class PointsEntry(SQLModel, table=True):
    """The points ledger: append-only. ``ref`` makes an award happen once (lesson:safety_rules)."""

    __table_args__ = (UniqueConstraint("candidate_id", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    delta: int
    reason: str = Field(max_length=32, description="lesson | flow | redemption | hr")
    ref: str = Field(max_length=96)
    at: datetime = Field(index=True)


class PointsBalance(SQLModel, table=True):
    """The ledger's sum per candidate, changed in the same transaction as each ledger row; a conditional UPDATE
    on it is what keeps two taps at once from spending the same points twice."""

    candidate_id: int = Field(foreign_key="candidate.id", primary_key=True)
    balance: int = 0


class RewardStock(SQLModel, table=True):
    """How many of each reward (content/rewards.yaml) have been redeemed; stock itself is in the file."""

    reward_id: str = Field(primary_key=True, max_length=48)
    redeemed: int = 0


class Redemption(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    reward_id: str = Field(max_length=48)
    cost: int
    status: str = Field(max_length=12, index=True, description="requested | delivered")
    created_at: datetime
    delivered_at: datetime | None = None
    delivered_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class CandidateProfile(SQLModel, table=True):
    """The personal information centre. The ID number is encrypted (HRBOT_SECRET_KEY) and never logged."""

    candidate_id: int = Field(foreign_key="candidate.id", primary_key=True)
    legal_name: str | None = Field(default=None, max_length=60)
    id_number_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # HMAC of the ID number under the same key: finds a row by ID number without decrypting every row.
    id_number_hash: str | None = Field(default=None, max_length=64, index=True)
    education: str | None = Field(default=None, max_length=32)
    emergency_name_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    emergency_phone_enc: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    key_id: str | None = Field(default=None, max_length=16, index=True,
                               description="the key this row's sealed fields are under (bot/crypto.py)")
    updated_at: datetime


class DocumentUpload(SQLModel, table=True):
    """A file a candidate sent for a document task, and HR's verdict."""

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    task_id: str | None = Field(default=None, max_length=48, description="None until the candidate says which")
    kind: str = Field(max_length=12, description="photo | document")
    telegram_file_id: str | None = Field(default=None, max_length=255)
    stored_path: str = Field(max_length=500, description="relative to the storage folder")
    mime_type: str | None = Field(default=None, max_length=100)
    size: int = 0
    status: str = Field(max_length=12, index=True, description="new | submitted | approved | rejected")
    reason: str | None = Field(default=None, max_length=300)
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    key_id: str | None = Field(default=None, max_length=16, index=True,
                               description="the key the stored file is sealed with; None: stored plain (before 0010)")


class ConsentRecord(SQLModel, table=True):
    """A candidate's answer to the privacy notice (bot/privacy): accepted, declined or withdrawn, with the notice
    version shown. The latest row is their current state; earlier rows are the history."""

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    version: str = Field(max_length=40)
    decision: str = Field(max_length=10, description="accepted | declined | withdrawn")
    at: datetime


class CohortGroup(SQLModel, table=True):
    """A Telegram group linked to a cohort (/link_cohort): its chat id and the join-request invite link."""

    cohort_id: str = Field(primary_key=True, foreign_key="cohort.id", max_length=48)
    chat_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    title: str | None = Field(default=None, max_length=255)
    invite_link: str = Field(max_length=255)
    linked_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    linked_at: datetime


class GroupJoin(SQLModel, table=True):
    """A candidate let into their cohort's group: ``number`` is N in "the Nth colleague to join"."""

    __table_args__ = (UniqueConstraint("cohort_id", "candidate_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: str = Field(max_length=48, index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    number: int
    joined_at: datetime


class GroupRemoval(SQLModel, table=True):
    """A withdrawn candidate to take out of a cohort group (ban, then unban so they can rejoin if reinstated);
    done by the scheduler in the process that talks to Telegram."""

    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default="pending", max_length=12, index=True, description="pending | done | failed")
    created_at: datetime
    done_at: datetime | None = None
    reason: str | None = Field(default=None, max_length=200)


class FeedbackDraft(SQLModel, table=True):
    """A feedback a candidate is writing (/feedback): the category chosen, then the text or photo, until they
    choose whether to stay anonymous (then it becomes a ticket) or cancel."""

    candidate_id: int = Field(primary_key=True, foreign_key="candidate.id")
    category: str = Field(max_length=16)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attachment: str | None = Field(default=None, max_length=300)
    started_at: datetime
