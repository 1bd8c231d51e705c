"""Every button the demo can produce reaches a handler that is not the router's fallback.

The walk starts from what a candidate and an HR admin do (menus, lessons, rewards, FAQ answers and
suggestions, tickets, a withdrawal message, a document, /status, /profile, nudges and the stage notice), then
taps every button it sees, in the chat it was sent to, breadth first, until no new button appears."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

from sqlmodel import select

from bot.engine import buttons
from bot.engine.core import Engine, MenuButton, Turn
from bot.engine.effects import Button, Effect, Say, SendMedia, buttons_from_rows
from bot.hr.service import stage_notice
from bot.learning import points as ledger
from bot.nudges.planner import NudgeRenderer
from bot.nudges.rules import MENU_ENTRIES
from store.db import Database
from store.models import Candidate, Outbox, Ticket
from tests.chat import Chat
from tests.conftest import HR_ADMIN, NOW
from tests.test_profile_documents import accept_notice, send_file

MAX_PRESSES = 400
OTHER = "陈静"


def shown(effects: list[Effect]) -> list[tuple[int, Button]]:
    out = []
    for e in effects:
        if isinstance(e, Say | SendMedia):
            out.extend((e.chat_id, b) for row in e.buttons for b in row if not b.url)  # a link opens no handler
    return out


def test_every_button_reaches_a_handler(engine: Engine, demo: dict[str, str], db: Database, tmp_path: Path) -> None:
    routed: list[tuple[str, str | None, str | None]] = []  # (data, button type, handler)

    def observe(turn: Turn) -> None:
        if turn.event.kind == "button":
            routed.append((turn.event.payload or "", type(turn.button).__name__ if turn.button else None,
                           turn.handled_by))

    engine.observers.append(observe)
    cand, other, hr = Chat(engine, 1), Chat(engine, 2), Chat(engine, HR_ADMIN)
    chats = {1: cand, 2: other, HR_ADMIN: hr}
    found: list[tuple[int, Button]] = []

    found += shown(cand.send(f"/start {demo['张三']}"))
    other.send(f"/start {demo[OTHER]}")
    found += shown(other.send("/status"))  # the safety-shoe size is still open for them: a flow offers it
    with db.session() as s:
        me = s.exec(select(Candidate).where(Candidate.name == "张三")).one()
        assert me.id is not None
        ledger.award(s, me.id, 500, "test", "walk", NOW)  # enough to redeem a reward
        settings, texts = engine.ctx.settings, engine.ctx.texts
        found += [(1, b) for row in stage_notice(settings, texts, me).buttons for b in row]
    for line in ("/menu", "/status", "/learn", "/points", "/rewards", "/resources", "/profile", "/language",
                 "/help", "宿舍是几人间", "宿舍", "公司股票代码是多少", "我找到别的工作了"):
        found += shown(cand.send(line))
    accept_notice(cand)  # documents are taken after the privacy notice is accepted
    # Two documents: HR sends the first back (with a reason), the second waits for the walk (approve).
    for name in ("health.pdf", "photo.png"):
        send_file(cand, tmp_path, name, "application/pdf")
        found += shown(cand.press(cand.says()[-1].buttons[0][0]))
    first_doc = next(b for _, b in found if b.data.startswith("docno:"))
    reasons = shown(hr.press(first_doc))
    found += reasons + shown(hr.press(reasons[0][1]))
    # HR answers the questions handed over (the FAQ-proposal button appears under a question's answer).
    for _, b in list(found):
        if b.data.startswith("faqask:"):
            cand.press(b)
    # The feedback box (category, the text, anonymous or not) and the Q&A board (six answered questions in 张三's
    # cohort: two pages; HR's board has a hide button per question).
    found += shown(cand.send("/feedback"))
    found += shown(cand.press(next(b for _, b in found if b.data == "fbk:cat:dorm")))
    found += shown(cand.send("宿舍的热水有时候不太稳定"))
    with db.session() as s:
        for i in range(6):
            s.add(Ticket(kind="question", candidate_id=me.id, question=f"问题{i}", status="answered",
                         answer=f"答复{i}", answered_by=HR_ADMIN, answered_at=NOW, created_at=NOW))
    found += shown(cand.send("/questions"))
    found += shown(hr.send(f"/questions {me.cohort_id}"))
    found += shown(hr.send("/inbox"))
    found += shown(hr.send("/broadcast"))  # a broadcast draft: its audience, content and confirm buttons
    for ticket in (1, 2, 3):
        found += shown(hr.send(f"/reply {ticket} 请看入职指南。"))
    # The HR console: a /find list (pages, cards and their buttons), a 1:1 message, a per-cohort confirmation.
    # /atrisk lists 张三, who said they found another job (a withdrawal signal): call, note, withdrawn, card.
    for line in ("/find 0000", "/msg 1 明天见", "/attended prod-2027-01", "/atrisk"):
        found += shown(hr.send(line))
    # Every nudge rule of the demo, and every menu entry a rule may offer.
    renderer = NudgeRenderer(db, settings, texts, engine.ctx.rules)
    for rule in engine.ctx.rules.rules:
        row = Outbox(dedupe_key="k", kind="nudge", rule_id=rule.id, candidate_id=me.id, chat_id=1, due_at=NOW,
                     planned_at=NOW, status="pending", payload=json.dumps({"tasks": ["health_certificate"]}))
        _, nudge_buttons = renderer(row, NOW)
        found += [(1, b) for r in buttons_from_rows(json.loads(nudge_buttons or "[]")) for b in r]
    found += [(1, MenuButton(name).button(name)) for name in MENU_ENTRIES]

    queue, seen = deque(found), set()
    while queue and len(seen) < MAX_PRESSES:
        chat_id, button = queue.popleft()
        if (chat_id, button.data) in seen:
            continue
        seen.add((chat_id, button.data))
        queue.extend(shown(chats[chat_id].press(button)))

    fallbacks = [(data, kind) for data, kind, handler in routed if handler is None]
    assert fallbacks == []
    pressed = {kind for _, kind, _ in routed}
    assert pressed == {k.__name__ for k in buttons.declared().values()}  # every declared type was produced
    assert not queue or len(seen) >= MAX_PRESSES
