"""The points ledger (append-only) and its balance; rewards redemption that can never overspend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.learning.model import Reward
from store.models import PointsBalance, PointsEntry, Redemption, RewardStock


def balance(session: Session, candidate_id: int) -> int:
    row = session.get(PointsBalance, candidate_id)
    return row.balance if row else 0


def _ensure_balance_row(session: Session, candidate_id: int) -> None:
    if session.get(PointsBalance, candidate_id) is None:
        try:
            with session.begin_nested():
                session.add(PointsBalance(candidate_id=candidate_id, balance=0))
        except IntegrityError:
            pass  # created by a concurrent transaction


def award(session: Session, candidate_id: int, points: int, reason: str, ref: str, now: datetime) -> bool:
    """Add points once per ``ref``; False if this ref was awarded before."""
    exists = session.exec(select(PointsEntry.id).where(PointsEntry.candidate_id == candidate_id,
                                                       PointsEntry.ref == ref)).first()
    if exists is not None:
        return False
    _ensure_balance_row(session, candidate_id)
    try:
        with session.begin_nested():
            session.execute(insert(PointsEntry).values(candidate_id=candidate_id, delta=points, reason=reason,
                                                      ref=ref, at=now))
    except IntegrityError:
        return False  # the same award, twice at once
    session.execute(update(PointsBalance).where(col(PointsBalance.candidate_id) == candidate_id)
                    .values(balance=PointsBalance.balance + points))
    session.expire_all()
    return True


def history(session: Session, candidate_id: int, limit: int = 10) -> list[PointsEntry]:
    return list(session.exec(select(PointsEntry).where(PointsEntry.candidate_id == candidate_id)
                             .order_by(col(PointsEntry.at).desc(), col(PointsEntry.id).desc()).limit(limit)))


def redeemed_count(session: Session, reward_id: str) -> int:
    row = session.get(RewardStock, reward_id)
    return row.redeemed if row else 0


@dataclass(frozen=True)
class RedeemResult:
    outcome: str  # ok | not_enough | out_of_stock
    redemption: Redemption | None = None
    balance: int = 0


def _take_one(session: Session, reward: Reward) -> bool:
    def conditional() -> bool:
        taken = session.execute(
            update(RewardStock).where(col(RewardStock.reward_id) == reward.id,
                                      col(RewardStock.redeemed) < reward.stock)
            .values(redeemed=RewardStock.redeemed + 1))
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    if conditional():
        return True
    if reward.stock < 1 or session.get(RewardStock, reward.id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(RewardStock(reward_id=reward.id, redeemed=1))
        return True
    except IntegrityError:  # the first redemption of this reward, twice at once
        return conditional()


def redeem(session: Session, candidate_id: int, reward: Reward, now: datetime) -> RedeemResult:
    """Spend points on a reward. Both guards are conditional UPDATEs in one transaction: with two taps at once
    (or two processes), the database lets only as many through as the balance and the stock allow."""
    # Writes first: on SQLite a transaction that writes first waits its turn instead of failing later.
    spent = session.execute(
        update(PointsBalance)
        .where(col(PointsBalance.candidate_id) == candidate_id, col(PointsBalance.balance) >= reward.cost)
        .values(balance=PointsBalance.balance - reward.cost)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return RedeemResult("not_enough", balance=balance(session, candidate_id))
    if not _take_one(session, reward):
        session.execute(update(PointsBalance).where(col(PointsBalance.candidate_id) == candidate_id)
                        .values(balance=PointsBalance.balance + reward.cost))
        return RedeemResult("out_of_stock", balance=balance(session, candidate_id))
    redemption = Redemption(candidate_id=candidate_id, reward_id=reward.id, cost=reward.cost, status="requested",
                            created_at=now)
    session.add(redemption)
    session.flush()
    session.execute(insert(PointsEntry).values(candidate_id=candidate_id, delta=-reward.cost, reason="redemption",
                                              ref=f"redemption:{redemption.id}", at=now))
    session.expire_all()
    return RedeemResult("ok", redemption, balance(session, candidate_id))
