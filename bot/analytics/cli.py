"""`hrbot risk explain ID [--json]`, `hrbot risk evaluate [--json]`, `hrbot risk fit --out FILE` and
`hrbot report [--cohort ID] --out FILE.html`. Operator output is English (README: CLI output); the reasons are the
same texts HR reads in chat, in the language asked for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy import and_, func, select

from bot.analytics.evaluate import each_moment
from bot.analytics.evaluate import evaluate as evaluate_pairs
from bot.analytics.fit import HELD_OUT, fit, held_out, points
from bot.analytics.risk import SIGNALS, Risk, explain, score_candidates
from bot.clock import SystemClock
from bot.config import Settings
from bot.hr.service import HrError, find_candidate
from bot.i18n import Texts
from store.db import Database, utc
from store.models import Candidate

risk_app = typer.Typer(help="The dropout risk score: explain one candidate, evaluate it on outcomes, propose weights.",
                       no_args_is_help=True)


@dataclass
class _Ctx:
    settings: Settings


def _context() -> tuple[Settings, Database]:
    from bot.cli import _database, _settings  # the CLI's own set-up: config errors and a missing schema

    settings = _settings()
    return settings, _database(settings)


def _texts(settings: Settings) -> Texts:
    return Texts.load(settings.content_dir, settings.locales, settings.default_locale)


def _fail(line: str, code: int = 1) -> typer.Exit:
    typer.echo(line, err=True)
    return typer.Exit(code)


@risk_app.command("explain")
def explain_command(
    candidate: Annotated[str, typer.Argument(help="id, external id or phone")],
    as_json: Annotated[bool, typer.Option("--json", help='{"candidate_id", "score", "reasons": [text]}')] = False,
    lang: Annotated[str | None, typer.Option(help="language of the reasons (zh-CN, en); default: config's")] = None,
) -> None:
    """A candidate's risk score (0-100) and the reasons behind it, strongest first."""
    settings, db = _context()
    locale = lang or settings.default_locale
    if locale not in settings.locales:
        raise _fail(f"language {locale!r} is not one of: {', '.join(settings.locales)}", 2)
    now = SystemClock().now()
    with db.session() as session:
        try:
            cand = find_candidate(session, candidate, settings)
        except HrError:
            raise _fail(f"no candidate {candidate!r}; use an id, external id or phone "
                        "(see `hrbot candidates list`)") from None
        risks = score_candidates(session, _Ctx(settings), now, where=Candidate.id == cand.id)  # type: ignore[arg-type]
        name = cand.name
    if not risks:
        raise _fail(f"candidate #{cand.id} was added after now; nothing to score")
    out = explain(risks[0], settings, _texts(settings), locale)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    typer.echo(f"#{out['candidate_id']} {name}: risk {out['score']}/100")
    for line in out["reasons"] or ["no risk signal"]:
        typer.echo(f"  - {line}")


_MARKED = Candidate.outcome.in_(("attended", "withdrawn"))  # type: ignore[union-attr]


def _evening(day: Any, tz: Any) -> datetime:
    """23:59 company time on ``day``, in UTC: the moment an evening's ranking is taken."""
    return datetime.combine(day, time(23, 59), tzinfo=tz).astimezone(UTC)


def outcome_pairs(session: Any, settings: Settings, now: Any, days_before: int = 0
                  ) -> tuple[list[Risk], dict[int, bool]]:
    """Every candidate with an outcome, scored as they stood just before HR marked it; with ``days_before``, as
    they stood at the end of the day that many days before their outcome (when there was still time to act; those
    added after that moment are left out)."""
    marked = _MARKED
    c = Candidate.__table__.c  # type: ignore[attr-defined]
    withdrew = {cid: out == "withdrawn" for cid, out in session.execute(
        select(c.id, c.outcome).where(marked))}
    if days_before > 0:
        return _scored_ahead(session, settings, marked, days_before), withdrew
    # Each is scored as of their own outcome; a run whose outcomes lie ahead of the real clock (a simulation
    # replayed in virtual time) is read up to its last outcome, not cut at today.
    latest = session.execute(select(func.max(Candidate.outcome_at)).where(marked)).scalar_one_or_none()
    if isinstance(latest, str):
        latest = datetime.fromisoformat(latest)
    if latest is not None:
        latest = latest.replace(tzinfo=UTC) if latest.tzinfo is None else latest
        now = max(now, latest + timedelta(seconds=1))
    risks = score_candidates(session, _Ctx(settings), now, where=marked, before_outcome=True)
    return risks, withdrew


def _scored_ahead(session: Any, settings: Settings, marked: Any, days_before: int) -> list[Risk]:
    """Each marked candidate scored at 23:59 (company time) ``days_before`` days before their outcome's day: one
    scoring per such evening, over the candidates whose outcome fell on that day (selected by time range, not by a
    list of ids, which SQLite caps; their cohort's medians are those of that evening, from everyone waiting then)."""
    c = Candidate.__table__.c  # type: ignore[attr-defined]
    tz = settings.tz
    days = sorted({utc(at).astimezone(tz).date() for (at,) in session.execute(
        select(c.outcome_at).where(marked, c.outcome_at.is_not(None)))})
    risks: list[Risk] = []
    for day in days:
        begins = datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)
        ends = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)
        evening = _evening(day - timedelta(days=days_before), tz)
        risks += score_candidates(session, _Ctx(settings), evening,
                                  where=and_(marked, c.outcome_at >= begins, c.outcome_at < ends))
    return risks


EVERY_DAYS = 7  # the evenings of the early-warning figure and of `risk fit`'s default data, a week apart


def waiting_evenings(session: Any, settings: Settings, every_days: int = EVERY_DAYS
                     ) -> list[tuple[datetime, list[Risk]]]:
    """Early warning measured the way /atrisk is used: on evenings ``every_days`` apart (23:59 company time),
    every candidate still waiting then whose outcome HR later marked, scored as they stood that evening. Compared
    on the same evening, those who later withdrew and those who attended are at the same moment, so the figure
    says how well the day's ranking picks out the leavers ahead of time (a fixed number of days before each
    outcome would compare attendees on the eve of training with leavers at any time)."""
    c = Candidate.__table__.c  # type: ignore[attr-defined]
    marked = _MARKED
    first, last = session.execute(select(func.min(c.created_at), func.max(c.outcome_at)).where(
        marked, c.outcome_at.is_not(None))).one()
    if first is None or last is None:
        return []
    tz = settings.tz
    day, last = utc(first).astimezone(tz).date(), utc(last)
    out: list[tuple[datetime, list[Risk]]] = []
    while True:
        evening = _evening(day, tz)
        if evening >= last:
            return out
        # Added by then (score_candidates reads only those) and marked after it: still waiting that evening.
        risks = score_candidates(session, _Ctx(settings), evening, where=and_(marked, c.outcome_at > evening))
        if risks:
            out.append((evening, risks))
        day += timedelta(days=every_days)


def early_warning(evenings: list[tuple[datetime, list[Risk]]], withdrew: dict[int, bool],
                  score: Any = None) -> dict[str, Any]:
    """ROC AUC and top-decile lift on each evening (those who later withdrew against those who attended),
    averaged over the evenings weighted by how many were scored; None when no evening had enough of both."""
    score = score or (lambda r: r.score)
    found = each_moment([(score(r), withdrew[r.candidate_id]) for r in risks] for _, risks in evenings)
    return {"evenings": found["moments"], "rows": found["scores"], "every_days": EVERY_DAYS,
            "auc": found["auc"], "top_decile_lift": found["top_decile_lift"]}


def evaluation(risks: list[Risk], withdrew: dict[int, bool]) -> dict[str, Any]:
    result = evaluate_pairs([(r.score, withdrew[r.candidate_id]) for r in risks])
    cohorts: dict[str, list[Risk]] = {}
    for r in risks:
        cohorts.setdefault(r.cohort_id or "-", []).append(r)
    result["cohorts"] = {c: evaluate_pairs([(r.score, withdrew[r.candidate_id]) for r in rs])
                         for c, rs in sorted(cohorts.items())}
    return result


def too_few(result: dict[str, Any]) -> str:
    return (f"Too few outcomes to conclude anything: {result['withdrawn']} withdrawn and {result['attended']} "
            f"attended (at least {result['min_each']} of each are needed).")


@risk_app.command("evaluate")
def evaluate_command(
    as_json: Annotated[bool, typer.Option("--json", help='{"n", "withdrawn", "auc", "top_decile_lift", ...}')] = False,
    days_before: Annotated[int, typer.Option(
        "--days-before", min=0, help="score each candidate as they stood this many days before their outcome "
        "(0: just before HR marked it)")] = 0,
) -> None:
    """How well the score separated withdrawn from attended candidates (each scored as they stood just before HR
    marked the outcome, or --days-before N days before it): ROC AUC, top-decile lift and a calibration table,
    overall and per cohort."""
    settings, db = _context()
    with db.session() as session:
        risks, withdrew = outcome_pairs(session, settings, SystemClock().now(), days_before)
    result = evaluation(risks, withdrew)
    result["days_before"] = days_before
    if result["enough"]:
        with db.session() as session:
            result["early_warning"] = early_warning(waiting_evenings(session, settings), withdrew)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    for line in _report_lines(result):
        typer.echo(line)


def _report_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"Outcomes: {result['n']} ({result['withdrawn']} withdrawn, {result['attended']} attended), each "
             f"scored {_moment(result.get('days_before', 0))}."]
    if not result["enough"]:
        lines.append(too_few(result))
        return lines
    lines.append(f"Overall: ROC AUC {result['auc']:.3f} (0.5 = chance), top-decile lift {result['top_decile_lift']:.2f}"
                 " (1 = chance).")
    early = result.get("early_warning")
    if early and early["auc"] is not None:
        lines.append(f"Early warning (every {early['every_days']} days, the candidates still waiting that evening, "
                     f"those who later withdrew against those who attended; {early['evenings']} evenings, "
                     f"{early['rows']} scores): ROC AUC {early['auc']:.3f}, top-decile lift "
                     f"{early['top_decile_lift']:.2f}.")
    elif early:
        lines.append("Early warning: no evening had enough of both outcomes still waiting to conclude anything.")
    lines.append("Calibration (score band: candidates, withdrawn, observed rate, mean score/100):")
    for row in result["calibration"]:
        rate = "-" if row["rate"] is None else f"{row['rate']:.2f}"
        mean = "-" if row["mean_score"] is None else f"{row['mean_score']:.2f}"
        lines.append(f"  {row['band']:>7}: {row['n']:>5} {row['withdrawn']:>5}  {rate:>5}  {mean:>5}")
    lines.append("Per cohort:")
    for cohort, r in result["cohorts"].items():
        if r["enough"]:
            lines.append(f"  {cohort}: n={r['n']} withdrawn={r['withdrawn']} AUC {r['auc']:.3f} "
                         f"lift {r['top_decile_lift']:.2f}")
        else:
            lines.append(f"  {cohort}: n={r['n']} withdrawn={r['withdrawn']}: too few outcomes to conclude anything")
    return lines


@risk_app.command("fit")
def fit_command(
    out: Annotated[Path, typer.Option("--out", help="where to write the proposal (YAML) for HR to review")],
    days_before: Annotated[int | None, typer.Option(
        "--days-before", min=0, help="learn from each candidate as they stood this many days before their outcome "
        "(0: just before HR marked it, when most leavers have said so already); default: from every candidate "
        f"still waiting on evenings {EVERY_DAYS} days apart, as /atrisk ranks them")] = None,
) -> None:
    """Propose weights from the outcomes HR marked (logistic regression on the score's features, judged on a
    held-out part of the candidates). By default it learns from the candidates still waiting on evenings a week
    apart (what tells future leavers from future attendees on the same day); --days-before N learns from each
    candidate N days before their outcome. Writes a file to review; config.yaml is never changed."""
    settings, db = _context()
    with db.session() as session:
        evenings: list[tuple[datetime, list[Risk]]] = []
        if days_before is None:
            _, withdrew = outcome_pairs(session, settings, SystemClock().now())
            evenings = waiting_evenings(session, settings)
            risks = [r for _, rs in evenings for r in rs]
        else:
            risks, withdrew = outcome_pairs(session, settings, SystemClock().now(), days_before)
    marked = evaluate_pairs([(0.0, w) for w in withdrew.values()])  # the outcomes HR marked, scored or not
    if not marked["enough"]:
        raise _fail(too_few(marked) + " Nothing written.")
    scored = {r.candidate_id for r in risks}
    withdrew = {cid: w for cid, w in withdrew.items() if cid in scored}
    overall = evaluate_pairs([(0.0, w) for w in withdrew.values()])
    if not overall["enough"]:  # enough outcomes, but too few of them were waiting at the moments learnt from
        raise _fail(f"Too few of the {marked['n']} outcomes can be learnt from {_moment(days_before)}: "
                    f"{overall['withdrawn']} withdrawn and {overall['attended']} attended were scored then (at "
                    f"least {overall['min_each']} of each are needed). Nothing written.")
    current = {s: float(getattr(settings.file.risk.weights, s)) for s in SIGNALS}
    result = fit(risks, withdrew, current)
    held = result.held_out
    doc: dict[str, Any] = {
        "note": ("Proposed risk weights, learnt from the outcomes HR marked. NOT applied: review them, then copy "
                 "`weights` into config.yaml's risk.weights if they read right."),
        "method": (f"logistic regression (L2 0.1) on each signal's strength (0-1) as it stood "
                   f"{_moment(days_before)}: {result.train['n']} scores fitted, {held['n']} held out (the "
                   f"candidates of {int(HELD_OUT * 100)}%, by candidate id); the positive coefficients are scaled to "
                   "add up to the current weights' total"),
        "days_before": days_before,
        "weights": result.weights,
        "current_weights": current,
        "coefficients": result.coefficients,
        "intercept": result.intercept,
        "held_out": {
            "n": held["n"], "withdrawn": held["withdrawn"],
            "current": {k: held["current"][k] for k in ("auc", "top_decile_lift")},
            "proposed": {k: held["proposed"][k] for k in ("auc", "top_decile_lift")},
        },
    }
    if evenings:  # the held-out candidates ranked evening by evening, as /atrisk would have ranked them
        kept = [(at, [r for r in rs if held_out(r.candidate_id)]) for at, rs in evenings]
        doc["held_out"]["each_evening"] = {
            name: early_warning(kept, withdrew, lambda r, w=weights: points(r.features, w))
            for name, weights in (("current", current), ("proposed", result.weights))}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    typer.echo(f"wrote {out}: proposed weights for review (config.yaml unchanged).")
    cur, new = held["current"], held["proposed"]
    if cur["enough"] and new["enough"]:
        typer.echo(f"held out ({held['n']}): AUC {cur['auc']} with the current weights, {new['auc']} with the "
                   f"proposed ones; top-decile lift {cur['top_decile_lift']} -> {new['top_decile_lift']}")
    else:
        typer.echo(f"held out ({held['n']}): too few outcomes there to compare the weights.")



def _moment(days_before: int | None) -> str:
    if days_before is None:
        return f"on evenings {EVERY_DAYS} days apart, for every candidate still waiting then"
    return (f"at the end of the day {days_before} days before each outcome" if days_before
            else "just before HR marked each outcome")


def report_command(
    out: Annotated[Path, typer.Option("--out", help="the HTML file to write")],
    cohort: Annotated[str | None, typer.Option(help="one cohort (default: every candidate)")] = None,
    lang: Annotated[str | None, typer.Option(help="language of the report (zh-CN, en); default: config's")] = None,
) -> None:
    """One self-contained HTML page (charts embedded, no external requests): the funnel, the at-risk list and the
    figures; readable on a phone and printable."""
    from bot.analytics import views
    from bot.app import load_library

    settings, db = _context()
    locale = lang or settings.default_locale
    if locale not in settings.locales:
        raise _fail(f"language {locale!r} is not one of: {', '.join(settings.locales)}", 2)
    try:
        where = views.scope(settings, None, cohort)
    except views.CohortNotFound as err:
        hint = f" Did you mean {err.suggestion}?" if err.suggestion else ""
        raise _fail(f"there is no cohort {cohort!r}.{hint} Cohorts: {', '.join(err.visible) or '-'}", 2) from None
    texts = _texts(settings)
    lessons = load_library(settings).lessons
    titles = {k: v.title.get(locale, k) for k, v in lessons.items()}
    t = views.Say(texts, locale)
    what = t("stats_cohort", cohort=cohort) if cohort else t("stats_all")
    now = SystemClock().now()
    with db.session() as session:
        from bot.analytics.stats import compute

        if compute(session, settings, list(lessons), where=where).total == 0:
            raise _fail(f"cohort {cohort} has no candidates yet; nothing to report." if cohort else
                        "there are no candidates yet; nothing to report.")
        page = views.report_html(session, _Ctx(settings), now, where, t, titles, what, list(lessons))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    typer.echo(f"wrote {out} ({len(page.encode()) // 1024} KB)")
