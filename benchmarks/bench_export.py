"""The candidate export: building the rows and writing CSV and xlsx for N candidates, and `/export` in chat as
one engine turn (the time the bot is busy with it). Several runs each; the median and the spread are printed.

    .venv/bin/python benchmarks/bench_export.py [--candidates 1000 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import NOW, engine_with_candidates

from bot.engine.events import Event
from bot.hr import export

HR_ADMIN = 100000001  # config.yaml's HR admin


def timed(fn: object, runs: int) -> tuple[float, float, float]:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), min(seconds), max(seconds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    for n in args.candidates:
        bench(n, args.runs)


def bench(n: int, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="hrbot-bench-export-"))
    engine, _ = engine_with_candidates(n, work)
    ctx = engine.ctx
    docs = ctx.settings.file.documents.model_copy(update={"storage_dir": str(work / "files")})
    ctx.settings.file = ctx.settings.file.model_copy(update={"documents": docs})  # not the project's data/
    with ctx.db.session() as session:
        rows = export.build(session, ctx.settings, ctx.texts)

    def build() -> None:
        with ctx.db.session() as session:
            export.build(session, ctx.settings, ctx.texts)

    updates = iter(range(1, 10**9))

    def chat() -> None:
        effects = engine.handle(Event(kind="command", command="export", args=(), user_id=HR_ADMIN,
                                      chat_id=HR_ADMIN, update_id=next(updates), language_code="zh-hans"))
        assert any(getattr(e, "kind", None) == "document" for e in effects), effects

    figures = {
        "build the rows": timed(build, runs),
        "write csv": timed(lambda: export.write(rows, work / "c.csv", "csv"), runs),
        "write xlsx": timed(lambda: export.write(rows, work / "c.xlsx", "xlsx"), runs),
        "/export in chat (one turn)": timed(chat, runs),
    }
    size = (work / "c.xlsx").stat().st_size // 1024
    print(f"{n} candidates (xlsx {size} KB), {runs} runs, clock {NOW.isoformat()}:")
    for what, (med, lo, hi) in figures.items():
        print(f"  {what:28} median {med:6.2f} s  ({lo:.2f} – {hi:.2f})")


if __name__ == "__main__":
    main()
