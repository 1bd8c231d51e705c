"""FAQ proposals from HR's chat answers ("add to FAQ", or "this is entry X") and from candidates' taps on "did you
mean", from the button to content/faq.yaml.

The button keeps a proposal in the database (`faqproposal`): it holds a candidate's own words, which leave the
database only when HR reviews them. `hrbot faq propose --export` writes the chosen ones to
content/faq.pending.yaml, where a person edits and translates them, and `hrbot faq merge` moves the complete ones
into the FAQ. The files are written with ruamel.yaml so that the comments and layout HR keeps in content/faq.yaml
survive a merge.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.faq.catalog import ID_RE, MAX_ID, FaqError, load_faq
from bot.faq.normalize import Normalizer
from bot.yamlsrc import Problem, YamlSyntaxError, load_file
from store.models import FaqProposal, Ticket

KEY_LENGTH = 300  # faqproposal.question_key: a longer question is told apart by its first 300 characters

HEADER = """\
# FAQ entries proposed from HR's answers in chat ("add to FAQ"). Review each one:
#   - a new entry: check the id (snake_case), the question(s), and write the answer in every language;
#   - or, to make the question an example of an existing entry, replace `id` and `answer` with
#     `add_to: <entry id>` (see `similar_to` for the closest existing entry).
# Items with `add_to:` are questions candidates asked (tapped under "did you mean", or HR linked to the entry):
#   check that the question fits that entry (edit it, or delete the item to drop it); `taps` = how often.
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


def propose(session: Session, ticket: Ticket, *, answer_locale: str, similar_to: str | None, by: int,
            now: datetime) -> bool:
    """Keep an answered ticket as a proposal for HR's review; False if it was proposed already (two taps at once
    included: the unique ticket_id decides)."""
    assert ticket.id is not None and ticket.answer
    if ticket.added_to_faq_at is not None:  # also set for tickets proposed when the button wrote the file
        return False
    try:
        with session.begin_nested():
            session.add(FaqProposal(ticket_id=ticket.id, question=ticket.question, answer=ticket.answer,
                                    answer_locale=answer_locale, similar_to=similar_to, created_at=now,
                                    created_by=by))
    except IntegrityError:
        return False
    ticket.added_to_faq_at = now
    session.add(ticket)
    return True


def propose_example(session: Session, *, entry_id: str, question: str, key: str, source: str, locale: str,
                    now: datetime, ticket: Ticket | None = None, faq_query_id: int | None = None,
                    by: int | None = None) -> FaqProposal | None:
    """Keep a question as a proposed example question of an existing entry (a candidate tapped that entry under
    "did you mean", or HR linked an answered ticket to it). The same question (normalised: `key`) for the same
    entry is one proposal whose `taps` count up, whatever its status (a rejected one stays rejected). Returns the
    new proposal, or None if it only counted (or, for a ticket, if the ticket was proposed already)."""
    if not key:
        return None
    key = key[:KEY_LENGTH]
    if ticket is not None and ticket.added_to_faq_at is not None:
        return None
    same = FaqProposal.entry_id == entry_id, FaqProposal.question_key == key
    existing = session.exec(select(FaqProposal).where(*same)).first()
    if existing is None:
        try:
            with session.begin_nested():
                row = FaqProposal(ticket_id=ticket.id if ticket is not None else None, faq_query_id=faq_query_id,
                                  source=source, entry_id=entry_id, question=question, question_key=key,
                                  answer_locale=locale, similar_to=entry_id, created_at=now, last_at=now,
                                  created_by=by)
                session.add(row)
            if ticket is not None:
                ticket.added_to_faq_at = now
                session.add(ticket)
            return row
        except IntegrityError:  # proposed at the same moment by another tap, or this ticket by another HR member
            if ticket is not None:
                return None
            existing = session.exec(select(FaqProposal).where(*same)).first()
            if existing is None:
                return None
    existing.taps += 1
    existing.last_at = now
    session.add(existing)
    if ticket is not None:
        ticket.added_to_faq_at = now
        session.add(ticket)
    return None


def pending_proposals(session: Session) -> list[FaqProposal]:
    """Proposals nobody has reviewed yet: new entries oldest first, then example questions, most tapped first."""
    rows = session.exec(select(FaqProposal).where(FaqProposal.status == "pending").order_by(col(FaqProposal.id)))
    return sorted(rows.all(), key=lambda p: (p.entry_id is not None, -p.taps if p.entry_id else 0, p.id or 0))


class ProposalError(Exception):
    """A review step that cannot be done; each line says which proposal and why."""

    def __init__(self, lines: list[str]):
        super().__init__("; ".join(lines))
        self.lines = lines


def export(session: Session, path: Path, locales: tuple[str, ...], now: datetime,
           ids: Sequence[int] | None = None) -> list[FaqProposal]:
    """HR's review: write the chosen pending proposals (all of them without ids) into the pending file and mark
    them exported. Naming one that is not pending (unknown, rejected, exported) changes nothing. The file is
    written before the rows are marked: should the commit fail, exporting again finds those tickets in the file and
    only marks them."""
    if ids is None:
        rows = pending_proposals(session)
    else:
        found = {p.id: p for p in session.exec(select(FaqProposal).where(col(FaqProposal.id).in_(ids))).all()}
        problems = [f"proposal {i} does not exist" for i in ids if i not in found]
        problems += [f"proposal {i} is {found[i].status}, not pending" for i in ids
                     if i in found and found[i].status != "pending"]
        if problems:
            raise ProposalError(problems)
        rows = [found[i] for i in sorted(set(ids))]
    if not rows:
        return []
    write_pending(path, rows, locales)
    for row in rows:
        row.status, row.reviewed_at = "exported", now
        session.add(row)
    return rows


def reject(session: Session, proposal_id: int, now: datetime) -> FaqProposal:
    """HR decided against a proposal: it is never exported."""
    row = session.get(FaqProposal, proposal_id)
    if row is None:
        raise ProposalError([f"proposal {proposal_id} does not exist"])
    if row.status != "pending":
        raise ProposalError([f"proposal {proposal_id} is {row.status}, not pending"])
    row.status, row.reviewed_at = "rejected", now
    session.add(row)
    return row


def write_pending(path: Path, proposals: Sequence[FaqProposal], locales: tuple[str, ...]) -> None:
    """Add proposals to the pending file, in the format `merge` reads; a ticket already in the file is not added
    twice. A pending file that has been edited into something that would lose text (a duplicate key, a quote left
    open) raises FaqError and is left as it is."""
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
    present = {("ticket", i.get("ticket")) for i in items if isinstance(i, dict) and i.get("ticket") is not None}
    present |= {("proposal", i.get("proposal")) for i in items if isinstance(i, dict) and i.get("proposal")}
    added = False
    for proposal in proposals:
        mark = ("ticket", proposal.ticket_id) if proposal.ticket_id is not None else ("proposal", proposal.id)
        if mark in present or ("proposal", proposal.id) in present:
            continue
        present.add(mark)
        added = True
        if proposal.entry_id is not None:  # an example question of an existing entry: merge adds it there
            item = CommentedMap()
            item["proposal"] = proposal.id
            if proposal.ticket_id is not None:
                item["ticket"] = proposal.ticket_id
            item["added"] = proposal.created_at.date().isoformat()
            item["source"] = proposal.source
            if proposal.taps > 1:
                item["taps"] = proposal.taps
            item["add_to"] = proposal.entry_id
            item["questions"] = CommentedSeq([proposal.question])
            items.append(item)
            continue
        item = CommentedMap()
        item["ticket"] = proposal.ticket_id
        item["added"] = proposal.created_at.date().isoformat()
        item["id"] = f"ticket_{proposal.ticket_id}"
        item["questions"] = CommentedSeq([proposal.question])
        answers = CommentedMap()
        for loc in locales:
            answers[loc] = (proposal.answer or "") if loc == proposal.answer_locale else ""
        item["answer"] = answers
        if proposal.similar_to:
            item["similar_to"] = proposal.similar_to
        items.append(item)
    if added:
        text = _dump(data)
        _write_atomic(path, text if text.startswith("#") else HEADER + text)


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
