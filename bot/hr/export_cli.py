"""`hrbot candidates export --format csv|xlsx --out FILE [--cohort ID] [--include-sensitive]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.clock import SystemClock
from bot.crypto import Sealer
from bot.hr import export
from bot.i18n import Texts, TextsError
from store.models import AuditLog


def export_command(
    out: Annotated[Path, typer.Option("--out", help="the file to write (.csv or .xlsx)")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv | xlsx (default: from --out's suffix)")] = None,
    cohort: Annotated[str | None, typer.Option("--cohort", help="only this cohort (an id from config.yaml)")] = None,
    include_sensitive: Annotated[bool, typer.Option(
        "--include-sensitive", help="add the personal information centre, ID numbers decrypted (needs "
        "HRBOT_SECRET_KEY; audited)")] = False,
) -> None:
    """Candidates as a spreadsheet: a header row, one row per candidate (columns: README)."""
    from bot.cli import _database, _fail, _settings  # the CLI's own set-up: config errors and a missing schema

    chosen = fmt or out.suffix.lstrip(".").lower()
    if chosen not in export.FORMATS:
        raise _fail(f"--format {fmt or chosen!r} is not one of csv, xlsx; nothing was written", 2)
    settings = _settings()
    sealer = None
    if include_sensitive:
        secret = settings.env.secret_key
        if not secret:
            raise _fail("--include-sensitive needs HRBOT_SECRET_KEY, the key the ID numbers were encrypted with; "
                        "set it and run again. Nothing was written.", 2)
        sealer = Sealer(secret.get_secret_value())
    try:
        export.check_cohort(settings, cohort)
    except export.UnknownCohort as err:
        hint = f"; did you mean {err.suggestion!r}?" if err.suggestion else ""
        raise _fail(f"unknown cohort {err.cohort!r}{hint} Cohorts: {', '.join(err.known)}. Nothing was written.",
                    2) from None
    try:
        texts = Texts.load(settings.content_dir, settings.locales, settings.default_locale)
    except TextsError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    with _database(settings).session() as session:
        rows = export.build(session, settings, texts, cohort=cohort, sealer=sealer)
        # Who, how many rows, which cohort; never the data. Written with the file: a failed write rolls it back.
        session.add(AuditLog(at=SystemClock().now(), actor="cli",
                             action="export_sensitive" if sealer is not None else "export",
                             detail=export.audit_detail(chosen, len(rows.rows), cohort)))
        session.flush()
        try:
            export.write(rows, out, chosen)
        except OSError as exc:
            raise _fail(f"cannot write {out}: {exc.strerror or exc}; nothing was written", 1) from None
    what = f"cohort {cohort}" if cohort else "all cohorts"
    typer.echo(f"wrote {len(rows.rows)} candidates ({what}) to {out} ({chosen}).")
    if sealer is not None:
        typer.echo("this file holds ID numbers and other sensitive fields: keep it safe and delete it when done.")
        if rows.undecryptable:
            typer.echo(f"{rows.undecryptable} ID numbers could not be decrypted with this HRBOT_SECRET_KEY "
                       "(encrypted with another key); their cells are empty.", err=True)
