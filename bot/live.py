"""Content that HR edits while the bot runs: texts, flows, lessons, rewards and resources, re-read after an edit.

One holder (`LiveContent`) keeps the current version as one immutable snapshot and replaces it with a single
assignment, so a reader sees the old version or the new one, never half of each. The engine pins the snapshot
for the whole of a turn (`LiveContent.turn()`), so the texts and the flows a turn uses are always of one version.
On the hot path the files' modification times are looked at most once a second (check_every); a change is
loaded and checked with the same checks as `hrbot validate`; a broken edit is logged with its file:line:col and
the last good version stays in use until the next edit. The FAQ has its own holder (bot.faq.runtime).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class ReloadError(Exception):
    """What a reload found wrong: each problem as file:line:col: message."""

    def __init__(self, problems: list[Any]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Version(Generic[T]):
    content: T
    stamp: tuple[tuple[str, int, int], ...]
    number: int


@dataclass
class LiveContent(Generic[T]):
    """The current content, reloaded when a watched file changes.

    `load` loads and checks everything (raising ReloadError with the problems), `files` lists the files to watch
    (called at each look, so a new file is seen)."""

    load: Callable[[], T]
    files: Callable[[], list[Path]]
    first: T
    check_every: float = 1.0  # seconds between looks at the files on the hot path
    on_reload: list[Callable[[T], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._version = Version(self.first, self._stamp(), 1)
        self._seen = self._version.stamp  # the last stamp looked at (a broken edit's too: not retried)
        self._checked_at = time.monotonic()
        self._lock = threading.Lock()
        self._pinned: contextvars.ContextVar[Version[T] | None] = contextvars.ContextVar(
            f"live_content_{id(self)}", default=None)

    def _stamp(self) -> tuple[tuple[str, int, int], ...]:
        out = []
        for p in sorted(self.files()):
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_mtime_ns, st.st_size))
        return tuple(out)

    @property
    def version(self) -> int:
        """Counts up with every reload that took effect."""
        return self.current_version().number

    def current(self) -> T:
        return self.current_version().content

    def current_version(self) -> Version[T]:
        pinned = self._pinned.get()
        if pinned is not None:
            return pinned
        now = time.monotonic()
        if now - self._checked_at < self.check_every:
            return self._version
        self._checked_at = now
        return self.refresh()

    def refresh(self) -> Version[T]:
        """Look at the files now (the hot path does it at most once every check_every seconds)."""
        stamp = self._stamp()
        if stamp == self._seen:
            return self._version
        with self._lock:
            if stamp == self._seen:
                return self._version
            self._seen = stamp
            try:
                content = self.load()
            except ReloadError as exc:
                log.error("content changed but has problems; still using the previous version:\n%s", exc)
                return self._version
            except Exception:  # noqa: BLE001 - a reload must never take the running bot down
                log.exception("content changed but could not be loaded; still using the previous version")
                return self._version
            self._version = Version(content, stamp, self._version.number + 1)
            log.info("content reloaded (version %d)", self._version.number)
        for hook in self.on_reload:
            hook(content)
        return self._version

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Everything read through this holder inside the block comes from one version."""
        if self._pinned.get() is not None:
            yield
            return
        token = self._pinned.set(self.current_version())
        try:
            yield
        finally:
            self._pinned.reset(token)


class LiveTexts:
    """The texts of the current version, with the interface of bot.i18n.Texts (the engine, the HR notifier and
    every handler keep calling `ctx.texts.get(...)`)."""

    def __init__(self, current: Callable[[], Any], version: Callable[[], int]):
        self._current = current
        self._version = version

    @property
    def version(self) -> int:
        return self._version()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current(), name)
