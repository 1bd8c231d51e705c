"""The buttons of document hand-in: which task a file is for, and HR's decision."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.buttons import ButtonData


@dataclass(frozen=True)
class DocTask(ButtonData, prefix="doc"):
    """The candidate says which of their open tasks the upload is for."""

    upload: int
    task: str


@dataclass(frozen=True)
class DocApprove(ButtonData, prefix="docok"):
    upload: int


@dataclass(frozen=True)
class DocReject(ButtonData, prefix="docno"):
    """HR sends a document back: asks for the reason next."""

    upload: int


@dataclass(frozen=True)
class DocRejectReason(ButtonData, prefix="docr"):
    upload: int
    reason: int  # index into the doc_reject_reasons text list
