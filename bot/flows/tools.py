"""`hrbot flows schema` (a JSON Schema for editor completion) and `hrbot flows diagram` (Mermaid)."""

from __future__ import annotations

from typing import Any

from bot.flows.actions import ACTIONS
from bot.flows.loader import flow_successors
from bot.flows.model import PROFILE_FIELDS, Flow
from bot.inputs import INPUT_TYPES


def _l10n(locales: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "object", "properties": {loc: {"type": "string"} for loc in locales},
            "required": list(locales), "additionalProperties": False,
            "description": "one text per language; Jinja2 templates allowed"}


def flow_schema(locales: tuple[str, ...]) -> dict[str, Any]:
    text = _l10n(locales)
    step_id = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 32}
    save_to = {"type": "string", "pattern": r"^(vars\.[a-z][a-z0-9_]*|profile\.(" + "|".join(PROFILE_FIELDS) + "))$"}
    kinds: dict[str, dict[str, Any]] = {
        "say": {"say": text, "image": {"type": "string"}, "wait": {"type": "boolean"}, "next": step_id},
        "ask": {"ask": {"type": "object", "additionalProperties": False, "required": ["text"], "properties": {
            "text": text, "type": {"enum": list(INPUT_TYPES)}, "regex": {"type": "string"},
            "min_length": {"type": "integer", "minimum": 0}, "max_length": {"type": "integer", "minimum": 0},
            "retry": text, "save_to": save_to,
            "buttons": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["id", "text"], "additionalProperties": False,
                "properties": {"id": step_id, "text": text, "goto": step_id}}}}}, "next": step_id},
        "lesson": {"lesson": {"type": "string"}, "next": step_id},
        "quiz": {"quiz": {"type": "string"}, "next": step_id},
        "branch": {"branch": {"type": "array", "minItems": 1, "items": {"oneOf": [
            {"type": "object", "required": ["if", "goto"], "additionalProperties": False,
             "properties": {"if": {"type": "string"}, "goto": step_id}},
            {"type": "object", "required": ["else"], "additionalProperties": False, "properties": {"else": step_id}},
        ]}}},
        "do": {"do": {"enum": sorted(ACTIONS)}, "with": {"type": "object"}, "next": step_id},
        "goto": {"goto": step_id},
        "call": {"call": {"type": "string"}, "next": step_id},
        "end": {"end": {"oneOf": [{"const": True}, text]}},
    }
    steps = [{"type": "object", "title": kind, "required": ["id", kind], "additionalProperties": False,
              "properties": {"id": step_id, **props}} for kind, props in kinds.items()]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "hrbot flow (flows/*.yaml)",
        "type": "object", "required": ["flow"], "additionalProperties": False,
        "properties": {"flow": {"type": "object", "required": ["id", "title", "steps"], "additionalProperties": False,
                                "properties": {"id": step_id, "title": text,
                                               "steps": {"type": "array", "minItems": 1,
                                                         "items": {"oneOf": steps}}}}},
    }


def mermaid(flow: Flow, locale: str) -> str:
    """A Mermaid flowchart: one node per step, an edge per way on (buttons and branches labelled)."""
    lines = ["flowchart TD"]

    def label(text: str) -> str:
        return text.replace('"', "'").replace("|", "#124;").replace("\n", " ")[:40]

    for step in flow.steps:
        what = step.kind
        if step.kind in ("lesson", "quiz", "call", "do", "goto"):
            what = f"{step.kind}: {step.target}"
        elif step.text:
            what = f"{step.kind}: {label(step.text[locale])}"
        shape = ("{{", "}}") if step.kind == "branch" else ("([", "])") if step.kind == "end" else ("[", "]")
        lines.append(f'    {step.id}{shape[0]}"{step.id}<br/>{what}"{shape[1]}')
    for step in flow.steps:
        named = {c.goto: c.text[locale] for c in step.choices if c.goto}
        cases = {t: e for e, t in step.cases}
        for target in dict.fromkeys(flow_successors(flow, step)):
            if target not in flow.by_id:
                continue
            tag = named.get(target) or cases.get(target) or ("else" if target == step.otherwise else "")
            lines.append(f'    {step.id} -->|"{label(tag)}"| {target}' if tag else f"    {step.id} --> {target}")
    return "\n".join(lines) + "\n"
