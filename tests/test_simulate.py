"""`hrbot simulate`: the same seed gives the same run, the nudge policy holds, HR's outcomes are in the database it
leaves, another config changes the cadence, and bad input is refused with one sentence before anything is made."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bot.cli import app

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--candidates", "24", "--days", "26", "--start", "2026-11-24"]  # the December cohort trains on day 22


def simulate(out: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["simulate", *SMALL, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_same_seed_same_run_and_another_seed_differs(tmp_path: Path) -> None:
    first = simulate(tmp_path / "a", "--seed", "7")
    simulate(tmp_path / "b", "--seed", "7")
    other = simulate(tmp_path / "c", "--seed", "8")
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()
    assert other != first
    for key in ("candidates", "withdrawn", "attended", "messages_sent"):
        assert isinstance(first[key], int)
    assert set(first["risk"]) >= {"auc", "top_decile_lift"}
    assert first["candidates"] == 24 and first["attended"] + first["withdrawn"] + first["undecided"] == 24
    assert first["attended"] > 0 and first["funnel"]["started_bot"] > 0 and first["activity"]["questions"] > 0

    # The database is left beside the figures, with the outcomes HR marked through the console's path.
    engine = create_engine(f"sqlite:///{tmp_path / 'a' / 'simulation.sqlite3'}")
    with engine.connect() as conn:
        marked: dict[str, int] = dict(conn.execute(text(
            "SELECT outcome, count(*) FROM candidate WHERE outcome IS NOT NULL GROUP BY outcome")).all())
        audited = conn.execute(text("SELECT count(*) FROM auditlog WHERE action = 'mark_outcome'")).scalar()
        sent = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")).scalar()
        # Never more nudges than the policy allows in any 7 days, counted here from the rows themselves.
        rows = conn.execute(text("SELECT candidate_id, planned_at FROM outbox WHERE kind = 'nudge' "
                                 "AND status = 'sent' ORDER BY candidate_id, planned_at")).all()
    engine.dispose()
    assert marked.get("attended") == first["attended"] and marked.get("withdrawn", 0) == first["withdrawn"]
    assert audited == first["attended"] + first["withdrawn"]
    assert sent == first["messages"]["outbox_sent"]
    by_cand: dict[int, list[datetime]] = {}
    for cid, at in rows:
        by_cand.setdefault(cid, []).append(datetime.fromisoformat(str(at)))
    for times in by_cand.values():
        for i, t in enumerate(times):
            assert sum(1 for u in times[: i + 1] if u > t - timedelta(days=7)) <= 2
    assert first["nudges"]["within_cap"] and first["nudges"]["max_in_any_7_days"] <= 2
    assert first["nudges"]["sent"] == len(rows) > 0


def test_risk_evaluate_reads_the_same_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The contract: `DATABASE_URL=sqlite:///DIR/simulation.sqlite3 hrbot risk evaluate --json` gives the figures
    summary.json has; and the analytics' charts and report are written for the run."""
    out = tmp_path / "run"
    summary = simulate(out, "--candidates", "60", "--seed", "5")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{out / 'simulation.sqlite3'}")
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    result = CliRunner().invoke(app, ["risk", "evaluate", "--json"])
    assert result.exit_code == 0, result.output
    evaluated = json.loads(result.output.strip().splitlines()[-1])
    assert evaluated["n"] == summary["risk"]["n"] == summary["attended"] + summary["withdrawn"]
    assert (evaluated["auc"], evaluated["top_decile_lift"]) == (summary["risk"]["auc"],
                                                               summary["risk"]["top_decile_lift"])
    assert summary["risk"]["snapshots"] == 26
    assert (out / "charts" / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<html" in (out / "report.html").read_text(encoding="utf-8")


def test_another_config_changes_the_cadence(tmp_path: Path) -> None:
    """HR's "what if": the same seed with one automated message a week instead of two."""
    base = (ROOT / "config.yaml").read_text(encoding="utf-8")
    changed = base.replace("max_per_week: 2 ", "max_per_week: 1 ").replace(
        "rules_file: flows/nudges.yaml", f"rules_file: {ROOT / 'flows' / 'nudges.yaml'}")
    assert changed.count(str(ROOT)) == 1
    config = tmp_path / "config.weekly1.yaml"
    config.write_text(changed + f"\ncontent_dir: {ROOT / 'content'}\nflows_dir: {ROOT / 'flows'}\n", encoding="utf-8")
    two = simulate(tmp_path / "two", "--seed", "3")
    one = simulate(tmp_path / "one", "--seed", "3", "--config", str(config))
    assert one["nudges"]["cap_per_7_days"] == 1 and one["nudges"]["max_in_any_7_days"] <= 1
    assert two["nudges"]["max_in_any_7_days"] == 2
    assert one["nudges"]["sent"] < two["nudges"]["sent"]


@pytest.mark.parametrize(("args", "says"), [
    (["--candidates", "0", "--days", "10"], "--candidates must be a whole number from 1 to 100,000 (got 0)"),
    (["--candidates", "-5", "--days", "10"], "(got -5)"),
    (["--candidates", "1000000", "--days", "10"], "(got 1000000)"),
    (["--candidates", "10", "--days", "0"], "--days must be a whole number from 1 to 365 (got 0)"),
    (["--candidates", "10", "--days", "-1"], "(got -1)"),
    (["--candidates", "10", "--days", "100000"], "(got 100000)"),
    (["--candidates", "10", "--days", "10", "--dropout", "1.5"], "--dropout must be a share"),
    (["--candidates", "10", "--days", "10", "--start", "next week"], "--start must be a date"),
    (["--candidates", "10", "--days", "10", "--start", "2030-01-01"], "No cohort in"),
])
def test_bad_numbers_are_refused_before_anything_is_made(tmp_path: Path, args: list[str], says: str) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert says in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output and not out.exists()


def test_an_existing_folder_is_kept_unless_it_is_a_simulation_and_force_is_given(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    for extra in ([], ["--force"]):
        result = CliRunner().invoke(app, ["simulate", *SMALL, "--out", str(mine), *extra])
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
        assert ("is not empty" in result.output) if not extra else ("--force replaces only" in result.output)
        assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", *SMALL, "--out", str(afile)])
    assert result.exit_code == 2 and "is a file" in result.output

    earlier = tmp_path / "earlier"
    simulate(earlier, "--candidates", "3", "--days", "3")
    result = CliRunner().invoke(app, ["simulate", *SMALL, "--out", str(earlier)])
    assert result.exit_code == 2 and "--force" in result.output
    summary = simulate(earlier, "--force")
    assert summary["candidates"] == 24
