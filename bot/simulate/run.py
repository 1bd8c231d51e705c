"""The journey simulator: synthetic candidates (bot.simulate.model) replayed through the real engine, nudge
planner and outbox sender, with time travel, in a throw-away database.

Time moves an hour at a time (company time). At the top of each hour the planner ticks and the sender drains
what is due (bot.outbox.local.LocalDelivery, the shell's and tests' sender, with a delivery function that records
instead of sending and answers 403 for chats that blocked the bot); HR does its round at 10:00 and 16:00 on
working days (approves documents with the buttons it was sent, answers questions with /reply, marks the
withdrawals it heard of through the console's outcome path); then the candidates' own actions that fall in the
hour run in time order, each one an Event through the engine, as from Telegram.
"""

from __future__ import annotations

import csv
import heapq
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import col, select

from bot.app import build_engine, load_content
from bot.clock import FixedClock
from bot.cohorts import sync_cohorts
from bot.config import Settings
from bot.console.service import cohort_plan, mark, mark_cohort
from bot.documents.buttons import DocApprove, DocTask
from bot.engine.buttons import ButtonData, ButtonDataError, parse
from bot.engine.effects import Button, Effect, Message
from bot.engine.events import Event
from bot.faq.buttons import FaqVote
from bot.flows.buttons import FlowButton, StartFlow
from bot.hr.importer import import_candidates
from bot.hr.service import set_stage
from bot.learning.buttons import LearnButton
from bot.nudges.planner import WEEK, Calendar, PlannerCache, tick
from bot.outbox.local import LocalDelivery
from bot.outbox.store import due_rows
from bot.outbox.transport import Unreachable
from bot.privacy.buttons import PrivacyButton
from bot.simulate.model import Persona, draw_personas
from store.db import Database, upgrade
from store.models import Candidate, Outbox, Ticket

log = logging.getLogger(__name__)
USER_BASE = 700_000_000  # synthetic Telegram user ids: USER_BASE + index
HR_HOURS = (10, 16)
ACTOR = "simulate"
SNAPSHOT_HOUR = 23  # daily risk snapshot, company time
_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
        b"\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")


@dataclass
class Agent:
    """A persona's life in the run: bound or not, where they are in their lessons and tasks."""

    persona: Persona
    user_id: int
    training: date
    token: str = ""
    candidate_id: int | None = None
    bound: bool = False
    blocked: bool = False
    done: bool = False  # withdrawn, or trained: no more actions
    lessons_left: list[str] = field(default_factory=list)
    tasks_left: dict[str, date] = field(default_factory=dict)  # task id -> the day they get round to it
    pending_session: bool = False  # a session is already queued (a nudge brings them back at most once)


@dataclass
class Figures:
    replies: int = 0  # direct answers to candidates' and HR's own messages
    delivered: Counter[str] = field(default_factory=Counter)  # outbox deliveries per local day
    hourly: Counter[str] = field(default_factory=Counter)  # ... per local hour (the sender's busiest hour)
    events: int = 0
    questions: int = 0
    lessons_started: int = 0
    documents: int = 0
    withdrawal_messages: int = 0
    blocked_sends: int = 0
    ticks: int = 0
    timing: dict[str, float] = field(default_factory=lambda: defaultdict(float))


class Simulation:
    def __init__(self, settings: Settings, out: Path, *, candidates: int, days: int, seed: int, dropout: float,
                 start: date, risk: Any = None):
        self.settings, self.out = settings, out
        self.n, self.days, self.seed, self.dropout, self.start = candidates, days, seed, dropout, start
        self.tz = settings.tz
        self.risk = risk  # bot.simulate.riskhook.RiskHook or None (analytics not there)
        url = settings.database_url
        upgrade(url)
        self.db = Database(url)
        self.clock = FixedClock(self._at(start, 8))
        with self.db.session() as session:
            sync_cohorts(session, settings, self.clock.now())
        self.content = load_content(settings)
        if settings.env.secret_key is None:
            # Documents are sealed at rest and refused without a key: the throw-away database gets a key of its own
            # (synthetic people; the key is not kept).
            settings.env = settings.env.model_copy(update={"secret_key": SecretStr(f"simulation-{seed}")})
        self.engine = build_engine(settings, self.db, self.clock, self.content)
        self.delivery = LocalDelivery(self.db, settings, self.engine.ctx.texts, self.content.rules, self.clock,
                                      self._delivered)
        self.cache = PlannerCache()
        self.calendar = Calendar(settings)
        self.hr = min(settings.hr_admins) if settings.hr_admins else None
        self.hr_buttons: list[Button] = []
        self.fig = Figures()
        self.updates = count(1)
        self.seq = count()
        self.queue: list[tuple[datetime, int, int, str]] = []  # (when, seq, agent index, action)
        self.by_chat: dict[int, Agent] = {}
        self.faq = self._faq_examples()
        self.withdraw_lines = self._withdrawal_examples()
        self.lessons = self.content.library.lessons
        cohorts = [(c.id, c.department, c.training_date,
                    [r.id for r in settings.file.roles if r.department == c.department])
                   for c in cohorts_in_run(settings, start, days)]
        self.personas = draw_personas(seed, candidates, dropout, [c for c in cohorts if c[3]], start, days)
        self.agents = [Agent(p, USER_BASE + p.index, settings.cohorts[p.cohort].training_date)
                       for p in self.personas]
        for a in self.agents:
            self.by_chat[a.user_id] = a
        self.uploads = out / "uploads"
        self.uploads.mkdir(parents=True, exist_ok=True)

    # -- time --------------------------------------------------------------------------------------------------
    def _at(self, day: date, hour: float) -> datetime:
        whole = int(hour)
        minutes = int(round((hour - whole) * 60))
        local = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(hours=whole, minutes=minutes)
        return local.astimezone(UTC)

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()


    def _push(self, when: datetime, agent: Agent, action: str) -> None:
        heapq.heappush(self.queue, (when, next(self.seq), agent.persona.index, action))

    # -- content the candidates draw from ------------------------------------------------------------------------
    def _faq_examples(self) -> dict[str, list[str]]:
        data = yaml.safe_load(self.settings.content_path(self.settings.file.faq.file).read_text(encoding="utf-8"))
        out: dict[str, list[str]] = {"zh-CN": [], "en": []}
        for entry in data.get("faq", []):
            for q in entry.get("questions", []):
                out["en" if q.isascii() else "zh-CN"].append(str(q))
        return out

    def _withdrawal_examples(self) -> dict[str, list[str]]:
        path = self.settings.content_path(self.settings.file.faq.intents_file)
        data = yaml.safe_load(path.read_text(encoding="utf-8")).get("withdrawal", {})
        lines = [str(x) for x in data.get("examples", [])] or [str(x) for x in data.get("phrases", [])]
        return {"zh-CN": [x for x in lines if not x.isascii()] or lines,
                "en": [x for x in lines if x.isascii()] or lines}

    # -- the engine, as Telegram would call it ------------------------------------------------------------------
    def _handle(self, user_id: int, lang: str | None, **kw: Any) -> list[Effect]:
        event = Event(user_id=user_id, chat_id=user_id, update_id=next(self.updates), language_code=lang, **kw)
        effects = self.engine.handle(event)
        self.fig.events += 1
        self.fig.replies += sum(1 for e in effects if isinstance(e, Message))
        return effects

    def _text(self, a: Agent, text: str) -> list[Effect]:
        return self._handle(a.user_id, self._lang(a), **_text_kw(text))

    def _press(self, user_id: int, lang: str | None, button: Button) -> list[Effect]:
        return self._handle(user_id, lang, kind="button", payload=button.data, callback_id="cb")

    @staticmethod
    def _lang(a: Agent) -> str:
        return "en" if a.persona.locale == "en" else "zh-hans"

    def _delivered(self, message: Message) -> None:
        """The recording transport: what the sender would have sent, and to whom."""
        agent = self.by_chat.get(message.chat_id)
        if agent is not None and agent.blocked:
            self.fig.blocked_sends += 1
            raise Unreachable("Forbidden: bot was blocked by the user")
        local = self.clock.now().astimezone(self.tz)
        self.fig.delivered[local.date().isoformat()] += 1
        self.fig.hourly[local.strftime("%Y-%m-%d %H:00")] += 1
        if message.chat_id == self.hr and isinstance(message, Message):
            self.hr_buttons.extend(b for b, d in _typed([message]) if isinstance(d, DocApprove))
        elif agent is not None and not agent.done and agent.bound and not agent.pending_session:
            p = agent.persona
            today = self.clock.now().astimezone(self.tz).date()
            if p.rng.random() < p.answers_nudge(today, agent.training):
                agent.pending_session = True
                self._push(self.clock.now() + timedelta(minutes=p.rng.uniform(5, 180)), agent, "session")

    # -- the run ------------------------------------------------------------------------------------------------
    def run(self, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        began = time.perf_counter()
        for d in range(self.days):
            day = self.start + timedelta(days=d)
            self._plan_day(day)
            for hour in range(24):
                at = self._at(day, hour)
                self.clock.set(at)
                t0 = time.perf_counter()
                tick(self.db, self.settings, self.content.rules, at, self.cache)
                self.fig.ticks += 1
                t1 = time.perf_counter()
                if due_rows(self.db, at, not self.calendar.is_quiet(at), limit=1):  # else no event loop to start
                    self.delivery.run_due()
                t2 = time.perf_counter()
                self.fig.timing["planner"] += t1 - t0
                self.fig.timing["sender"] += t2 - t1
                if hour in HR_HOURS and day.weekday() < 5:
                    self._hr_round(day)
                if hour == 17:
                    self._training(day)
                self._run_until(at + timedelta(hours=1))
                self.fig.timing["candidates"] += time.perf_counter() - t2
                if hour == SNAPSHOT_HOUR and self.risk is not None:
                    t3 = time.perf_counter()
                    self.risk.snapshot(self, day, self._at(day, 23.99))
                    self.fig.timing["risk_snapshots"] += time.perf_counter() - t3
            if progress is not None:
                progress(d + 1)
        self.clock.set(self._at(self.start + timedelta(days=self.days), 0))
        self.delivery.run_due()
        if not any(self.uploads.iterdir()):
            self.uploads.rmdir()  # each photo sent was moved into the documents folder (DIR/files)
        self.fig.timing["total"] = time.perf_counter() - began
        return self.summary()

    def _plan_day(self, day: date) -> None:
        arrivals = [a for a in self.agents if a.persona.arrival == day]
        if arrivals:
            self._import(day, arrivals)
        for a in self.agents:
            p = a.persona
            if a.done or not a.bound or day >= a.training:
                continue
            if p.decide is not None and day >= p.decide:
                if day == p.decide:
                    self._push(self._at(day, self._hour(p)), a, "leave")
                continue
            for task, when in list(a.tasks_left.items()):
                if when <= day:
                    self._push(self._at(day, self._hour(p)), a, "task:" + task)
            if p.rng.random() < p.session_chance(day, a.training):
                self._push(self._at(day, self._hour(p)), a, "session")

    @staticmethod
    def _hour(p: Persona) -> float:
        return min(23.9, max(7.0, p.rng.gauss(p.hour, 1.5)))

    def _import(self, day: date, arrivals: list[Agent]) -> None:
        """HR imports the day's new candidates from a spreadsheet (the real importer) at 09:00."""
        self.clock.set(self._at(day, 9))
        sheet = self.out / "import.csv"
        with sheet.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["name", "phone", "role", "department", "cohort", "stage", "language"])
            for a in arrivals:
                p = a.persona
                name = f"Candidate {p.index + 1}" if p.locale == "en" else f"候选人{p.index + 1}"
                w.writerow([name, f"+86139{p.index:08d}", p.role, p.department, p.cohort, "waiting_training",
                            p.locale])
        result = import_candidates(self.db, self.settings, sheet, self.clock.now(), actor=ACTOR)
        by_phone = {r.phone: r for r in result.links}
        for a in arrivals:
            row = by_phone[f"+86139{a.persona.index:08d}"]
            a.candidate_id, a.token = row.candidate_id, row.link.rsplit("=", 1)[1]
            if a.persona.bind_delay_hours is not None:
                self._push(self.clock.now() + timedelta(hours=a.persona.bind_delay_hours), a, "bind")
        sheet.unlink()

    def _run_until(self, until: datetime) -> None:
        while self.queue and self.queue[0][0] < until:
            when, _, index, action = heapq.heappop(self.queue)
            self.clock.set(when)
            self._act(self.agents[index], action)

    # -- what a candidate does ----------------------------------------------------------------------------------
    def _act(self, a: Agent, action: str) -> None:
        p = a.persona
        today = self.clock.now().astimezone(self.tz).date()
        if a.done or today >= a.training:
            return
        if action == "bind" and p.decide is not None and today >= p.decide:
            return  # lost interest before opening the link
        if action == "bind":
            self._text(a, f"/start {a.token}")
            a.bound = True
            a.lessons_left = [lid for lid, lesson in self.lessons.items() if lesson.suits(p.role)]
            for task in self.settings.file.tasks:
                if task.applies_to(p.role) and (task.document or task.id == "shoe_size"):
                    deadline = a.training + task.due_offset
                    lead = round(p.rng.gauss(6 * p.diligence, 3))
                    a.tasks_left[task.id] = max(today, deadline - timedelta(days=lead))
            return
        if p.decide is not None and today >= p.decide and action != "leave":
            return
        if action == "leave":
            a.done = True
            if p.says_why:
                self.fig.withdrawal_messages += 1
                self._text(a, p.rng.choice(self.withdraw_lines[p.locale]))
            elif p.blocks:
                a.blocked = True
            return
        if action.startswith("task:"):
            task_id = action.removeprefix("task:")
            if task_id in a.tasks_left:
                self._task(a, task_id)
            return
        a.pending_session = False
        self._session(a)

    def _session(self, a: Agent) -> None:
        p = a.persona
        did = False
        if a.lessons_left and p.rng.random() < 0.55:
            self._lesson(a, a.lessons_left[0])
            did = True
        if p.rng.random() < 0.35 * p.chattiness:
            self._question(a)
            did = True
        if not did or p.rng.random() < 0.3:
            self._later()
            self._text(a, "/status")

    def _later(self, seconds: int = 20) -> None:
        self.clock.set(self.clock.now() + timedelta(seconds=seconds))

    def _question(self, a: Agent) -> None:
        p = a.persona
        self.fig.questions += 1
        self._later()
        effects = self._text(a, p.rng.choice(self.faq[p.locale] or self.faq["zh-CN"]))
        votes = [(b, d) for b, d in _typed(effects) if isinstance(d, FaqVote)]
        if votes and p.rng.random() < 0.15:
            want = "down" if p.rng.random() < 0.25 else "up"
            for b, data in votes:
                if data.value == want:
                    self._later()
                    self._press(a.user_id, self._lang(a), b)

    def _lesson(self, a: Agent, lesson_id: str) -> None:
        p = a.persona
        self.fig.lessons_started += 1
        lesson = self.lessons[lesson_id]
        answers = [q.answer for q in lesson.quiz]
        self._later()
        effects = self._press(a.user_id, self._lang(a), LearnButton("start", lesson_id).button("-"))
        asked = 0
        for _ in range(40):  # parts, questions, the result: a lesson is a few dozen taps at most
            typed = _typed(effects)
            flow = [(b, d) for b, d in typed if isinstance(d, FlowButton)]
            if flow and flow[0][1].choice == "next":
                self._later(30)
                effects = self._press(a.user_id, self._lang(a), flow[0][0])
                continue
            if flow and all(d.choice.isdigit() for _, d in flow):
                right = answers[asked % len(answers)] if answers else 0
                asked += 1
                if p.rng.random() < p.quiz_right():
                    pick = next((b for b, d in flow if d.choice == str(right)), flow[0][0])
                else:
                    wrong = [b for b, d in flow if d.choice != str(right)]
                    pick = p.rng.choice(wrong) if wrong else flow[0][0]
                self._later()
                effects = self._press(a.user_id, self._lang(a), pick)
                continue
            retry = [b for b, d in typed if isinstance(d, LearnButton) and d.action == "quiz"]
            if retry and p.rng.random() < 0.5 * p.engagement(self._today(), a.training):
                asked = 0
                self._later(60)
                effects = self._press(a.user_id, self._lang(a), retry[0])
                continue
            break
        if not any(isinstance(d, LearnButton) and d.action == "quiz" for _, d in _typed(effects)):
            a.lessons_left.remove(lesson_id)  # passed (a failed quiz they gave up on stays to do later)

    def _today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def _task(self, a: Agent, task: str) -> None:
        p = a.persona
        if task == "shoe_size":
            effects = self._press(a.user_id, self._lang(a), StartFlow("shoe_size").button("-"))
            self._later()
            effects = self._text(a, str(p.rng.randint(37, 45)))
            yes = [b for b, d in _typed(effects) if isinstance(d, FlowButton)]
            if yes:
                self._later()
                self._press(a.user_id, self._lang(a), yes[0])
            del a.tasks_left[task]
            return
        self.fig.documents += 1
        path = self.uploads / f"{a.persona.index}-{task}.png"
        path.write_bytes(_PNG)
        effects = self._send_photo(a, path)
        accept = [b for b, d in _typed(effects) if isinstance(d, PrivacyButton) and d.action == "accept"]
        if accept:  # the privacy notice comes first (nothing was kept): they accept it and send the photo again
            self._later()
            self._press(a.user_id, self._lang(a), accept[0])
            path.write_bytes(_PNG)
            self._later()
            effects = self._send_photo(a, path)
        pick = [b for b, d in _typed(effects) if isinstance(d, DocTask) and d.task == task]
        if pick:
            self._later()
            self._press(a.user_id, self._lang(a), pick[0])
        path.unlink(missing_ok=True)
        del a.tasks_left[task]

    def _send_photo(self, a: Agent, path: Path) -> list[Effect]:
        return self._handle(a.user_id, self._lang(a), kind="file", file_kind="photo", file_id=f"sim-{path.stem}",
                            mime_type="image/png", file_size=len(_PNG), file_path=str(path))

    # -- HR -----------------------------------------------------------------------------------------------------
    def _hr_round(self, day: date) -> None:
        """HR's round: documents approved with the buttons HR was sent, questions answered with /reply,
        withdrawals HR heard of marked through the console's outcome path (the card's "mark withdrawn")."""
        if self.hr is not None:
            buttons, self.hr_buttons = self.hr_buttons, []
            for b in buttons:
                self._later(30)
                self._press(self.hr, "zh-hans", b)
            with self.db.session() as session:
                open_questions = list(session.exec(select(Ticket.id).where(
                    Ticket.kind == "question", Ticket.status == "open").order_by(col(Ticket.id))).all())
            for tid in open_questions:
                self._later(30)
                self._handle(self.hr, "zh-hans", **_text_kw(f"/reply {tid} 收到,我们会尽快跟进,有问题随时联系。"))
        with self.db.session() as session:
            said = session.exec(select(Ticket.candidate_id).where(Ticket.kind == "withdrawal")).all()
            for cid in sorted(set(said)):
                cand = session.get(Candidate, cid)
                if cand is None or cand.outcome is not None:
                    continue
                agent = self.agents[int(cand.phone[-8:])]
                if not agent.persona.withdraws:
                    continue  # a false alarm: HR calls, the candidate stays
                mark(session, self.settings, cand, "withdrawn", agent.persona.reason, self._hr_actor(),
                     self.clock.now())
            session.commit()

    def _hr_actor(self) -> str:
        return f"telegram:{self.hr}" if self.hr is not None else "cli"

    def _training(self, day: date) -> None:
        """Training day: who came is marked attended (the cohort, except the no-shows), the rest withdrawn."""
        for cohort in self.settings.file.cohorts:
            if cohort.training_date != day:
                continue
            members = [a for a in self.agents if a.persona.cohort == cohort.id and a.candidate_id is not None]
            if not members:
                continue
            with self.db.session() as session:
                no_show = {a.candidate_id for a in members if a.persona.withdraws}
                plan = cohort_plan(session, cohort.id, {c for c in no_show if c is not None}, None)
                mark_cohort(session, self.settings, plan, self._hr_actor(), self.clock.now())
                if "training" in self.settings.stages:
                    for cand in plan.to_mark:
                        set_stage(session, self.settings, cand, "training", self._hr_actor(), self.clock.now())
                for cand in plan.excepted:
                    if cand.outcome is None:
                        mark(session, self.settings, cand, "withdrawn", "no_show", self._hr_actor(),
                             self.clock.now())
                session.commit()
            for a in members:
                a.done = True

    # -- figures ------------------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        s = self.settings
        with self.db.session() as session:
            outcomes = Counter(session.exec(select(Candidate.outcome)).all())
            sent_rows = session.exec(select(Outbox.kind, func.count()).where(Outbox.status == "sent")
                                     .group_by(Outbox.kind)).all()
            nudges = session.exec(select(Outbox.candidate_id, Outbox.planned_at, Outbox.sent_at).where(
                Outbox.kind == "nudge", Outbox.status == "sent")).all()
            skipped = Counter(str(r).split(":")[0] for r in session.exec(select(Outbox.reason).where(
                Outbox.kind == "nudge", Outbox.status == "skipped")).all())
            funnel = self._funnel(session)
        by_kind = {k: int(n) for k, n in sent_rows}
        delivered = sum(self.fig.delivered.values())
        per_day = [int(self.fig.delivered.get((self.start + timedelta(days=d)).isoformat(), 0))
                   for d in range(self.days)]
        peak = max(per_day, default=0)
        return {
            "candidates": self.n,
            "days": self.days,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "dropout_target": self.dropout,
            "withdrawn": outcomes.get("withdrawn", 0),
            "attended": outcomes.get("attended", 0),
            "undecided": outcomes.get(None, 0),
            "messages_sent": self.fig.replies + delivered,
            "messages": {"replies": self.fig.replies, "outbox_sent": delivered, "outbox_by_kind": by_kind,
                         "blocked_attempts": self.fig.blocked_sends},
            "funnel": funnel,
            "activity": {"events": self.fig.events, "questions": self.fig.questions,
                         "lessons_started": self.fig.lessons_started, "documents": self.fig.documents,
                         "withdrawal_messages": self.fig.withdrawal_messages},
            "nudges": _nudge_figures(list(nudges), s.file.nudges.max_per_week, self.tz, skipped),
            "sender_load": {"per_day": per_day, "peak_day": peak,
                            "peak_day_date": (self.start + timedelta(days=per_day.index(peak))).isoformat()
                            if peak else None,
                            "mean_per_day": round(sum(per_day) / max(1, len(per_day)), 1),
                            "peak_hour": max(self.fig.hourly.values(), default=0),
                            "peak_hour_at": min((h for h, n in self.fig.hourly.items()
                                                 if n == max(self.fig.hourly.values())), default=None)},
            "risk": self.risk.figures(self) if self.risk is not None else
            {"auc": None, "top_decile_lift": None, "note": "bot.analytics.risk is not available in this build"},
        }

    def _funnel(self, session: Any) -> dict[str, int]:
        from store.models import CandidateTask, LessonProgress

        invited = session.exec(select(func.count()).select_from(Candidate)).one()
        started = session.exec(select(func.count()).select_from(Candidate).where(
            col(Candidate.bound_at).is_not(None))).one()
        doc_tasks = {t.id for t in self.settings.file.tasks if t.document}
        need: dict[int, int] = {}
        for cid, role in session.exec(select(Candidate.id, Candidate.role)).all():
            need[cid] = sum(1 for t in self.settings.file.tasks if t.id in doc_tasks and t.applies_to(role))
        done: Counter[int] = Counter(cid for cid, task in session.exec(
            select(CandidateTask.candidate_id, CandidateTask.task_id).where(
                col(CandidateTask.status).in_(("submitted", "done")))).all() if task in doc_tasks)
        passed: Counter[int] = Counter(session.exec(select(LessonProgress.candidate_id).where(
            col(LessonProgress.passed_at).is_not(None))).all())
        lessons_for: dict[int, int] = {}
        for cid, role in session.exec(select(Candidate.id, Candidate.role)).all():
            lessons_for[cid] = sum(1 for lesson in self.lessons.values() if lesson.suits(role))
        return {
            "invited": int(invited),
            "started_bot": int(started),
            "documents_done": sum(1 for cid, n in need.items() if n and done[cid] >= n),
            "first_lesson": sum(1 for cid in passed if passed[cid] >= 1),
            "all_lessons": sum(1 for cid, n in lessons_for.items() if n and passed[cid] >= n),
            "attended": int(session.exec(select(func.count()).select_from(Candidate).where(
                Candidate.outcome == "attended")).one()),
            "withdrawn": int(session.exec(select(func.count()).select_from(Candidate).where(
                Candidate.outcome == "withdrawn")).one()),
        }


def cohorts_in_run(settings: Settings, start: date, days: int) -> list[Any]:
    """The cohorts candidates of the run can belong to: training after the first day, and arrivals (7-35 days
    before training) possible within the run. A cohort training after the last day gives leavers but no
    attendees."""
    last = start + timedelta(days=days - 1)
    return [c for c in settings.file.cohorts
            if c.training_date > start and c.training_date - timedelta(days=35) <= last]


def _text_kw(text: str) -> dict[str, Any]:
    ev = Event.parse_text(text, user_id=0, chat_id=0)
    return {"kind": ev.kind, "text": ev.text, "command": ev.command, "args": ev.args}


def _typed(effects: list[Effect] | list[Message]) -> list[tuple[Button, ButtonData]]:
    """The buttons under the messages, with their typed data (what a person could tap)."""
    out: list[tuple[Button, ButtonData]] = []
    for e in effects:
        for row in getattr(e, "buttons", ()) or ():
            for b in row:
                if b.data:
                    try:
                        out.append((b, parse(b.data)))
                    except ButtonDataError:
                        continue
    return out


def _nudge_figures(rows: list[tuple[int | None, datetime, datetime | None]], cap: int, tz: Any,
                   skipped: Counter[str]) -> dict[str, Any]:
    """Nudges per candidate per week, and the largest number any candidate got in any rolling 7 days (by when
    each was decided, which is what the policy counts, and by when it was sent)."""
    planned: dict[int, list[datetime]] = defaultdict(list)
    sent: dict[int, list[datetime]] = defaultdict(list)
    for cid, p_at, s_at in rows:
        if cid is None:
            continue
        planned[cid].append(_aware(p_at))
        if s_at is not None:
            sent[cid].append(_aware(s_at))
    weekly: Counter[int] = Counter()  # calendar weeks (Mon-Sun, company time) with k nudges, over candidates
    for times in sent.values():
        per_week = Counter(t.astimezone(tz).isocalendar()[:2] for t in times)
        weekly.update(per_week.values())
    max_planned = max((_max_window(t) for t in planned.values()), default=0)
    max_sent = max((_max_window(t) for t in sent.values()), default=0)
    total = sum(len(t) for t in sent.values())
    return {"sent": total, "candidates_nudged": len(sent), "cap_per_7_days": cap,
            "max_in_any_7_days": max_planned, "max_in_any_7_days_by_send_time": max_sent,
            "within_cap": max_planned <= cap,
            "calendar_weeks_with_n_nudges": {str(k): v for k, v in sorted(weekly.items())},
            "skipped": dict(sorted(skipped.items()))}


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _max_window(times: list[datetime]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - WEEK:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def write_summary(summary: dict[str, Any], out: Path) -> Path:
    path = out / "summary.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path

