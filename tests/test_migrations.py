"""Migrations from an empty database build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import store.models  # noqa: F401
from store.db import make_engine, upgrade


def test_upgrade_from_empty_matches_models(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)  # running it again is harmless
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"candidate", "cohort", "candidatetask", "processedupdate", "interaction", "auditlog",
            "departmentcounter", "alembic_version"} <= tables


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()



def _insert(conn: object, table: str, values: dict[str, object]) -> None:
    """A row with the given values and something of the right type in every other NOT NULL column."""
    from sqlalchemy import text

    row = dict(values)
    for col in inspect(conn).get_columns(table):
        if col["name"] in row or col["nullable"] or col.get("autoincrement") is True:
            continue
        kind = str(col["type"]).upper()
        row[col["name"]] = (False if "BOOL" in kind else 0 if "INT" in kind else "2026-11-27 00:00:00"
                            if "DATE" in kind or "TIME" in kind else "x")
    sql = f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + n for n in row)})"
    conn.execute(text(sql), row)  # type: ignore[attr-defined]


def test_faq_examples_migration_keeps_the_proposals_made_before_it_and_goes_back(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from store.db import alembic_config

    upgrade(db_url, "0008_console")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        _insert(conn, "candidate", {"id": 1, "phone": "+8613800000001"})
        _insert(conn, "ticket", {"id": 1, "candidate_id": 1, "question": "宿舍楼有电梯吗"})
        _insert(conn, "faqproposal", {"id": 1, "ticket_id": 1, "question": "宿舍楼有电梯吗", "answer": "有。",
                                      "status": "pending", "created_by": 100000001})
    upgrade(db_url)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT ticket_id, question, answer, source, taps, entry_id, created_by "
                                "FROM faqproposal")).one()
        assert tuple(row) == (1, "宿舍楼有电梯吗", "有。", "hr_answer", 1, None, 100000001)
        # An explicit id: the row above was written with one too, which PostgreSQL's sequence does not count.
        _insert(conn, "faqproposal", {"id": 2, "question": "宿舍可以住单间吗", "source": "tap", "entry_id": "dorm_room",
                                      "question_key": "宿舍可以住单间吗", "taps": 1, "status": "pending"})
    command.downgrade(alembic_config(db_url), "0008_console")  # the proposals without a ticket cannot stay
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM faqproposal")).scalar() == 1
    upgrade(db_url)
    engine.dispose()
