"""The journey simulator (issue 11): wall time of `hrbot simulate` on 1,000 candidates x 60 days, and the risk
score read on a simulated run of 2,000 candidates with a 25% dropout.

    .venv/bin/python benchmarks/bench_simulate.py speed [--repeat 2] [--candidates 1000] [--days 60]
    .venv/bin/python benchmarks/bench_simulate.py risk [--candidates 2000] [--seed 1]

speed: runs the real command (a new process each time, start-up included) and prints its wall time and where
the time went (DIR/timing.json).

risk: one run, then, on its database,
  * the figures `hrbot risk evaluate` gives (each candidate scored as they stood just before HR marked them);
  * each candidate scored 7 days before their outcome, when there is still time to act;
  * the median number of days before the dropout a leaver entered the top tenth of the candidates still waiting;
  with the default weights (config.yaml) and with weights fitted by `bot.analytics.fit` (what `hrbot risk fit`
  proposes) on one half of the candidates, every figure judged on the other half. `hrbot risk fit` itself (its own
  30% held out) is run too and its printout kept.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HRBOT = str(ROOT / ".venv" / "bin" / "hrbot")


def speed(args: argparse.Namespace) -> None:
    for i in range(args.repeat):
        out = Path(tempfile.mkdtemp(prefix="hrbot-sim-")) / "run"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load = os.getloadavg()[0]
        began = time.perf_counter()
        subprocess.run([HRBOT, "simulate", "--candidates", str(args.candidates), "--days", str(args.days),
                        "--seed", str(args.seed + i), "--out", str(out)], check=True, capture_output=True)
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        timing = json.loads((out / "timing.json").read_text())
        summary = json.loads((out / "summary.json").read_text())
        print(json.dumps({"run": i + 1, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
                          "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2), "timing": timing,
                          "events": summary["activity"]["events"], "messages_sent": summary["messages_sent"],
                          "outbox_sent": summary["messages"]["outbox_sent"],
                          "peak_day": summary["sender_load"]["peak_day"],
                          "peak_hour": summary["sender_load"].get("peak_hour"),
                          "nudges_max_7_days": summary["nudges"]["max_in_any_7_days"],
                          "attended": summary["attended"], "withdrawn": summary["withdrawn"]}))


class _Ctx:
    def __init__(self, settings: Any):
        self.settings = settings


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def risk(args: argparse.Namespace) -> None:
    from sqlmodel import col, select

    from bot.analytics.cli import outcome_pairs, waiting_evenings
    from bot.analytics.evaluate import each_moment, evaluate
    from bot.analytics.fit import fit
    from bot.analytics.risk import SIGNALS, score_candidates
    from bot.config import EnvSettings, RiskWeights, load_settings
    from bot.simulate.riskhook import top_tenth
    from store.db import Database
    from store.models import Candidate, RiskSignal

    began = time.perf_counter()
    if args.reuse is not None:  # a finished run's folder: only the figures below
        out = Path(args.reuse)
    else:
        out = Path(tempfile.mkdtemp(prefix="hrbot-sim-")) / "run"
        subprocess.run([HRBOT, "simulate", "--candidates", str(args.candidates), "--days", str(args.days),
                        "--seed", str(args.seed), "--dropout", str(args.dropout), "--out", str(out)], check=True,
                       capture_output=True)
    wall = time.perf_counter() - began
    summary = json.loads((out / "summary.json").read_text())
    args.days = summary["days"]
    url = f"sqlite:///{out / 'simulation.sqlite3'}"
    env = dict(os.environ, DATABASE_URL=url, HRBOT_CONFIG=str(ROOT / "config.yaml"))
    fitted_cli = subprocess.run([HRBOT, "risk", "fit", "--out", str(out / "fit.yaml")], env=env,
                                capture_output=True, text=True)
    settings = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url=url))
    db = Database(url)
    tz = settings.tz
    start = date.fromisoformat(summary["start"])
    days = [start + timedelta(days=d) for d in range(args.days)]
    end = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), tzinfo=tz)

    with db.session() as session:
        risks, withdrew = outcome_pairs(session, settings, end)
        rows = session.exec(select(Candidate.id, Candidate.created_at, Candidate.outcome, Candidate.outcome_at)).all()
        said: dict[int, datetime] = {}
        for cid, at in session.exec(select(RiskSignal.candidate_id, RiskSignal.at).where(
                RiskSignal.kind == "withdrawal_intent").order_by(col(RiskSignal.at))).all():
            said.setdefault(cid, _aware(at))
    outcome = {cid: (out_, _aware(at)) for cid, _, out_, at in rows if out_ is not None and at is not None}
    half_a = {cid for cid in withdrew if cid % 2 == 0}  # the fit learns from even ids, is judged on odd ones
    current = {s: float(getattr(settings.file.risk.weights, s)) for s in SIGNALS}
    learnt = fit([r for r in risks if r.candidate_id in half_a], withdrew, current)
    with db.session() as session:  # what `hrbot risk fit` learns from by default: the weekly evenings
        panel = [r for _, rs in waiting_evenings(session, settings) for r in rs if r.candidate_id in half_a]
    learnt_evenings = fit(panel, withdrew, current)
    weight_sets = {"default": current, "fitted at the mark": learnt.weights,
                   "fitted on the evenings": learnt_evenings.weights}

    def settings_with(weights: dict[str, float]) -> Any:
        policy = settings.file.risk.model_copy(update={"weights": RiskWeights.model_construct(**weights)})
        copy = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url=url))
        copy.file = copy.file.model_copy(update={"risk": policy})
        return copy

    def evening(day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(hours=23, minutes=59)

    figures: dict[str, Any] = {}
    for name, weights in weight_sets.items():
        ctx = _Ctx(settings_with(weights))
        with db.session() as session:
            at_mark, _ = outcome_pairs(session, ctx.settings, end)
            daily: dict[date, dict[int, int]] = {}
            for day in days:  # who was still waiting that evening, scored as they stood then
                moment = evening(day).astimezone(UTC)
                waiting = [cid for cid, created, _, at in rows
                           if _aware(created) < moment and (at is None or _aware(at) > moment)]
                scored = score_candidates(session, ctx, moment, where=col(Candidate.id).in_(waiting)) \
                    if waiting else []
                daily[day] = {r.candidate_id: r.score for r in scored}
        judged = [r for r in at_mark if r.candidate_id not in half_a]
        mark_eval = evaluate([(r.score, withdrew[r.candidate_id]) for r in judged])
        early = []
        for cid, (out_, at) in outcome.items():
            if cid in half_a:
                continue
            snap = daily.get(at.astimezone(tz).date() - timedelta(days=7), {})
            if cid in snap:
                early.append((snap[cid], out_ == "withdrawn"))
        early_eval = evaluate(early)
        nights = each_moment([(score, withdrew[cid]) for cid, score in snap.items()
                              if cid in withdrew and cid not in half_a] for snap in daily.values())
        each_evening = {"evenings": nights["moments"], "scores": nights["scores"], "auc": nights["auc"],
                        "top_decile_lift": nights["top_decile_lift"]}
        tops = {d: top_tenth(s) for d, s in daily.items()}
        lead, leavers, flagged = [], 0, 0
        for cid, (out_, at) in outcome.items():
            if out_ != "withdrawn" or cid in half_a:
                continue
            leavers += 1
            dropout = (said.get(cid) or at).astimezone(tz).date()
            entered = next((d for d in days if d < dropout and cid in tops.get(d, set())), None)
            if entered is not None:
                flagged += 1
                lead.append((dropout - entered).days)
        figures[name] = {
            "at_mark": {k: mark_eval[k] for k in ("n", "withdrawn", "auc", "top_decile_lift")},
            "seven_days_before": {k: early_eval[k] for k in ("n", "withdrawn", "auc", "top_decile_lift")},
            "each_evening": each_evening,
            "top_tenth": {"leavers": leavers, "entered_before_dropout": flagged,
                          "median_days_before_dropout": statistics.median(lead) if lead else None,
                          "quartiles": statistics.quantiles(lead, n=4) if len(lead) >= 4 else None},
        }
    # A bound for any score that reads behaviour: the hidden propensity to drop out itself (the simulator's trait,
    # drawn again from the seed), ranked the same way on the same evenings.
    from bot.simulate.model import draw_personas
    from bot.simulate.run import cohorts_in_run

    cohorts = [(c.id, c.department, c.training_date,
                [r.id for r in settings.file.roles if r.department == c.department])
               for c in cohorts_in_run(settings, start, args.days)]
    personas = draw_personas(summary["seed"], summary["candidates"], args.dropout, [c for c in cohorts if c[3]],
                             start, args.days)
    by_phone = {f"+86139{p.index:08d}": p for p in personas}
    with db.session() as session:
        trait = {cid: by_phone[phone].propensity for cid, phone in session.exec(select(Candidate.id, Candidate.phone))
                 if phone in by_phone}
    hidden = each_moment([(trait[cid], withdrew[cid]) for cid in snap if cid in withdrew and cid in trait
                          and cid not in half_a] for snap in daily.values())
    bound = {"each_evening_auc": hidden["auc"], "each_evening_lift": hidden["top_decile_lift"],
             "note": "the hidden propensity (not in the database) as if it were the score"}
    print(json.dumps({
        "candidates": summary["candidates"], "days": summary["days"], "seed": summary["seed"],
        "seconds": round(time.perf_counter() - began, 1), "simulate_seconds": None if args.reuse else round(wall, 1),
        "summary_risk": summary["risk"], "withdrawn": summary["withdrawn"], "attended": summary["attended"],
        "undecided": summary["undecided"], "fitted_weights": {k: v for k, v in weight_sets.items() if k != "default"},
        "judged_on": "odd candidate ids (half); fitted on even ids", "figures": figures,
        "hidden_propensity_bound": bound,
        "hrbot_risk_fit": fitted_cli.stdout.strip() or fitted_cli.stderr.strip(),
    }, ensure_ascii=False, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("speed", "risk"))
    parser.add_argument("--candidates", type=int)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.25)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--reuse", help="risk: the folder of a finished `hrbot simulate` run to read")
    args = parser.parse_args()
    if args.candidates is None:
        args.candidates = 1000 if args.what == "speed" else 2000
    speed(args) if args.what == "speed" else risk(args)


if __name__ == "__main__":
    main()
