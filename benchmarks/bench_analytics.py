"""/stats and /atrisk on 50,000 candidates (issue 11: aim < 1 s each): the whole turn through the engine as the HR
admin (claim the update id, route, the aggregate queries, the risk score, the charts drawn and written, commit),
measured RUNS times after one warm-up; plus the pieces alone (stats queries, risk score, charts) to show where the
time goes. The company is tests/analytics_world.py's: four cohorts, about 12 interactions, 3 lessons, 2 documents,
0.7 FAQ questions and 0.5 nudges per candidate (bulk-inserted, so the database looks like weeks of use).

    .venv/bin/python benchmarks/bench_analytics.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import NOW, ROOT  # type: ignore[import-not-found]

sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.analytics import views  # noqa: E402
from bot.analytics.risk import score_candidates  # noqa: E402
from bot.analytics.stats import compute  # noqa: E402
from bot.app import build_engine  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.cohorts import sync_cohorts  # noqa: E402
from bot.config import EnvSettings, load_settings  # noqa: E402
from bot.engine.effects import SendMedia  # noqa: E402
from bot.engine.events import Event  # noqa: E402
from store.db import Database, upgrade  # noqa: E402
from store.models import FaqQuery, Interaction, LessonProgress, Outbox  # noqa: E402
from tests.analytics_world import populate  # noqa: E402

RUNS = 5
HR = 100000001


def timed(fn: Any, runs: int = RUNS) -> tuple[list[float], list[float]]:
    """Wall times and CPU times of this process (the CPU time is what the work costs when others share the cores)."""
    fn()  # warm-up: imports, font registration, SQLite page cache
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return sorted(wall), sorted(cpu)


def line(name: str, times: tuple[list[float], list[float]]) -> str:
    wall, cpu = times
    return (f"{name:<34} wall median {statistics.median(wall) * 1000:6.0f} ms (min {wall[0] * 1000:5.0f})   "
            f"cpu median {statistics.median(cpu) * 1000:6.0f} ms (min {cpu[0] * 1000:5.0f})")


def main(n: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hrbot-bench-analytics-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    settings = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url=url))
    docs = settings.file.documents.model_copy(update={"storage_dir": str(workdir / "files")})
    settings.file = settings.file.model_copy(update={"documents": docs})
    upgrade(url)
    db = Database(url)
    clock = FixedClock(NOW)
    with db.session() as session:
        sync_cohorts(session, settings, clock.now())
    t = time.perf_counter()
    populate(db, n, clock.now())
    with db.session() as s:
        counts = {m.__name__: s.execute(select(func.count()).select_from(m)).scalar_one()  # type: ignore[arg-type]
                  for m in (Interaction, LessonProgress, FaqQuery, Outbox)}
    print(f"{n} candidates written in {time.perf_counter() - t:.1f} s; rows: {counts}")
    engine = build_engine(settings, db, clock)
    ctx = engine.ctx
    lessons = list(engine.router.commands["stats"].handler.__self__.lesson_titles)  # type: ignore[attr-defined]
    updates = iter(range(1, 10**9))

    def turn(command: str, args: list[str] | None = None) -> Any:
        ev = Event(kind="command", command=command, args=tuple(args or ()), user_id=HR, chat_id=HR,
                   update_id=next(updates), language_code="zh-hans")
        effects = engine.handle(ev)
        assert effects, command
        return effects

    effects = turn("stats")
    print(f"/stats: {sum(isinstance(e, SendMedia) for e in effects)} charts; "
          f"/atrisk lists {len(turn('atrisk')[0].text.splitlines())} lines")

    def pieces_stats() -> None:
        with db.session() as s:
            compute(s, settings, lessons, now=clock.now())

    def pieces_score() -> None:
        with db.session() as s:
            score_candidates(s, ctx, clock.now(), where=views.waiting(None))

    def pieces_above() -> None:
        with db.session() as s:
            score_candidates(s, ctx, clock.now(), where=views.waiting(None),
                             min_score=settings.file.risk.thresholds.at_risk_score)

    def pieces_charts() -> None:
        with db.session() as s:
            st = compute(s, settings, lessons, now=clock.now())
        views.chart_set(st, views.Say(ctx.texts, "zh-CN"), {}, "all")

    print(line("/stats (whole turn, all cohorts)", timed(lambda: turn("stats"))))
    print(line("/stats prod-2026-12 (whole turn)", timed(lambda: turn("stats", ["prod-2026-12"]))))
    print(line("/atrisk (whole turn, all cohorts)", timed(lambda: turn("atrisk"))))
    print(line("/atrisk prod-2026-12 (whole turn)", timed(lambda: turn("atrisk", ["prod-2026-12"]))))
    print(line("  stats queries alone", timed(pieces_stats)))
    print(line("  risk score, everyone's reasons", timed(pieces_score)))
    print(line("  risk score, reasons from 40 up", timed(pieces_above)))
    print(line("  stats + 4 charts drawn", timed(pieces_charts)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
