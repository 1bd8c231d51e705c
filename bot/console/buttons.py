"""The buttons of the candidate card, the /find list, 1:1 threads and outcome marking."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

from bot.engine.buttons import ButtonData


@dataclass(frozen=True)
class FindPick(ButtonData, prefix="fpick"):
    """HR: show this candidate's card (from a /find list or under a message)."""

    candidate: int


@dataclass(frozen=True)
class FindPage(ButtonData, prefix="fpage"):
    """HR: another page of a /find list. ``query`` is HR's own query, packed (see pack_query)."""

    page: int
    query: str


@dataclass(frozen=True)
class CardAction(ButtonData, prefix="card"):
    """HR: a button under the candidate card."""

    action: Literal["stages", "msg", "withdrawn", "attended", "invite"]
    candidate: int


@dataclass(frozen=True)
class CardStage(ButtonData, prefix="cstage"):
    candidate: int
    stage: str


@dataclass(frozen=True)
class WithdrawReason(ButtonData, prefix="cwdr"):
    """HR: mark withdrawn with a reason id from the list in content/ (withdraw_reasons)."""

    candidate: int
    reason: str


@dataclass(frozen=True)
class CohortMark(ButtonData, prefix="cohatt"):
    """HR: confirm or cancel a per-cohort "attended" request (the audit row that holds its cohort and exceptions)."""

    action: Literal["ok", "no"]
    request: int


@dataclass(frozen=True)
class HrReply(ButtonData, prefix="hrre"):
    """Candidate: "reply to HR" under HR's message ``message`` (an HrMessage id)."""

    message: int


@dataclass(frozen=True)
class HrReplyCancel(ButtonData, prefix="hrrx"):
    """Candidate: do not send the answer after all."""

    message: int


# A /find query rides in its page buttons (the list is recomputed, so paging survives a restart and works on any
# worker). Base64url of the UTF-8 text: no ":" and at most this many bytes of query (13 Chinese characters).
MAX_QUERY_BYTES = 39


def pack_query(query: str) -> str | None:
    """None when the query is too long to ride in a button (the list then has its first page only)."""
    raw = query.encode()
    if not raw or len(raw) > MAX_QUERY_BYTES:
        return None
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack_query(packed: str) -> str | None:
    if not packed or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in packed):
        return None
    try:
        return base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode() or None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
