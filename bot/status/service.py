"""Builds the candidate's status as plain data; the texts in content/ decide how it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from bot.config import Settings
from bot.i18n import Texts
from store.models import Candidate, CandidateTask


@dataclass(frozen=True)
class TaskLine:
    id: str
    title: str
    status: str  # open | submitted | done | rejected
    due: str | None  # formatted date, None without a training date
    days_left: int | None  # negative when overdue
    overdue: bool
    help: str | None


@dataclass(frozen=True)
class TimelineStep:
    label: str
    state: str  # done | current | ahead


def local_today(settings: Settings, now: datetime) -> date:
    return now.astimezone(settings.tz).date()


def task_lines(settings: Settings, texts: Texts, session: Session, cand: Candidate, today: date,
               locale: str) -> list[TaskLine]:
    cohort = settings.cohorts.get(cand.cohort_id or "")
    done = {
        ct.task_id: ct.status
        for ct in session.exec(select(CandidateTask).where(CandidateTask.candidate_id == cand.id))
    }
    lines = []
    for task in settings.file.tasks:
        if not task.applies_to(cand.role):
            continue
        due_date = cohort.training_date + task.due_offset if cohort else None
        status = done.get(task.id, "open")
        days_left = (due_date - today).days if due_date else None
        lines.append(TaskLine(
            id=task.id,
            title=task.title[locale],
            status=status,
            due=texts.format_date(locale, due_date) if due_date else None,
            days_left=days_left,
            overdue=status != "done" and days_left is not None and days_left < 0,
            help=task.help[locale] if task.help else None,
        ))
    # Most urgent first; finished tasks last.
    lines.sort(key=lambda t: (t.status == "done", t.days_left if t.days_left is not None else 10_000))
    return lines


def timeline(settings: Settings, cand: Candidate, locale: str) -> list[TimelineStep]:
    steps = [s for s in settings.file.stages if s.timeline]
    ids = [s.id for s in steps]
    current = ids.index(cand.stage) if cand.stage in ids else None
    if current is None:
        return []  # a side exit such as "withdrawn": the timeline no longer applies
    return [
        TimelineStep(s.label[locale], "done" if i < current else "current" if i == current else "ahead")
        for i, s in enumerate(steps)
    ]


def status_view(settings: Settings, texts: Texts, session: Session, cand: Candidate, now: datetime,
                locale: str) -> dict[str, object]:
    today = local_today(settings, now)
    stage = settings.stages.get(cand.stage)
    cohort = settings.cohorts.get(cand.cohort_id or "")
    dept = settings.departments.get(cand.department)
    role = settings.roles.get(cand.role)
    tasks = task_lines(settings, texts, session, cand, today, locale)
    view: dict[str, object] = {
        "name": cand.name,
        "stage": stage.label[locale] if stage else cand.stage,
        "todo": stage.todo[locale] if stage and stage.todo else "",
        "department": dept.name[locale] if dept else cand.department,
        "role": role.name[locale] if role else cand.role,
        "has_cohort": cohort is not None,
        "cohort": None,
        "days_left": None,
        "tasks": [t for t in tasks if t.status != "done"],
        "done_tasks": [t for t in tasks if t.status == "done"],
        "timeline": timeline(settings, cand, locale),
    }
    if cohort is not None:
        view["cohort"] = {
            "name": cohort.name[locale],
            "date": texts.format_date(locale, cohort.training_date),
            "training_date": texts.format_date(locale, cohort.training_date),  # the name HR templates use
            "time": cohort.training_time or "",
            "location": cohort.location[locale],
            "address": cohort.address[locale] if cohort.address else "",
        }
        view["days_left"] = (cohort.training_date - today).days
    return view


def template_values(settings: Settings, texts: Texts, session: Session, cand: Candidate, now: datetime,
                    locale: str) -> dict[str, object]:
    """The candidate's own data as HR-written templates see it (FAQ answers, flow texts)."""
    view = status_view(settings, texts, session, cand, now, locale)
    return {"name": cand.name, "company": settings.file.company.name[locale], "department": view["department"],
            "role": view["role"], "stage": view["stage"], "days_left": view["days_left"], "cohort": view["cohort"],
            "tasks": view["tasks"]}


def set_task_status(session: Session, candidate_id: int, task_id: str, status: str, now: datetime) -> None:
    """Record progress on a config task (a missing row means open)."""
    row = session.exec(select(CandidateTask).where(CandidateTask.candidate_id == candidate_id,
                                                   CandidateTask.task_id == task_id)).first()
    row = row or CandidateTask(candidate_id=candidate_id, task_id=task_id, updated_at=now)
    row.status, row.updated_at = status, now
    session.add(row)
