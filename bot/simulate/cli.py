"""`hrbot simulate --candidates N --days D [--seed S] --out DIR [--config FILE] [--dropout R] [--start DATE]
[--force]` (shared/CONTRACTS.md): DIR/summary.json, and the run's database left at DIR/simulation.sqlite3."""

from __future__ import annotations

import json
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from threadpoolctl import threadpool_limits

from bot.config import ConfigError, EnvSettings, Settings, load_settings
from bot.i18n import Texts

MAX_CANDIDATES = 100_000
MAX_DAYS = 365
DB_NAME = "simulation.sqlite3"
OWN_FILES = ("summary.json", DB_NAME)  # a folder holding one of these is an earlier simulation's


def _texts(settings: Settings | None) -> tuple[Texts, str]:
    if settings is None:  # the config itself did not load: the repository's texts
        root = Path(__file__).resolve().parents[2]
        return Texts.load(root / "content", ("zh-CN", "en"), "zh-CN"), "en"
    locale = "en" if "en" in settings.locales else settings.default_locale
    return Texts.load(settings.content_dir, settings.locales, settings.default_locale), locale


def _refuse(settings: Settings | None, key: str, **values: Any) -> typer.Exit:
    texts, locale = _texts(settings)
    typer.echo(texts.get(locale, key, **values), err=True)
    return typer.Exit(2)


def simulate_command(
    candidates: Annotated[int, typer.Option("--candidates", help="how many synthetic candidates")],
    days: Annotated[int, typer.Option("--days", help="how many virtual days to replay")],
    out: Annotated[Path, typer.Option("--out", help="a new (or empty) folder for summary.json and the database")],
    seed: Annotated[int, typer.Option("--seed", help="the same seed gives the same run")] = 1,
    config: Annotated[Path | None, typer.Option("--config", help="another config.yaml (e.g. other nudge "
                                                "settings); default: HRBOT_CONFIG or ./config.yaml")] = None,
    dropout: Annotated[float, typer.Option("--dropout", help="the share of candidates who finally withdraw "
                                                             "(on average)")] = 0.25,
    start: Annotated[str | None, typer.Option("--start", help="the first virtual day (YYYY-MM-DD); default: "
                                              "3 weeks before the first cohort's training")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an earlier simulation in --out")] = False,
) -> None:
    """Replay synthetic candidates through the real engine, nudge planner and sender, with time travel."""
    if not 1 <= candidates <= MAX_CANDIDATES:
        raise _refuse(None, "sim_bad_candidates", most=f"{MAX_CANDIDATES:,}", value=candidates)
    if not 1 <= days <= MAX_DAYS:
        raise _refuse(None, "sim_bad_days", most=MAX_DAYS, value=days)
    if not 0 <= dropout <= 0.95:
        raise _refuse(None, "sim_bad_dropout", value=dropout)
    first: date | None = None
    if start is not None:
        try:
            first = date.fromisoformat(start.strip())
        except ValueError:
            raise _refuse(None, "sim_bad_start", value=start) from None
    out = out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise _refuse(None, "sim_out_is_file", out=out)
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise _refuse(None, "sim_out_not_empty", out=out)
        if not any((out / name).exists() for name in OWN_FILES):
            raise _refuse(None, "sim_out_foreign", out=out)
    env = EnvSettings(database_url=f"sqlite:///{out / DB_NAME}")
    if config is not None:
        env = env.model_copy(update={"config_path": str(config)})
    try:
        settings = load_settings(config, env=env)
    except ConfigError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(1) from None
    docs = settings.file.documents.model_copy(update={"storage_dir": str(out / "files")})
    settings.file = settings.file.model_copy(update={"documents": docs})
    from bot.simulate.run import cohorts_in_run

    if first is None:
        dates = [c.training_date for c in settings.file.cohorts]
        first = (min(dates) if dates else date.today()) - timedelta(days=21)
    if not cohorts_in_run(settings, first, days):
        raise _refuse(settings, "sim_no_cohort", config=settings.base_dir / Path(env.config_path).name,
                      first=first, last=first + timedelta(days=days - 1))
    if out.is_dir() and force:
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    summary, timing = run_simulation(settings, out, candidates=candidates, days=days, seed=seed,
                                     dropout=dropout, start=first)
    texts, locale = _texts(settings)
    typer.echo(texts.get(locale, "sim_done", candidates=candidates, days=days, seconds=f"{timing['total']:.1f}",
                         attended=summary["attended"], withdrawn=summary["withdrawn"],
                         messages=summary["messages_sent"], summary=out / "summary.json"))


def run_simulation(settings: Settings, out: Path, *, candidates: int, days: int, seed: int, dropout: float,
                   start: date) -> tuple[dict[str, Any], dict[str, float]]:
    """Run it and write DIR/summary.json (the figures, the same for a seed) and DIR/timing.json (wall times)."""
    began = time.perf_counter()
    # One BLAS thread for the FAQ encoder: one question at a time gains nothing from more, and on a CPU shared
    # with other work OpenBLAS's waiting threads spin: measured, the same run took 2.7x the CPU time with them.
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(settings, out, candidates=candidates, days=days, seed=seed, dropout=dropout, start=start,
                    began=began)


def _run(settings: Settings, out: Path, *, candidates: int, days: int, seed: int, dropout: float, start: date,
         began: float) -> tuple[dict[str, Any], dict[str, float]]:
    from bot.simulate import riskhook
    from bot.simulate.run import Simulation, write_summary

    sim = Simulation(settings, out, candidates=candidates, days=days, seed=seed, dropout=dropout, start=start,
                     risk=riskhook.RiskHook() if riskhook.available() else None)
    setup = time.perf_counter() - began
    summary = sim.run()
    write_summary(summary, out)
    t0 = time.perf_counter()
    write_charts(sim, out)
    sim.fig.timing["charts"] = time.perf_counter() - t0
    timing = {k: round(v, 2) for k, v in sim.fig.timing.items()}
    timing["setup"] = round(setup, 2)
    timing["total"] = round(time.perf_counter() - began, 2)
    (out / "timing.json").write_text(json.dumps(timing, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    sim.db.dispose()
    return summary, timing


def write_charts(sim: Any, out: Path) -> list[Path]:
    """The charts /stats sends and the page `hrbot report` writes (bot.analytics), for the simulated company at the
    end of the run, in the company's default language: DIR/charts/*.png and DIR/report.html."""
    try:
        from bot.analytics import views
        from bot.analytics.stats import compute
    except ImportError:  # a build without the analytics
        return []
    settings = sim.settings
    locale = settings.default_locale
    t = views.Say(sim.engine.ctx.texts, locale)
    titles = {k: v.title.get(locale, k) for k, v in sim.lessons.items()}
    now = sim.clock.now()
    folder = out / "charts"
    folder.mkdir(exist_ok=True)
    written = []
    with sim.db.session() as session:
        stats = compute(session, settings, list(sim.lessons), now=now)
        for name, png in views.chart_set(stats, t, titles, t("stats_all")):
            path = folder / f"{name}.png"
            path.write_bytes(png)
            written.append(path)
        page = views.report_html(session, sim.engine.ctx, now, None, t, titles, t("stats_all"), list(sim.lessons))
    (out / "report.html").write_text(page, encoding="utf-8")
    return [*written, out / "report.html"]
