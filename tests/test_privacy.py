"""Privacy (issue 13): the consent gate, sealed fields and files with key ids, rotation (interrupted and
resumed), the start-up key check, /mydata from the map, erasure that leaves no trace, retention by time travel,
backup and restore, `hrbot audit`, and no self-service way into HR."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, Text, func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from typer.testing import CliRunner

from bot.app import build_engine
from bot.cli import app
from bot.clock import FixedClock
from bot.config import Settings
from bot.crypto import Sealer, key_id_of
from bot.engine.core import Engine
from bot.privacy import access, backup, keys, retention
from bot.privacy.erase import erase
from bot.scheduler import Scheduler
from store import personal
from store.db import Database
from store.models import (
    AuditLog,
    Candidate,
    CandidateProfile,
    ConsentRecord,
    DocumentUpload,
    FaqQuery,
    Interaction,
    Outbox,
    ProcessedUpdate,
)
from tests.chat import Chat
from tests.conftest import HR_ADMIN, ROOT, SHANGHAI, TEST_KEY
from tests.test_personal_data_map import OWNED, seed
from tests.test_profile_documents import GOOD_ID, accept_notice, send_file

SENTENCE = "我家的小狗叫豆豆布丁每天早上六点叫醒我"


def fill_profile(chat: Chat) -> None:
    chat.send("/profile")
    chat.click("填写/修改全部")
    chat.send("张三")
    chat.send(GOOD_ID)
    chat.click("大专")
    chat.send("王芳 母亲")
    chat.send("139 1234 5678")


# -- consent -----------------------------------------------------------------------------------------------------

def test_sensitive_collection_waits_for_consent_and_a_new_version_asks_again(
        engine: Engine, settings: Settings, db: Database, clock: FixedClock, demo: dict[str, str],
        tmp_path: Path) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    send_file(chat, tmp_path, "health.pdf", "application/pdf")
    assert "个人信息处理说明" in chat.texts() and "保存多久" in chat.texts()
    assert not (tmp_path / "incoming-health.pdf").exists()  # nothing kept before consent
    chat.send("/profile")
    chat.click("修改身份证号")
    assert "个人信息处理说明" in chat.texts() and "身份证号" not in chat.texts().split("说明")[0]
    chat.send(GOOD_ID)  # typed anyway: not stored (no question was asked; the FAQ masks it)
    with db.session() as s:
        assert s.get(CandidateProfile, 1) is None
    # Everything else works while consent is not given: status, lessons, questions.
    chat.send("/status")
    assert "个人信息处理说明" not in chat.texts() and chat.texts()
    chat.send("/learn")
    assert "个人信息处理说明" not in chat.texts() and chat.texts()
    # Accepting resumes what was asked: the ID number step, then stored sealed.
    chat.send("/profile")
    chat.click("修改身份证号")
    chat.click("✅ 同意")
    assert "身份证号" in chat.texts()
    chat.send(GOOD_ID)
    with db.session() as s:
        row = s.get(CandidateProfile, 1)
        assert row is not None and row.id_number_enc and key_id_of(row.id_number_enc) == row.key_id
        [record] = list(s.execute(select(ConsentRecord)).scalars())
        assert record.decision == "accepted" and record.version.startswith("1+")
    chat.send("/privacy")
    assert "已同意" in chat.texts()

    # A new notice version (config): asked again before the next sensitive collection, not before anything else.
    file = settings.file.model_copy(update={"privacy": settings.file.privacy.model_copy(
        update={"notice_version": "2"})})
    settings.file = file
    engine2 = build_engine(settings, db, clock)
    chat2 = Chat(engine2, 1)
    chat2.send("/status")
    assert "个人信息处理说明" not in chat2.texts()
    chat2.send("/profile")
    chat2.click("修改紧急联系人")
    assert "个人信息处理说明" in chat2.texts()
    chat2.send("/privacy")
    assert "说明已更新" in chat2.texts()


def test_declining_keeps_the_rest_working_and_tells_hr(engine: Engine, demo: dict[str, str], db: Database,
                                                      tmp_path: Path) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    send_file(chat, tmp_path, "health.pdf", "application/pdf")
    chat.click("不同意")
    assert "带纸质版" in chat.texts()
    assert "不同意在线提交敏感信息" in chat.texts(HR_ADMIN) and "张三" in chat.texts(HR_ADMIN)
    chat.send("/status")
    assert "个人信息处理说明" not in chat.texts()
    send_file(chat, tmp_path, "again.pdf", "application/pdf")  # asked again, never stored
    assert "个人信息处理说明" in chat.texts()
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(DocumentUpload)).scalar() == 0


def test_withdrawing_consent_deletes_what_was_collected_under_it(engine: Engine, demo: dict[str, str],
                                                                db: Database, tmp_path: Path,
                                                                settings: Settings) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    accept_notice(chat)
    fill_profile(chat)
    send_file(chat, tmp_path, "health.pdf", "application/pdf")
    chat.click("提交健康证明")
    chat.send("/privacy")
    chat.click("撤回同意")
    chat.click("确定撤回")
    assert "已撤回同意" in chat.texts() and "撤回了隐私同意" in chat.texts(HR_ADMIN)
    with db.session() as s:
        row = s.get(CandidateProfile, 1)
        assert row is not None and row.legal_name == "张三"
        assert row.id_number_enc is None and row.emergency_name_enc is None and row.emergency_phone_enc is None
        assert s.execute(select(func.count()).select_from(DocumentUpload)).scalar() == 0
    assert personal.candidate_files(settings.storage_dir, 1) == []


# -- encryption and keys -----------------------------------------------------------------------------------------

def test_sealed_fields_and_files_name_their_key() -> None:
    old, new = Sealer("old key"), Sealer("new key", ["old key"])
    token = old.seal(GOOD_ID)
    assert GOOD_ID not in token and key_id_of(token) == old.key_id != new.key_id
    assert new.open(token) == GOOD_ID and Sealer("new key").open(token) is None
    legacy = old._primary.fernet.encrypt(GOOD_ID.encode()).decode()  # noqa: SLF001 - as stored before 0010
    assert new.open(legacy) == GOOD_ID
    blob = old.seal_bytes(b"%PDF secret")
    assert b"secret" not in blob and new.open_bytes(blob) == b"%PDF secret" and Sealer("x").open_bytes(blob) is None
    assert new.lookup_hash(GOOD_ID) != old.lookup_hash(GOOD_ID)
    assert old.lookup_hash(GOOD_ID) in new.lookup_hashes(GOOD_ID)


def _profiles_and_files(engine: Engine, demo: dict[str, str], tmp_path: Path) -> None:
    for user, name in ((1, "张三"), (2, "李娜")):
        chat = Chat(engine, user)
        chat.send(f"/start {demo[name]}")
        accept_notice(chat)
        fill_profile(chat)
        send_file(chat, tmp_path, f"h{user}.pdf", "application/pdf", b"%PDF-1.4 private " + name.encode())
        chat.click("提交健康证明")


def _readable(db: Database, settings: Settings, sealer: Sealer) -> None:
    with db.session() as s:
        for row in s.execute(select(CandidateProfile)).scalars():
            assert sealer.open(row.id_number_enc or "") == GOOD_ID
            assert sealer.open(row.emergency_phone_enc or "") == "+8613912345678"
        for up in s.execute(select(DocumentUpload)).scalars():
            assert (sealer.open_bytes((settings.storage_dir / up.stored_path).read_bytes()) or b"").startswith(b"%PDF")


def test_rotation_interrupted_and_resumed(engine: Engine, settings: Settings, db: Database, demo: dict[str, str],
                                         tmp_path: Path) -> None:
    _profiles_and_files(engine, demo, tmp_path)
    old = Sealer(TEST_KEY)
    both = Sealer("the next key", [TEST_KEY])
    done = keys.rotate(db, settings, both, batch=1, stop_after=1)  # interrupted after one profile
    assert done.profiles == 1 and done.files == 0
    with db.session() as s:
        kids = sorted(r.key_id for r in s.execute(select(CandidateProfile)).scalars())
    assert kids == sorted([old.key_id, both.key_id])
    _readable(db, settings, both)  # half-way: every value opens with the two keys held during rotation
    keys.check_keys(db, both)
    with pytest.raises(keys.KeyProblem, match="wrong key"):
        keys.check_keys(db, Sealer(TEST_KEY))  # the old key alone no longer opens everything
    rest = keys.rotate(db, settings, both, batch=1)  # run again: carries on
    assert rest.profiles == 1 and rest.files == 2 and not rest.skipped
    _readable(db, settings, Sealer("the next key"))  # the new key alone opens everything
    keys.check_keys(db, Sealer("the next key"))
    assert keys.rotate(db, settings, both).profiles == 0  # nothing left to do


def test_start_without_the_key_or_with_the_wrong_one_is_a_clear_error(
        engine: Engine, demo: dict[str, str], tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _profiles_and_files(engine, demo, tmp_path)
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:fake")
    monkeypatch.delenv("HRBOT_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 1 and "HRBOT_SECRET_KEY is not set" in result.output
    monkeypatch.setenv("HRBOT_SECRET_KEY", "not the key")
    result = CliRunner().invoke(app, ["shell"])
    assert result.exit_code == 1 and "wrong key?" in result.output


# -- access ------------------------------------------------------------------------------------------------------

def test_mydata_covers_every_mapped_table(engine: Engine, db: Database, demo: dict[str, str], clock: FixedClock,
                                         settings: Settings) -> None:
    seed(db, clock, 1, 501)
    with db.session() as s:
        data = access.personal_data(s, 1, engine.ctx.sealer)
    assert set(data) == OWNED  # every table the map says can hold their data
    chat = Chat(engine, 501)
    summary = chat.send("/mydata")
    assert "我们保存的你的数据" in chat.texts() and "张三" in chat.texts() and "你问过的问题:1 条" in chat.texts()
    [doc] = chat.media()
    body = json.loads(Path(doc.path).read_text(encoding="utf-8"))
    # Every table but the unfinished feedback: any command (this /mydata too) drops a feedback draft (bot/groups).
    assert set(body["tables"]) == OWNED - {"feedbackdraft"} and body["candidate_id"] == 1
    assert "invite_token_hash" not in body["tables"]["candidate"][0]
    assert summary


# -- erasure -----------------------------------------------------------------------------------------------------

def _everything_text(db: Database) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text column of every table."""
    found = []
    with db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            cols = [c for c in table.c if isinstance(c.type, String | Text)]
            for row in s.execute(select(*cols)).all() if cols else []:
                found += [(table.name, c.name, v) for c, v in zip(cols, row, strict=True) if v]
    return found


def test_erasure_leaves_no_trace(engine: Engine, settings: Settings, db: Database, demo: dict[str, str],
                                 tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch,
                                 db_url: str) -> None:
    chat, hr = Chat(engine, 1), Chat(engine, HR_ADMIN)
    chat.send(f"/start {demo['张三']}")
    accept_notice(chat)
    fill_profile(chat)
    chat.send(SENTENCE)
    for say in chat.says():
        for row in say.buttons:
            for b in row:
                if "HR" in b.text:
                    chat.press(b)
    send_file(chat, tmp_path, "health.pdf", "application/pdf", b"%PDF-1.4 " + SENTENCE.encode())
    chat.click("提交健康证明")
    hr.send("/docs")
    hr.send("/find 张三")  # HR's search keeps names in memory
    assert "张三" in hr.texts()
    chat.send("/mydata")
    with db.session() as s:
        s.add(Outbox(dedupe_key="nudge:test:1", kind="nudge", candidate_id=1, chat_id=1, text="明天见,张三",
                     due_at=clock.now(), planned_at=clock.now(), status="pending"))
        tickets = s.execute(text("SELECT count(*) FROM ticket WHERE candidate_id = 1")).scalar()
        others = s.execute(select(func.count()).select_from(Candidate).where(Candidate.id != 1)).scalar()
    assert tickets  # the sentence reached HR
    needles = ["张三", "13800000001", GOOD_ID, "王芳", "13912345678", SENTENCE[:12], "E2026001"]
    assert any(n in v for _, _, v in _everything_text(db) for n in needles)  # there before

    clock.set(clock.now() + timedelta(minutes=1))
    result = erase(db, settings, 1, clock.now(), actor="cli")
    assert result is not None and result.rows["outbox_dropped"] >= 1

    leaks = [(t, c) for t, c, v in _everything_text(db) for n in needles if n in v]
    assert leaks == []
    for path in settings.storage_dir.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert not any(n.encode() in raw for n in needles), path
    if make_url(db_url).get_backend_name() == "sqlite":  # the database file itself: deleted pages overwritten
        base = Path(make_url(db_url).database or "")
        for path in (base, Path(f"{base}-wal")):
            if path.exists():
                raw = path.read_bytes()
                assert not any(n.encode() in raw for n in needles), (path, [n for n in needles if n.encode() in raw])
    with db.session() as s:
        cand = s.get(Candidate, 1)
        assert cand is not None and cand.erased_at is not None and cand.stage and cand.department
        assert cand.telegram_user_id is None and cand.name == "erased-1"
        assert s.execute(select(func.count()).select_from(Candidate).where(Candidate.id != 1)).scalar() == others
        assert s.execute(select(func.count()).select_from(Outbox).where(
            Outbox.candidate_id == 1, Outbox.status == "pending")).scalar() == 0
        [entry] = s.execute(select(AuditLog).where(AuditLog.action == "erase")).scalars().all()
        assert entry.candidate_id == 1 and entry.detail is None
    hr.send("/find 张三")
    assert hr.texts() == engine.ctx.texts.get("zh-CN", "find_none", query="张三")
    # The person is a stranger to the bot now.
    chat.send("/status")
    assert "张三" not in chat.texts()


def test_delete_my_data_in_chat_and_hr_erase_on_the_cli(engine: Engine, db: Database, demo: dict[str, str],
                                                        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = Chat(engine, 1)
    chat.send(f"/start {demo['张三']}")
    chat.send("/delete_my_data")
    assert "HR 将无法再通过机器人联系你" in chat.texts()
    chat.click("取消")
    with db.session() as s:
        assert s.get(Candidate, 1).erased_at is None  # type: ignore[union-attr]
    chat.send("/delete_my_data")
    chat.click("确定删除")
    assert "已删除" in chat.texts() and "删除了自己的个人数据" in chat.texts(HR_ADMIN)
    assert "张三" not in chat.texts(HR_ADMIN)
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["candidates", "erase", "3"])
    assert result.exit_code == 0 and "candidate 3 erased" in result.output
    result = CliRunner().invoke(app, ["candidates", "erase", "99999"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["audit", "--json"])
    items = json.loads(result.output)
    assert [(i["action"], i["candidate_id"], i["actor"]) for i in items[:2]] == [("erase", 3, "cli"),
                                                                                 ("erase", 1, "candidate")]
    with db.session() as s:
        assert s.get(Candidate, 1).name == "erased-1"  # type: ignore[union-attr]


# -- retention ---------------------------------------------------------------------------------------------------

def test_retention_by_time_travel(engine: Engine, settings: Settings, db: Database, demo: dict[str, str],
                                  clock: FixedClock, monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    now = clock.now()
    with db.session() as s:
        s.add(ProcessedUpdate(update_id=1, processed_at=now))
        s.add(Interaction(candidate_id=2, kind="command", detail="status", at=now))
        s.add(FaqQuery(candidate_id=2, at=now, text="宿舍几人间", outcome="answer"))
        s.add(Outbox(dedupe_key="o1", kind="notice", candidate_id=2, chat_id=2, text="hi", due_at=now,
                     planned_at=now, status="sent"))
        folder = settings.storage_dir / "3"
        folder.mkdir(parents=True)
        (folder / "old.pdf").write_bytes(Sealer(TEST_KEY).seal_bytes(b"%PDF old"))
        s.add(DocumentUpload(candidate_id=3, kind="document", stored_path="3/old.pdf", status="approved",
                             created_at=now, decided_at=now, key_id=Sealer(TEST_KEY).key_id))
        cand = s.get(Candidate, 2)
        assert cand is not None
        cand.outcome, cand.outcome_at, cand.cohort_id = "withdrawn", now, None  # no training date: withdrawal rule
        s.add(cand)
    sched = Scheduler(db, settings, engine.ctx.texts, engine.ctx.rules, transport=None, clock=clock)  # type: ignore[arg-type]
    clock.set(datetime(2026, 11, 28, 3, 0, tzinfo=SHANGHAI))  # before run_at (03:30 company time): not yet
    assert sched.retention_tick() is None
    clock.set(now + timedelta(days=1))  # 10:00 the next day: runs; nothing is old enough yet
    first = sched.retention_tick()
    assert first is not None and first.counts == {}
    assert sched.retention_tick() is None  # once a day
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    clock.set(now + timedelta(days=400))
    preview = retention.preview(db, settings, clock.now())
    due = {r["kind"]: r["due_now"] for r in preview}
    assert due["processed_updates"] == 1 and due["interactions"] >= 1 and due["candidates_after_withdrawal"] == 1
    assert due["candidates_after_training"] >= 20  # every cohort's training is long past
    result = sched.retention_tick()
    assert result is not None and result.counts["processed_updates"] == 1 and result.counts["faq_queries"] == 1
    assert result.counts["candidates_after_withdrawal"] == 1 and result.longest_ms < 1000
    assert not (settings.storage_dir / "3" / "old.pdf").exists()  # with its candidate (or as an old document)
    with db.session() as s:
        assert s.get(Candidate, 2).erased_at is not None  # type: ignore[union-attr]
        assert s.execute(select(func.count()).select_from(Outbox)).scalar() == 0
        assert s.execute(select(func.count()).select_from(DocumentUpload)).scalar() == 0
        entry = s.execute(select(AuditLog).where(AuditLog.action == "retention")
                          .order_by(AuditLog.id.desc())).scalars().first()  # type: ignore[union-attr]
        assert entry is not None and json.loads(entry.detail or "{}")["processed_updates"] == 1
    assert all(r["due_now"] == 0 for r in retention.preview(db, settings, clock.now()))
    out = CliRunner().invoke(app, ["retention", "preview", "--json"])
    assert out.exit_code == 0 and {r["kind"] for r in json.loads(out.output)} == {k.name for k in retention.KINDS}


# -- backup and restore ------------------------------------------------------------------------------------------

def _dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            out[table.name] = [tuple(r) for r in s.execute(select(table).order_by(*table.primary_key.columns))]
    return out


def test_backup_and_restore_round_trip(engine: Engine, db: Database, demo: dict[str, str], tmp_path: Path,
                                       clock: FixedClock, db_url: str, monkeypatch: pytest.MonkeyPatch,
                                       settings: Settings) -> None:
    seed(db, clock, 1, 501)
    chat = Chat(engine, 2)
    chat.send(f"/start {demo['李娜']}")
    accept_notice(chat)
    fill_profile(chat)
    before = _dump(db)
    assert all(before[t] for t in ("candidate", "candidateprofile", "consentrecord", "outbox"))
    enc = before["candidateprofile"]
    assert not any(GOOD_ID in str(v) for row in enc for v in row)
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    file = tmp_path / "backup.db"
    result = CliRunner().invoke(app, ["db", "backup", str(file)])
    if make_url(db_url).get_backend_name() != "sqlite" and backup.pg_tool("pg_dump") is None:
        pytest.skip("no pg_dump here")
    assert result.exit_code == 0, result.output
    assert GOOD_ID.encode() not in file.read_bytes()  # encrypted fields stay encrypted in the backup
    assert CliRunner().invoke(app, ["db", "backup", str(file)]).exit_code == 1  # never overwrites
    erase(db, settings, 1, clock.now(), actor="cli")
    erase(db, settings, 2, clock.now(), actor="cli")
    assert _dump(db) != before
    refused = CliRunner().invoke(app, ["db", "restore", str(file)])
    assert refused.exit_code == 1 and "--yes" in refused.output
    db.dispose()
    result = CliRunner().invoke(app, ["db", "restore", str(file), "--yes"])
    assert result.exit_code == 0, result.output
    assert _dump(db) == before


def test_postgres_backup_command_is_spelled_out_without_pg_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup, "pg_tool", lambda name: None)
    todo = backup.run_pg("pg_dump", "postgresql+psycopg://hr:secret@db:5432/hrbot", Path("/tmp/x.dump"))
    assert todo is not None and todo.startswith("pg_dump --format=custom") and "secret" not in todo
    assert "postgresql://hr:***@db:5432/hrbot" in todo


# -- HR access hygiene -------------------------------------------------------------------------------------------

def test_no_self_service_way_into_hr(engine: Engine, demo: dict[str, str], db: Database) -> None:
    """HR comes only from config.yaml's hr_admins and `hrbot hr add`: no chat command adds or promotes anyone."""
    commands = set(engine.router.commands)
    assert not commands & {"hr", "admin", "add_hr", "addhr", "hr_add", "promote", "make_admin", "sudo", "grant"}
    stranger = Chat(engine, 777)
    for line in ("/hr add 777 --role admin", "/admin", "/make_admin", "/promote 777"):
        stranger.send(line)
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM hrmember")).scalar() == 0
    with db.session() as s:
        assert all(m.telegram_id != 777 for m in engine.ctx.staff.everyone(s))


def test_audit_lists_recent_hr_actions(engine: Engine, db: Database, demo: dict[str, str], db_url: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    hr = Chat(engine, HR_ADMIN)
    with db.session() as s:
        current = s.get(Candidate, 1).stage  # type: ignore[union-attr]
    other = next(st.id for st in engine.ctx.settings.file.stages if st.id != current)
    hr.send(f"/stage 1 {other}")
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["audit", "--json", "--actor", f"hr:{HR_ADMIN}", "--limit", "5"])
    items = json.loads(result.output)
    assert items[0]["action"] == "set_stage" and items[0]["candidate_id"] == 1
    assert {"id", "at", "actor", "action", "candidate_id", "detail"} <= set(items[0])
    plain = CliRunner().invoke(app, ["audit", "--action", "set_stage"])
    assert plain.exit_code == 0 and f"hr:{HR_ADMIN}" in plain.output


# -- migration ---------------------------------------------------------------------------------------------------

def test_migration_encrypts_plain_emergency_contacts_and_stops_without_a_key(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from store.db import make_engine, upgrade
    from tests.test_migrations import _insert

    upgrade(db_url, "0010_analytics")  # the revision before 0012_privacy
    engine = make_engine(db_url)
    legacy = Sealer(TEST_KEY)._primary.fernet.encrypt(GOOD_ID.encode()).decode()  # noqa: SLF001 - pre-0010 form
    with engine.begin() as conn:
        _insert(conn, "candidate", {"id": 1, "phone": "+8613800000001"})
        _insert(conn, "candidateprofile", {"candidate_id": 1, "emergency_name": "王芳 母亲",
                                           "emergency_phone": "+8613912345678", "id_number_enc": legacy})
    monkeypatch.delenv("HRBOT_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="set HRBOT_SECRET_KEY"):
        upgrade(db_url)
    with engine.begin() as conn:  # nothing changed
        assert conn.execute(text("SELECT emergency_name FROM candidateprofile")).scalar() == "王芳 母亲"
    monkeypatch.setenv("HRBOT_SECRET_KEY", TEST_KEY)
    upgrade(db_url)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT id_number_enc, emergency_name_enc, emergency_phone_enc, key_id, "
                                "id_number_hash FROM candidateprofile")).one()
    engine.dispose()
    sealer = Sealer(TEST_KEY)
    assert sealer.open(row[1]) == "王芳 母亲" and sealer.open(row[2]) == "+8613912345678"
    assert sealer.open(row[0]) == GOOD_ID and key_id_of(row[0]) == row[3] == sealer.key_id
    assert row[4] == sealer.lookup_hash(GOOD_ID)


def test_retention_deletes_old_documents_and_their_files(settings: Settings, db: Database, demo: dict[str, str],
                                                         clock: FixedClock) -> None:
    now = clock.now()
    sealer = Sealer(TEST_KEY)
    (settings.storage_dir / "1").mkdir(parents=True)
    with db.session() as s:
        for name, status in (("a.pdf", "approved"), ("b.pdf", "submitted")):
            (settings.storage_dir / "1" / name).write_bytes(sealer.seal_bytes(b"%PDF"))
            s.add(DocumentUpload(candidate_id=1, kind="document", stored_path=f"1/{name}", status=status,
                                 created_at=now, decided_at=now if status == "approved" else None,
                                 key_id=sealer.key_id))
    later = now + timedelta(days=settings.file.privacy.retention.documents_days + 1)
    due = {r["kind"]: r["due_now"] for r in retention.preview(db, settings, later)}
    assert due["documents"] == 1 and due["candidates_after_training"] == 0
    result = retention.run(db, settings, later, pause=0)
    assert result.counts == {"documents": 1}
    assert not (settings.storage_dir / "1" / "a.pdf").exists() and (settings.storage_dir / "1" / "b.pdf").exists()


def test_a_table_another_part_adds_and_maps_is_exported_and_erased(
        settings: Settings, db: Database, demo: dict[str, str], clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Driven by the map alone: a new table (as cohort groups or analytics add) is covered once it is mapped."""
    from sqlalchemy import Column, ForeignKey, Integer, Table

    table = Table("feedbacknote", SQLModel.metadata, Column("id", Integer, primary_key=True),
                  Column("candidate_id", Integer, ForeignKey("candidate.id"), nullable=False),
                  Column("text", Text, nullable=False), Column("code", String(20), nullable=False, unique=True),
                  Column("score", Integer, nullable=False))
    try:
        table.create(db.engine)
        monkeypatch.setitem(personal.TABLES, "feedbacknote", personal.TableMap(
            personal.BY_CANDIDATE_ID, {"candidate_id": "identifier", "text": "free_text", "code": "identifier"},
            frozenset({"id", "score"})))
        with db.session() as s:
            s.execute(table.insert().values(id=7, candidate_id=1, text=SENTENCE, code="FB-1", score=4))
            s.execute(table.insert().values(id=8, candidate_id=2, text="别人的意见", code="FB-2", score=5))
        with db.session() as s:
            assert access.personal_data(s, 1, None)["feedbacknote"] == [
                {"id": 7, "candidate_id": 1, "text": SENTENCE, "code": "FB-1", "score": 4}]
        erase(db, settings, 1, clock.now(), actor="cli")
        with db.session() as s:
            rows = {r.id: tuple(r) for r in s.execute(select(table))}
        assert rows == {7: (7, 1, "", "erased-7", 4), 8: (8, 2, "别人的意见", "FB-2", 5)}  # the count stays
    finally:
        table.drop(db.engine)
        SQLModel.metadata.remove(table)
