"""The privacy commands: `hrbot candidates erase ID`, `hrbot db backup FILE`, `hrbot db restore FILE`,
`hrbot retention preview [--json]` (and `run`), `hrbot keys rotate --new-key-env NAME`, `hrbot audit [--json]`;
and the key check `hrbot run` and `hrbot shell` make before they start."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import col, select

from bot.clock import SystemClock
from bot.config import Settings
from bot.crypto import Sealer, sealer_from_env
from bot.hr.service import HrError, find_candidate
from bot.privacy import backup, keys, retention
from bot.privacy.erase import erase
from store.db import Database
from store.models import AuditLog

retention_app = typer.Typer(no_args_is_help=True, help="How long data is kept (config.yaml privacy.retention).")
keys_app = typer.Typer(no_args_is_help=True, help="The key sealed fields and files are encrypted with.")


def _context() -> tuple[Settings, Database]:
    from bot.cli import _database, _settings  # the CLI's own set-up: config errors and a missing schema

    settings = _settings()
    return settings, _database(settings)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def app_sealer(settings: Settings) -> Sealer | None:
    env = settings.env
    return sealer_from_env(env.secret_key.get_secret_value() if env.secret_key else None,
                           env.old_secret_keys.get_secret_value() if env.old_secret_keys else None)


def startup_check(settings: Settings, db: Database) -> None:
    """Before `hrbot run` / `hrbot shell`: sealed data and no key, or a key that does not open it, is one clear
    sentence and exit 1, never a crash in the middle of a chat."""
    try:
        keys.check_keys(db, app_sealer(settings))
    except keys.KeyProblem as exc:
        raise _fail(str(exc)) from None


def _confirmed(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    return typer.confirm(question, default=False)


def erase_command(
    candidate: Annotated[str, typer.Argument(help="candidate id (or external id, or phone)")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask (scripts)")] = False,
) -> None:
    """Erase a candidate's personal data and files (anonymous counts stay); audited."""
    settings, db = _context()
    with db.session() as session:
        try:
            cand = find_candidate(session, candidate, settings)
        except HrError:
            raise _fail(f"no candidate {candidate!r}", 2) from None
        cid, already = cand.id, cand.erased_at is not None
    assert cid is not None
    if not yes and sys.stdin.isatty() and not typer.confirm(
            f"Erase candidate {cid}'s personal data and files for good?", default=False):
        raise _fail("nothing was erased.")
    result = erase(db, settings, cid, SystemClock().now(), actor="cli")
    assert result is not None
    note = " (already erased before; checked again)" if already else ""
    typer.echo(f"candidate {cid} erased{note}: " + ", ".join(f"{t} {n}" for t, n in sorted(result.rows.items()))
               + f"; {result.files} files removed.")


def _with_backend(url: str, file: Path, sqlite: Callable[[str, Path], None], pg_tool: str) -> None:
    """SQLite: ``sqlite`` (the backup API, in process); PostgreSQL: ``pg_tool``, or the exact command to run where
    it is installed. Either way one sentence on failure."""
    try:
        if backup.backend(url) == "sqlite":
            sqlite(url, file)
        else:
            todo = backup.run_pg(pg_tool, url, file)
            if todo:
                raise _fail(f"{pg_tool} is not installed here; run this where it is:\n{todo}")
    except backup.BackupError as exc:
        raise _fail(str(exc)) from None


def backup_command(file: Annotated[Path, typer.Argument(help="where to write the backup")]) -> None:
    """Back up the database (SQLite: online backup; PostgreSQL: pg_dump). Encrypted fields stay encrypted."""
    from bot.cli import _settings

    settings = _settings()
    url = settings.database_url
    if file.exists():
        raise _fail(f"{file} exists; choose a new name (a backup never overwrites a file)")
    _with_backend(url, file, backup.backup_sqlite, "pg_dump")
    typer.echo(f"backup written to {file} ({file.stat().st_size} bytes). Document files are not in it: back up "
               f"{settings.storage_dir} too. The key is not in it: keep HRBOT_SECRET_KEY apart from backups.")


def restore_command(
    file: Annotated[Path, typer.Argument(help="a file `hrbot db backup` wrote")],
    yes: Annotated[bool, typer.Option("--yes", help="replace the current database without asking")] = False,
) -> None:
    """Replace the database with a backup (stop the bot first). Asks first; --yes for scripts."""
    from bot.cli import _settings

    settings = _settings()
    url = settings.database_url
    if not file.is_file():
        raise _fail(f"{file}: no such file")
    if not _confirmed(f"Replace the current database with {file}? Everything written since the backup is lost.",
                      yes):
        raise _fail("nothing was restored: the current database would be replaced; run again with --yes "
                    "(stop the bot first)")
    _with_backend(url, file, backup.restore_sqlite, "pg_restore")
    typer.echo(f"database restored from {file}. Run `hrbot db upgrade` if the backup is from an older version.")


@retention_app.command("preview")
def retention_preview(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What the daily retention job would anonymise or delete now, and within 7 and 30 days."""
    settings, db = _context()
    rows = retention.preview(db, settings, SystemClock().now())
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'kind':30} {'action':9} {'keep':>6} {'now':>8} {'7 days':>8} {'30 days':>8}")
    for r in rows:
        typer.echo(f"{r['kind']:30} {r['action']:9} {r['keep_days']:>5}d {r['due_now']:>8} "
                   f"{r['due_within_7_days']:>8} {r['due_within_30_days']:>8}")
    typer.echo(f"The job runs daily at {settings.file.privacy.retention.run_at} ({settings.file.company.timezone}).")


@retention_app.command("run")
def retention_run() -> None:
    """Run the retention job now (the scheduler does it daily)."""
    settings, db = _context()
    result = retention.run(db, settings, SystemClock().now())
    typer.echo(json.dumps({"counts": result.counts, "batches": result.batches,
                           "longest_transaction_ms": round(result.longest_ms, 1),
                           "seconds": round(result.seconds, 2)}))


@keys_app.command("rotate")
def keys_rotate(
    new_key_env: Annotated[str, typer.Option("--new-key-env", help="name of the environment variable holding the "
                                             "new key")],
    batch: Annotated[int, typer.Option(help="rows per transaction")] = 500,
) -> None:
    """Re-encrypt every sealed field and document under a new key. Resumable: run it again after an interruption."""
    settings, db = _context()
    new = os.environ.get(new_key_env, "")
    if not new:
        raise _fail(f"{new_key_env} is not set: put the new key in it (HRBOT_SECRET_KEY keeps the current one)")
    env = settings.env
    old = [env.secret_key.get_secret_value()] if env.secret_key else []
    old += [k.strip() for k in (env.old_secret_keys.get_secret_value() if env.old_secret_keys else "").split(",")
            if k.strip()]
    sealer = Sealer(new, old)
    result = keys.rotate(db, settings, sealer, batch=batch,
                         progress=lambda r: typer.echo(f"  {r.profiles} profiles, {r.files} files", err=True))
    with db.session() as session:
        session.add(AuditLog(at=SystemClock().now(), actor="cli", action="keys_rotate",
                             detail=f"to key {sealer.key_id}: {result.profiles} profiles, {result.files} files, "
                                    f"{len(result.skipped)} skipped"))
    typer.echo(f"re-encrypted {result.profiles} profiles and {result.files} documents under key {sealer.key_id} "
               f"in {result.seconds:.1f} s.")
    if result.skipped:
        typer.echo(f"{len(result.skipped)} could not be opened with any key given and were left as they are: "
                   + ", ".join(result.skipped[:10]), err=True)
        raise typer.Exit(1)
    typer.echo(f"Now set HRBOT_SECRET_KEY to the value of {new_key_env} for every process; keep the old key in "
               "HRBOT_OLD_SECRET_KEYS until they have all restarted.")


def audit_command(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(help="how many, newest first")] = 50,
    actor: Annotated[str | None, typer.Option(help="e.g. cli, telegram:100000001")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. erase, export, stage")] = None,
    candidate: Annotated[int | None, typer.Option(help="a candidate id")] = None,
) -> None:
    """Recent HR actions (the audit log): who, when, what, on whom; never message texts."""
    _, db = _context()
    query = select(AuditLog).order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc()).limit(limit)
    if actor:
        query = query.where(AuditLog.actor == actor)
    if action:
        query = query.where(AuditLog.action == action)
    if candidate is not None:
        query = query.where(AuditLog.candidate_id == candidate)
    with db.session() as session:
        rows = session.exec(query).all()
    items: list[dict[str, Any]] = [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
              "candidate_id": r.candidate_id, "detail": r.detail} for r in rows]
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    for i in items:
        who = f" candidate {i['candidate_id']}" if i["candidate_id"] is not None else ""
        typer.echo(f"{i['at'][:19]}  {i['actor']:22} {i['action']:20}{who}  {i['detail'] or ''}".rstrip())


def register(app: typer.Typer, cand_app: typer.Typer, db_app: typer.Typer) -> None:
    cand_app.command("erase")(erase_command)
    db_app.command("backup")(backup_command)
    db_app.command("restore")(restore_command)
    app.add_typer(retention_app, name="retention")
    app.add_typer(keys_app, name="keys")
    app.command("audit")(audit_command)
