"""content/faq.pending.yaml: HR's chat answers proposed as FAQ entries, reviewed by a person, then merged.

Written with ruamel.yaml so that the comments and layout HR keeps in content/faq.yaml survive a merge.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.faq.catalog import ID_RE, MAX_ID, FaqError, load_faq
from bot.faq.normalize import Normalizer
from bot.yamlsrc import Problem, YamlSyntaxError, load_file

HEADER = """\
# FAQ entries proposed from HR's answers in chat ("add to FAQ"). Review each one:
#   - a new entry: check the id (snake_case), the question(s), and write the answer in every language;
#   - or, to make the question an example of an existing entry, replace `id` and `answer` with
#     `add_to: <entry id>` (see `similar_to` for the closest existing entry).
# Then run `hrbot faq merge`: complete items move to content/faq.yaml, incomplete ones stay here.
"""


def _yaml() -> YAML:
    y = YAML()
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    y.allow_unicode = True
    return y


def _read(path: Path) -> Any:
    if not path.is_file():
        return None
    return _yaml().load(path.read_text(encoding="utf-8"))


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _dump(data: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def propose(path: Path, *, ticket: int, question: str, answer: str, answer_locale: str, locales: tuple[str, ...],
            similar_to: str | None, now: datetime) -> bool:
    """Add one proposal; False if this ticket was proposed already. A pending file that has been edited into
    something that would lose text (a duplicate key, a quote left open) raises FaqError and is left as it is."""
    if path.is_file():
        try:
            load_file(path)
        except YamlSyntaxError as exc:
            raise FaqError(exc.problems) from None
    data = _read(path)
    if data is None or not isinstance(data, dict):
        data = CommentedMap()
        data["pending"] = CommentedSeq()
    items = data.setdefault("pending", CommentedSeq())
    if any(isinstance(i, dict) and i.get("ticket") == ticket for i in items):
        return False
    item = CommentedMap()
    item["ticket"] = ticket
    item["added"] = now.date().isoformat()
    item["id"] = f"ticket_{ticket}"
    item["questions"] = CommentedSeq([question])
    answers = CommentedMap()
    for loc in locales:
        answers[loc] = answer if loc == answer_locale else ""
    item["answer"] = answers
    if similar_to:
        item["similar_to"] = similar_to
    items.append(item)
    text = _dump(data)
    _write_atomic(path, text if text.startswith("#") else HEADER + text)
    return True


@dataclass
class MergeResult:
    added: list[str] = field(default_factory=list)  # new entry ids
    extended: list[str] = field(default_factory=list)  # existing ids that got example questions
    kept: list[Problem] = field(default_factory=list)  # why the remaining items stay pending


def merge(faq_path: Path, pending_path: Path, locales: tuple[str, ...], normalize: Normalizer) -> MergeResult:
    """Move complete proposals into the FAQ. The result is checked like any FAQ edit before anything is written;
    if it would not load, FaqError is raised and neither file changes."""
    result = MergeResult()
    if not pending_path.is_file():
        return result
    try:
        doc = load_file(pending_path)  # positions for the messages
        load_file(faq_path)  # refused like any FAQ read (a duplicate key, a quote left open) before ruamel reads it
    except YamlSyntaxError as exc:
        raise FaqError(exc.problems) from None
    pending = _read(pending_path)
    faq = _read(faq_path)
    items = pending.get("pending") if isinstance(pending, dict) else None
    if not isinstance(items, list):
        raise FaqError([doc.problem((), "expected `pending:` followed by a list of proposals")])
    entries = faq["faq"]
    by_id = {e["id"]: e for e in entries if isinstance(e, dict) and "id" in e}
    keep = CommentedSeq()
    for i, item in enumerate(items):
        path = ("pending", i)
        why = _incomplete(item, by_id, locales, normalize)
        if why:
            result.kept.append(doc.problem((*path, why[0]), why[1]))
            keep.append(item)
            continue
        questions = [str(q) for q in item["questions"]]
        if "add_to" in item:
            target = by_id[item["add_to"]]
            known = {normalize(str(q)) for q in target["questions"]}
            for q in questions:
                if normalize(q) not in known:
                    target["questions"].append(q)
            result.extended.append(item["add_to"])
            continue
        entry = CommentedMap()
        entry["id"] = item["id"]
        entry["questions"] = CommentedSeq(questions)
        answers = CommentedMap()
        for loc in locales:
            answers[loc] = str(item["answer"][loc])
        entry["answer"] = answers
        entries.append(entry)
        by_id[entry["id"]] = entry
        result.added.append(entry["id"])
    if not result.added and not result.extended:
        return result
    new_faq = _dump(faq)
    with tempfile.TemporaryDirectory() as tmp:  # the merged file must pass the same checks as any edit
        check = Path(tmp) / faq_path.name
        check.write_text(new_faq, encoding="utf-8")
        try:
            load_faq(check, locales, normalize)
        except FaqError as exc:
            raise FaqError([Problem(str(faq_path), p.line, p.col, f"after merging: {p.message}")
                            for p in exc.problems]) from None
    _write_atomic(faq_path, new_faq)
    pending["pending"] = keep
    _write_atomic(pending_path, _dump(pending))
    return result


def _incomplete(item: Any, by_id: dict[str, Any], locales: tuple[str, ...],
                normalize: Normalizer) -> tuple[str, str] | None:
    """(key, reason) if the proposal cannot be merged yet."""
    if not isinstance(item, dict):
        return ("", "each proposal must be a mapping")
    questions = item.get("questions")
    if not isinstance(questions, list) or not any(normalize(str(q)) for q in questions):
        return ("questions", "needs at least one question")
    if "add_to" in item:
        if item["add_to"] not in by_id:
            return ("add_to", f"{item['add_to']!r} is not an entry in the FAQ; use an existing id")
        return None
    entry_id = item.get("id")
    if not isinstance(entry_id, str) or not ID_RE.match(entry_id) or len(entry_id) > MAX_ID:
        return ("id", f"id {entry_id!r} must be snake_case and at most {MAX_ID} characters")
    if entry_id in by_id:
        return ("id", f"id {entry_id!r} already exists; rename it, or use `add_to: {entry_id}` instead")
    answer = item.get("answer")
    for loc in locales:
        if not isinstance(answer, dict) or not str(answer.get(loc) or "").strip():
            return ("answer", f"the answer in {loc} is empty; write it (or use `add_to:` an existing entry)")
    return None
