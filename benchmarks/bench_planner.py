"""One planner tick over 50,000 bound candidates and 6 rules: wall time and peak memory.

    .venv/bin/python benchmarks/bench_planner.py [--candidates 50000]

Candidates are spread over the demo's cohorts, stages and roles, all bound to Telegram; the tick runs at a
moment when several rules fall due at once (a Friday at 17:00, 10 days before the January cohorts), so it
both reads everything and writes many outbox rows.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from common import ROOT
from sqlalchemy import insert, update
from sqlmodel import col, select

from bot.app import load_content
from bot.cohorts import sync_cohorts
from bot.config import EnvSettings, Settings, load_settings
from bot.i18n import Texts
from bot.nudges.planner import PlannerCache, tick
from bot.nudges.rules import RuleSet, load_rules
from store.db import Database, upgrade
from store.models import Candidate, Outbox

RULES = """rules:
  - id: after_interview
    trigger: {stage_entered: interview_passed, delay: 1d, at: "10:00"}
    message: nudge_after_interview
    priority: 70
  - id: training_in_10_days
    trigger: {before_training: 10, at: "17:00"}
    audience: {stage: [offer_sent, waiting_training]}
    message: nudge_training_in_10_days
    priority: 80
  - id: task_due_in_2_days
    trigger: {before_task_due: 2, at: "10:00"}
    audience: {stage: [offer_sent, waiting_training]}
    message: nudge_task_due
    priority: 90
  - id: friday_news
    trigger: {weekly: friday, at: "17:00"}
    message: nudge_friday_news
    priority: 10
  - id: quiet_for_5_days
    trigger: {inactive_for: 5, at: "17:00"}
    message: nudge_inactive
    priority: 30
  - id: welcome_followup
    trigger: {after_event: bound, delay: 1d}
    message: nudge_inactive
    priority: 40
"""


NOW = datetime(2027, 1, 1, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Friday; 12 Jan cohorts 11 days away


def settings_for(work: Path) -> tuple[Settings, RuleSet, Texts]:
    settings = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url=f"sqlite:///{work / 'bench.sqlite3'}"))
    texts = load_content(settings).texts
    (work / "rules.yaml").write_text(RULES, encoding="utf-8")
    return settings, load_rules(settings, texts, work / "rules.yaml"), texts


def setup(work: Path, candidates: int) -> None:
    settings, _, _ = settings_for(work)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    cohorts = [(c.id, c.department) for c in settings.file.cohorts]
    roles = {d: [r.id for r in settings.file.roles if r.department == d] for d in settings.departments}
    stages = ["interview_passed", "background_check", "offer_sent", "waiting_training"]
    with db.session() as s:
        sync_cohorts(s, settings, NOW)
        rows = []
        for i in range(candidates):
            cohort, dept = cohorts[i % len(cohorts)]
            rows.append({"name": f"候选人{i}", "phone": f"+86139{i:08d}", "role": roles[dept][i % len(roles[dept])],
                         "department": dept, "cohort_id": cohort, "stage": stages[i % 4],
                         "stage_changed_at": NOW - timedelta(days=1 + i % 3), "telegram_user_id": 10**9 + i,
                         "telegram_chat_id": 10**9 + i, "bound_at": NOW - timedelta(days=10),
                         "last_seen_at": NOW - timedelta(days=i % 9, hours=i % 7),
                         "created_at": NOW - timedelta(days=20), "updated_at": NOW})
        s.execute(insert(Candidate.__table__), rows)  # type: ignore[attr-defined]
    db.dispose()


def measure(work: Path, trace: bool) -> None:
    """Run in a fresh process on a copy of the database, timed (or traced for memory):
    the first tick, when everything falls due at once; the next tick a minute later, as the elected process
    runs it (with its cache); and the same tick without the cache, as a freshly elected process runs it."""
    settings, rules, _ = settings_for(work)
    db = Database(settings.database_url)
    cache = PlannerCache()
    figures = []
    for when, use_cache in ((NOW, cache), (NOW + timedelta(minutes=1), cache), (NOW + timedelta(minutes=2), None)):
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        result = tick(db, settings, rules, when, use_cache)
        figures.append((time.perf_counter() - started, result,
                        tracemalloc.get_traced_memory()[1] if trace else 0))
        if trace:
            tracemalloc.stop()
        with db.session() as s:  # the sender's part: what was queued has gone out
            s.execute(update(Outbox).where(col(Outbox.status) == "pending").values(status="sent"))
    (first, result, mem1), (steady, _, mem2), (cold, _, mem3) = figures
    if trace:
        print(f"peak Python memory (tracemalloc): first tick {mem1 / 2**20:.0f} MB, steady tick {mem2 / 2**20:.0f} MB, "
              f"uncached tick {mem3 / 2**20:.0f} MB")
        return
    with db.session() as s:
        written = len(s.exec(select(Outbox.id)).all())
    print(f"first tick (everything falls due at once): {first:.2f} s; {result.queued} queued, "
          f"{result.skipped} skipped, {written} outbox rows")
    print(f"next tick a minute later, in the elected process (cache): {steady:.2f} s")
    print(f"the same without the cache (a newly elected process): {cold:.2f} s")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=50_000)
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(args.measure, args.trace)
        return
    base = Path(tempfile.mkdtemp(prefix="hrbot-bench-"))
    setup(base, args.candidates)
    print(f"candidates={args.candidates} rules={len(RULES.split('- id:')) - 1}")
    for trace in (False, True):
        work = Path(tempfile.mkdtemp(prefix="hrbot-bench-"))
        shutil.copy(base / "bench.sqlite3", work / "bench.sqlite3")
        cmd = [sys.executable, __file__, "--measure", str(work)] + (["--trace"] if trace else [])
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
