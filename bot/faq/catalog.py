"""content/faq.yaml and content/intents.yaml: loading and checking, every problem at once with file:line:col."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, meta

from bot.faq.normalize import Normalizer
from bot.i18n import template_environment
from bot.status.service import TaskLine
from bot.yamlsrc import Path_, Problem, SourceDoc, YamlSyntaxError, comment_traps, did_you_mean, load_file

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_ID = 40  # the id travels in button data (64 bytes) next to a query number
ENTRY_KEYS = ("id", "questions", "answer", "not")
# What an answer template can use; the values come from bot.status.service.template_values.
ANSWER_VARS = ("name", "company", "department", "role", "stage", "days_left", "cohort", "tasks")


class FaqError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class FaqEntry:
    id: str
    questions: list[str]
    answers: dict[str, str]  # locale -> template source
    not_questions: list[str] = field(default_factory=list)
    line: int = 0


@dataclass
class Faq:
    entries: list[FaqEntry]
    file: str = ""

    def __post_init__(self) -> None:
        self.by_id = {e.id: e for e in self.entries}
        self._env = template_environment()
        self._compiled: dict[tuple[str, str], Any] = {}
        self._variables: dict[tuple[str, str], set[str]] = {}

    def variables(self, entry_id: str, locale: str) -> set[str]:
        """The template variables an answer uses (none: it needs no candidate data)."""
        key = (entry_id, locale)
        found = self._variables.get(key)
        if found is None:
            found = self._variables[key] = set(
                meta.find_undeclared_variables(self._env.parse(self.by_id[entry_id].answers[locale])))
        return found

    def render(self, entry_id: str, locale: str, context: dict[str, Any]) -> str:
        key = (entry_id, locale)
        tpl = self._compiled.get(key)
        if tpl is None:
            tpl = self._compiled[key] = self._env.from_string(self.by_id[entry_id].answers[locale])
        return str(tpl.render(**context)).strip()


@dataclass
class Intents:
    fillers: list[str] = field(default_factory=list)
    withdrawal_phrases: list[str] = field(default_factory=list)
    withdrawal_examples: list[str] = field(default_factory=list)
    withdrawal_similarity: float = 80.0


def sample_contexts() -> list[dict[str, Any]]:
    """Candidates an answer must work for: with and without a training batch, with and without open tasks."""
    task = TaskLine(id="health_certificate", title="health certificate", status="open", due="2026-12-10",
                    days_left=3, overdue=False, help=None)
    cohort = {"name": "batch", "training_date": "2026-12-15", "date": "2026-12-15", "time": "08:30",
              "location": "room 201", "address": "88 Xinghu Street"}
    base = {"name": "张三", "company": "company", "department": "production", "role": "operator",
            "stage": "waiting", "days_left": 18, "cohort": cohort, "tasks": [task]}
    return [base, {**base, "cohort": None, "days_left": None}, {**base, "tasks": []}]


class _Checker:
    def __init__(self, doc: SourceDoc, locales: tuple[str, ...], normalize: Normalizer):
        self.doc = doc
        self.locales = locales
        self.normalize = normalize
        self.problems: list[Problem] = []
        self.env = template_environment()

    def bad(self, path: Path_, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def entries(self) -> list[FaqEntry]:
        data = self.doc.data
        if not isinstance(data, dict) or not isinstance(data.get("faq"), list):
            self.bad((), "the file must start with `faq:` followed by a list of entries (- id: ...)")
            return []
        for key in data:
            if key != "faq":
                self.bad((key,), f"unknown key {key!r}{did_you_mean(str(key), ['faq'])}")
        entries: list[FaqEntry] = []
        first_line: dict[str, int] = {}
        seen_questions: dict[str, str] = {}
        for i, raw in enumerate(data["faq"]):
            path: Path_ = ("faq", i)
            if not isinstance(raw, dict):
                self.bad(path, "each entry must be a mapping with id, questions and answer")
                continue
            for key in raw:
                if key not in ENTRY_KEYS:
                    self.bad((*path, key), f"unknown key {key!r}{did_you_mean(str(key), list(ENTRY_KEYS))}")
            entry_id = self._id(path, raw.get("id"), first_line)
            questions = self._questions((*path, "questions"), raw.get("questions"), required=True)
            nots = self._questions((*path, "not"), raw.get("not"), required=False)
            answers = self._answers((*path, "answer"), raw.get("answer"))
            for j, q in enumerate(questions):
                norm = self.normalize(q)
                other = seen_questions.get(norm)
                if other is not None and other != entry_id:
                    self.bad((*path, "questions", j), f"question {q!r} is also an example of {other!r}; "
                                                      "keep it in one entry only")
                seen_questions.setdefault(norm, entry_id or "")
            if entry_id is not None:
                entries.append(FaqEntry(entry_id, questions, answers, nots, self.doc.where(path)[0]))
        for entry in entries:
            for j, q in enumerate(entry.not_questions):
                owner = seen_questions.get(self.normalize(q))
                if owner is not None:
                    idx = next(k for k, e in enumerate(data["faq"]) if isinstance(e, dict) and e.get("id") == entry.id)
                    self.bad(("faq", idx, "not", j), f"{q!r} is listed under `not` but is an example question of "
                                                     f"{owner!r}; remove it from one of them")
        return entries

    def _id(self, path: Path_, value: Any, first_line: dict[str, int]) -> str | None:
        if value is None:
            self.bad(path, "entry has no `id`; add a unique snake_case id such as training_date")
            return None
        if not isinstance(value, str) or not ID_RE.match(value):
            self.bad((*path, "id"), f"id {value!r} must be snake_case: lower-case letters, digits and _")
            return None
        if len(value) > MAX_ID:
            self.bad((*path, "id"), f"id {value!r} is {len(value)} characters; keep it to {MAX_ID}")
        if value in first_line:
            self.bad((*path, "id"), f"duplicate id {value!r} (first used on line {first_line[value]}); "
                                    "ids must be unique")
            return None
        first_line[value] = self.doc.where((*path, "id"))[0]
        return value

    def _questions(self, path: Path_, value: Any, required: bool) -> list[str]:
        if value is None:
            if required:
                self.bad(path, "entry has no `questions`; add a few example phrasings")
            return []
        if not isinstance(value, list) or (required and not value):
            self.bad(path, "must be a list of questions (- ...)")
            return []
        out = []
        for j, q in enumerate(value):
            if not isinstance(q, str | int | float) or not self.normalize(str(q)):
                self.bad((*path, j), "must be a question in words (not empty, not only punctuation or greetings)")
                continue
            out.append(str(q))
        return out

    def _answers(self, path: Path_, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            self.bad(path, f"`answer` must give one text per language: {', '.join(self.locales)}")
            return {}
        answers: dict[str, str] = {}
        for loc in value:
            if loc not in self.locales:
                self.bad((*path, loc), f"unknown language {loc!r}{did_you_mean(str(loc), list(self.locales))}")
        for loc in self.locales:
            text = value.get(loc)
            if not isinstance(text, str) or not text.strip():
                self.bad((*path, loc) if loc in value else path, f"answer in {loc} is missing; write it")
                continue
            if self._template_ok((*path, loc), text):
                answers[loc] = text
        return answers

    def _template_ok(self, path: Path_, text: str) -> bool:
        try:
            parsed = self.env.parse(text)
        except TemplateError as exc:
            self.bad(path, f"template error: {exc}; check the {{{{ }}}} and {{% %}} pairs")
            return False
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(ANSWER_VARS))
        for var in unknown:
            self.bad(path, f"{{{{ {var} }}}} does not exist{did_you_mean(var, list(ANSWER_VARS))}; "
                           f"available: {', '.join(ANSWER_VARS)}")
        if unknown:
            return False
        tpl = self.env.from_string(text)
        for label, ctx in zip(("", "without a training batch", "with no open tasks"), sample_contexts(),
                              strict=True):
            try:
                tpl.render(**ctx)
            except (TemplateError, TypeError, AttributeError) as exc:
                where = f" for a candidate {label}" if label else ""
                hint = "; wrap it in {% if cohort %}...{% endif %}" if "cohort" in str(exc) or label.startswith(
                    "without") else ""
                self.bad(path, f"the answer fails{where}: {exc}{hint}")
                return False
        return True


def load_faq(path: Path, locales: tuple[str, ...], normalize: Normalizer) -> Faq:
    if not path.is_file():
        raise FaqError([Problem(str(path), 1, 1, "FAQ file not found; create it or fix `faq.file` in config.yaml")])
    try:
        doc = load_file(path)
    except YamlSyntaxError as exc:
        raise FaqError(exc.problems) from None
    checker = _Checker(doc, locales, normalize)
    entries = checker.entries()
    checker.problems.extend(comment_traps(path, keys=locales))
    if checker.problems:
        raise FaqError(checker.problems)
    return Faq(entries, str(path))


def load_intents(path: Path) -> Intents:
    """content/intents.yaml; a missing file means no fillers and no withdrawal detection."""
    if not path.is_file():
        return Intents()
    try:
        doc = load_file(path)
    except YamlSyntaxError as exc:
        raise FaqError(exc.problems) from None
    problems: list[Problem] = []
    data = doc.data if isinstance(doc.data, dict) else {}
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "must be a mapping with `fillers` and `withdrawal`"))
    for key in data:
        if key not in ("fillers", "withdrawal"):
            hint = did_you_mean(str(key), ["fillers", "withdrawal"])
            problems.append(doc.problem((key,), f"unknown key {key!r}{hint}"))

    def strings(path: Path_, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(doc.problem(path, "must be a list of words or sentences (- ...)"))
            return []
        return list(value)

    withdrawal = data.get("withdrawal") or {}
    if not isinstance(withdrawal, dict):
        problems.append(doc.problem(("withdrawal",), "must be a mapping with phrases, examples and similarity"))
        withdrawal = {}
    for key in withdrawal:
        if key not in ("phrases", "examples", "similarity"):
            problems.append(doc.problem(("withdrawal", key), f"unknown key {key!r}"
                                        f"{did_you_mean(str(key), ['phrases', 'examples', 'similarity'])}"))
    similarity = withdrawal.get("similarity", 80)
    if not isinstance(similarity, int | float) or not 0 <= similarity <= 100:
        problems.append(doc.problem(("withdrawal", "similarity"), "must be a number from 0 to 100"))
        similarity = 80
    intents = Intents(strings(("fillers",), data.get("fillers")),
                      strings(("withdrawal", "phrases"), withdrawal.get("phrases")),
                      strings(("withdrawal", "examples"), withdrawal.get("examples")), float(similarity))
    if problems:
        raise FaqError(problems)
    return intents
