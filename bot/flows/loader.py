"""Loading flows/*.yaml, content/lessons/*.yaml, content/rewards.yaml and content/resources.yaml.

Every problem in every file is reported at once as FILE:LINE:COL: what is wrong, with "did you mean" for
mistyped step ids, action names, fields and keys (after Rasa's flow validation: one check per rule).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, meta, nodes

from bot.config import Settings
from bot.flows.actions import ACTIONS
from bot.flows.model import (
    PROFILE_FIELDS,
    STEP_KINDS,
    Choice,
    Flow,
    L10n,
    Lesson,
    LessonPart,
    Library,
    QuizQuestion,
    Resource,
    Reward,
    Step,
)
from bot.i18n import template_environment
from bot.inputs import INPUT_TYPES
from bot.yamlsrc import Path_, Problem, SourceDoc, YamlSyntaxError, comment_traps, did_you_mean, load_file

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_ID = 32
# What flow texts and branch conditions can use (bot.flows.runner.template_context builds them).
FLOW_VARS = ("name", "company", "department", "role", "stage", "cohort", "days_left", "tasks", "points", "vars",
             "profile")
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
# Button data is "f:<session>:<version>:<choice>". The check at load assumes the widest session number and
# version we plan for (10 and 6 digits).
BUTTON_DATA = "f:{session}:{version}:{choice}"
WIDEST = {"session": 10**10 - 1, "version": 10**6 - 1}
LESSON_KEYS = ("id", "title", "minutes", "roles", "points", "parts", "quiz")
PART_KEYS = ("text", "image", "video", "link", "caption")
QUESTION_KEYS = ("question", "options", "answer", "explanation")
REWARD_KEYS = ("id", "name", "cost", "stock", "description")
RESOURCE_KEYS = ("id", "title", "file", "url", "departments")


class LibraryError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Checker:
    """Helpers shared by the file checkers; problems accumulate in ``self.problems``."""

    def __init__(self, doc: SourceDoc, settings: Settings, problems: list[Problem]):
        self.doc = doc
        self.settings = settings
        self.locales = settings.locales
        self.problems = problems
        self.env = template_environment()

    def bad(self, path: Path_, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def keys(self, path: Path_, value: dict[str, Any], allowed: tuple[str, ...] | set[str] | list[str]) -> None:
        for key in value:
            if key not in allowed:
                self.bad((*path, key), f"unknown key {key!r}{did_you_mean(str(key), sorted(allowed))}")

    def ident(self, path: Path_, value: Any, what: str) -> str | None:
        if value is None:
            self.bad(path, f"{what} has no `id`; add a unique snake_case id")
            return None
        if not isinstance(value, str) or not ID_RE.match(value) or len(value) > MAX_ID:
            self.bad((*path, "id"), f"id {value!r} must be snake_case (a-z, 0-9, _) and at most {MAX_ID} "
                                    "characters")
            return None
        return value

    def l10n(self, path: Path_, value: Any, what: str, variables: set[str] | None = None) -> L10n | None:
        """A text in every shipped locale; with ``variables``, a template that may use only those."""
        if value is None:
            self.bad(path, f"{what} is missing; write it in {', '.join(self.locales)}")
            return None
        if not isinstance(value, dict):
            self.bad(path, f"{what} must give one text per language: {', '.join(self.locales)} "
                           f"(e.g. {{zh-CN: ..., en: ...}})")
            return None
        for loc in value:
            if loc not in self.locales:
                self.bad((*path, loc), f"unknown language {loc!r}{did_you_mean(str(loc), self.locales)}")
        out: L10n = {}
        for loc in self.locales:
            text = value.get(loc)
            if not isinstance(text, str | int | float) or not str(text).strip():
                self.bad(path, f"{what}: the {loc} translation is missing; add `{loc}: ...`")
                continue
            out[loc] = str(text)
            if variables is not None:
                self.template((*path, loc), str(text), variables)
        return out if len(out) == len(self.locales) else None

    def template(self, path: Path_, text: str, variables: set[str], expression: bool = False) -> None:
        if not expression and "{" not in text:
            return  # plain text: nothing a template could get wrong
        try:
            parsed = self.env.parse("{{ " + text + " }}" if expression else text)
        except TemplateError as exc:
            self.bad(path, f"template error: {exc}")
            return
        for var in sorted(meta.find_undeclared_variables(parsed) - set(FLOW_VARS)):
            self.bad(path, f"{{{{ {var} }}}} does not exist{did_you_mean(var, FLOW_VARS)}; available: "
                           f"{', '.join(FLOW_VARS)}")
        for node in parsed.find_all(nodes.Getattr):
            if isinstance(node.node, nodes.Name) and node.node.name == "vars" and node.attr not in variables:
                known = sorted(variables)
                self.bad(path, f"vars.{node.attr} is never saved in this flow"
                               f"{did_you_mean(node.attr, known)}" + (f"; saved: {', '.join(known)}" if known else
                                                               "; save it first with save_to: vars." + node.attr))

    def content_file(self, path: Path_, value: Any, what: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.bad(path, f"{what} must be a file path under content/")
            return None
        full = self.settings.content_dir / value
        if not full.is_file():
            self.bad(path, f"{what} {value!r} not found under {self.settings.content_dir}; add the file or fix "
                           "the path")
            return None
        return value

    def items(self, top: str, keys: tuple[str, ...], what: str) -> list[tuple[Path_, dict[str, Any]]]:
        """The entries of a `top:` list file, each a mapping checked for unknown keys."""
        data = self.doc.data
        if not isinstance(data, dict) or not isinstance(data.get(top), list):
            self.bad((), f"the file must start with `{top}:` followed by a list")
            return []
        self.keys((), data, (top,))
        out: list[tuple[Path_, dict[str, Any]]] = []
        for i, raw in enumerate(data[top]):
            if not isinstance(raw, dict):
                self.bad((top, i), f"each entry needs {what}")
                continue
            self.keys((top, i), raw, keys)
            out.append(((top, i), raw))
        return out

    def integer(self, path: Path_, value: Any, what: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(path, f"{what} must be a whole number from {low} to {high}")
            return None
        return value


# -- lessons ------------------------------------------------------------------------------------------------

class _LessonChecker(_Checker):
    def lesson(self) -> Lesson | None:
        data = self.doc.data
        if not isinstance(data, dict) or not isinstance(data.get("lesson"), dict):
            self.bad((), "a lesson file must start with `lesson:` (id, title, minutes, points, parts, quiz)")
            return None
        raw = data["lesson"]
        self.keys((), data, ("lesson",))
        p: Path_ = ("lesson",)
        self.keys(p, raw, LESSON_KEYS)
        lesson_id = self.ident(p, raw.get("id"), "the lesson")
        title = self.l10n((*p, "title"), raw.get("title"), "title")
        minutes = self.integer((*p, "minutes"), raw.get("minutes", 10), "minutes", 1, 120)
        points = self.integer((*p, "points"), raw.get("points", 0), "points", 0, 10_000)
        roles = raw.get("roles") or []
        if not isinstance(roles, list):
            self.bad((*p, "roles"), "roles must be a list of role ids (empty: every role)")
            roles = []
        for i, role in enumerate(roles):
            if role not in self.settings.roles:
                self.bad((*p, "roles", i), f"unknown role {role!r}{did_you_mean(str(role), list(self.settings.roles))}")
        parts = self.parts((*p, "parts"), raw.get("parts"))
        quiz = self.quiz((*p, "quiz"), raw.get("quiz"))
        if None in (lesson_id, title, minutes, points) or parts is None or quiz is None:
            return None
        assert lesson_id and title and minutes is not None and points is not None
        return Lesson(lesson_id, title, minutes, [str(r) for r in roles], points, parts, quiz, self.doc.file)

    def parts(self, path: Path_, value: Any) -> list[LessonPart] | None:
        if not isinstance(value, list) or not value:
            self.bad(path, "parts must be a list of bite-size parts (- text: ..., - image: ...)")
            return None
        out = []
        ok = True
        for i, raw in enumerate(value):
            pp = (*path, i)
            if not isinstance(raw, dict) or not any(k in raw for k in ("text", "image", "video", "link")):
                self.bad(pp, "each part needs one of: text, image, video, link")
                ok = False
                continue
            self.keys(pp, raw, PART_KEYS)
            part = LessonPart()
            if "text" in raw:
                part.text = self.l10n((*pp, "text"), raw["text"], "text", set())
            if "image" in raw:
                part.image = self.content_file((*pp, "image"), raw["image"], "image")
            if "video" in raw:
                part.video = self.content_file((*pp, "video"), raw["video"], "video")
            if "link" in raw:
                if not isinstance(raw["link"], str) or not raw["link"].startswith(("https://", "http://")):
                    self.bad((*pp, "link"), "link must be a web address starting with https://")
                else:
                    part.link = raw["link"]
            if "caption" in raw:
                part.caption = self.l10n((*pp, "caption"), raw["caption"], "caption", set())
            out.append(part)
        return out if ok else None

    def quiz(self, path: Path_, value: Any) -> list[QuizQuestion] | None:
        if not isinstance(value, list) or not 3 <= len(value) <= 5:
            self.bad(path, "quiz must be a list of 3 to 5 questions")
            return None
        out = []
        for i, raw in enumerate(value):
            qp = (*path, i)
            if not isinstance(raw, dict):
                self.bad(qp, "each question needs question, options, answer and explanation")
                continue
            self.keys(qp, raw, QUESTION_KEYS)
            question = self.l10n((*qp, "question"), raw.get("question"), "question", set())
            options_raw = raw.get("options")
            options: list[L10n] = []
            if not isinstance(options_raw, list) or not 2 <= len(options_raw) <= 4:
                self.bad((*qp, "options"), "options must be a list of 2 to 4 answers")
            else:
                for j, opt in enumerate(options_raw):
                    text = self.l10n((*qp, "options", j), opt, "option", set())
                    if text:
                        options.append(text)
            answer = raw.get("answer")
            n = len(options_raw) if isinstance(options_raw, list) else 0
            if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= max(n, 1):
                self.bad((*qp, "answer"), f"answer {answer!r} is not an option number: count the options from 1 "
                                          f"(this question has {n})")
                answer = None
            explanation = self.l10n((*qp, "explanation"), raw.get("explanation"), "explanation", set())
            if question and explanation and answer and len(options) == n:
                out.append(QuizQuestion(question, options, answer - 1, explanation))
        return out if len(out) == len(value) else None


# -- flows --------------------------------------------------------------------------------------------------

class _FlowChecker(_Checker):
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
                    data = BUTTON_DATA.format(choice=bid, **WIDEST)
                    if len(data.encode()) > 64:
                        self.bad((*bp, "id"), f"button id {bid!r} makes the button data {len(data.encode())} "
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


# -- rewards and resources ------------------------------------------------------------------------------------

def _rewards(doc: SourceDoc, settings: Settings, problems: list[Problem]) -> dict[str, Reward]:
    c = _Checker(doc, settings, problems)
    out: dict[str, Reward] = {}
    for p, raw in c.items("rewards", REWARD_KEYS, "id, name, cost and stock"):
        rid = c.ident(p, raw.get("id"), "the reward")
        name = c.l10n((*p, "name"), raw.get("name"), "name", set())
        cost = c.integer((*p, "cost"), raw.get("cost"), "cost", 1, 1_000_000)
        stock = c.integer((*p, "stock"), raw.get("stock"), "stock", 0, 1_000_000)
        desc = c.l10n((*p, "description"), raw["description"], "description", set()) if "description" in raw \
            else None
        if rid in out:
            c.bad((*p, "id"), f"duplicate reward id {rid!r}")
        elif rid and name and cost is not None and stock is not None:
            out[rid] = Reward(rid, name, cost, stock, desc)
    return out


def _resources(doc: SourceDoc, settings: Settings, problems: list[Problem]) -> list[Resource]:
    c = _Checker(doc, settings, problems)
    out = []
    for p, raw in c.items("resources", RESOURCE_KEYS, "id, title and a file or url"):
        rid = c.ident(p, raw.get("id"), "the resource")
        title = c.l10n((*p, "title"), raw.get("title"), "title", set())
        files: dict[str, str] | None = None
        if "file" in raw:
            value = raw["file"]
            if isinstance(value, str):
                f = c.content_file((*p, "file"), value, "file")
                files = {loc: f for loc in settings.locales} if f else None
            elif isinstance(value, dict):
                files = {}
                for loc in settings.locales:
                    if loc not in value:
                        c.bad((*p, "file"), f"file: the {loc} version is missing")
                        continue
                    f = c.content_file((*p, "file", loc), value[loc], "file")
                    if f:
                        files[loc] = f
            else:
                c.bad((*p, "file"), "file must be a path, or one path per language")
        url = raw.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith(("https://", "http://"))):
            c.bad((*p, "url"), "url must be a web address starting with https://")
        if files is None and url is None and "file" not in raw:
            c.bad(p, "a resource needs a `file` or a `url`")
        depts = raw.get("departments") or []
        for j, d in enumerate(depts if isinstance(depts, list) else []):
            if d not in settings.departments:
                hint = did_you_mean(str(d), list(settings.departments))
                c.bad((*p, "departments", j), f"unknown department {d!r}{hint}")
        if rid and title and (files or url):
            out.append(Resource(rid, title, files, url, [str(d) for d in depts] if isinstance(depts, list) else []))
    return out


# -- the whole library ------------------------------------------------------------------------------------------

def _load(path: Path, problems: list[Problem], locales: tuple[str, ...]) -> SourceDoc | None:
    try:
        doc = load_file(path)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return None
    problems.extend(comment_traps(path, keys=locales))  # "问题 #1" under zh-CN: would lose the rest silently
    return doc


def flow_files(settings: Settings) -> list[Path]:
    """flows/*.yaml except the nudge rules file."""
    rules = (settings.base_dir / settings.file.nudges.rules_file).resolve()
    folder = settings.flows_dir
    return sorted(p for p in folder.glob("*.yaml") if p.resolve() != rules) if folder.is_dir() else []


def load_library(settings: Settings) -> Library:
    """Load and check everything; raise LibraryError with every problem in every file."""
    problems: list[Problem] = []
    lib = Library()
    policy = settings.file.learning
    lessons_dir = settings.content_path(policy.lessons_dir)
    lesson_first: dict[str, str] = {}
    for path in sorted(lessons_dir.glob("*.yaml")) if lessons_dir.is_dir() else []:
        doc = _load(path, problems, settings.locales)
        if doc is None:
            continue
        lesson = _LessonChecker(doc, settings, problems).lesson()
        if lesson is None:
            continue
        if lesson.id in lib.lessons:
            problems.append(doc.problem(("lesson", "id"), f"duplicate lesson id {lesson.id!r} (also in "
                                                          f"{lesson_first[lesson.id]})"))
            continue
        lib.lessons[lesson.id] = lesson
        lesson_first[lesson.id] = str(path)
    calls: list[tuple[_FlowChecker, Path_, str]] = []
    for path in flow_files(settings):
        doc = _load(path, problems, settings.locales)
        if doc is None:
            continue
        checker = _FlowChecker(doc, settings, problems, set(lib.lessons))
        flow = checker.flow()
        calls.extend((checker, p, target) for p, target in checker.calls)
        if flow is None:
            continue
        if flow.id in lib.flows:
            problems.append(doc.problem(("flow", "id"), f"duplicate flow id {flow.id!r} (also in "
                                                        f"{lib.flows[flow.id].file})"))
            continue
        lib.flows[flow.id] = flow
    for checker, p, target in calls:
        if target not in lib.flows:
            checker.bad(p, f"unknown flow {target!r}{did_you_mean(target, sorted(lib.flows))}")
    for name, loader in (("rewards_file", _rewards), ("resources_file", _resources)):
        path = settings.content_path(getattr(policy, name))
        if path.is_file():
            doc = _load(path, problems, settings.locales)
            if doc is not None:
                result = loader(doc, settings, problems)
                if name == "rewards_file":
                    lib.rewards = result  # type: ignore[assignment]
                else:
                    lib.resources = result  # type: ignore[assignment]
    if problems:
        raise LibraryError(problems)
    return lib
