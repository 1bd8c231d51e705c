"""Runs flows for a candidate: one step after another until a step waits for them, state in the database.

A session row remembers the flow, the step waiting for an answer, the flow's variables and the flows that
`call`ed this one. Each move bumps a version that travels in the buttons, so a tap on an old message is
recognised.

Other capabilities extend the runner where the app wires them up, so flows import none of them: step kinds
(learning's quiz questions and results, in the flows it generates from lessons), named actions (award_points),
where `save_to: <scope>.<field>` goes (profile), and values flow texts can use (points, profile).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import select

from bot.engine.core import Turn
from bot.engine.effects import Button
from bot.flows.buttons import FlowButton
from bot.flows.model import Flow, FlowLibrary, L10n, Step
from bot.i18n import template_environment
from bot.inputs import parse as parse_input
from bot.status.service import set_task_status, template_values
from store.models import FlowSession

log = logging.getLogger(__name__)
_FLOWS = FlowSession.__table__  # type: ignore[attr-defined]
_PAUSE = (update(_FLOWS).where(_FLOWS.c.candidate_id == bindparam("cid"), _FLOWS.c.status == "active")
          .values(status="paused"))
_ACTIVE = select(_FLOWS.c.id).where(_FLOWS.c.candidate_id == bindparam("cid"), _FLOWS.c.status == "active")
MAX_AUTO_STEPS = 50  # steps run in one turn without waiting: a guard against a goto loop


@dataclass
class _Run:
    """The state of one turn's work on a session."""

    turn: Turn
    row: FlowSession
    vars: dict[str, Any]
    stack: list[list[str]]
    context: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


FlowRun = _Run  # what the step kinds and actions other capabilities add are handed


class StepKind:
    """A step kind another capability adds. One that ``waits`` is shown (present) and answered with a button
    (on_button); one that does not runs once (run) and ends its flow quietly: it has said the last word."""

    waits = False

    def present(self, run: FlowRun, flow: Flow, step: Step) -> None:
        raise NotImplementedError

    def on_button(self, run: FlowRun, flow: Flow, step: Step, choice: str) -> None:
        raise NotImplementedError

    def run(self, run: FlowRun, step: Step) -> None:
        raise NotImplementedError


Action = Callable[[FlowRun, Flow, Step], None]  # a named action for `do:` another capability provides
FieldStore = Callable[[Turn, str, str], None]  # saves (turn, field, value) for save_to: <scope>.<field>
ContextValue = Callable[[Turn], Any]  # a value flow texts can use, for the candidate of the turn


class FlowRunner:
    def __init__(self, library: FlowLibrary | Callable[[], FlowLibrary],
                 main_menu: Callable[[str], tuple[tuple[Button, ...], ...]]):
        # The library may change while the bot runs (bot.live): a function gives the current one.
        self._library: Callable[[], FlowLibrary] = library if callable(library) else (lambda: library)
        self.main_menu = main_menu
        # Flows others generate from the library (lesson:<id>, quiz:<id>), made again for each new library.
        self.generators: list[Callable[[FlowLibrary], list[Flow]]] = []
        self._flows: tuple[FlowLibrary, dict[str, Flow]] | None = None
        self.step_kinds: dict[str, StepKind] = {}
        self.actions: dict[str, Action] = {}
        self.stores: dict[str, FieldStore] = {}  # scope -> store; `vars` is the flow's own
        # Asked before a flow starts (flow, step_id, only); False: not now (the gate said why, e.g. consent).
        self.gates: list[Callable[[Turn, Flow, str | None, bool], bool]] = []
        self.context_values: dict[str, ContextValue] = {}
        self.env = template_environment()
        self._compiled: dict[str, Any] = {}

    @property
    def library(self) -> FlowLibrary:
        return self._library()

    @property
    def flows(self) -> dict[str, Flow]:
        """The library's flows and the generated ones, of the current version."""
        library = self._library()
        cached = self._flows
        if cached is None or cached[0] is not library:
            flows = dict(library.flows)
            for generate in self.generators:
                flows.update((f.id, f) for f in generate(library))
            cached = self._flows = (library, flows)
        return cached[1]

    # -- entry points -------------------------------------------------------------------------------------------
    def active(self, turn: Turn) -> FlowSession | None:
        assert turn.candidate is not None
        # Asked for every typed line, and mostly the answer is "none": a core query first, the row only if any.
        found = turn.session.execute(_ACTIVE, {"cid": turn.candidate.id}).scalar()
        return turn.session.get(FlowSession, found) if found is not None else None

    def pause(self, turn: Turn) -> int:
        """Leave whatever flow is active (a command or menu tap): it can be resumed later."""
        assert turn.candidate is not None
        # Runs for every command and menu tap: a core statement built once, not an ORM bulk update (which
        # cost 0.4 ms a message); start() reads the row afresh, so nothing relies on the identity map here.
        done = turn.session.execute(_PAUSE, {"cid": turn.candidate.id})
        return int(done.rowcount)  # type: ignore[attr-defined]

    def start(self, turn: Turn, flow_id: str, step_id: str | None = None, only: bool = False,
              fresh: bool = False) -> None:
        """Start a flow, or resume it where the candidate left it. ``only``: run just ``step_id`` (editing one
        profile field), then stop. ``fresh``: start over even if a paused session exists."""
        assert turn.candidate is not None and turn.candidate.id is not None
        flow = self.flows[flow_id]
        if not all(gate(turn, flow, step_id, only) for gate in self.gates):
            return
        self.pause(turn)
        row = turn.session.exec(select(FlowSession).where(FlowSession.candidate_id == turn.candidate.id,
                                                          FlowSession.flow_id == flow_id)
                                .execution_options(populate_existing=True)).first()
        now = turn.ctx.clock.now()
        resume = row is not None and row.status == "paused" and not fresh and step_id is None
        if row is None:
            row = FlowSession(candidate_id=turn.candidate.id, flow_id=flow_id, step_id="", status="active",
                              started_at=now, updated_at=now)
        row.status = "active"
        if resume:
            run = _Run(turn, row, json.loads(row.vars), json.loads(row.stack))
            if row.step_id in self.flows.get(row.flow_id, flow).by_id:
                turn.say(turn.t("flow_resumed", title=self._flow_title(row.flow_id, turn.locale)))
                self._present(run, self.flows[row.flow_id], self.flows[row.flow_id].by_id[row.step_id])
                self._save(run)
                return
        first = step_id or flow.steps[0].id
        row.flow_id, row.started_at = flow_id, now
        run = _Run(turn, row, {"_only": first} if only else {}, [])
        self._go(run, flow, first)

    def on_text(self, turn: Turn, row: FlowSession) -> None:
        run = self._load(turn, row)
        if run is None:
            return
        flow, step = run.extra["flow"], run.extra["step"]
        text = (turn.event.text or "").strip()
        if step.kind == "ask" and not step.choices:
            value, error = self._validate(step, text)
            if error:
                turn.say(self._l10n(run, step.retry) if step.retry else turn.t(error))
                self._present(run, flow, step)
                self._save(run)
                return
            if not self._store(run, step, value):
                return
            self._advance(run, flow, step)
            return
        # A button is expected: say so and show the buttons again.
        turn.say(turn.t("flow_use_buttons"))
        self._present(run, flow, step)
        self._save(run)

    def on_file(self, turn: Turn, row: FlowSession) -> None:
        run = self._load(turn, row)
        if run is None:
            return
        turn.say(turn.t("flow_file_not_expected"))
        self._present(run, run.extra["flow"], run.extra["step"])
        self._save(run)

    def on_button(self, turn: Turn, data: FlowButton) -> None:
        assert turn.candidate is not None
        row = turn.session.get(FlowSession, data.session)
        if row is None or row.candidate_id != turn.candidate.id or row.status == "done":
            turn.say(turn.t("flow_stale_button"))
            return
        if row.version != data.version:
            turn.say(turn.t("flow_stale_button"))
            if row.status == "active":
                run = self._load(turn, row)
                if run is not None:
                    self._present(run, run.extra["flow"], run.extra["step"])
                    self._save(run)
            return
        if row.status == "paused":
            self.pause(turn)
            row.status = "active"
        run = self._load(turn, row)
        if run is None:
            return
        flow, step, choice = run.extra["flow"], run.extra["step"], data.choice
        if step.kind == "say":
            self._advance(run, flow, step)
        elif step.kind == "ask":
            picked = next((c for c in step.choices if c.id == choice), None)
            if picked is None:
                self._present(run, flow, step)
                self._save(run)
                return
            if not self._store(run, step, picked.id):
                return
            self._advance(run, flow, step, picked.goto)
        elif step.kind in self.step_kinds:
            self.step_kinds[step.kind].on_button(run, flow, step, choice)

    # -- running ------------------------------------------------------------------------------------------------
    def _load(self, turn: Turn, row: FlowSession) -> _Run | None:
        """The session's flow and step; a step that vanished in an edit restarts the flow with an apology."""
        run = _Run(turn, row, json.loads(row.vars), json.loads(row.stack))
        flow = self.flows.get(row.flow_id)
        if flow is None or row.step_id not in flow.by_id:
            log.warning("flow session %s: %s/%s no longer exists; restarting", row.id, row.flow_id, row.step_id)
            turn.say(turn.t("flow_restarted"))
            root = run.stack[0][0] if run.stack else row.flow_id
            if root not in self.flows:
                row.status = "done"
                turn.session.add(row)
                return None
            run.stack, run.vars = [], {}
            row.flow_id = root
            self._go(run, self.flows[root], self.flows[root].steps[0].id)
            return None
        run.extra["flow"], run.extra["step"] = flow, flow.by_id[row.step_id]
        return run

    def _advance(self, run: _Run, flow: Flow, step: Step, goto: str | None = None) -> None:
        only = run.vars.get("_only")
        if only and only == step.id:
            self._finish(run, flow, final=True, quiet=True)
            run.turn.say(run.turn.t("flow_saved"), buttons=self._menu(run.turn))
            return
        self._go(run, flow, goto or flow.after(step))

    def _go(self, run: _Run, flow: Flow, step_id: str | None) -> None:
        turn = run.turn
        for _ in range(MAX_AUTO_STEPS):
            step = flow.by_id.get(step_id) if step_id else None
            if step is None:  # fell off the end
                parent = self._finish(run, flow)
                if parent is None:
                    return
                flow, step_id = parent, run.extra.pop("resume_at")
                continue
            kind = step.kind
            added = self.step_kinds.get(kind)
            if kind == "ask" or (kind == "say" and step.wait) or (added is not None and added.waits):
                run.row.flow_id, run.row.step_id = flow.id, step.id
                self._present(run, flow, step)
                self._save(run)
                return
            if kind == "say":
                self._say(run, step)
                step_id = flow.after(step)
            elif kind in ("lesson", "quiz", "call"):
                run.stack.append([flow.id, flow.after(step) or ""])
                target = f"{kind}:{step.target}" if kind != "call" else str(step.target)
                flow = self.flows[target]
                step_id = flow.steps[0].id
            elif kind == "branch":
                step_id = self._branch(run, step)
            elif kind == "do":
                switched = self._action(run, flow, step)
                if switched is not None:
                    flow, step_id = switched, switched.steps[0].id
                else:
                    step_id = flow.after(step)
            elif kind == "goto":
                step_id = step.target
            elif kind == "end":
                if step.text:
                    turn.say(self._l10n(run, step.text))
                parent = self._finish(run, flow)
                if parent is None:
                    return
                flow, step_id = parent, run.extra.pop("resume_at")
            elif added is not None:
                added.run(run, step)
                parent = self._finish(run, flow, quiet=True)
                if parent is None:
                    return
                flow, step_id = parent, run.extra.pop("resume_at")
        log.error("flow %s ran %d steps without waiting; stopped (a goto loop?)", flow.id, MAX_AUTO_STEPS)
        turn.say(turn.t("error_generic"))
        run.row.status = "done"
        self._save(run)

    def _finish(self, run: _Run, flow: Flow, final: bool = False, quiet: bool = False) -> Flow | None:
        """The flow is over: back to the flow that called it, or the session is done."""
        if run.stack and not final:
            parent, resume_at = run.stack.pop()
            run.extra["resume_at"] = resume_at or None
            return self.flows[parent]
        run.row.status = "done"
        run.row.step_id = ""
        self._save(run)
        if not quiet:
            run.turn.say(run.turn.t("flow_done"), buttons=self._menu(run.turn))
        return None

    # -- steps ----------------------------------------------------------------------------------------------
    def _present(self, run: _Run, flow: Flow, step: Step) -> None:
        turn = run.turn
        if step.kind == "say":
            self._say(run, step, buttons=((self._button(run, turn.t("flow_next_button"), "next"),),))
        elif step.kind == "ask":
            buttons = tuple((self._button(run, self._l10n(run, c.text), c.id),) for c in step.choices)
            turn.say(self._l10n(run, step.text), buttons=buttons)
        elif step.kind in self.step_kinds:
            self.step_kinds[step.kind].present(run, flow, step)

    def _say(self, run: _Run, step: Step, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        turn = run.turn
        content = turn.ctx.settings.content_dir
        text = self._l10n(run, step.text) if step.text else None
        video, link, caption = step.args.get("video"), step.args.get("link"), step.args.get("caption")
        if step.image:
            turn.media("photo", str(content / step.image), caption[turn.locale] if caption else None)
        if video:
            turn.media("video", str(content / video), caption[turn.locale] if caption else None)
        if link:
            text = (text + "\n" if text else "") + (caption[turn.locale] + " " if caption else "") + link
        if text is None:
            text = turn.t("flow_continue_prompt")
        turn.say(text, buttons=buttons)

    def _button(self, run: _Run, text: str, choice: str) -> Button:
        """Button data names the session and the version it will have once this step is saved."""
        if run.row.id is None:
            run.turn.session.add(run.row)
            run.turn.session.flush()
        assert run.row.id is not None
        return FlowButton(run.row.id, run.row.version + 1, choice).button(text)

    def _save(self, run: _Run) -> None:
        row = run.row
        row.vars = json.dumps(run.vars, ensure_ascii=False)
        row.stack = json.dumps(run.stack)
        row.version += 1
        row.updated_at = run.turn.ctx.clock.now()
        run.turn.session.add(row)

    def _branch(self, run: _Run, step: Step) -> str | None:
        ctx = self._context(run)
        for expr, target in step.cases:
            fn = self._compiled.get(expr)
            if fn is None:
                fn = self._compiled[expr] = self.env.compile_expression(expr)
            if fn(**ctx):
                return target
        return step.otherwise

    def _validate(self, step: Step, text: str) -> tuple[str, str | None]:
        """(value to store, error text key or None)."""
        kind = step.input_type
        value = parse_input(kind, text) if text else None
        if value is None:
            return "", f"flow_invalid_{kind}"
        text = value
        if step.min_length is not None and len(text) < step.min_length:
            return "", "flow_invalid_text"
        if step.max_length is not None and len(text) > step.max_length:
            return "", "flow_invalid_text"
        if step.regex and not re.fullmatch(step.regex, text):
            return "", "flow_invalid_text"
        return text, None

    def _store(self, run: _Run, step: Step, value: str) -> bool:
        if not step.save_to:
            return True
        return self._set(run, step.save_to, value)

    def _set(self, run: _Run, target: str, value: Any) -> bool:
        turn = run.turn
        scope, name = target.split(".", 1)
        if scope == "vars":
            run.vars[name] = value
            return True
        self.stores[scope](turn, name, str(value))
        run.context = None
        return True

    def _action(self, run: _Run, flow: Flow, step: Step) -> Flow | None:
        turn = run.turn
        cand = turn.candidate
        assert cand is not None and cand.id is not None
        now = turn.ctx.clock.now()
        name, args = step.target, step.args
        if name in self.actions:  # one another capability provides (learning: award_points)
            self.actions[name](run, flow, step)
        elif name == "set_field":
            self._set(run, str(args["field"]), args["value"])
        elif name == "complete_task":
            set_task_status(turn.session, cand.id, str(args["task"]), "done", now)
        elif name == "notify_hr":
            turn.ctx.hr.tell(turn, cand, "flow_hr_notice", lambda loc: {
                "name": cand.name, "candidate_id": cand.id, "text": self._l10n(run, args["text"], loc)})
        elif name == "start_flow":
            run.stack = []
            return self.flows[str(args["flow"])]
        return None

    # -- for the step kinds and actions other capabilities add --------------------------------------------------
    def button(self, run: FlowRun, text: str, choice: str) -> Button:
        """A button answering the step ``run`` waits at."""
        return self._button(run, text, choice)

    def show_again(self, run: FlowRun, flow: Flow, step: Step) -> None:
        """Show the step again (an answer it cannot take) and keep waiting."""
        self._present(run, flow, step)
        self._save(run)

    def advance(self, run: FlowRun, flow: Flow, step: Step) -> None:
        """The step is answered: on to the next one."""
        self._advance(run, flow, step)

    # -- texts ----------------------------------------------------------------------------------------------
    def _l10n(self, run: _Run, text: L10n | None, locale: str | None = None) -> str:
        if not text:
            return ""
        source = text[locale or run.turn.locale]
        if "{" not in source:
            return source
        tpl = self._compiled.get(source)
        if tpl is None:
            tpl = self._compiled[source] = self.env.from_string(source)
        return str(tpl.render(**self._context(run))).strip()

    def _context(self, run: _Run) -> dict[str, Any]:
        if run.context is None:
            turn = run.turn
            cand = turn.candidate
            assert cand is not None and cand.id is not None
            run.context = {
                **template_values(turn.ctx.settings, turn.ctx.texts, turn.session, cand, turn.ctx.clock.now(),
                                  turn.locale),
                **{name: value(turn) for name, value in self.context_values.items()},
            }
        return {**run.context, "vars": run.vars}

    def _flow_title(self, flow_id: str, locale: str) -> str:
        flow = self.flows.get(flow_id)
        return flow.title[locale] if flow else flow_id

    def _menu(self, turn: Turn) -> tuple[tuple[Button, ...], ...]:
        return self.main_menu(turn.locale)

