"""/find on 50,000 candidates (issue 10: aim < 50 ms): the whole turn through the engine, per kind of query.

Candidates get realistic Chinese names (a surname from the 60 most common, one or two given-name characters),
so a surname matches about 1 in 60 and a full name a handful. Each query is one engine turn as HR (claim the
update id, route, search, read the card or the page from the database, commit), measured 200 times."""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from itertools import count
from pathlib import Path

from common import NOW, ROOT  # type: ignore[import-not-found]
from sqlalchemy import insert

sys.path.insert(0, str(ROOT))

from bot.app import build_engine  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.cohorts import sync_cohorts  # noqa: E402
from bot.config import EnvSettings, load_settings  # noqa: E402
from bot.console.handlers import ConsoleHandlers  # noqa: E402
from bot.engine.events import Event  # noqa: E402
from store.db import Database, upgrade  # noqa: E402
from store.models import Candidate  # noqa: E402

N = 50_000
RUNS = 200
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田"
            "董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏")
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建文辉力玉萍红斌宇浩凯鹏飞雪琳晨阳欣怡佳子涵梓轩"


def build(n: int) -> tuple[object, list[dict[str, object]]]:
    workdir = Path(tempfile.mkdtemp(prefix="hrbot-bench-find-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    settings = load_settings(ROOT / "config.yaml", env=EnvSettings(database_url=url))
    upgrade(url)
    db = Database(url)
    clock = FixedClock(NOW)
    with db.session() as session:
        sync_cohorts(session, settings, clock.now())
    rnd = random.Random(7)
    rows = []
    deps = [("production", "prod-2026-12"), ("warehouse", "wh-2027-01"), ("quality", "qa-2027-01")]
    for i in range(n):
        dep, coh = deps[i % 3]
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
        at = NOW - timedelta(minutes=n - i)
        rows.append({"external_id": f"E{i:07d}", "name": name, "phone": f"+86139{i:08d}", "role": "line_operator",
                     "department": dep, "cohort_id": coh, "stage": "waiting_training", "stage_changed_at": at,
                     "created_at": at, "updated_at": at})
    with db.session() as session:
        for start in range(0, n, 5000):
            session.execute(insert(Candidate.__table__), rows[start:start + 5000])  # type: ignore[attr-defined]
    return build_engine(settings, db, clock), rows


def main() -> None:
    t0 = time.perf_counter()
    engine, rows = build(N)
    print(f"{N} candidates in {time.perf_counter() - t0:.1f} s")
    hr = min(engine.ctx.settings.hr_admins)  # type: ignore[attr-defined]
    updates = count(1)
    rnd = random.Random(11)

    def turn(text: str) -> float:
        event = Event.parse_text(text, user_id=hr, chat_id=hr, update_id=next(updates), language_code="zh-hans")
        start = time.perf_counter()
        effects = engine.handle(event)  # type: ignore[attr-defined]
        took = (time.perf_counter() - start) * 1000
        assert effects and "出错" not in effects[-1].text, effects
        return took

    first = turn("/find 1")  # the first search reads every name once
    print(f"first /find (reads the 50,000 names into memory): {first:.0f} ms")
    kinds = {
        "id": lambda: f"/find {rnd.randrange(1, N)}",
        "external id": lambda: f"/find E{rnd.randrange(N):07d}",
        "phone tail (6 digits)": lambda: "/find " + f"{rnd.randrange(N):08d}"[-6:],
        "full name": lambda: f"/find {rows[rnd.randrange(N)]['name']}",
        "surname (800+ matches, page 1)": lambda: f"/find {rnd.choice(SURNAMES)}",
        "typo (close names, fuzzy)": lambda: "/find " + rnd.choice(SURNAMES) + rnd.choice("鑫淼犇") * 2,
        "nothing found": lambda: "/find 赵钱孙李周",
    }
    print(f"{'query':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, make in kinds.items():
        times = sorted(turn(make()) for _ in range(RUNS))
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"{kind:34} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}")
    # A change since the last search (an import, a stage change) is read before the next one.
    with engine.ctx.db.session() as session:  # type: ignore[attr-defined]
        cand = session.get(Candidate, 1)
        assert cand is not None
        cand.updated_at = NOW + timedelta(minutes=1)
        session.add(cand)
    print(f"/find right after one candidate changed: {turn('/find 张'):.1f} ms")
    assert isinstance(ConsoleHandlers, type)


if __name__ == "__main__":
    main()
