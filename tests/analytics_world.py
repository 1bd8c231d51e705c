"""A synthetic company for analytics tests and benchmarks, written with bulk inserts (fast at 50,000 candidates).

Each candidate has a hidden tendency to drop out; it shapes how recently they wrote, how many lessons they passed,
whether they handed in documents, asked questions, voted, were nudged and came back, and (for ``outcomes``) whether
HR marked them withdrawn or attended. This is not the journey simulator (`hrbot simulate`, another branch): it
writes rows directly, to give the queries realistic volumes and the score something to separate.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from store.db import Database
from store.models import (
    Candidate,
    CandidateTask,
    FaqQuery,
    Interaction,
    LessonProgress,
    Outbox,
    RiskSignal,
    Ticket,
)

LESSONS = ("company_culture", "safety_rules", "line_tools", "ten_benefits", "oa_system")
COHORTS = (("prod-2026-12", "production", "line_operator"), ("prod-2027-01", "production", "machine_setter"),
           ("wh-2027-01", "warehouse", "forklift_driver"), ("qa-2027-01", "quality", "quality_inspector"))
DOCS = ("health_certificate", "id_copy", "photos")
QUESTIONS = ("培训那天几点到?", "可以带家属吗?", "工资什么时候发?", "宿舍怎么申请?", "班车在哪里坐?")


def _t(model: Any) -> Any:
    return model.__table__


def populate(db: Database, n: int, now: datetime, *, seed: int = 7, outcomes: float = 0.0,
             first_id: int = 1) -> dict[int, bool]:
    """Add ``n`` candidates; a share ``outcomes`` of them get an outcome (withdrawn or attended, by their hidden
    tendency). Returns candidate id -> withdrew, for those with an outcome."""
    rnd = random.Random(seed)
    now = now.astimezone(UTC)
    cands, inter, lessons, tasks, tickets, queries, outbox, signals = [], [], [], [], [], [], [], []
    marked: dict[int, bool] = {}
    for k in range(n):
        cid = first_id + k
        cohort, dept, role = COHORTS[k % len(COHORTS)]
        p = rnd.betavariate(1.2, 3.5)  # hidden tendency to drop out: mostly low, a long tail
        created = now - timedelta(days=rnd.uniform(12, 40))
        bound = created + timedelta(hours=rnd.uniform(1, 60)) if rnd.random() > p * 0.6 else None
        silent = rnd.expovariate(1 / (1 + 12 * p))  # days since they last wrote
        last = max(bound, now - timedelta(days=silent)) if bound else None
        outcome = None
        outcome_at = None
        if rnd.random() < outcomes:
            withdrew = rnd.random() < p * 1.4
            outcome = "withdrawn" if withdrew else "attended"
            outcome_at = now + timedelta(hours=1)
            marked[cid] = withdrew
        cands.append({"id": cid, "name": f"候选人{cid}", "phone": f"+86139{cid:08d}", "role": role,
                      "department": dept, "cohort_id": cohort, "stage": "waiting_training",
                      "stage_changed_at": created, "telegram_user_id": 10_000_000 + cid if bound else None,
                      "telegram_chat_id": 10_000_000 + cid if bound else None, "bound_at": bound,
                      "last_seen_at": last,
                      "unreachable_at": now - timedelta(days=1) if bound and rnd.random() < p * 0.15 else None,
                      "outcome": outcome, "outcome_at": outcome_at,
                      "outcome_reason": "other_job" if outcome == "withdrawn" else None,
                      "created_at": created, "updated_at": created})
        if bound is None or last is None:
            continue
        span = max(1.0, (last - bound).total_seconds() / 3600)
        for _ in range(1 + int(rnd.uniform(2, 12) * (1 - p))):
            inter.append({"candidate_id": cid, "kind": "text", "detail": None,
                          "at": bound + timedelta(hours=rnd.uniform(0, span))})
        inter.append({"candidate_id": cid, "kind": "button", "detail": "menu", "at": last})
        done = sum(1 for _ in LESSONS if rnd.random() > p * 1.3)
        for j, lesson in enumerate(LESSONS[: done + (1 if done < len(LESSONS) and rnd.random() < 0.5 else 0)]):
            ok = j < done
            at = bound + timedelta(hours=rnd.uniform(0, span))
            lessons.append({"candidate_id": cid, "lesson_id": lesson, "attempts": 1 + int(rnd.random() < 0.3),
                            "best_correct": rnd.randint(2, 3) if ok else rnd.randint(0, 1), "questions": 3,
                            "passed_at": at if ok else None, "updated_at": at})
        for doc in DOCS:
            if rnd.random() > p * 1.2:
                tasks.append({"candidate_id": cid, "task_id": doc, "status": "done" if rnd.random() > 0.1 else
                              "submitted", "updated_at": bound + timedelta(hours=rnd.uniform(0, span))})
        for _ in range(int(rnd.random() < 0.5) + int(rnd.random() < 0.2)):
            at = bound + timedelta(hours=rnd.uniform(0, span))
            handed = rnd.random() < 0.3
            qid = len(queries) + 1
            queries.append({"id": qid, "candidate_id": cid, "at": at, "text": rnd.choice(QUESTIONS),
                            "outcome": "unknown" if handed else "answer", "score": 50.0,
                            "vote": ("down" if rnd.random() < p else "up") if rnd.random() < 0.4 else None,
                            "voted_at": at})
            if handed:
                answered = at + timedelta(hours=rnd.uniform(0.2, 30)) if rnd.random() > p * 0.5 else None
                tickets.append({"kind": "question", "candidate_id": cid, "faq_query_id": qid,
                                "question": queries[-1]["text"], "status": "answered" if answered else "open",
                                "created_at": at, "answered_at": answered})
        if rnd.random() < p * 0.25:
            at = now - timedelta(days=rnd.uniform(0.5, 5))
            signals.append({"candidate_id": cid, "kind": "withdrawal_intent", "at": at})
        if rnd.random() < 0.5:
            sent = now - timedelta(days=rnd.uniform(2.5, 9))
            outbox.append({"dedupe_key": f"world:{cid}", "kind": "nudge", "candidate_id": cid,
                           "chat_id": 10_000_000 + cid, "due_at": sent, "planned_at": sent, "status": "sent",
                           "sent_at": sent, "urgent": False, "priority": 0, "attempts": 1})
            if rnd.random() > p:
                inter.append({"candidate_id": cid, "kind": "button", "detail": "nudge",
                              "at": sent + timedelta(hours=rnd.uniform(0.5, 30))})
    with db.engine.begin() as conn:
        for table, rows in ((Candidate, cands), (Interaction, inter), (LessonProgress, lessons),
                            (CandidateTask, tasks), (FaqQuery, queries), (Ticket, tickets), (Outbox, outbox),
                            (RiskSignal, signals)):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(_t(table)), rows[start:start + 5000])
    return marked
