"""Binding a Telegram account: invite links, shared contacts, strangers, and the welcome."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.clock import FixedClock
from bot.engine.core import Engine
from bot.onboarding.invites import hash_token
from store.db import Database
from store.models import Candidate
from tests.chat import Chat


def candidate(db: Database, name: str) -> Candidate:
    with db.session() as s:
        c = s.exec(select(Candidate).where(Candidate.name == name)).one()
    return c


def test_invite_link_binds_and_welcomes_with_department_number(engine: Engine, demo: dict[str, str],
                                                                 db: Database) -> None:
    chat = Chat(engine, 5001)
    chat.send(f"/start {demo['张三']}")
    text = chat.texts()
    assert "欢迎你,张三!" in text
    assert "你是我们第1位加入生产部的伙伴" in text
    assert chat.media()[0].kind == "photo" and chat.media()[0].path.endswith("welcome-production.png")
    assert "李建国" in (chat.media()[0].caption or "")
    assert chat.button("menu:status")
    c = candidate(db, "张三")
    assert c.telegram_user_id == 5001 and c.welcome_number == 1
    assert c.invite_token_hash is None  # single use: the hash is gone once used

    # The second colleague in the same department is number 2; another department starts at 1.
    Chat(engine, 5002).send(f"/start {demo['李娜']}")
    assert candidate(db, "李娜").welcome_number == 2
    other = Chat(engine, 5003)
    other.send(f"/start {demo['罗斌']}")
    assert "第1位加入仓储物流部" in other.texts()


def test_used_token_gives_a_polite_refusal_and_no_data(engine: Engine, demo: dict[str, str]) -> None:
    Chat(engine, 5001).send(f"/start {demo['张三']}")
    thief = Chat(engine, 6666)
    thief.send(f"/start {demo['张三']}")
    text = thief.texts()
    assert "无法使用" in text and "张三" not in text and "生产部" not in text
    thief.send("/status")
    assert "我还不知道你是谁" in thief.texts()


def test_unknown_and_malformed_tokens(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 7000)
    for token in ["x" * 32, "short", "../../etc/passwd", "a" * 200]:
        chat.send(f"/start {token}")
        assert "无法使用" in chat.texts()
        assert chat.says()[0].ask_contact  # offers the phone button instead


def test_expired_token(engine: Engine, demo: dict[str, str], clock: FixedClock) -> None:
    clock.set(clock.now() + timedelta(days=61))
    chat = Chat(engine, 5001)
    chat.send(f"/start {demo['张三']}")
    assert "已过期" in chat.texts()


def test_token_hash_only_is_stored(db: Database, demo: dict[str, str]) -> None:
    token = demo["张三"]
    assert len(token) >= 32  # 24 random bytes = 192 bits
    c = candidate(db, "张三")
    assert c.invite_token_hash == hash_token(token) and token not in (c.invite_token_hash or "")


def test_contact_binding_own_phone(engine: Engine, demo: dict[str, str], db: Database) -> None:
    chat = Chat(engine, 5100)
    chat.send("/start")
    assert chat.says()[0].ask_contact == "📱 分享我的手机号"
    chat.share_contact("8613800000020")  # Telegram sends phones without '+'
    assert "欢迎你,罗斌!" in chat.texts()
    assert chat.says()[0].remove_keyboard
    assert candidate(db, "罗斌").telegram_user_id == 5100


def test_contact_of_someone_else_is_refused(engine: Engine, demo: dict[str, str], db: Database) -> None:
    chat = Chat(engine, 5100)
    chat.share_contact("+8613800000001", contact_user_id=4242)
    assert "只能分享你自己的手机号" in chat.texts()
    assert candidate(db, "张三").telegram_user_id is None


def test_stranger_phone_learns_nothing(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 5200)
    chat.share_contact("+8613912345678")
    text = chat.texts()
    assert "没有找到" in text and "HR" in text
    # A phone already bound to another account gets the very same answer.
    Chat(engine, 5001).send(f"/start {demo['张三']}")
    chat.share_contact("+8613800000001")
    assert chat.texts() == text


def test_bound_user_start_again_is_welcomed_back(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 5001)
    chat.send(f"/start {demo['张三']}")
    chat.send(f"/start {demo['李娜']}")  # someone else's link cannot re-bind an existing account
    assert "欢迎回来,张三" in chat.texts()


def test_english_telegram_user_gets_english(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 5300, language_code="en-US")
    chat.send(f"/start {demo['梁红']}")
    assert "Welcome, 梁红!" in chat.texts()
    assert "You are the 1st new colleague to join Warehouse and Logistics." in chat.texts()


def test_imported_language_wins(engine: Engine, demo: dict[str, str]) -> None:
    chat = Chat(engine, 5400, language_code="zh-hans")
    chat.send(f"/start {demo['Nguyen Van An']}")  # imported with language=en
    assert "Welcome, Nguyen Van An!" in chat.texts()


def test_the_groups_ask_in_private_link_is_nobodys_invite(engine: Engine, demo: dict[str, str]) -> None:
    # Opened by someone not yet known: greeted as without a link (asked for the phone), not told it is invalid.
    stranger = Chat(engine, 7100)
    stranger.send("/start ask")
    assert "分享我的手机号" in stranger.texts() and "无法使用" not in stranger.texts()
    assert stranger.says()[0].ask_contact
    # Opened by a bound candidate: their menu, as any /start.
    zhang = Chat(engine, 7101)
    zhang.send(f"/start {demo['张三']}")
    zhang.send("/start ask")
    assert "无法使用" not in zhang.texts() and zhang.button("menu:status")
