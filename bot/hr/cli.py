"""`hrbot hr add|remove|list`: HR members, their roles and scopes."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from bot.clock import SystemClock
from bot.config import Settings
from bot.hr import members
from store.db import Database

hr_app = typer.Typer(no_args_is_help=True, help="HR members: roles (admin, hr, viewer) and scopes.")


def _context() -> tuple[Settings, Database]:
    from bot.cli import _database, _settings  # the CLI's own set-up: config errors and a missing schema

    settings = _settings()
    return settings, _database(settings)


@hr_app.command("add")
def add(
    telegram_id: Annotated[int, typer.Argument(help="the member's numeric Telegram user id")],
    role: Annotated[str, typer.Option(help="admin | hr | viewer")] = "hr",
    departments: Annotated[str, typer.Option(help="department ids, comma-separated (scope)")] = "",
    cohorts: Annotated[str, typer.Option(help="cohort ids, comma-separated (scope)")] = "",
    name: Annotated[str | None, typer.Option(help="shown to candidates on 1:1 messages")] = None,
) -> None:
    """Add an HR member, or change one's role and scope (no scope: every candidate)."""
    settings, db = _context()
    try:
        with db.session() as session:
            _, new = members.add(session, settings, telegram_id, role=role, departments=departments,
                                 cohorts=cohorts, name=name, actor="cli", now=SystemClock().now())
    except members.MemberError as err:
        for p in err.problems:
            typer.echo(p, err=True)
        raise typer.Exit(2) from None
    scope = ", ".join(filter(None, [departments, cohorts])) or "every candidate"
    typer.echo(f"{'added' if new else 'changed'} {telegram_id}: {role}, {scope}")


@hr_app.command("remove")
def remove(telegram_id: Annotated[int, typer.Argument()]) -> None:
    """Remove an HR member: from the next message on, they are like anyone else."""
    settings, db = _context()
    try:
        with db.session() as session:
            members.remove(session, settings, telegram_id, actor="cli", now=SystemClock().now())
    except members.MemberError as err:
        for p in err.problems:
            typer.echo(p, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"removed {telegram_id}")


@hr_app.command("list")
def listing(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Everyone in HR: config.yaml's admins, then the members added here."""
    settings, db = _context()
    with db.session() as session:
        rows = members.listing(session, settings)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        scope = ",".join(r.departments + r.cohorts) or "*"
        typer.echo(f"{r.telegram_id}\t{r.role}\t{scope}\t{r.name or ''}\t{r.source}")
