"""`hrbot risk explain|evaluate|fit` and `hrbot report`: the contract's JSON, plain words when there are too few
outcomes, a proposal file that changes nothing, a self-contained report; a weight that is not a number in
`hrbot validate` is one line, no traceback."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.analytics.cli import outcome_pairs
from bot.cli import app
from bot.cohorts import sync_cohorts
from store.db import Database, upgrade
from tests.analytics_world import populate
from tests.conftest import ROOT, make_settings


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, db: Database) -> CliRunner:
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


def test_explain_and_too_few_outcomes(cli: CliRunner, demo: dict[str, str]) -> None:
    out = cli.invoke(app, ["risk", "explain", "E2026001", "--json", "--lang", "en"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["candidate_id"] == 1 and 0 <= doc["score"] <= 100 and isinstance(doc["reasons"], list)
    assert cli.invoke(app, ["risk", "explain", "nobody"]).exit_code == 1
    # Two outcomes only: said plainly; auc null; fit writes nothing.
    cli.invoke(app, ["candidates", "mark", "1", "attended"])
    cli.invoke(app, ["candidates", "mark", "2", "withdrawn", "--reason", "other_job"])
    out = cli.invoke(app, ["risk", "evaluate", "--json"])
    doc = json.loads(out.output)
    assert doc["n"] == 2 and doc["withdrawn"] == 1 and doc["auc"] is None and doc["top_decile_lift"] is None
    out = cli.invoke(app, ["risk", "evaluate"])
    assert "Too few outcomes to conclude anything: 1 withdrawn and 1 attended" in out.output
    out = cli.invoke(app, ["risk", "fit", "--out", "never.yaml"])
    assert out.exit_code == 1 and "Too few outcomes" in out.output and not Path("never.yaml").exists()
    assert "1 withdrawn and 1 attended" in out.output  # the outcomes HR marked, whatever the moments learnt from
    # Enough outcomes, but none of them was waiting yet at the moment asked for: said so, nothing written.
    for cid in range(3, 11):
        outcome = ["attended"] if cid % 2 else ["withdrawn", "--reason", "other"]
        assert cli.invoke(app, ["candidates", "mark", str(cid), *outcome]).exit_code == 0
    out = cli.invoke(app, ["risk", "fit", "--days-before", "60", "--out", "never.yaml"])
    assert out.exit_code == 1 and not Path("never.yaml").exists() and "Traceback" not in out.output
    assert "Too few of the 10 outcomes can be learnt from at the end of the day 60 days before" in out.output


def test_evaluate_and_fit_on_outcomes(cli: CliRunner, db: Database, tmp_path: Path) -> None:
    marked = populate(db, 800, datetime.now(UTC) - timedelta(hours=3), outcomes=1.0, seed=3)
    out = cli.invoke(app, ["risk", "evaluate", "--json"])
    doc = json.loads(out.output)
    assert doc["n"] == 800 and doc["withdrawn"] == sum(marked.values())
    assert 0.5 < doc["auc"] <= 1 and doc["top_decile_lift"] > 1
    assert set(doc["cohorts"]) == {"prod-2026-12", "prod-2027-01", "wh-2027-01", "qa-2027-01"}
    assert sum(row["n"] for row in doc["calibration"]) == 800
    early = doc["early_warning"]  # the candidates still waiting on evenings a week apart, scored then
    assert early["evenings"] >= 3 and early["rows"] > 800 and 0.5 < early["auc"] <= 1
    text = cli.invoke(app, ["risk", "evaluate"]).output
    assert "ROC AUC" in text and "Calibration" in text and "prod-2026-12" in text
    # A company replayed 40 days ahead of the real clock (a simulation in virtual time) is read up to each
    # outcome, not cut at today: its withdrawal messages (days before the outcomes, still in the future) count.
    future_url = f"sqlite:///{tmp_path / 'future.sqlite3'}"
    upgrade(future_url)
    future_db = Database(future_url)
    future_settings = make_settings(future_url)
    with future_db.session() as s:
        sync_cohorts(s, future_settings, datetime.now(UTC))
    populate(future_db, 300, datetime.now(UTC) + timedelta(days=40), outcomes=1.0, seed=3)
    with future_db.session() as s:
        risks, withdrew = outcome_pairs(s, future_settings, datetime.now(UTC))
    future_db.dispose()
    assert len(risks) == len(withdrew) == 300
    assert sum(1 for r in risks if r.features["withdrawal_intent"] > 0) > 5
    assert all(r.as_of is not None and r.as_of > datetime.now(UTC) + timedelta(days=39) for r in risks)
    # A week ahead: each candidate as they stood at the end of the day seven days before their outcome; nothing
    # of that last week counts (the withdrawal messages of the world all fall in it).
    outcome_at = datetime.now(UTC) - timedelta(hours=2)
    with db.session() as s:
        ahead, _ = outcome_pairs(s, make_settings(str(db.engine.url)), datetime.now(UTC), days_before=7)
    assert 700 < len(ahead) <= 800
    assert all(outcome_at - timedelta(days=8) < r.as_of < outcome_at - timedelta(days=6) for r in ahead if r.as_of)
    assert not any(r.features["withdrawal_intent"] for r in ahead)
    week = json.loads(cli.invoke(app, ["risk", "evaluate", "--json", "--days-before", "7"]).output)
    assert week["days_before"] == 7 and week["n"] == len(ahead) and week["auc"] != doc["auc"]
    assert "7 days before each outcome" in cli.invoke(app, ["risk", "evaluate", "--days-before", "7"]).output
    config_before = (ROOT / "config.yaml").read_text(encoding="utf-8")
    out = cli.invoke(app, ["risk", "fit", "--out", str(tmp_path / "proposal.yaml")])
    assert out.exit_code == 0, out.output
    proposal = yaml.safe_load((tmp_path / "proposal.yaml").read_text(encoding="utf-8"))
    assert set(proposal["weights"]) == set(proposal["current_weights"]) and "NOT applied" in proposal["note"]
    assert proposal["held_out"]["n"] > 100 and proposal["held_out"]["proposed"]["auc"] > 0.5
    # By default it learns from everyone still waiting on evenings a week apart, and judges the held-out
    # candidates evening by evening as well.
    assert proposal["days_before"] is None and "evenings 7 days apart" in proposal["method"]
    each = proposal["held_out"]["each_evening"]
    assert each["current"]["evenings"] >= 3 and 0.5 < each["proposed"]["auc"] <= 1
    out = cli.invoke(app, ["risk", "fit", "--days-before", "0", "--out", str(tmp_path / "at_mark.yaml")])
    at_mark = yaml.safe_load((tmp_path / "at_mark.yaml").read_text(encoding="utf-8"))
    assert out.exit_code == 0 and at_mark["days_before"] == 0 and "just before HR marked" in at_mark["method"]
    assert "each_evening" not in at_mark["held_out"]
    assert (ROOT / "config.yaml").read_text(encoding="utf-8") == config_before


def test_report_file_is_self_contained(cli: CliRunner, demo: dict[str, str], tmp_path: Path) -> None:
    out = cli.invoke(app, ["report", "--cohort", "prod-2026-12", "--out", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and not re.search(r"https?://", page)
    assert "data:image/png;base64," in page
    bad = cli.invoke(app, ["report", "--cohort", "prod-2099", "--out", str(tmp_path / "x.html")])
    assert bad.exit_code == 2 and "there is no cohort 'prod-2099'" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "x.html").exists()


def test_a_weight_that_is_not_a_number_is_one_line_from_validate(
        cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("unreachable: 35 ", "unreachable: high ")
    text = text.replace("content_dir: content", f"content_dir: {ROOT / 'content'}")
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("HRBOT_CONFIG", str(tmp_path / "config.yaml"))
    out = cli.invoke(app, ["validate"])
    assert out.exit_code == 1 and "Traceback" not in out.output
    (line,) = out.output.strip().splitlines()
    assert "risk.weights.unreachable" in line and "number" in line
