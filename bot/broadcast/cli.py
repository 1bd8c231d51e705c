"""`hrbot broadcast --audience EXPR --text-file FILE [--at ...] [--urgent] [--dry-run] [--json] [--html]` and
`hrbot broadcasts list [--json]` (shared/CONTRACTS.md). A running `hrbot run` delivers what is queued here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.broadcast import service
from bot.broadcast.service import BroadcastError
from bot.clock import SystemClock
from bot.config import Settings
from bot.i18n import Texts
from store.db import Database
from store.models import Broadcast

broadcasts_app = typer.Typer(no_args_is_help=True, help="Broadcasts: what was sent to whom, with figures.")


def _context() -> tuple[Settings, Database]:
    from bot.cli import _database, _settings  # the CLI's own set-up: config errors and a missing schema

    settings = _settings()
    return settings, _database(settings)


def _refuse(settings: Settings, err: BroadcastError) -> typer.Exit:
    """The sentence from content/ (English when shipped: the CLI speaks English), exit code 2."""
    locale = "en" if "en" in settings.locales else settings.default_locale
    texts = Texts.load(settings.content_dir, settings.locales, settings.default_locale)
    typer.echo(texts.get(locale, err.key, **err.values), err=True)
    return typer.Exit(2)


def _lessons(settings: Settings) -> list[str]:
    from bot.app import load_library

    try:
        return list(load_library(settings).lessons)
    except Exception:  # noqa: BLE001 - broken lesson files: `hrbot validate` reports them; lesson: is then unknown
        return []


def _when(text: str, settings: Settings, now: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        return service.parse_when(text, now, settings.tz)
    if at.tzinfo is None:
        at = at.replace(tzinfo=settings.tz)
    if at <= now:
        raise BroadcastError("bc_time_past", when=at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"))
    return at


def broadcast_command(
    audience: Annotated[str, typer.Option(help="all, or cohort:ID, department:ID, role:ID, stage:ID, lesson:ID "
                                               "joined with , (and)")],
    text_file: Annotated[Path, typer.Option(help="UTF-8 text, sent as written", exists=True, dir_okay=False)],
    at: Annotated[str | None, typer.Option(help="when to send: 2026-12-01 10:00, 明天 10:00 (company time)")] = None,
    urgent: Annotated[bool, typer.Option(help="send in quiet hours too")] = False,
    dry_run: Annotated[bool, typer.Option(help="count the recipients; send nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_html: Annotated[bool, typer.Option("--html", help="the text uses Telegram's HTML formatting")] = False,
) -> None:
    """Send one message to many candidates (through the outbox; `hrbot run` delivers it)."""
    settings, db = _context()
    now = SystemClock().now()
    text = text_file.read_text(encoding="utf-8")
    try:
        aud = service.parse_audience(audience, service.known_ids(settings, _lessons(settings)))
        if not text.strip():
            raise BroadcastError("bc_empty_text")
        if as_html:
            service.check_html(text)
        service.check_length(text, as_html, caption=False)
        when = _when(at, settings, now) if at else None
    except BroadcastError as err:
        raise _refuse(settings, err) from None
    with db.session() as session:
        found = service.reach(session, aud, None)
        if not found.recipients and not dry_run:
            raise _refuse(settings, BroadcastError("bc_nobody", excluded=found.excluded))
        bid = None
        if not dry_run:
            content = service.new_content()
            content.update(texts={settings.default_locale: text}, html=as_html)
            bc = Broadcast(created_by=0, created_at=now, audience=aud.text, content=json.dumps(content,
                           ensure_ascii=False), urgent=urgent, status="draft",
                           scheduled_at=when.astimezone(UTC) if when else None)
            session.add(bc)
            session.flush()
            paid = urgent and settings.file.broadcasts.paid_for_urgent
            service.queue(session, bc, found, now, default_locale=settings.default_locale, paid=paid, actor="cli")
            bid = bc.id
    if as_json:
        typer.echo(json.dumps({"broadcast_id": bid, "recipients": len(found.recipients),
                               "excluded": found.excluded}))
        return
    what = "would go to" if dry_run else f"broadcast #{bid} queued for"
    typer.echo(f"{what} {len(found.recipients)} candidate(s); excluded {found.excluded} "
               f"(not started the bot: {len(found.not_started)}, unreachable: {len(found.unreachable)})"
               + (f"; sent at {when.astimezone(settings.tz):%Y-%m-%d %H:%M}" if when and not dry_run else ""))


@broadcasts_app.command("list")
def list_command(as_json: Annotated[bool, typer.Option("--json")] = False,
                 limit: Annotated[int, typer.Option(help="how many, newest first")] = 20) -> None:
    """Recent broadcasts with their figures."""
    settings, db = _context()
    with db.session() as session:
        rows = service.recent(session, limit)
        figs = service.figures(session, [b.id for b in rows if b.id is not None])
    out = []
    for b in rows:
        assert b.id is not None
        f = figs[b.id]
        out.append({"id": b.id, "status": b.status, "total": b.total, "sent": f.sent, "unreachable": f.unreachable,
                    "failed": f.failed, "dropped": f.dropped, "excluded": b.excluded, "audience": b.audience,
                    "scheduled_at": b.scheduled_at.isoformat() if b.scheduled_at else None})
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for r in out:
        typer.echo(f"#{r['id']}\t{r['status']}\t{r['audience']}\tsent {r['sent']}/{r['total']}\t"
                   f"unreachable {r['unreachable']}\tfailed {r['failed']}\tdropped {r['dropped']}")
