"""YAML loading that remembers where every value came from, so errors can say file:line:col."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a source file, worded for the person who edits it."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


@dataclass
class SourceDoc:
    """Plain data parsed from YAML plus the 1-based position of every key path."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_) -> tuple[int, int]:
        """Position of the deepest known prefix of ``path`` (a missing key points at its parent)."""
        for cut in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:cut]))
            if pos is not None:
                return pos
        return (1, 1)

    def problem(self, path: Path_, message: str) -> Problem:
        line, col = self.where(path)
        return Problem(self.file, line, col, message)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def _build(node: yaml.Node, path: Path_, positions: dict[Path_, tuple[int, int]]) -> Any:
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            child = (*path, key)
            out[key] = _build(value_node, child, positions)
            # Point a key's errors at the key itself, which is where people look.
            positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), positions) for i, item in enumerate(node.value)]
    return _scalar(node)


_PLAIN = {"tag:yaml.org,2002:str"}


def _scalar(node: yaml.Node) -> Any:
    if node.tag in _PLAIN:  # most scalars are text: no need for a constructor
        return node.value
    constructor = yaml.constructor.SafeConstructor()
    try:
        return constructor.construct_object(node, deep=True)
    except ValueError:
        # Looks like a date but isn't one (2027-13-12): keep the text so validation can point at it.
        return node.value


# libyaml's parser when PyYAML has it (every manylinux wheel does): the same nodes and marks, far faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_text(text: str, file: str) -> SourceDoc:
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError:
        root = _explain(text, file)
    positions: dict[Path_, tuple[int, int]] = {}
    data = None if root is None else _build(root, (), positions)
    return SourceDoc(file=file, data=data, positions=positions)


def _explain(text: str, file: str) -> yaml.Node | None:
    """Parse again with PyYAML's own parser, whose messages say more than libyaml's, and raise them."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "not valid YAML"
        hint = "check indentation and quoting"
        if "got '?'" in reason or "mapping values are not allowed" in reason:
            hint = ('a text containing ": " or ending in "?" (inside { } or after a key) must be in double quotes, '
                    'e.g. en: "Shoe size?"')
        raise YamlSyntaxError(Problem(file, line, col, f"YAML syntax error: {reason}; {hint}")) from None


def load_file(path: Path | str) -> SourceDoc:
    p = Path(path)
    return load_text(p.read_text(encoding="utf-8"), str(p))


_BLOCK_START = re.compile(r":\s*[|>][-+]?\d*\s*(#.*)?$")
_PLAIN_WITH_HASH = re.compile(r"^(\s*(?:- )?(?P<key>[\w.-]+):\s+|\s*- )(?![\"'|>])(.*?)\s#")


def comment_traps(path: Path | str, keys: tuple[str, ...] | None = None) -> list[Problem]:
    """Lines where an unquoted text contains " #": YAML reads the rest of the line as a comment and drops it
    silently ("问题 #12" would lose everything from the #). Block scalars (| and >) are text, and are skipped."""
    problems = []
    block_indent: int | None = None  # inside a block scalar: lines indented deeper than this
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        if line.lstrip().startswith("#"):
            continue
        if _BLOCK_START.search(line):
            block_indent = indent
            continue
        m = _PLAIN_WITH_HASH.match(line)
        if m and keys is not None and m.group("key") not in keys:
            continue  # only texts are checked here (a trailing comment after a number is fine)
        if m and m.group(3).strip():
            problems.append(Problem(str(path), n, len(m.group(1)) + 1,
                                    'this text contains " #", which YAML reads as the start of a comment, so the '
                                    "rest of the line is lost; put the text in double quotes or use `key: |-` "
                                    "and the text on the next line"))
    return problems


def did_you_mean(value: str, choices: list[str] | tuple[str, ...]) -> str:
    """"; did you mean 'x'?" for a mistyped name, or nothing when no choice is close."""
    close = suggest(value, list(choices))
    return f"; did you mean {close!r}?" if close else ""


def suggest(value: str, choices: list[str]) -> str | None:
    """The choice someone most likely meant: one that contains what they typed, else the closest spelling."""
    import difflib

    if value:
        containing = [c for c in choices if value.lower() in c.lower()]
        if len(containing) == 1 or (containing and len(value) >= 4):
            return containing[0]
    close = difflib.get_close_matches(value, choices, n=1)
    return close[0] if close else None
