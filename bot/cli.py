"""The `hrbot` command line: one Typer app for running the bot and for HR's bulk work."""

from __future__ import annotations

import csv
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import select

from bot.analytics.cli import report_command, risk_app
from bot.app import ContentError, build_engine, load_content, load_library
from bot.broadcast.cli import broadcast_command, broadcasts_app
from bot.clock import SystemClock
from bot.cohorts import sync_cohorts
from bot.config import ConfigError, Settings, load_settings
from bot.console.cli import register as register_console_cli
from bot.demo import database_is_empty, load_demo
from bot.engine.core import Engine
from bot.faq import pending
from bot.faq.catalog import FaqError, load_faq
from bot.faq.matcher import FaqIndex
from bot.faq.runtime import load_checked, shared_encoder
from bot.hr.cli import hr_app
from bot.hr.export_cli import export_command
from bot.hr.importer import ImportProblems, LinkRow, import_candidates, reissue_invites
from bot.hr.service import HrError, find_candidate, queue_stage_notice, set_stage
from bot.privacy.cli import register as register_privacy_cli
from bot.privacy.cli import startup_check as privacy_startup_check
from bot.simulate.cli import simulate_command
from store.db import Database, upgrade
from store.models import Candidate

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Candidate pre-onboarding bot.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
demo_app = typer.Typer(no_args_is_help=True, help="The demo company.")
cand_app = typer.Typer(no_args_is_help=True, help="Candidates: import, list, stages, invite links.")
cohort_app = typer.Typer(no_args_is_help=True, help="Training cohorts (from config.yaml).")
nudge_app = typer.Typer(no_args_is_help=True, help="Automated messages (flows/nudges.yaml).")
faq_app = typer.Typer(no_args_is_help=True, help="FAQ self-service (content/faq.yaml).")
flows_app = typer.Typer(no_args_is_help=True, help="Conversation flows (flows/*.yaml).")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(cand_app, name="candidates")
app.add_typer(cohort_app, name="cohorts")
app.add_typer(nudge_app, name="nudges")
app.add_typer(faq_app, name="faq")
app.add_typer(flows_app, name="flows")
app.add_typer(hr_app, name="hr")
cand_app.command("export")(export_command)
register_console_cli(cand_app, cohort_app)
app.command("broadcast")(broadcast_command)
app.add_typer(broadcasts_app, name="broadcasts")
app.add_typer(risk_app, name="risk")
app.command("report")(report_command)
app.command("simulate")(simulate_command)
register_privacy_cli(app, cand_app, db_app)

log = logging.getLogger("hrbot")


def _fail(lines: list[str] | str, code: int = 1) -> typer.Exit:
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(line, err=True)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise _fail([str(p) for p in exc.problems]) from None


def _database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            sync_cohorts(session, settings, SystemClock().now())
    except (OperationalError, ProgrammingError):
        raise _fail("the database has no tables yet (or cannot be reached); run `hrbot db upgrade` first") from None
    return db


@app.command()
def validate() -> None:
    """Check config.yaml and content/; print every problem as file:line:col and exit 1 if any."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    try:
        load_content(settings)
    except ContentError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    typer.echo("config.yaml and content/ are valid.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to run again)."""
    settings = _settings()
    upgrade(settings.database_url)
    _database(settings).dispose()
    typer.echo("database is up to date.")


@demo_app.command("load")
def demo_load(if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing if candidates exist")] = False
              ) -> None:
    """Load the demo plant's candidates (content/demo/)."""
    settings = _settings()
    db = _database(settings)
    if if_empty and not database_is_empty(db):
        typer.echo("database already has candidates; demo not loaded.")
        return
    try:
        result = load_demo(db, settings, SystemClock().now())
    except ImportProblems as exc:
        raise _fail([str(p) for p in exc.problems], 2) from None
    typer.echo(f"demo company loaded: {result.created} new, {result.updated} updated candidates.")


@app.command()
def run(
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="a pure webhook worker: no nudges, no "
                                               "outbox sending (another process runs them)")] = False,
) -> None:
    """Run the Telegram bot (long polling, or a webhook when WEBHOOK_URL is set)."""
    from bot.telegram.runner import run_bot

    settings = _settings()
    if not settings.bot_token:
        raise _fail("TELEGRAM_BOT_TOKEN is not set; set it, or try the bot locally with `hrbot shell`")
    engine = _engine(settings)
    run_bot(engine, scheduler=not no_scheduler)


@app.command()
def shell(
    as_phone: Annotated[str | None, typer.Option("--as", help="be the candidate with this phone number")] = None,
    hr: Annotated[bool, typer.Option("--hr", help="be the first HR admin from config.yaml")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="your 'Telegram app language', e.g. en")] = None,
) -> None:
    """Talk to the bot in the terminal: same engine as Telegram, buttons numbered."""
    from bot.shell import Shell

    settings = _settings()
    engine = _engine(settings)
    Shell.for_user(engine, phone=as_phone, hr=hr, language_code=lang).run()


def _engine(settings: Settings) -> Engine:
    try:
        content = load_content(settings)
    except ContentError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    content.faq.current()  # build the FAQ index now, not on the first question
    db = _database(settings)
    privacy_startup_check(settings, db)  # sealed data needs its key: one sentence now, never mid-chat
    return build_engine(settings, db, content=content)


def _write_links(rows: list[LinkRow], links_out: Path | None, qr_dir: Path | None) -> None:
    for r in rows:
        shown = r.link or {"bound": "(already linked to Telegram)",
                           "unchanged": "(link issued earlier still valid; --reissue for a new one)"}[r.status]
        typer.echo(f"#{r.candidate_id}\t{r.name}\t{r.phone}\t{shown}")
    if links_out:
        links_out.parent.mkdir(parents=True, exist_ok=True)
        with links_out.open("w", newline="", encoding="utf-8-sig") as f:  # BOM: Excel opens it as UTF-8
            w = csv.writer(f)
            w.writerow(["id", "name", "phone", "link", "status"])
            for r in rows:
                w.writerow([r.candidate_id, r.name, r.phone, r.link, r.status])
        typer.echo(f"links written to {links_out}")
    if qr_dir:
        import qrcode

        qr_dir.mkdir(parents=True, exist_ok=True)
        made = 0
        for r in rows:
            if r.link:
                safe = re.sub(r"[^\w\-]+", "_", r.name)
                qrcode.make(r.link).save(qr_dir / f"{r.candidate_id:05d}-{safe}.png")
                made += 1
        typer.echo(f"{made} QR codes written to {qr_dir}")


@cand_app.command("import")
def candidates_import(
    file: Path,
    links_out: Annotated[Path | None, typer.Option("--links-out", help="write name, phone, link to this CSV")] = None,
    qr_dir: Annotated[Path | None, typer.Option("--qr-dir", help="write a QR code PNG per new link here")] = None,
    reissue: Annotated[bool, typer.Option("--reissue", help="new links even where a valid one exists")] = False,
) -> None:
    """Import candidates from .csv or .xlsx; any bad row: every problem listed, exit 2, nothing imported."""
    settings = _settings()
    db = _database(settings)
    try:
        result = import_candidates(db, settings, file, SystemClock().now(), reissue=reissue)
    except ImportProblems as exc:
        raise _fail([str(p) for p in exc.problems] + ["nothing was imported; fix the rows above and run again"],
                    2) from None
    typer.echo(f"imported {file}: {result.created} new, {result.updated} updated.")
    _write_links(result.links, links_out, qr_dir)


@cand_app.command("invite")
def candidates_invite(
    ids: list[int],
    links_out: Annotated[Path | None, typer.Option("--links-out")] = None,
    qr_dir: Annotated[Path | None, typer.Option("--qr-dir")] = None,
) -> None:
    """Issue new personal links for these candidate ids (earlier links stop working)."""
    settings = _settings()
    try:
        rows = reissue_invites(_database(settings), settings, ids, SystemClock().now())
    except ImportProblems as exc:
        raise _fail([p.reason for p in exc.problems], 2) from None
    _write_links(rows, links_out, qr_dir)


@cand_app.command("list")
def candidates_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """All candidates (id, name, phone, role, department, cohort, stage, Telegram id)."""
    settings = _settings()
    with _database(settings).session() as session:
        cands = session.exec(select(Candidate).order_by(Candidate.id)).all()  # type: ignore[arg-type]
    rows = [
        {"id": c.id, "external_id": c.external_id, "name": c.name, "phone": c.phone, "role": c.role,
         "department": c.department, "cohort": c.cohort_id, "stage": c.stage, "language": c.language,
         "telegram_user_id": c.telegram_user_id, "outcome": c.outcome,
         "last_seen_at": c.last_seen_at.isoformat() if c.last_seen_at else None}
        for c in cands
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        bound = "bound" if r["telegram_user_id"] else "not bound"
        typer.echo(f"#{r['id']}\t{r['name']}\t{r['phone']}\t{r['role']}\t{r['cohort'] or '-'}\t{r['stage']}\t{bound}")


@cand_app.command("set-stage")
def candidates_set_stage(candidate: str, stage: str) -> None:
    """Move a candidate (id, external id or phone) to a stage; they see it in /status."""
    settings = _settings()
    try:
        with _database(settings).session() as session:
            cand = find_candidate(session, candidate, settings)
            now = SystemClock().now()
            change = set_stage(session, settings, cand, stage, "cli", now)
            queued = change.changed and queue_stage_notice(session, settings, load_content(settings).texts,
                                                            cand, now)
    except HrError as err:
        if err.key == "hr_unknown_stage":
            hint = f"; did you mean {err.values['suggestion']!r}?" if err.values["suggestion"] else ""
            raise _fail(f"unknown stage {stage!r}{hint} Stages: {err.values['stages']}") from None
        raise _fail(f"no candidate {candidate!r}; use an id, external id or phone (see `hrbot candidates list`)"
                    ) from None
    if change.changed:
        typer.echo(f"#{cand.id} {cand.name}: {change.old} -> {change.new}")
        if queued:
            typer.echo("the candidate will be told by the running bot (queued in the outbox).")
    else:
        typer.echo(f"#{cand.id} {cand.name} is already at {change.new}; nothing changed.")


@nudge_app.command("preview")
def nudges_preview(
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="how many days ahead")] = 30,
    start: Annotated[str | None, typer.Option("--from", help="start (ISO date or datetime; default now)")] = None,
    candidate: Annotated[int | None, typer.Option("--candidate", help="one candidate id")] = None,
    unbound: Annotated[bool, typer.Option("--unbound", help="include candidates who have not started the bot, "
                                          "as if they had")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What each candidate would receive, and when; what is held back, and why. Sends nothing."""
    from datetime import datetime

    from bot.nudges.preview import preview

    settings = _settings()
    try:
        content = load_content(settings)
    except ContentError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    if start is None:
        begin = SystemClock().now()
    else:
        try:
            begin = datetime.fromisoformat(start)
        except ValueError:
            raise _fail(f"--from {start!r} is not a date or datetime; write e.g. 2026-12-01 or "
                        "2026-12-01T09:00+08:00") from None
        if begin.tzinfo is None:
            begin = begin.replace(tzinfo=settings.tz)
    db = _database(settings)
    rows = preview(db, settings, content.rules, begin, days, candidate, unbound)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    with db.session() as session:
        names = dict(session.exec(select(Candidate.id, Candidate.name)).all())
    for r in rows:
        verdict = "send" if r["status"] == "send" else f"skipped: {r['reason']}"
        typer.echo(f"{r['at'][:16].replace('T', ' ')}\t#{r['candidate_id']} {names.get(r['candidate_id'], '')}"
                   f"\t{r['rule']}\t{verdict}")
    sends = sum(1 for r in rows if r["status"] == "send")
    shown = begin.astimezone(settings.tz).isoformat(timespec="minutes")
    typer.echo(f"{sends} to send, {len(rows) - sends} held back, over {days} days from {shown}.")
    if not unbound:
        with db.session() as session:
            waiting = len(session.exec(select(Candidate.id).where(Candidate.telegram_user_id == None)).all())  # noqa: E711
        if waiting:
            typer.echo(f"{waiting} candidates have not started the bot yet; --unbound includes them as if they had.")


@cohort_app.command("list")
def cohorts_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Cohorts with their department, training date, place and how many candidates each has."""
    settings = _settings()
    with _database(settings).session() as session:
        cands = session.exec(select(Candidate.cohort_id)).all()
    sizes: dict[str, int] = {}
    for cohort_id in cands:
        if cohort_id:
            sizes[cohort_id] = sizes.get(cohort_id, 0) + 1
    loc = settings.default_locale
    rows = [
        {"id": c.id, "name": c.name[loc], "department": c.department,
         "training_date": c.training_date.isoformat(), "training_time": c.training_time,
         "location": c.location[loc], "capacity": c.capacity, "candidates": sizes.get(c.id, 0)}
        for c in settings.file.cohorts
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['id']}\t{r['training_date']}\t{r['department']}\t{r['candidates']}/{r['capacity']}\t{r['name']}")


def _faq_index(settings: Settings, faq_file: Path | None) -> FaqIndex:
    try:
        faq, intents, normalize = load_checked(settings)
        if faq_file is not None:
            faq = load_faq(faq_file, settings.locales, normalize)
    except FaqError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    return FaqIndex(faq, normalize, shared_encoder(), settings.file.faq)


FaqOption = Annotated[Path | None, typer.Option("--faq", help="FAQ file (default: faq.file in config.yaml)")]


@faq_app.command("match")
def faq_match(faq_file: FaqOption = None) -> None:
    """One question a line on stdin; one JSON object a line on stdout: {query, id, score, suggestions}."""
    index = _faq_index(_settings(), faq_file)
    for line in sys.stdin:
        query = line.rstrip("\r\n")
        if not query.strip():
            continue
        sys.stdout.write(json.dumps(index.match(query).as_json(), ensure_ascii=False) + "\n")
        sys.stdout.flush()


@faq_app.command("eval")
def faq_eval(
    cases: Annotated[Path, typer.Argument(help="CSV with the columns query,expected_id (empty: should not answer)")],
    faq_file: FaqOption = None,
    misses: Annotated[bool, typer.Option("--misses", help="also list every question not answered right")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print only the four figures as JSON fractions")] = False,
) -> None:
    """How often the FAQ answers right, suggests the right entry, answers wrongly, and how fast."""
    from bot.faq.evaluate import CasesError, evaluate, read_cases, wratio_baseline

    settings = _settings()
    started = time.perf_counter()
    index = _faq_index(settings, faq_file)
    loaded_in = time.perf_counter() - started
    try:
        rows = read_cases(cases, set(index.ids))
    except CasesError as exc:
        raise _fail(str(exc), 2) from None
    figures, results = evaluate(rows, index.match)
    if as_json:
        typer.echo(json.dumps(figures.fractions()))
        return
    typer.echo(f"FAQ: {len(index.ids)} entries; index built in {loaded_in:.2f} s")
    for line in figures.lines():
        typer.echo(line)
    baseline, _ = evaluate(rows, wratio_baseline(index.faq))
    typer.echo("baseline (rapidfuzz extractOne, WRatio, raw strings; always answers):")
    for line in baseline.lines():
        typer.echo("  " + line)
    if misses:
        for case, m in results:
            if m.id != case.expected:
                typer.echo(f"{cases}:{case.row}: {case.query!r}: expected {case.expected or 'no answer'}, got "
                           f"{m.outcome} {m.id or ''} (score {m.score:.0f}, suggestions {m.suggestions})")


@faq_app.command("merge")
def faq_merge() -> None:
    """Move reviewed proposals from the pending file (HR's "add to FAQ") into the FAQ."""
    settings = _settings()
    try:
        _, _, normalize = load_checked(settings)
        policy = settings.file.faq
        result = pending.merge(settings.content_path(policy.file), settings.content_path(policy.pending_file),
                               settings.locales, normalize)
    except FaqError as exc:
        raise _fail([str(p) for p in exc.problems] + ["nothing was merged."]) from None
    for entry_id in result.added:
        typer.echo(f"added entry {entry_id}")
    for entry_id in result.extended:
        typer.echo(f"added example questions to {entry_id}")
    for problem in result.kept:
        typer.echo(f"kept pending: {problem}")
    if not result.added and not result.extended and not result.kept:
        typer.echo("nothing to merge.")


@faq_app.command("proposals")
def faq_proposals(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Questions proposed for the FAQ that nobody has reviewed yet: HR's answers in chat ("add to FAQ"), and example
    questions for existing entries (HR's "it is: ..." links, candidates' taps on "did you mean")."""
    settings = _settings()
    with _database(settings).session() as session:
        proposals = pending.pending_proposals(session)
    if as_json:
        rows = [{"id": p.id, "ticket": p.ticket_id, "created_at": p.created_at.isoformat(), "created_by": p.created_by,
                 "similar_to": p.similar_to, "answer_locale": p.answer_locale, "question": p.question,
                 "answer": p.answer, "source": p.source, "add_to": p.entry_id, "taps": p.taps} for p in proposals]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for p in proposals:
        if p.entry_id is not None:
            taps = f"\t{p.taps} taps" if p.source == "tap" else (f"\tticket {p.ticket_id}" if p.ticket_id else "")
            typer.echo(f"{p.id}\texample for {p.entry_id} ({p.source})\t{p.created_at.date().isoformat()}{taps}")
            typer.echo(f"  Q: {p.question}")
            continue
        similar = f"\tclosest entry: {p.similar_to}" if p.similar_to else ""
        typer.echo(f"{p.id}\tticket {p.ticket_id}\t{p.created_at.date().isoformat()}{similar}")
        typer.echo(f"  Q: {p.question}")
        typer.echo(f"  A ({p.answer_locale}): {p.answer}")
    typer.echo(f"{len(proposals)} pending; `hrbot faq propose --export [--ids 1,2]` writes them to the review file, "
               "`hrbot faq propose --reject ID` drops one." if proposals else "no pending proposals.")


def _ids(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() for p in parts):
        raise _fail(f"--ids {text!r}: expected proposal ids separated by commas, e.g. --ids 1,2", 2)
    return [int(p) for p in parts]


@faq_app.command("propose")
def faq_propose(
    export: Annotated[bool, typer.Option("--export", help="write pending proposals to the review file "
                                         "(faq.pending_file) and mark them exported")] = False,
    ids: Annotated[str | None, typer.Option("--ids", help="with --export: only these, e.g. 1,2")] = None,
    reject: Annotated[int | None, typer.Option("--reject", help="reject this proposal: it is never exported",
                                               metavar="ID")] = None,
) -> None:
    """HR's review of the FAQ proposals: export the chosen ones for `hrbot faq merge`, or reject one."""
    if export == (reject is not None) or (ids is not None and not export):
        raise _fail("use either --export [--ids 1,2] or --reject ID (see `hrbot faq proposals`)", 2)
    chosen = _ids(ids) if ids is not None else None
    settings = _settings()
    path = settings.content_path(settings.file.faq.pending_file)
    now = SystemClock().now()
    try:
        with _database(settings).session() as session:
            if reject is not None:
                row = pending.reject(session, reject, now)
                what = f"ticket {row.ticket_id}" if row.ticket_id else f"example for {row.entry_id}"
                typer.echo(f"rejected proposal {row.id} ({what}); it will not be exported.")
                return
            rows = pending.export(session, path, settings.locales, now, chosen)
    except pending.ProposalError as exc:
        raise _fail(exc.lines + ["nothing was changed."]) from None
    except FaqError as exc:  # the review file was edited into something that would lose text
        raise _fail([str(p) for p in exc.problems] + ["fix the review file first; nothing was changed."]) from None
    if not rows:
        typer.echo("no pending proposals to export.")
        return
    for row in rows:
        what = f"example for {row.entry_id}" if row.entry_id else f"ticket {row.ticket_id}"
        typer.echo(f"exported proposal {row.id} ({what}) to {path}")
    typer.echo("review them there (id, translations), then run `hrbot faq merge`.")


@flows_app.command("schema")
def flows_schema(out: Annotated[Path | None, typer.Option("--out", help="write here instead of stdout")] = None
                 ) -> None:
    """A JSON Schema of flow files, for completion and checks in editors (VS Code: yaml.schemas)."""
    from bot.flows.tools import flow_schema

    text = json.dumps(flow_schema(_settings().locales), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"schema written to {out}")


@flows_app.command("diagram")
def flows_diagram(flow_id: Annotated[str, typer.Argument(help="a flow id, or lesson:<id>")],
                  lang: Annotated[str | None, typer.Option("--lang", help="language of the labels")] = None) -> None:
    """A Mermaid diagram of a flow (paste it into a Markdown file, or mermaid.live)."""
    from bot.flows.checker import LibraryError
    from bot.flows.tools import mermaid
    from bot.learning.flowparts import lesson_flow
    from bot.yamlsrc import suggest

    settings = _settings()
    try:
        library = load_library(settings)
    except LibraryError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    flows = dict(library.flows)
    flows.update({f"lesson:{ls.id}": lesson_flow(ls, True) for ls in library.lessons.values()})
    flow = flows.get(flow_id)
    if flow is None:
        close = suggest(flow_id, sorted(flows))
        raise _fail(f"no flow {flow_id!r}" + (f"; did you mean {close!r}?" if close else "") +
                    f" (flows: {', '.join(sorted(flows))})")
    typer.echo(mermaid(flow, lang if lang in settings.locales else settings.default_locale), nl=False)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    # httpx logs every request URL, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
