"""Shared set-up for the benchmarks: a throw-away database with N imported candidates."""

from __future__ import annotations

import csv
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks reuse tests/fake_telegram.py

from bot.app import build_engine  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.cohorts import sync_cohorts  # noqa: E402
from bot.config import EnvSettings, load_settings  # noqa: E402
from bot.engine.core import Engine  # noqa: E402
from bot.hr.importer import import_candidates  # noqa: E402
from store.db import Database, upgrade  # noqa: E402

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def engine_with_candidates(n: int, workdir: Path | None = None) -> tuple[Engine, list[str]]:
    """An engine on a fresh SQLite file with ``n`` candidates; returns it and their invite tokens."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="hrbot-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    settings = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url=url))
    upgrade(url)
    db = Database(url)
    clock = FixedClock(NOW)
    with db.session() as session:
        sync_cohorts(session, settings, clock.now())
    sheet = workdir / "candidates.csv"
    with sheet.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "phone", "role", "department", "cohort", "stage"])
        for i in range(n):
            w.writerow([f"候选人{i}", f"+86139{i:08d}", "line_operator", "production", "prod-2026-12",
                        "waiting_training"])
    result = import_candidates(db, settings, sheet, clock.now())
    tokens = [r.link.rsplit("=", 1)[1] for r in result.links]
    return build_engine(settings, db, clock), tokens


def percentile(sorted_values: list[float], p: float) -> float:
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]
