"""flows/nudges.yaml: the rules, validated at load with every problem reported as file:line:col."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from jinja2 import meta

from bot.config import Settings
from bot.i18n import Texts
from bot.yamlsrc import Path_, Problem, SourceDoc, YamlSyntaxError, load_file, suggest

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# Domain events a rule can follow with after_event; capabilities add theirs as they log them.
EVENTS = ["bound", "stage_changed", "lesson_completed"]
TRIGGERS = {
    # kind: (allowed extra keys, default valid_for)
    "stage_entered": ({"delay", "at"}, timedelta(days=3)),
    "before_training": ({"at"}, timedelta(days=2)),
    "before_task_due": ({"at", "task"}, timedelta(days=1)),
    "weekly": ({"at"}, timedelta(days=1)),
    "inactive_for": ({"at"}, timedelta(days=2)),
    "after_event": ({"delay", "at"}, timedelta(days=2)),
}
# Which rules can be foreseen (their dates follow from data), so budget can be kept for them.
PREDICTABLE = {"before_training", "before_task_due", "weekly"}
RULE_KEYS = {"id", "trigger", "audience", "message", "buttons", "priority", "valid_for"}
AUDIENCE_KEYS = ("stage", "cohort", "role", "department")
# Main-menu entries a nudge can offer (each a MenuButton of that name); "flow:<id>" starts a flow.
MENU_ENTRIES = ("status", "learn", "ask", "points", "profile", "resources", "language", "help")
BUTTONS = list(MENU_ENTRIES)
COMMON_VARS = {"name", "company", "stage", "todo", "department", "role", "cohort", "days_left"}
TASK_VARS = {"tasks"}
_DURATION = re.compile(r"^(\d{1,4})([dhm])$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    param: Any  # the stage, day count, weekday number or event name
    at: str | None
    delay: timedelta
    task: str | None
    audience: dict[str, frozenset[str]]
    message: str
    buttons: tuple[str, ...]  # menu entries, or flow:<id>
    priority: int
    valid_for: timedelta

    def matches(self, stage: str, cohort: str | None, role: str, department: str) -> bool:
        # Called for every candidate and rule each minute: plain lookups, no temporary dict.
        audience = self.audience
        if not audience:
            return True
        for key, value in (("stage", stage), ("cohort", cohort), ("role", role), ("department", department)):
            allowed = audience.get(key)
            if allowed is not None and value not in allowed:
                return False
        return True


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    flow_titles: dict[str, dict[str, str]] = field(default_factory=dict)  # for flow:<id> buttons

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


class RulesError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_duration(value: Any) -> timedelta | None:
    m = _DURATION.match(str(value).strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2)
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]


def _hint(value: str, choices: list[str]) -> str:
    close = suggest(value, choices)
    return f"; did you mean {close!r}?" if close else f"; use one of: {', '.join(choices)}"


class _Checker:
    def __init__(self, doc: SourceDoc, settings: Settings, texts: Texts, flows: set[str]):
        self.doc, self.settings, self.texts = doc, settings, texts
        self.flows = flows
        self.problems: list[Problem] = []

    def bad(self, path: Path_, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def rules(self) -> list[Rule]:
        data = self.doc.data
        if data is None:
            return []
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            self.bad((), "the file must start with 'rules:' and a list of rules")
            return []
        for key in data:
            if key != "rules":
                self.bad((key,), f"unknown key {key!r}; the file holds only 'rules:'")
        out: list[Rule] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(data["rules"]):
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            rule_id = raw_id if isinstance(raw_id, str) else ""
            duplicate = rule_id in seen
            if duplicate:
                self.bad(("rules", i, "id"), f"duplicate rule id {rule_id!r} (first at rule {seen[rule_id] + 1})")
            elif rule_id:
                seen[rule_id] = i
            rule = self.rule(("rules", i), raw)
            if rule is not None and not duplicate:
                out.append(rule)
        return out

    def rule(self, path: Path_, raw: Any) -> Rule | None:
        if not isinstance(raw, dict):
            self.bad(path, "each rule is a mapping with id, trigger and message")
            return None
        before = len(self.problems)
        for key in raw:
            if key not in RULE_KEYS:
                self.bad((*path, key), f"unknown key {key!r}{_hint(str(key), sorted(RULE_KEYS))}")
        for key in ("id", "trigger", "message"):
            if key not in raw:
                self.bad(path, f"missing '{key}:'")
        rule_id = raw.get("id")
        if "id" in raw and (not isinstance(rule_id, str) or not re.match(r"^[a-z0-9_]{1,48}$", rule_id)):
            self.bad((*path, "id"), "a rule id is 1-48 lower-case letters, digits or '_'")
        trig = self.trigger((*path, "trigger"), raw.get("trigger")) if "trigger" in raw else None
        audience = self.audience((*path, "audience"), raw.get("audience") or {})
        priority = raw.get("priority", 50)
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
            self.bad((*path, "priority"), "priority is a whole number from 0 to 100 (higher wins at the cap)")
        valid_for = None
        if "valid_for" in raw:
            valid_for = parse_duration(raw["valid_for"])
            if valid_for is None:
                self.bad((*path, "valid_for"), f"{raw['valid_for']!r} is not a duration; write e.g. 36h or 2d")
        buttons = raw.get("buttons") or []
        if not isinstance(buttons, list):
            self.bad((*path, "buttons"), f"buttons is a list, e.g. [status]; offer: {', '.join(BUTTONS)}")
            buttons = []
        for j, b in enumerate(buttons):
            if isinstance(b, str) and b.startswith("flow:"):
                if b[5:] not in self.flows:
                    self.bad((*path, "buttons", j), f"unknown flow {b[5:]!r}{_hint(b[5:], sorted(self.flows))}")
            elif b not in BUTTONS:
                self.bad((*path, "buttons", j), f"unknown button {b!r}{_hint(str(b), BUTTONS)} (or flow:<flow id>)")
        if "message" in raw and trig is not None:
            self.message((*path, "message"), raw["message"], trig[0])
        if len(self.problems) > before or trig is None or not isinstance(rule_id, str):
            return None
        kind, param, at, delay, task = trig
        return Rule(id=rule_id, kind=kind, param=param, at=at, delay=delay, task=task, audience=audience,
                    message=str(raw["message"]), buttons=tuple(buttons), priority=int(priority),
                    valid_for=valid_for or TRIGGERS[kind][1])

    def trigger(self, path: Path_, raw: Any) -> tuple[str, Any, str | None, timedelta, str | None] | None:
        if not isinstance(raw, dict):
            self.bad(path, f"a trigger is a mapping such as {{before_training: 10, at: \"10:00\"}}; kinds: "
                           f"{', '.join(TRIGGERS)}")
            return None
        kinds = [k for k in raw if k in TRIGGERS]
        if len(kinds) != 1:
            unknown = [k for k in raw if k not in TRIGGERS and k not in {"delay", "at", "task"}]
            if unknown:
                self.bad((*path, unknown[0]), f"unknown trigger {unknown[0]!r}{_hint(str(unknown[0]), list(TRIGGERS))}")
            else:
                self.bad(path, f"give exactly one trigger kind: {', '.join(TRIGGERS)}")
            return None
        kind = kinds[0]
        allowed = TRIGGERS[kind][0]
        for key in raw:
            if key != kind and key not in allowed:
                self.bad((*path, key), f"{kind} takes {', '.join(sorted(allowed)) or 'nothing more'}, not {key!r}")
        value = raw[kind]
        param: Any = value
        settings = self.settings
        if kind == "stage_entered":
            if value not in settings.stages:
                self.bad((*path, kind), f"unknown stage {value!r}{_hint(str(value), settings.stage_order)}")
        elif kind in ("before_training", "before_task_due", "inactive_for"):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
                self.bad((*path, kind), f"{kind} takes a number of days (0-365), not {value!r}")
        elif kind == "weekly":
            if str(value).lower() not in WEEKDAYS:
                self.bad((*path, kind), f"unknown weekday {value!r}{_hint(str(value).lower(), WEEKDAYS)}")
            else:
                param = WEEKDAYS.index(str(value).lower())
            if "at" not in raw:
                self.bad(path, "weekly needs 'at:' (time of day, HH:MM)")
        elif kind == "after_event" and value not in EVENTS:
            self.bad((*path, kind), f"unknown event {value!r}{_hint(str(value), EVENTS)}")
        at = raw.get("at")
        if at is not None:
            if not _HHMM.match(str(at)):
                self.bad((*path, "at"), f"{at!r} is not a time of day; write it as HH:MM in quotes, e.g. \"10:00\"")
            elif settings.file.nudges.quiet_hours.contains(str(at)):
                q = settings.file.nudges.quiet_hours
                self.bad((*path, "at"), f"{at} falls in the quiet hours ({q.start}-{q.end}); pick a daytime hour")
        delay = timedelta(0)
        if "delay" in raw:
            parsed = parse_duration(raw["delay"])
            if parsed is None:
                self.bad((*path, "delay"), f"{raw['delay']!r} is not a duration; write e.g. 1d, 12h or 30m")
            else:
                delay = parsed
        task = raw.get("task")
        if task is not None and task not in settings.tasks:
            self.bad((*path, "task"), f"unknown task {task!r}{_hint(str(task), list(settings.tasks))}")
        return kind, param, (str(at) if at is not None else None), delay, task

    def audience(self, path: Path_, raw: Any) -> dict[str, frozenset[str]]:
        if not isinstance(raw, dict):
            self.bad(path, "audience is a mapping of stage, cohort, role or department to ids")
            return {}
        known = {"stage": self.settings.stage_order, "cohort": list(self.settings.cohorts),
                 "role": list(self.settings.roles), "department": list(self.settings.departments)}
        out = {}
        for key, value in raw.items():
            if key not in AUDIENCE_KEYS:
                self.bad((*path, key), f"unknown audience filter {key!r}{_hint(str(key), list(AUDIENCE_KEYS))}")
                continue
            values = value if isinstance(value, list) else [value]
            for j, v in enumerate(values):
                if v not in known[key]:
                    where = (*path, key, j) if isinstance(value, list) else (*path, key)
                    self.bad(where, f"unknown {key} {v!r}{_hint(str(v), known[key])}")
            out[key] = frozenset(str(v) for v in values)
        return out

    def message(self, path: Path_, key: Any, kind: str) -> None:
        available = COMMON_VARS | (TASK_VARS if kind == "before_task_due" else set())
        for loc, table in self.texts.messages.items():
            if key not in table:
                self.bad(path, f"text {key!r} is missing from content/{loc}/messages.yaml; add it there")
                continue
            used = meta.find_undeclared_variables(self.texts.env.parse(str(table[key])))
            for var in sorted(used - available):
                self.bad(path, f"text {key!r} ({loc}) uses {{{{ {var} }}}}, which a {kind} nudge does not provide"
                               f"{_hint(var, sorted(available))}")


def load_rules(settings: Settings, texts: Texts, path: Path | None = None, flows: set[str] | None = None
               ) -> RuleSet:
    """Load and check flows/nudges.yaml; a missing file means no rules."""
    path = path or (settings.base_dir / settings.file.nudges.rules_file)
    if not path.is_file():
        return RuleSet()
    try:
        doc = load_file(path)
    except YamlSyntaxError as exc:
        raise RulesError([exc.problem]) from None
    checker = _Checker(doc, settings, texts, flows or set())
    rules = checker.rules()
    if checker.problems:
        raise RulesError(checker.problems)
    return RuleSet(rules)
