"""The figures behind /stats, the report and the digest: a handful of aggregate queries over the candidates in an
HR member's scope (grouped in SQL, never one query per candidate).

Funnel: invited -> started the bot -> profile complete -> documents done -> first lesson -> all lessons -> attended
training; and withdrawn, with reasons. Lessons: completion and quiz averages. Questions: the FAQ's self-service rate
and the questions most often handed to HR. Tickets: response times per kind (question, withdrawal, feedback ...).
Nudges: how many were sent and how many candidates came back within 48 hours of one.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, literal_column, select
from sqlmodel import Session

from bot.analytics.risk import CAND, aware
from store.models import CandidateProfile, CandidateTask, FaqQuery, Interaction, LessonProgress, Outbox, Ticket

C = CAND.c
CT: Any = CandidateTask.__table__.c  # type: ignore[attr-defined]
LP: Any = LessonProgress.__table__.c  # type: ignore[attr-defined]
PR: Any = CandidateProfile.__table__.c  # type: ignore[attr-defined]
FQ: Any = FaqQuery.__table__.c  # type: ignore[attr-defined]
TK: Any = Ticket.__table__.c  # type: ignore[attr-defined]
OUTBOX: Any = Outbox.__table__  # type: ignore[attr-defined]
OB: Any = OUTBOX.c
IN: Any = Interaction.__table__.c  # type: ignore[attr-defined]
STEPS = ("invited", "started", "profile", "documents", "first_lesson", "all_lessons", "attended")
QUESTION_OUTCOMES = ("answer", "suggest", "unknown")  # questions the FAQ was asked (not greetings, not limits)
COMEBACK_HOURS = 48


@dataclass
class Stats:
    cohorts: list[str]  # the cohorts covered (in scope, or the one asked for)
    funnel: dict[str, dict[str, int]]  # cohort ("-" for none) -> step -> candidates; plus "all"
    withdrawn: dict[str, int]  # reason id (or free text) -> candidates
    lessons: list[dict[str, Any]]  # per lesson: id, started, passed, quiz (mean share right, 0-1)
    questions: int = 0
    handed_to_hr: int = 0
    top_handed: list[tuple[str, int]] = field(default_factory=list)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> answered, open, median/p90 hours
    nudges_sent: int = 0
    nudged_came_back: int = 0

    @property
    def total(self) -> int:
        return self.funnel.get("all", {}).get("invited", 0)

    @property
    def self_service(self) -> float | None:
        return None if not self.questions else max(0.0, (self.questions - self.handed_to_hr) / self.questions)

    @property
    def comeback_rate(self) -> float | None:
        return None if not self.nudges_sent else self.nudged_came_back / self.nudges_sent


def _scoped(query: Any, where: Any) -> Any:
    return query if where is None else query.where(where)


def _plus_hours(session: Session, column: Any, hours: int) -> Any:
    """column + hours, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M:%f", column, f"+{hours} hours")
    return column + literal(timedelta(hours=hours))


def compute(session: Session, settings: Any, lesson_ids: list[str], *, where: Any = None,
            now: datetime | None = None) -> Stats:
    """The figures for the candidates ``where`` selects (a SQLAlchemy filter on Candidate; None = all)."""
    doc_ids = [t.id for t in settings.file.tasks if t.document]
    # Documents each role has to hand in.
    needed = {r: sum(1 for t in settings.file.tasks if t.document and t.applies_to(r)) for r in settings.roles}
    docs_done = (select(CT.candidate_id.label("cid"), func.count().label("n"))
                 .where(CT.status == "done", CT.task_id.in_(doc_ids)).group_by(CT.candidate_id).subquery())
    passed = (select(LP.candidate_id.label("cid"), func.count().label("n"))
              .where(LP.passed_at.is_not(None)).group_by(LP.candidate_id).subquery())
    profile_ok = and_(PR.legal_name.is_not(None), PR.id_number_enc.is_not(None), PR.emergency_phone_enc.is_not(None))
    # One object per grouped expression, its constants written inline: PostgreSQL matches a selected expression
    # to its GROUP BY one by text, and two bound parameters ($1, $2) for the same 0 would not match.
    zero: ColumnElement[int] = literal_column("0")
    one: ColumnElement[int] = literal_column("1")
    groups = (C.cohort_id, C.role, C.bound_at.is_not(None), func.coalesce(docs_done.c.n, zero),
              func.coalesce(passed.c.n, zero), C.outcome, case((profile_ok, one), else_=zero))
    query = (select(*groups, func.count())
             .select_from(CAND)
             .outerjoin(docs_done, docs_done.c.cid == C.id)
             .outerjoin(passed, passed.c.cid == C.id)
             .outerjoin(CandidateProfile.__table__, PR.candidate_id == C.id)  # type: ignore[attr-defined]
             .group_by(*groups))
    funnel: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STEPS, 0))
    total_lessons = len(lesson_ids)
    for cohort, role, started, docs, lessons, outcome, profile, n in session.execute(_scoped(query, where)):
        for key in (cohort or "-", "all"):
            f = funnel[key]
            f["invited"] += n
            f["started"] += n if started else 0
            f["profile"] += n if profile else 0
            f["documents"] += n if docs >= needed.get(role, len(doc_ids)) else 0
            f["first_lesson"] += n if lessons >= 1 else 0
            f["all_lessons"] += n if total_lessons and lessons >= total_lessons else 0
            f["attended"] += n if outcome == "attended" else 0
            f["withdrawn"] = f.get("withdrawn", 0) + (n if outcome == "withdrawn" else 0)
    withdrawn = Counter({(reason or "-"): n for reason, n in session.execute(_scoped(
        select(C.outcome_reason, func.count()).where(C.outcome == "withdrawn").group_by(C.outcome_reason), where))})
    lessons = []
    per_lesson = {lid: (started, done, quiz) for lid, started, done, quiz in session.execute(_scoped(
        select(LP.lesson_id, func.count(), func.count(LP.passed_at),
               func.avg(case((LP.questions > 0, LP.best_correct * 1.0 / LP.questions), else_=None)))
        .join(CAND, C.id == LP.candidate_id).group_by(LP.lesson_id), where))}
    for lid in lesson_ids:
        started, done, quiz = per_lesson.get(lid, (0, 0, None))
        lessons.append({"id": lid, "started": started, "passed": done, "quiz": None if quiz is None else float(quiz)})

    stats = Stats(sorted(k for k in funnel if k not in ("all", "-")), dict(funnel), dict(withdrawn), lessons)
    if "all" not in stats.funnel:
        stats.funnel["all"] = dict.fromkeys(STEPS, 0) | {"withdrawn": 0}
    stats.questions = session.execute(_scoped(
        select(func.count()).select_from(FaqQuery.__table__).join(CAND, C.id == FQ.candidate_id)  # type: ignore
        .where(FQ.outcome.in_(QUESTION_OUTCOMES)), where)).scalar_one()
    stats.handed_to_hr = session.execute(_scoped(
        select(func.count()).select_from(Ticket.__table__).join(CAND, C.id == TK.candidate_id)  # type: ignore
        .where(TK.kind == "question"), where)).scalar_one()
    stats.top_handed = [(q, n) for q, n in session.execute(_scoped(
        select(TK.question, func.count().label("n")).join(CAND, C.id == TK.candidate_id)
        .where(TK.kind == "question").group_by(TK.question).order_by(func.count().desc(), TK.question).limit(5),
        where))]
    times: dict[str, list[float]] = defaultdict(list)
    open_by_kind: Counter[str] = Counter()
    for kind, created, answered in session.execute(_scoped(
            select(TK.kind, TK.created_at, TK.answered_at).join(CAND, C.id == TK.candidate_id), where)):
        if answered is None:
            open_by_kind[kind] += 1
        else:
            c, a = aware(created), aware(answered)
            assert c is not None and a is not None
            times[kind].append(max(0.0, (a - c).total_seconds() / 3600))
    for kind in sorted(set(times) | set(open_by_kind)):
        hours = sorted(times[kind])
        stats.tickets[kind] = {
            "answered": len(hours), "open": open_by_kind[kind],
            "median_hours": round(statistics.median(hours), 1) if hours else None,
            "p90_hours": round(hours[min(len(hours) - 1, int(0.9 * len(hours)))], 1) if hours else None,
        }
    came_back = exists().where(IN.candidate_id == OB.candidate_id, IN.at > OB.sent_at,
                               IN.at <= _plus_hours(session, OB.sent_at, COMEBACK_HOURS))
    nudges = select(func.count(), func.sum(case((came_back, 1), else_=0))).select_from(OUTBOX) \
        .join(CAND, C.id == OB.candidate_id).where(OB.kind == "nudge", OB.status == "sent")
    if now is not None:  # a nudge younger than 48 h cannot be judged yet
        nudges = nudges.where(OB.sent_at <= (now - timedelta(hours=COMEBACK_HOURS)).astimezone(UTC))
    sent, back = session.execute(_scoped(nudges, where)).one()
    stats.nudges_sent, stats.nudged_came_back = int(sent or 0), int(back or 0)
    return stats
