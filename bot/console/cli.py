"""`hrbot candidates mark ID attended|withdrawn [--reason TEXT]` and
`hrbot cohorts mark-attended COHORT [--except ID,ID] [--dry-run]`: outcomes from the command line (audited as cli)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.clock import SystemClock
from bot.config import Settings
from bot.console import service
from bot.hr.service import HrError, find_candidate
from store.db import Database


def _context() -> tuple[Settings, Database]:
    from bot.cli import _database, _settings  # the CLI's own set-up: config errors and a missing schema

    settings = _settings()
    return settings, _database(settings)


def _reasons(settings: Settings) -> list[str]:
    from bot.app import load_content

    return service.reason_ids(load_content(settings).texts)


def mark_command(
    candidate: Annotated[str, typer.Argument(help="id, external id or phone")],
    outcome: Annotated[str, typer.Argument(help="attended | withdrawn")],
    reason: Annotated[str | None, typer.Option(help="withdrawn: a reason id from content/ (withdraw_reasons), "
                                                    "or free text")] = None,
) -> None:
    """Record what became of a candidate: attended training, or withdrawn (with a reason)."""
    settings, db = _context()
    if outcome not in service.OUTCOMES:
        typer.echo(f"outcome {outcome!r} is not one of: {', '.join(service.OUTCOMES)}", err=True)
        raise typer.Exit(2)
    if outcome == "withdrawn" and not (reason or "").strip():
        typer.echo("withdrawn needs --reason: one of " + ", ".join(_reasons(settings)) + ", or free text", err=True)
        raise typer.Exit(2)
    if outcome == "attended" and reason:
        typer.echo("--reason is for withdrawn only", err=True)
        raise typer.Exit(2)
    try:
        with db.session() as session:
            cand = find_candidate(session, candidate, settings)
            done = service.mark(session, settings, cand, outcome, reason, "cli", SystemClock().now())
            line = f"#{cand.id} {cand.name}: {outcome}" + (f" ({done.candidate.outcome_reason})"
                                                          if done.candidate.outcome_reason else "")
            if done.stage:
                line += f"; stage -> {done.stage}"
            changed = done.changed
    except HrError:
        typer.echo(f"no candidate {candidate!r}; use an id, external id or phone (see `hrbot candidates list`)",
                   err=True)
        raise typer.Exit(1) from None
    typer.echo(line if changed else f"{line}: already marked; nothing changed.")


def mark_attended_command(
    cohort: Annotated[str, typer.Argument(help="cohort id (hrbot cohorts list)")],
    except_: Annotated[str, typer.Option("--except", help="candidate ids not to mark, comma-separated")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say who would be marked; change nothing")] = False,
) -> None:
    """Mark everyone of a cohort as attended training, except the ids given (those with an outcome stay as
    they are)."""
    settings, db = _context()
    if cohort not in settings.cohorts:
        typer.echo(f"no cohort {cohort!r}; cohorts: {', '.join(settings.cohorts)}", err=True)
        raise typer.Exit(2)
    excepted = service.parse_ids(except_)
    if excepted is None:
        typer.echo(f"--except {except_!r}: give candidate ids separated by commas", err=True)
        raise typer.Exit(2)
    try:
        with db.session() as session:
            plan = service.cohort_plan(session, cohort, excepted, None)
            count = len(plan.to_mark)
            if not dry_run:
                service.mark_cohort(session, settings, plan, "cli", SystemClock().now())
    except HrError as err:
        typer.echo(f"--except: #{err.values['ref']} is not a candidate of cohort {cohort}; nothing marked", err=True)
        raise typer.Exit(2) from None
    verb = "would mark" if dry_run else "marked"
    typer.echo(f"{cohort}: {verb} {count} as attended; {len(plan.excepted)} excepted; "
               f"{plan.skipped} already had an outcome.")


def register(cand_app: typer.Typer, cohort_app: typer.Typer) -> None:
    cand_app.command("mark")(mark_command)
    cohort_app.command("mark-attended")(mark_attended_command)
