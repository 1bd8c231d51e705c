"""The daily digest: at `risk.digest_time` (company time) each HR member gets the candidates in their scope who
score at or above the at-risk threshold, marking who is new since the last digest and who is no longer at risk.

Nothing is sent when nothing changed: each day's decision is one outbox row per HR member (kind ``digest``,
dedupe key ``digest:<member>:<date>``), ``skipped`` with the reason "unchanged" when the list (who, and each one's
main reason) is the same as in the last digest that member was sent; the sent row's ``payload`` holds that list.
The row also makes the decision once a day, whatever the number of processes or restarts.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

from sqlmodel import Session, col, select

from bot.analytics import views
from bot.analytics.risk import reason_texts
from bot.outbox.store import enqueue
from store.models import Outbox

KIND = "digest"
SHOWN = 10


def due(settings: Any, now: datetime) -> bool:
    local = now.astimezone(settings.tz)
    hh, mm = (int(x) for x in settings.file.risk.digest_time.split(":"))
    return local.time() >= time(hh, mm)


def _last_sent(session: Session, chat_id: int) -> dict[str, str] | None:
    row = session.exec(select(Outbox).where(Outbox.kind == KIND, Outbox.chat_id == chat_id,
                                            col(Outbox.status).in_(("pending", "sending", "sent")))
                       .order_by(col(Outbox.id).desc()).limit(1)).first()
    if row is None or not row.payload:
        return None
    return {str(k): str(v) for k, v in json.loads(row.payload).items()}


def run(db: Any, ctx: Any, now: datetime) -> int:
    """Decide today's digest for every HR member who has none yet (once the digest time has passed); returns how
    many were queued. Safe to call every minute."""
    settings = ctx.settings
    if not due(settings, now):
        return 0
    day = now.astimezone(settings.tz).date().isoformat()
    queued = 0
    with db.session() as session:
        for staff in ctx.staff.everyone(session):
            key = f"digest:{staff.telegram_id}:{day}"
            if session.exec(select(Outbox.id).where(Outbox.dedupe_key == key)).first() is not None:
                continue
            found = views.at_risk(session, ctx, now, staff.where(), limit=10_000)
            current = {str(r.candidate_id): (r.reasons[0] if r.reasons else "") for r in found.listed}
            before = _last_sent(session, staff.telegram_id)
            if current == (before or {}):
                session.add(Outbox(dedupe_key=key, kind=KIND, chat_id=staff.telegram_id, due_at=now, planned_at=now,
                                   status="skipped", reason="unchanged" if before is not None else "nobody at risk"))
                continue
            locale = settings.default_locale  # HR members have no stored language; the company's is used
            shown = found.listed[:SHOWN]
            people = views.names(session, [r.candidate_id for r in shown])
            gone_ids = sorted(int(k) for k in (before or {}) if k not in current)
            items = [{"id": r.candidate_id, "name": people.get(r.candidate_id, ("?",))[0], "score": r.score,
                      "new": before is not None and str(r.candidate_id) not in before,
                      "reason": (reason_texts(r, settings, ctx.texts, locale) or [""])[0]} for r in shown]
            new = sum(1 for k in current if before is not None and k not in before)
            text = ctx.texts.get(locale, "digest", total=found.total, new=new, items=items,
                                 threshold=settings.file.risk.thresholds.at_risk_score,
                                 more=max(0, found.total - len(shown)), gone=", ".join(f"#{i}" for i in gone_ids))
            if enqueue(session, dedupe_key=key, kind=KIND, chat_id=staff.telegram_id, text=text, now=now,
                       urgent=False):
                row = session.exec(select(Outbox).where(Outbox.dedupe_key == key)).one()
                row.payload = json.dumps(current)
                session.add(row)
                queued += 1
    return queued
