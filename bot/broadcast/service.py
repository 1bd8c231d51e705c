"""Broadcasts shared by chat and CLI: the audience, who it reaches, the message each candidate gets, queueing
one outbox row per recipient, cancelling, and the figures.

An audience is ``all`` or conditions joined with ``,`` (and): ``cohort:ID``, ``department:ID``, ``role:ID``,
``stage:ID``, ``lesson:ID`` (has not finished that lesson). Candidates who withdrew (stage ``withdrawn``) are
left out unless the audience names that stage. Recipients are those the audience matches (within the HR
member's scope) who have linked their Telegram account and are not marked unreachable; the others are
``excluded`` and counted.
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.engine.core import MenuButton
from bot.engine.effects import Button, Message, Say, SendMedia, message_to_json
from bot.outbox.store import KINDS
from store.models import AuditLog, Broadcast, Candidate, LessonProgress, Outbox

DIMENSIONS = ("cohort", "department", "role", "stage", "lesson")
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PHOTO_LIMIT = 10 * 1024 * 1024  # bytes: Telegram's limit for photos sent by bots
WITHDRAWN = "withdrawn"
# Telegram's HTML formatting: the tags it accepts (https://core.telegram.org/bots/api#html-style)
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
        "blockquote", "tg-emoji"}
_TAG_HINT = re.compile(r"</?(" + "|".join(sorted(TAGS, key=len, reverse=True)) + r")\b[^>]*>")


class BroadcastError(ValueError):
    """Input that cannot become a broadcast; ``key`` names the sentence in content/, ``values`` fill it."""

    def __init__(self, key: str, **values: Any):
        super().__init__(f"{key}: {values}")
        self.key, self.values = key, values


# -- audience ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Audience:
    parts: tuple[tuple[str, str], ...] = ()  # (dimension, id), and-ed; () = everyone

    @property
    def text(self) -> str:
        return ",".join(f"{d}:{v}" for d, v in self.parts) or "all"

    def with_part(self, dim: str, value: str) -> Audience:
        """The same dimension twice replaces it (one cohort, one department ...)."""
        if dim == "all":
            return Audience()
        return Audience(tuple(p for p in self.parts if p[0] != dim) + ((dim, value),))


def known_ids(settings: Settings, lessons: Iterable[str] = ()) -> dict[str, list[str]]:
    return {"cohort": list(settings.cohorts), "department": list(settings.departments),
            "role": list(settings.roles), "stage": list(settings.stages), "lesson": list(lessons)}


def parse_audience(expr: str, known: dict[str, list[str]]) -> Audience:
    """``all`` or ``dim:id,dim:id``; an unknown dimension or id raises BroadcastError (with a suggestion)."""
    text = expr.strip()
    if text in ("all", "*", ""):
        return Audience()
    parts: list[tuple[str, str]] = []
    for piece in text.split(","):
        dim, sep, value = piece.strip().partition(":")
        dim, value = dim.strip(), value.strip()
        if not sep or dim not in DIMENSIONS:
            raise BroadcastError("bc_bad_audience", part=piece.strip(), dims=", ".join(DIMENSIONS))
        if value not in known.get(dim, []):
            close = difflib.get_close_matches(value, known.get(dim, []), n=1, cutoff=0.5)
            raise BroadcastError("bc_unknown_id", dim=dim, value=value,
                                 suggestion=f"{dim}:{close[0]}" if close else "",
                                 known=", ".join(known.get(dim, [])))
        parts.append((dim, value))
    aud = Audience()
    for dim, value in parts:
        aud = aud.with_part(dim, value)
    return aud


def _conditions(aud: Audience) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    for dim, value in aud.parts:
        if dim == "cohort":
            conds.append(col(Candidate.cohort_id) == value)
        elif dim == "department":
            conds.append(col(Candidate.department) == value)
        elif dim == "role":
            conds.append(col(Candidate.role) == value)
        elif dim == "stage":
            conds.append(col(Candidate.stage) == value)
        elif dim == "lesson":
            passed = exists().where(col(LessonProgress.candidate_id) == Candidate.id,
                                    col(LessonProgress.lesson_id) == value,
                                    col(LessonProgress.passed_at).is_not(None))
            conds.append(~passed)
    if not any(d == "stage" for d, _ in aud.parts):
        conds.append(col(Candidate.stage) != WITHDRAWN)
    return conds


@dataclass
class Reach:
    recipients: list[tuple[int, int, str | None]] = field(default_factory=list)  # candidate id, chat, language
    not_started: list[str] = field(default_factory=list)  # names
    unreachable: list[str] = field(default_factory=list)

    @property
    def excluded(self) -> int:
        return len(self.not_started) + len(self.unreachable)


def reach(session: Session, aud: Audience, scope: ColumnElement[bool] | None) -> Reach:
    """Who the audience matches within ``scope`` (a Staff.where(); None: everyone), split by reachability."""
    conds = _conditions(aud)
    if scope is not None:
        conds.append(scope)
    c = Candidate.__table__.c  # type: ignore[attr-defined]
    query = sa_select(c.id, c.telegram_chat_id, c.language, c.name, c.unreachable_at).where(and_(*conds)) \
        .order_by(c.id)
    out = Reach()
    for cid, chat, language, name, unreachable_at in session.execute(query):
        if chat is None:
            out.not_started.append(name)
        elif unreachable_at is not None:
            out.unreachable.append(name)
        else:
            out.recipients.append((cid, chat, language))
    return out


# -- content ----------------------------------------------------------------------------------------------------
class _HtmlCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problem: str | None = None
        self.visible = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problem = self.problem or f"<{tag}>"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problem = self.problem or f"</{tag}>"
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.visible += len(data)


def visible_length(text: str, is_html: bool) -> int:
    if not is_html:
        return len(text)
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    return check.visible


def check_html(text: str) -> None:
    """Telegram refuses a whole message whose HTML it cannot read: say so before anything is sent."""
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    if check.problem or check.stack:
        raise BroadcastError("bc_bad_html", tag=check.problem or f"<{check.stack[-1]}>")
    if re.search(r"<(?![/a-zA-Z])|&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text):
        raise BroadcastError("bc_bad_html", tag="< &")


def typed_text(text: str, text_html: str | None) -> str:
    """What HR typed in chat, as Telegram HTML: their phone's formatting, tags they typed, or plain text."""
    if text_html:
        return text_html
    if _TAG_HINT.search(text):
        check_html(text)
        return text
    return html.escape(text, quote=False)


def check_length(text: str, is_html: bool, caption: bool) -> None:
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    n = visible_length(text, is_html)
    if n > limit:
        raise BroadcastError("bc_too_long_caption" if caption else "bc_too_long", n=n, limit=limit)


def guess_locale(text: str, locales: tuple[str, ...], default: str) -> str:
    """The language a text is written in, as far as the two shipped ones go: Chinese characters or not."""
    chinese = next((loc for loc in locales if loc.startswith("zh")), None)
    other = next((loc for loc in locales if not loc.startswith("zh")), None)
    if re.search(r"[\u4e00-\u9fff]", text):
        return chinese or default
    return other or default


def new_content() -> dict[str, Any]:
    return {"texts": {}, "html": True, "media": None, "button": None, "step": None, "step_at": None}


def load_content(bc: Broadcast) -> dict[str, Any]:
    data = new_content()
    data.update(json.loads(bc.content or "{}"))
    return data


def text_for(content: dict[str, Any], locale: str, default: str) -> str | None:
    texts: dict[str, str] = content["texts"]
    if locale in texts:
        return texts[locale]
    if default in texts:
        return texts[default]
    return next(iter(texts.values()), None)


def message_for(content: dict[str, Any], locale: str, default: str, chat_id: int, menu_label: str | None = None,
                paid: bool = False) -> Message:
    """Exactly what a candidate in ``locale`` gets (HR's preview is this, sent to HR's chat)."""
    text = text_for(content, locale, default) or ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    btn = content.get("button")
    if btn and btn.get("url"):
        label = btn.get("label") or "🔗"
        buttons = ((Button(label, "", url=btn["url"]),),)
    elif btn and btn.get("menu"):
        buttons = ((MenuButton(btn["menu"]).button(menu_label or btn["menu"]),),)
    media = content.get("media")
    is_html = bool(content.get("html"))
    if media:
        return SendMedia(chat_id, media["kind"], media["ref"], caption=text or None, buttons=buttons, html=is_html,
                         paid=paid)
    return Say(chat_id, text, buttons, html=is_html, paid=paid)


# -- queueing ---------------------------------------------------------------------------------------------------
def queue(session: Session, bc: Broadcast, recipients: Reach, now: datetime, *, default_locale: str,
          menu_labels: dict[str, str] | None = None, paid: bool = False, actor: str) -> bool:
    """Draft -> sending (or scheduled): one outbox row per recipient, due now or at the scheduled time.

    The status moves with a conditional UPDATE, so a second confirm (a double tap, another HR member) queues
    nothing; the dedupe key ``broadcast:<id>:<candidate>`` stops a second row for anyone anyway."""
    assert bc.id is not None
    if bc.scheduled_at is not None and bc.scheduled_at.tzinfo is None:  # read back from the database: UTC
        bc.scheduled_at = bc.scheduled_at.replace(tzinfo=UTC)
    scheduled = bc.scheduled_at is not None and bc.scheduled_at > now
    status = "scheduled" if scheduled else "sending"
    moved = session.execute(update(Broadcast).where(col(Broadcast.id) == bc.id, col(Broadcast.status) == "draft")
                            .values(status=status, started_at=None if scheduled else now,
                                    total=len(recipients.recipients), excluded=recipients.excluded, paid=paid))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    content = load_content(bc)
    due = bc.scheduled_at.astimezone(UTC) if scheduled and bc.scheduled_at else now
    priority, _ = KINDS["broadcast"]
    effects: dict[str, str] = {}
    rows = []
    for cid, chat, language in recipients.recipients:
        locale = language or default_locale
        if locale not in effects:
            label = (menu_labels or {}).get(locale)
            effects[locale] = message_to_json(message_for(content, locale, default_locale, 0, label, paid))
        rows.append({"dedupe_key": f"broadcast:{bc.id}:{cid}", "kind": "broadcast", "candidate_id": cid,
                     "chat_id": chat, "priority": priority, "urgent": bc.urgent, "effect": effects[locale],
                     "broadcast_id": bc.id, "due_at": due, "planned_at": now, "status": "pending",
                     "next_attempt_at": due, "attempts": 0})
    for start in range(0, len(rows), 2000):
        session.execute(insert(Outbox), rows[start : start + 2000])
    session.add(AuditLog(at=now, actor=actor, action="broadcast", detail=(
        f"#{bc.id} audience={bc.audience} recipients={len(rows)} excluded={recipients.excluded} "
        f"{'scheduled ' + bc.scheduled_at.isoformat() if scheduled and bc.scheduled_at else 'now'}"
        f"{' urgent' if bc.urgent else ''}{' paid' if paid else ''}")[:500]))
    return True


def cancel(session: Session, broadcast_id: int, now: datetime, actor: str) -> int | None:
    """Stop a broadcast: what is not sent yet is dropped. The number dropped; None if it was not running."""
    # A scheduled one never started: HR's answer is its whole report. A running one is reported by the
    # progress job once the message in flight (if any) has settled.
    moved = session.execute(update(Broadcast).where(col(Broadcast.id) == broadcast_id,
                                                    col(Broadcast.status) == "scheduled")
                            .values(status="cancelled", finished_at=now))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        moved = session.execute(update(Broadcast).where(col(Broadcast.id) == broadcast_id,
                                                        col(Broadcast.status) == "sending")
                                .values(status="cancelled"))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    dropped = session.execute(update(Outbox).where(col(Outbox.broadcast_id) == broadcast_id,
                                                   col(Outbox.status) == "pending")
                              .values(status="dropped", reason="broadcast cancelled by HR"))
    n = int(dropped.rowcount)  # type: ignore[attr-defined]
    session.add(AuditLog(at=now, actor=actor, action="broadcast_cancel", detail=f"#{broadcast_id} dropped={n}"))
    return n


# -- figures ----------------------------------------------------------------------------------------------------
@dataclass
class Figures:
    total: int = 0
    sent: int = 0
    unreachable: int = 0
    failed: int = 0
    dropped: int = 0
    waiting: int = 0  # pending or in flight


def figures(session: Session, broadcast_ids: list[int]) -> dict[int, Figures]:
    out = {i: Figures() for i in broadcast_ids}
    if not broadcast_ids:
        return out
    o = Outbox.__table__.c  # type: ignore[attr-defined]
    c = Candidate.__table__.c  # type: ignore[attr-defined]
    unreachable = and_(o.status == "failed", c.unreachable_at.is_not(None))
    query = (sa_select(o.broadcast_id, o.status, unreachable, func.count())
             .select_from(Outbox.__table__.outerjoin(Candidate.__table__, c.id == o.candidate_id))  # type: ignore[attr-defined]
             .where(o.broadcast_id.in_(broadcast_ids))
             .group_by(o.broadcast_id, o.status, unreachable))
    for bid, status, is_unreachable, n in session.execute(query):
        f = out[bid]
        f.total += n
        if status == "sent":
            f.sent += n
        elif status == "failed" and is_unreachable:
            f.unreachable += n
        elif status == "failed":
            f.failed += n
        elif status == "dropped":
            f.dropped += n
        else:
            f.waiting += n
    return out


def unreachable_names(session: Session, broadcast_id: int) -> list[tuple[int, str]]:
    o = Outbox.__table__.c  # type: ignore[attr-defined]
    c = Candidate.__table__.c  # type: ignore[attr-defined]
    query = (sa_select(c.id, c.name).select_from(Outbox.__table__.join(Candidate.__table__, c.id == o.candidate_id))  # type: ignore[attr-defined]
             .where(o.broadcast_id == broadcast_id, o.status == "failed").order_by(c.id))
    return [(int(cid), str(name)) for cid, name in session.execute(query)]


def recent(session: Session, limit: int = 10, created_by: int | None = None) -> list[Broadcast]:
    query = select(Broadcast).where(col(Broadcast.status) != "draft", col(Broadcast.total) > 0)  # queued ones
    if created_by is not None:
        query = query.where(col(Broadcast.created_by) == created_by)
    return list(session.exec(query.order_by(col(Broadcast.id).desc()).limit(limit)).all())


# -- when -------------------------------------------------------------------------------------------------------
_DAY_WORDS = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}


def parse_when(text: str, now: datetime, tz: Any) -> datetime:
    """"明天 10:00", "tomorrow 9:30", "2026-12-01 10:00", "12-01 10:00", "12月1日 10:00", "10:00" (today)
    in the company's timezone; BroadcastError if unreadable or not in the future."""
    s = text.strip().lower().replace("：", ":")
    local_now = now.astimezone(tz)
    m = re.fullmatch(r"(?:(今天|明天|后天|today|tomorrow)\s*)?"
                     r"(?:(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|(\d{1,2})[-/.](\d{1,2})|(\d{1,2})月(\d{1,2})[日号])?"
                     r"\s*(?:(上午|下午|晚上)\s*)?(\d{1,2})(?:[:点](\d{2})?分?)?", s)
    if not m:
        raise BroadcastError("bc_bad_time", text=text)
    word, y, mo, d, mo2, d2, mo3, d3, half, hh, mm = m.groups()
    day: date = local_now.date()
    if word:
        day = day + timedelta(days=_DAY_WORDS[word])
    elif y:
        day = _date(int(y), int(mo), int(d), text)
    elif mo2 or mo3:
        month, dom = (int(mo2), int(d2)) if mo2 else (int(mo3), int(d3))
        day = _date(local_now.year, month, dom, text)
        if day < local_now.date():
            day = _date(local_now.year + 1, month, dom, text)
    hour, minute = int(hh), int(mm or 0)
    if half in ("下午", "晚上") and hour < 12:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise BroadcastError("bc_bad_time", text=text)
    at = datetime.combine(day, time(hour, minute), tzinfo=tz)
    if at <= local_now:
        raise BroadcastError("bc_time_past", when=at.strftime("%Y-%m-%d %H:%M"))
    return at


def _date(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise BroadcastError("bc_bad_time", text=text) from None
