"""What the loaders of flows/ and content/ (lessons, rewards, resources) check alike: ids, texts in every
language, templates, content files, list files; every problem reported at once as FILE:LINE:COL: what is wrong.
It lives with flows because the texts it checks are flow texts: lessons run as flows, with the same variables.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, meta, nodes

from bot.config import Settings
from bot.flows.model import L10n
from bot.i18n import template_environment
from bot.yamlsrc import Path_, Problem, SourceDoc, YamlSyntaxError, comment_traps, did_you_mean, load_file

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_ID = 32
# What flow texts and branch conditions can use (FlowRunner._context builds them; learning adds `points`,
# profile adds `profile`).
FLOW_VARS = ("name", "company", "department", "role", "stage", "cohort", "days_left", "tasks", "points", "vars",
             "profile")


class LibraryError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Checker:
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


def load_doc(path: Path, problems: list[Problem], locales: tuple[str, ...]) -> SourceDoc | None:
    try:
        doc = load_file(path)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return None
    problems.extend(comment_traps(path, keys=locales))  # "问题 #1" under zh-CN: would lose the rest silently
    return doc
