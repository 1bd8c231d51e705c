"""Privacy figures (issue 13) on a throw-away SQLite database:

1. erase one candidate among 50,000 (each with a sealed profile, a year of traffic);
2. `hrbot keys rotate` over 50,000 sealed profiles (rows/s);
3. the daily retention job on a year of traffic for 50,000 candidates: total time, and the longest single
   transaction (the time handling a message could wait for the database).

Usage: .venv/bin/python benchmarks/bench_privacy.py [--candidates 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from bot.cohorts import sync_cohorts  # noqa: E402
from bot.config import EnvSettings, Settings, load_settings  # noqa: E402
from bot.crypto import Sealer  # noqa: E402
from bot.privacy import keys, retention  # noqa: E402
from bot.privacy.erase import erase  # noqa: E402
from store.db import Database, upgrade  # noqa: E402

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
KEY = "benchmark key"


def build(n: int, workdir: Path, traffic: bool) -> tuple[Settings, Database]:
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    settings = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url=url, secret_key=KEY))  # type: ignore[arg-type]
    docs = settings.file.documents.model_copy(update={"storage_dir": str(workdir / "files")})
    settings.file = settings.file.model_copy(update={"documents": docs})
    upgrade(url)
    db = Database(url)
    with db.session() as s:
        sync_cohorts(s, settings, NOW)
    sealer = Sealer(KEY)
    rnd = random.Random(7)
    t = SQLModel.metadata.tables
    year = 365 * 86400

    def ago(max_days: float = 365) -> datetime:
        return NOW - timedelta(seconds=rnd.random() * max_days * 86400)

    with db.engine.begin() as conn:
        cands, profiles = [], []
        for i in range(1, n + 1):
            withdrawn = rnd.random() < 0.1
            cands.append({"id": i, "name": f"候选人{i}", "phone": f"+86139{i:08d}", "role": "line_operator",
                          "department": "production", "cohort_id": "prod-2026-12", "stage": "waiting_training",
                          "stage_changed_at": NOW, "telegram_user_id": 10_000_000 + i,
                          "telegram_chat_id": 10_000_000 + i, "created_at": ago(), "updated_at": NOW,
                          "outcome": "withdrawn" if withdrawn else None,
                          "outcome_at": ago() if withdrawn else None})
            number = f"110105199003{i:06d}"
            profiles.append({"candidate_id": i, "legal_name": f"候选人{i}", "id_number_enc": sealer.seal(number),
                             "id_number_hash": sealer.lookup_hash(number), "education": "college",
                             "emergency_name_enc": sealer.seal(f"亲属{i} 母亲"),
                             "emergency_phone_enc": sealer.seal(f"+86137{i:08d}"), "key_id": sealer.key_id,
                             "updated_at": NOW})
        conn.execute(insert(t["candidate"]), cands)
        conn.execute(insert(t["candidateprofile"]), profiles)
        if traffic:
            # A year: per candidate about 20 interactions, 6 messages, 2 questions, 1 finished flow, 20 updates;
            # HR alerts about 1 in 5 of them.
            inter, out, faq, flows, upd, risk = [], [], [], [], [], []
            for i in range(1, n + 1):
                inter += [{"candidate_id": i, "kind": "command", "detail": "status", "at": ago()} for _ in range(20)]
                for k in range(6):
                    at = ago()
                    out.append({"dedupe_key": f"nudge:{i}:{k}", "kind": "nudge", "candidate_id": i,
                                "chat_id": 10_000_000 + i, "text": f"消息 {i}", "due_at": at, "planned_at": at,
                                "status": "sent", "priority": 50, "urgent": False, "attempts": 1})
                if i % 5 == 0:
                    at = ago()
                    out.append({"dedupe_key": f"hr_alert:about:{i}:x", "kind": "hr_alert", "candidate_id": None,
                                "chat_id": 100000001, "text": f"候选人{i} 提问", "due_at": at, "planned_at": at,
                                "status": "sent", "priority": 90, "urgent": True, "attempts": 1})
                faq += [{"candidate_id": i, "at": ago(), "text": f"问题 {i}", "outcome": "answer", "score": 0.9}
                        for _ in range(2)]
                at = ago()
                flows.append({"candidate_id": i, "flow_id": "shoe_size", "step_id": "done", "status": "done",
                              "vars": "{}", "stack": "[]", "version": 1, "started_at": at, "updated_at": at})
                if i % 10 == 0:
                    risk.append({"candidate_id": i, "kind": "withdrawal_intent", "at": ago()})
            upd = [{"update_id": u, "processed_at": NOW - timedelta(seconds=year * u / (20 * n))}
                   for u in range(20 * n)]
            for name, rows in (("interaction", inter), ("outbox", out), ("faqquery", faq), ("flowsession", flows),
                               ("processedupdate", upd), ("risksignal", risk)):
                for start in range(0, len(rows), 50_000):
                    conn.execute(insert(t[name]), rows[start:start + 50_000])
    return settings, db


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {name: int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() or 0)
                for name in ("candidate", "candidateprofile", "interaction", "outbox", "faqquery", "flowsession",
                             "processedupdate", "risksignal")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("erase", "rotate", "retention"), default=None)
    args = parser.parse_args()
    n = args.candidates

    if args.only in (None, "erase"):
        work = Path(tempfile.mkdtemp(prefix="hrbot-privacy-"))
        t0 = time.perf_counter()
        settings, db = build(n, work, traffic=True)
        print(f"database: {counts(db)} built in {time.perf_counter() - t0:.0f} s")
        times = []
        for k in range(args.repeat * 3):
            cid = random.Random(k).randint(1, n)
            t1 = time.perf_counter()
            erase(db, settings, cid, NOW, actor="bench")
            times.append(time.perf_counter() - t1)
        print(f"erase one candidate among {n}: median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms over {len(times)} erasures")
        db.dispose()

    if args.only in (None, "rotate"):
        for r in range(args.repeat):
            work = Path(tempfile.mkdtemp(prefix="hrbot-privacy-"))
            settings, db = build(n, work, traffic=False)
            sealer = Sealer("the next key", [KEY])
            done = keys.rotate(db, settings, sealer, batch=500)
            print(f"keys rotate run {r + 1}: {done.profiles} profiles in {done.seconds:.1f} s = "
                  f"{done.profiles / done.seconds:.0f} rows/s")
            db.dispose()

    if args.only in (None, "retention"):
        for r in range(args.repeat):
            work = Path(tempfile.mkdtemp(prefix="hrbot-privacy-"))
            settings, db = build(n, work, traffic=True)
            preview = {p["kind"]: p["due_now"] for p in retention.preview(db, settings, NOW)}
            result = retention.run(db, settings, NOW, pause=0.0)
            print(f"retention run {r + 1}: {result.seconds:.1f} s, {result.batches} transactions, longest "
                  f"{result.longest_ms:.0f} ms; removed {result.counts} (preview said {preview}); longest by kind "
                  f"{ {k: round(v) for k, v in result.longest_by_kind.items()} }")
            db.dispose()


if __name__ == "__main__":
    main()
