"""`hrbot db backup FILE` and `hrbot db restore FILE`. Sealed fields and files stay sealed: the backup is the
database as it is (the key is never in it; keep the key apart from the backups). Document files are not in the
database: back up `documents.storage_dir` with the same care (they are sealed too)."""

from __future__ import annotations

import glob
import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    pass


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def backup_sqlite(url: str, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the bot keeps running."""
    source = sqlite3.connect(sqlite_path(url))
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    dest = sqlite3.connect(partial)
    try:
        with dest:
            source.backup(dest)
    finally:
        dest.close()
        source.close()
    partial.replace(target)


def is_hrbot_sqlite(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return {"alembic_version", "candidate"} <= names


def restore_sqlite(url: str, source: Path) -> None:
    if not is_hrbot_sqlite(source):
        raise BackupError(f"{source} is not a backup of this bot's SQLite database")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = sqlite3.connect(sqlite_path(url))
    try:
        with dest:
            src.backup(dest)
    finally:
        dest.close()
        src.close()


def pg_tool(name: str) -> str | None:
    """pg_dump / pg_restore on PATH, else the newest under /usr/lib/postgresql/*/bin (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def _libpq(url: str) -> tuple[URL, list[str]]:
    """The URL as libpq reads it, and a --schema option when the URL pins a search_path (the test suite's)."""
    parsed = make_url(url).set(drivername="postgresql")
    options = parsed.query.get("options", "")
    schema: list[str] = []
    if isinstance(options, str) and "search_path=" in options:
        schema = ["--schema", options.split("search_path=", 1)[1].split()[0]]
    return parsed, schema


def pg_command(tool: str, url: str, file: Path) -> tuple[list[str], list[str]]:
    """(the command to run, the same with the password hidden, to show)."""
    parsed, schema = _libpq(url)
    shown = parsed.render_as_string(hide_password=True)
    real = parsed.render_as_string(hide_password=False)
    if tool == "pg_dump":
        args = ["--format=custom", "--no-owner", "--no-privileges", *schema, "--file", str(file)]
    else:
        args = ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", *schema]
    tail = [str(file)] if tool == "pg_restore" else []
    return [tool, *args, "--dbname", real, *tail], [tool, *args, "--dbname", shown, *tail]


def run_pg(tool: str, url: str, file: Path) -> str | None:
    """Run pg_dump / pg_restore; if it is not installed, return exactly what to run instead."""
    exe = pg_tool(tool)
    command, shown = pg_command(tool, url, file)
    if exe is None:
        return " ".join(shlex.quote(part) for part in shown) + "   (the password: set PGPASSWORD)"
    done = subprocess.run([exe, *command[1:]], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()[:500]}")
    return None
