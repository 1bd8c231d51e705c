"""Loading flows/*.yaml.

Every problem in every file is reported at once as FILE:LINE:COL: what is wrong, with "did you mean" for
mistyped step ids, action names, fields and keys (after Rasa's flow validation: one check per rule). Lessons are
learning's: the loader is told which lesson ids exist, to check `lesson:` and `quiz:` steps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.engine.buttons import MAX_BYTES
from bot.flows.actions import ACTIONS
from bot.flows.buttons import WIDEST_SESSION, WIDEST_VERSION, FlowButton
from bot.flows.checker import ID_RE, Checker, load_doc
from bot.flows.model import PROFILE_FIELDS, STEP_KINDS, Choice, Flow, Step
from bot.inputs import INPUT_TYPES
from bot.yamlsrc import Path_, Problem, SourceDoc, did_you_mean

STEP_KEYS = {
    "say": {"image", "wait", "next"},
    "ask": {"next"},
    "lesson": {"next"},
    "quiz": {"next"},
    "branch": set(),
    "do": {"with", "next"},
    "goto": set(),
    "call": {"next"},
    "end": set(),
}
ASK_KEYS = ("text", "buttons", "type", "regex", "min_length", "max_length", "retry", "save_to")


class _FlowChecker(Checker):
    def __init__(self, doc: SourceDoc, settings: Settings, problems: list[Problem], lesson_ids: set[str]):
        super().__init__(doc, settings, problems)
        self.lesson_ids = lesson_ids
        self.calls: list[tuple[Path_, str]] = []  # checked once every flow is known

    def flow(self) -> Flow | None:
        data = self.doc.data
        if not isinstance(data, dict) or not isinstance(data.get("flow"), dict):
            self.bad((), "a flow file must start with `flow:` (id, title, steps)")
            return None
        self.keys((), data, ("flow",))
        raw = data["flow"]
        p: Path_ = ("flow",)
        self.keys(p, raw, ("id", "title", "steps"))
        flow_id = self.ident(p, raw.get("id"), "the flow")
        title = self.l10n((*p, "title"), raw.get("title"), "title", set())
        steps_raw = raw.get("steps")
        if not isinstance(steps_raw, list) or not steps_raw:
            self.bad((*p, "steps"), "steps must be a list of steps (- id: ..., say: ...)")
            return None
        saved = self._saved_vars(steps_raw)
        steps: list[Step] = []
        first_line: dict[str, int] = {}
        where: dict[str, Path_] = {}  # step id -> its place in the file, for the messages below
        for i, s in enumerate(steps_raw):
            step = self.step((*p, "steps", i), s, saved)
            if step is None:
                continue
            if step.id in first_line:
                self.bad((*p, "steps", i, "id"), f"duplicate step id {step.id!r} (first used on line "
                                                 f"{first_line[step.id]}); step ids must be unique in a flow")
                continue
            first_line[step.id] = step.line
            where[step.id] = ("flow", "steps", i)
            steps.append(step)
        if flow_id is None or title is None:
            return None
        flow = Flow(flow_id, title, steps, self.doc.file)
        self.links(flow, where)
        self.reachability(flow, where)
        return flow

    def _saved_vars(self, steps_raw: list[Any]) -> set[str]:
        saved = set()
        for s in steps_raw:
            if not isinstance(s, dict):
                continue
            target = s.get("ask", {}).get("save_to") if isinstance(s.get("ask"), dict) else None
            if s.get("do") == "set_field" and isinstance(s.get("with"), dict):
                target = s["with"].get("field")
            if isinstance(target, str) and target.startswith("vars."):
                saved.add(target[5:])
        return saved

    def step(self, path: Path_, raw: Any, saved: set[str]) -> Step | None:
        if not isinstance(raw, dict):
            self.bad(path, "each step must be a mapping: - id: ..., then one of " + ", ".join(STEP_KINDS))
            return None
        step_id = self.ident(path, raw.get("id"), "the step")
        kinds = [k for k in raw if k in STEP_KINDS]
        if len(kinds) != 1:
            others = [k for k in raw if k != "id" and k not in STEP_KINDS]
            hint = did_you_mean(str(others[0]), STEP_KINDS) if others and not kinds else ""
            self.bad(path, f"a step needs exactly one kind ({', '.join(STEP_KINDS)}); found "
                           f"{', '.join(kinds) or 'none'}{hint}")
            return None
        kind = kinds[0]
        self.keys(path, raw, {"id", kind} | STEP_KEYS[kind])
        if step_id is None:
            return None
        line = self.doc.where((*path, "id"))[0]
        step = Step(step_id, kind, line=line, next=raw.get("next"))
        value = raw[kind]
        kp = (*path, kind)
        if kind == "say":
            step.text = self.l10n(kp, value, "the text", saved)
            if "image" in raw:
                step.image = self.content_file((*path, "image"), raw["image"], "image")
            step.wait = bool(raw.get("wait", False))
        elif kind == "ask":
            self.ask(kp, value, step, saved)
        elif kind in ("lesson", "quiz"):
            if value not in self.lesson_ids:
                hint = did_you_mean(str(value), sorted(self.lesson_ids))
                self.bad(kp, f"unknown lesson {value!r}{hint}; lessons are "
                             "content/lessons/*.yaml")
            step.target = str(value)
        elif kind == "branch":
            self.branch(kp, value, step, saved)
        elif kind == "do":
            self.action(path, value, raw.get("with"), step, saved)
        elif kind == "goto":
            step.target = str(value)
        elif kind == "call":
            step.target = str(value)
            self.calls.append((kp, str(value)))
        elif kind == "end":
            if value is not True and value is not None:
                step.text = self.l10n(kp, value, "the closing text", saved)
        return step

    def ask(self, path: Path_, value: Any, step: Step, saved: set[str]) -> None:
        if not isinstance(value, dict):
            self.bad(path, "ask needs text and either buttons or a type (text, number, id_number, phone, date)")
            return
        self.keys(path, value, ASK_KEYS)
        step.text = self.l10n((*path, "text"), value.get("text"), "the question", saved)
        buttons = value.get("buttons")
        if buttons is not None:
            if not isinstance(buttons, list) or not buttons:
                self.bad((*path, "buttons"), "buttons must be a list of - id: ..., text: {...}")
            else:
                seen = set()
                for i, b in enumerate(buttons):
                    bp = (*path, "buttons", i)
                    if not isinstance(b, dict):
                        self.bad(bp, "each button needs an id and a text")
                        continue
                    self.keys(bp, b, ("id", "text", "goto"))
                    bid = b.get("id")
                    if not isinstance(bid, str) or not ID_RE.match(bid):
                        why = " (YAML reads yes/no/on/off as true/false: pick another id)" if isinstance(bid, bool) \
                            else ""
                        self.bad(bp, f"button id {bid!r} must be snake_case{why}")
                        continue
                    size = FlowButton(WIDEST_SESSION, WIDEST_VERSION, bid).size()
                    if size > MAX_BYTES:
                        self.bad((*bp, "id"), f"button id {bid!r} makes the button data {size} "
                                              "bytes; Telegram allows 64: shorten the id")
                    if bid in seen:
                        self.bad((*bp, "id"), f"duplicate button id {bid!r}")
                    seen.add(bid)
                    text = self.l10n((*bp, "text"), b.get("text"), "the button text", saved)
                    if text:
                        step.choices.append(Choice(bid, text, b.get("goto")))
        kind = value.get("type", "text")
        if kind not in INPUT_TYPES:
            self.bad((*path, "type"), f"unknown type {kind!r}{did_you_mean(str(kind), INPUT_TYPES)}")
        step.input_type = str(kind)
        if "regex" in value:
            try:
                re.compile(str(value["regex"]))
                step.regex = str(value["regex"])
            except re.error as exc:
                self.bad((*path, "regex"), f"not a valid regular expression: {exc}")
        for key in ("min_length", "max_length"):
            if key in value:
                setattr(step, key, self.integer((*path, key), value[key], key, 0, 4000))
        if "retry" in value:
            step.retry = self.l10n((*path, "retry"), value["retry"], "the retry text", saved)
        target = value.get("save_to")
        if target is not None:
            self.save_target((*path, "save_to"), target)
            step.save_to = str(target)

    def save_target(self, path: Path_, target: Any) -> None:
        if not isinstance(target, str) or "." not in target:
            self.bad(path, f"save_to {target!r} must be profile.<field> or vars.<name>")
            return
        scope, name = target.split(".", 1)
        if scope == "profile":
            if name not in PROFILE_FIELDS:
                self.bad(path, f"unknown profile field {name!r}{did_you_mean(name, PROFILE_FIELDS)}; fields: "
                               f"{', '.join(PROFILE_FIELDS)}")
        elif scope == "vars":
            if not ID_RE.match(name):
                self.bad(path, f"vars.{name}: a variable name must be snake_case")
        else:
            hint = did_you_mean(scope, ["profile", "vars"])
            self.bad(path, f"save_to {target!r} must start with profile. or vars.{hint}")

    def branch(self, path: Path_, value: Any, step: Step, saved: set[str]) -> None:
        if not isinstance(value, list) or not value:
            self.bad(path, "branch must be a list of - if: <condition> / goto: <step>, ending with - else: <step>")
            return
        for i, case in enumerate(value):
            cp = (*path, i)
            if not isinstance(case, dict):
                self.bad(cp, "each branch case is - if: ... goto: ..., or - else: ...")
                continue
            if "else" in case:
                self.keys(cp, case, ("else",))
                if i != len(value) - 1:
                    self.bad(cp, "`else` must be the last case of a branch")
                step.otherwise = str(case["else"])
                continue
            self.keys(cp, case, ("if", "goto"))
            if "if" not in case or "goto" not in case:
                self.bad(cp, "a branch case needs both `if:` and `goto:`")
                continue
            self.template((*cp, "if"), str(case["if"]), saved, expression=True)
            step.cases.append((str(case["if"]), str(case["goto"])))
        if step.otherwise is None:
            self.bad(path, "branch has no `else`; add - else: <step> so every candidate goes somewhere")

    def action(self, path: Path_, name: Any, args: Any, step: Step, saved: set[str]) -> None:
        spec = ACTIONS.get(str(name))
        if spec is None:
            self.bad((*path, "do"), f"unknown action {name!r}{did_you_mean(str(name), sorted(ACTIONS))}; actions: "
                                    f"{', '.join(sorted(ACTIONS))}")
            return
        step.target = str(name)
        if args is not None and not isinstance(args, dict):
            self.bad((*path, "with"), "`with` must be a mapping of the action's arguments, e.g. with: {points: 10}")
        args = args if isinstance(args, dict) else {}
        for key in args:
            if key not in spec.args:
                hint = did_you_mean(str(key), spec.args)
                self.bad((*path, "with", key), f"{name} takes no argument {key!r}{hint}")
        for key in spec.required:
            if key not in args:
                self.bad((*path, "do"), f"{name} needs `with: {{{key}: ...}}`")
        step.args = dict(args)
        wp = (*path, "with")
        if name == "award_points" and "points" in args:
            self.integer((*wp, "points"), args["points"], "points", 1, 10_000)
        if name == "complete_task" and "task" in args and args["task"] not in self.settings.tasks:
            task = str(args["task"])
            self.bad((*wp, "task"), f"unknown task {task!r}{did_you_mean(task, list(self.settings.tasks))}")
        if name == "set_field" and "field" in args:
            self.save_target((*wp, "field"), args["field"])
        if name == "notify_hr" and "text" in args:
            step.args["text"] = self.l10n((*wp, "text"), args["text"], "the HR message", saved)
        if name in ("start_flow",) and "flow" in args:
            self.calls.append(((*wp, "flow"), str(args["flow"])))

    def links(self, flow: Flow, where: dict[str, Path_]) -> None:
        ids = list(flow.by_id)

        def check(path: Path_, target: str | None, what: str) -> None:
            if target is not None and target not in flow.by_id:
                self.bad(path, f"{what} {target!r} is not a step of this flow{did_you_mean(target, ids)}")

        for step in flow.steps:
            sp = where[step.id]
            check((*sp, "next"), step.next, "next step")
            if step.kind == "goto":
                check((*sp, "goto"), step.target, "goto target")
            for j, (_, target) in enumerate(step.cases):
                check((*sp, "branch", j, "goto"), target, "branch target")
            if step.kind == "branch":
                check((*sp, "branch", len(step.cases)), step.otherwise, "else target")
            for j, choice in enumerate(step.choices):
                check((*sp, "ask", "buttons", j, "goto"), choice.goto, "button target")

    def reachability(self, flow: Flow, where: dict[str, Path_]) -> None:
        if not flow.steps:
            return
        seen: set[str] = set()
        todo = [flow.steps[0].id]
        while todo:
            sid = todo.pop()
            if sid in seen or sid not in flow.by_id:
                continue
            seen.add(sid)
            step = flow.by_id[sid]
            todo.extend(flow_successors(flow, step))
        for step in flow.steps:
            if step.id not in seen:
                self.bad((*where[step.id], "id"), f"step {step.id!r} can never be reached: no step leads to "
                                                       "it; link it (next, goto, branch, a button) or remove it")


def flow_successors(flow: Flow, step: Step) -> list[str]:
    """The steps a step can lead to (for reachability and diagrams)."""
    if step.kind == "end":
        return []
    if step.kind == "goto":
        return [step.target] if step.target else []
    if step.kind == "branch":
        return [t for _, t in step.cases] + ([step.otherwise] if step.otherwise else [])
    if step.kind == "do" and step.target == "start_flow":
        return []
    out = [c.goto for c in step.choices if c.goto]
    if step.kind != "ask" or not step.choices or any(c.goto is None for c in step.choices):
        nxt = flow.after(step)
        if nxt:
            out.append(nxt)
    return out


def flow_files(settings: Settings) -> list[Path]:
    """flows/*.yaml except the nudge rules file."""
    rules = (settings.base_dir / settings.file.nudges.rules_file).resolve()
    folder = settings.flows_dir
    return sorted(p for p in folder.glob("*.yaml") if p.resolve() != rules) if folder.is_dir() else []


def load_flows(settings: Settings, lesson_ids: set[str], problems: list[Problem]) -> dict[str, Flow]:
    """Load and check flows/*.yaml (``lesson_ids``: the lessons `lesson:` and `quiz:` steps may name); every
    problem goes to ``problems``."""
    flows: dict[str, Flow] = {}
    calls: list[tuple[_FlowChecker, Path_, str]] = []
    for path in flow_files(settings):
        doc = load_doc(path, problems, settings.locales)
        if doc is None:
            continue
        checker = _FlowChecker(doc, settings, problems, lesson_ids)
        flow = checker.flow()
        calls.extend((checker, p, target) for p, target in checker.calls)
        if flow is None:
            continue
        if flow.id in flows:
            problems.append(doc.problem(("flow", "id"), f"duplicate flow id {flow.id!r} (also in "
                                                        f"{flows[flow.id].file})"))
            continue
        flows[flow.id] = flow
    for checker, p, target in calls:
        if target not in flows:
            checker.bad(p, f"unknown flow {target!r}{did_you_mean(target, sorted(flows))}")
    return flows
