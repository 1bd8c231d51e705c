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
    """The file cannot be read as written: every problem found, in file order. ``problem`` is the first one, and
    when there are several its text goes on with the others, one a line, so that a caller that reports only
    ``problem`` still shows them all."""

    def __init__(self, problem: Problem | list[Problem]):
        problems = problem if isinstance(problem, list) else [problem]
        self.problems = problems
        first = problems[0]
        if len(problems) > 1:
            rest = "".join(f"\n{p}" for p in problems[1:])
            first = Problem(first.file, first.line, first.col, first.message + rest)
        self.problem = first
        super().__init__("\n".join(str(p) for p in problems))


class _Builder:
    """Plain data from composed YAML nodes, with positions; notes what YAML would otherwise lose in silence."""

    def __init__(self, file: str, text: str):
        self.file = file
        self.lines = text.splitlines()
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = _scalar(key_node)
                where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                hashable = key if isinstance(key, str | int | float | bool) or key is None else repr(key)
                if hashable in first_line:
                    # YAML keeps the last value and drops the first without a word: refuse instead.
                    self.problems.append(Problem(self.file, *where, f'duplicate key "{key}" (first at line '
                                                                    f"{first_line[hashable]})"))
                    self.build(value_node, (*path, key, "(duplicate)"))
                    continue
                first_line[hashable] = where[0]
                child = (*path, key)
                out[key] = self.build(value_node, child)
                # Point a key's errors at the key itself, which is where people look.
                self.positions[child] = where
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode) and node.style in ('"', "'"):
            self._quote_runs_on(node)
        return _scalar(node)

    def _quote_runs_on(self, node: yaml.ScalarNode) -> None:
        """A quoted text that goes on over lines indented no deeper than the line it starts on has swallowed
        them: the closing quote is missing, and the next quote of the same kind closed it."""
        start, end = node.start_mark, node.end_mark
        if start.line == end.line:
            return
        opening = self.lines[start.line] if start.line < len(self.lines) else ""
        indent = len(opening) - len(opening.lstrip())
        for n in range(start.line + 1, min(end.line, len(self.lines) - 1) + 1):
            line = self.lines[n]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                self.problems.append(_unclosed(self.file, node.style or '"', start.line + 1, start.column + 1,
                                               (end.line + 1, end.column)))
                return


def _unclosed(file: str, quote: str, line: int, col: int, closed: tuple[int, int] | None) -> Problem:
    """The problem with a quote, at the place it was opened: never closed (``closed`` None), closed by the next
    quote of its kind on a later line, or closed too early on its own line (a quote of the same kind inside)."""
    other = "'" if quote == '"' else '"'
    if closed is None:
        what = "is never closed"
    elif closed[0] != line:
        what = f"is not closed on its line: the next {quote} (line {closed[0]}) closes it, and all between is one text"
    else:
        inside = "write '' for a ' inside '...'" if quote == "'" else 'write \\" for a " inside "..."'
        return Problem(file, line, col, f"the text quoted with {quote} here runs to the {quote} in column "
                                        f"{closed[1]}, and what follows breaks the file: close the quote where "
                                        f"the text ends; {inside}, or quote the text with {other}")
    return Problem(file, line, col, f"the quote {quote} opened here {what}; close it with {quote} on this line "
                                    f"(a text opened with {quote} must end with {quote}, not {other})")


def _scalar(node: yaml.Node) -> Any:
    if node.tag in _PLAIN:  # most scalars are text: no need for a constructor
        return node.value
    constructor = yaml.constructor.SafeConstructor()
    try:
        return constructor.construct_object(node, deep=True)
    except ValueError:
        # Looks like a date but isn't one (2027-13-12): keep the text so validation can point at it.
        return node.value


_PLAIN = {"tag:yaml.org,2002:str"}

# libyaml's parser when PyYAML has it (every manylinux wheel does): the same nodes and marks, far faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_text(text: str, file: str) -> SourceDoc:
    """Parse and remember positions. Raises YamlSyntaxError with every problem: a syntax error, or a duplicate
    key or a quote left open, which YAML itself would let through while losing text."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError:
        root = _explain(text, file)
    builder = _Builder(file, text)
    data = None if root is None else builder.build(root, ())
    if builder.problems:
        raise YamlSyntaxError(sorted(builder.problems, key=lambda p: (p.line, p.col)))
    return SourceDoc(file=file, data=data, positions=builder.positions)


def _explain(text: str, file: str) -> yaml.Node | None:
    """Parse again with PyYAML's own parser, whose messages say more than libyaml's, and raise them."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        quote = _quote_at_fault(text, exc)
        if quote is not None:
            raise YamlSyntaxError(_unclosed(file, *quote)) from None
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "not valid YAML"
        hint = "check indentation and quoting"
        if "got '?'" in reason or "mapping values are not allowed" in reason:
            hint = ('a text containing ": " or ending in "?" (inside { } or after a key) must be in double quotes, '
                    'e.g. en: "Shoe size?"')
        raise YamlSyntaxError(Problem(file, line, col, f"YAML syntax error: {reason}; {hint}")) from None


def _quote_at_fault(text: str, exc: yaml.MarkedYAMLError) -> tuple[str, int, int, tuple[int, int] | None] | None:
    """(quote, line, column where it was opened, line where it was closed) when a quote is why the parser gave
    up: a quote never closed, or one closed too early or too late, so that the parser fails right after it."""
    if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
        mark = exc.context_mark
        return (text[mark.index] if mark.index < len(text) else '"', mark.line + 1, mark.column + 1, None)
    fault = exc.problem_mark
    if fault is None:
        return None
    last: yaml.ScalarToken | None = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= fault.index:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'"):
                last = token
    except yaml.MarkedYAMLError:
        pass
    if last is None:
        return None
    start, end = last.start_mark, last.end_mark
    right_after = end.line == fault.line and not text[end.index : fault.index].strip()
    runs_on = start.line != end.line and fault.line <= end.line + 1
    if right_after or runs_on:
        return (last.style or '"', start.line + 1, start.column + 1, (end.line + 1, end.column))
    return None


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
