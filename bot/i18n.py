"""Texts shown to people: content/<locale>/messages.yaml, rendered as sandboxed Jinja2 templates."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.yamlsrc import Problem, YamlSyntaxError, comment_traps, load_file


class TextsError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def locale_from_telegram(code: str | None, supported: tuple[str, ...]) -> str | None:
    """Map a Telegram language_code (zh-hans, zh-CN, en-US, ...) to a shipped locale."""
    if not code:
        return None
    code = code.lower()
    for loc in supported:
        if code == loc.lower() or code.split("-")[0] == loc.lower().split("-")[0]:
            return loc
    return None


def template_environment() -> SandboxedEnvironment:
    """The one Jinja2 set-up for every text HR writes (messages, FAQ answers, flows): sandboxed, and a variable
    that does not exist is an error, not a blank."""
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=False)


_ENDS_WITH_TAG = re.compile(r"%\}\s*$")
_TAGS_ALONE = re.compile(r"(\{%.*?%\}\s*)+")


def merging_lines(template: str) -> list[str]:
    """Lines of a text that show something and end with a {% %} tag, followed by another line of text: the
    template set-up (trim_blocks) drops the line break after a block tag, so the two lines would run together.
    A line that is a tag alone is meant to vanish and is not reported; neither is a tag ended with +%}."""
    lines = [line.strip() for line in template.split("\n")]
    found = []
    for i, line in enumerate(lines):
        if not _ENDS_WITH_TAG.search(line) or line.startswith("{%") or line.endswith("+%}"):
            continue
        # The next line that shows something (lines that are tags alone vanish): text right after runs into it.
        after = next((a for a in lines[i + 1:] if not _TAGS_ALONE.fullmatch(a)), "")
        if after:
            found.append(line)
    return found


class Texts:
    """Every sentence the bot says, per locale. Keys must exist in every locale (checked at load)."""

    def __init__(self, messages: dict[str, dict[str, Any]], default_locale: str):
        self.messages = messages
        self.default_locale = default_locale
        self.env = template_environment()
        self._compiled: dict[tuple[str, str], Any] = {}
        self._constant: dict[tuple[str, str], str] = {}  # texts rendered without values (button labels...)
        self._dates: dict[tuple[str, date], str] = {}

    @classmethod
    def load(cls, content_dir: Path, locales: tuple[str, ...], default_locale: str) -> Texts:
        """content/<locale>/messages.yaml, plus any other *.yaml beside it (a capability may keep its texts in a
        file of its own, e.g. broadcast.yaml); a key is defined once per locale, in whichever file."""
        problems: list[Problem] = []
        messages: dict[str, dict[str, Any]] = {}
        docs: dict[str, dict[str, Any]] = {}  # locale -> file name -> SourceDoc
        where: dict[str, dict[str, str]] = {}  # locale -> key -> file name
        unreadable: set[str] = set()  # locales with a file that could not be read: their keys are unknown
        for loc in locales:
            main = content_dir / loc / "messages.yaml"
            if not main.is_file():
                problems.append(Problem(str(main), 1, 1, f"missing texts for locale {loc}; create this file"))
                continue
            messages[loc], docs[loc], where[loc] = {}, {}, {}
            others = sorted(p for p in (content_dir / loc).glob("*.yaml") if p.name != main.name)
            for path in [main, *others]:
                try:
                    doc = load_file(path)
                except YamlSyntaxError as exc:
                    problems.append(exc.problem)
                    unreadable.add(loc)
                    continue
                if not isinstance(doc.data, dict):
                    problems.append(doc.problem((), "must be a mapping of text keys to texts"))
                    continue
                docs[loc][path.name] = doc
                for key, value in doc.data.items():
                    if key in where[loc]:
                        problems.append(doc.problem((key,), f"text {key!r} is defined twice: here and in "
                                                            f"{where[loc][key]}; keep one"))
                        continue
                    where[loc][key] = path.name
                    messages[loc][key] = value
                problems.extend(comment_traps(path))
        texts = cls(messages, default_locale)
        all_keys = set().union(*(m.keys() for m in messages.values())) if messages else set()
        for loc, files in docs.items():
            # A file that could not be read is reported already, and what it would have defined is unknown.
            if not files or loc in unreadable:
                continue
            for key in sorted(all_keys - set(messages[loc])):
                other = next(lo for lo in messages if key in messages[lo])
                name = where[other][key]
                doc = files.get(name) or files.get("messages.yaml") or next(iter(files.values()))
                problems.append(doc.problem((), f"text {key!r} is missing here but exists in {other}/{name}; "
                                                "translate it"))
            for doc in files.values():
                for key, value in doc.data.items():
                    if isinstance(value, str):
                        try:
                            texts.env.parse(value)
                        except TemplateError as exc:
                            problems.append(doc.problem((key,), f"text {key!r}: template error: {exc}"))
                        problems.extend(doc.problem((key,), f"text {key!r}: {line!r} ends with a {{% %}} tag, "
                                                            "so it runs into the next line; put an empty line after "
                                                            "it (or end the tag with +%}) to keep the line break")
                                        for line in merging_lines(value))
        if problems:
            raise TextsError(problems)
        return texts

    def raw(self, locale: str, key: str) -> Any:
        table = self.messages.get(locale) or self.messages[self.default_locale]
        return table[key]

    def get(self, locale: str, key: str, **values: Any) -> str:
        if locale not in self.messages:
            locale = self.default_locale
        if not values:
            cached = self._constant.get((locale, key))
            if cached is None:
                cached = self._constant[(locale, key)] = self._render(locale, key, {})
            return cached
        return self._render(locale, key, values)

    def _render(self, locale: str, key: str, values: dict[str, Any]) -> str:
        compiled = self._compiled.get((locale, key))
        if compiled is None:
            compiled = self.env.from_string(str(self.messages[locale][key]))
            self._compiled[(locale, key)] = compiled
        return str(compiled.render(**values)).strip()

    def format_date(self, locale: str, value: date) -> str:
        cached = self._dates.get((locale, value))
        if cached is None:
            weekday = self.raw(locale, "weekdays")[value.weekday()]
            month = self.raw(locale, "months")[value.month - 1]
            cached = self.get(locale, "date_format", year=value.year, month=value.month, month_name=month,
                              day=value.day, weekday=weekday)
            if len(self._dates) < 10_000:  # a few years of dates per locale; bounded all the same
                self._dates[(locale, value)] = cached
        return cached
