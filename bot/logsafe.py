"""Logging failures without personal data: exception messages can quote names, phones or SQL parameters,
so only the exception type and the stack frames are written."""

from __future__ import annotations

import logging
import traceback


def log_failure(logger: logging.Logger, what: str, exc: BaseException | None) -> None:
    if exc is None:
        logger.error("%s failed", what)
        return
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed with %s\n%s", what, type(exc).__name__, frames)
