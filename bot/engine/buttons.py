"""Button data as typed values: the one place that packs and parses what a button carries.

Each capability declares the buttons it handles as small frozen dataclasses::

    @dataclass(frozen=True)
    class RewardButton(ButtonData, prefix="rw"):
        action: Literal["list", "ask", "ok"]
        reward: str = ""

``RewardButton("ask", "mug").button("🎁 Mug")`` is a Button whose data is ``rw:ask:mug``; a press comes back
as ``RewardButton(action="ask", reward="mug")`` through ``parse``. Fields are ``int``, ``str`` or a
``Literal`` of strings; trailing fields left at their default are not written, so short legacy data such as
``learn:list`` still parses. Data is at most 64 bytes (Telegram's limit), checked when it is packed.
The router refuses at start-up a declared type that no handler claims.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, ClassVar, Literal, Self, get_args, get_origin

from bot.engine.effects import Button

SEP = ":"
MAX_BYTES = 64


class ButtonDataError(ValueError):
    """Data that no declared button type reads (tampered, or from a version of the bot long gone)."""


_TYPES: dict[str, type[ButtonData]] = {}
_ALIASES: dict[str, ButtonData] = {}  # prefix of data sent before an upgrade -> what it means today


@dataclasses.dataclass(frozen=True)
class ButtonData:
    prefix: ClassVar[str] = ""
    _fields: ClassVar[tuple[tuple[str, Any, Any], ...]] = ()  # (name, type, default) once resolved

    def __init_subclass__(cls, prefix: str = "", **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if not prefix or SEP in prefix or not prefix.isascii():
            raise TypeError(f"{cls.__name__}: a button type needs a short ASCII prefix without {SEP!r}")
        if prefix in _TYPES or prefix in _ALIASES:
            raise TypeError(f"{cls.__name__}: button prefix {prefix!r} is taken by {_TYPES[prefix].__name__}")
        cls.prefix = prefix
        cls._fields = ()
        _TYPES[prefix] = cls

    # -- packing ----------------------------------------------------------------------------------------------
    def pack(self) -> str:
        data = self._data()
        size = len(data.encode())
        if size > MAX_BYTES:
            raise ButtonDataError(f"button data {data!r} is {size} bytes; Telegram allows {MAX_BYTES}")
        return data

    def size(self) -> int:
        """Bytes the data takes (for checks at load that report rather than raise)."""
        return len(self._data().encode())

    def _data(self) -> str:
        values: list[str] = []
        for name, kind, _ in self._spec():
            value = getattr(self, name)
            text = str(value)
            if kind is int and not isinstance(value, int):
                raise ButtonDataError(f"{type(self).__name__}.{name} must be an int, got {value!r}")
            if SEP in text:
                raise ButtonDataError(f"{type(self).__name__}.{name} may not contain {SEP!r}: {text!r}")
            values.append(text)
        # Trailing fields left at their default are not written (short data, and the legacy forms parse).
        spec = self._spec()
        while values and spec[len(values) - 1][2] is not dataclasses.MISSING \
                and getattr(self, spec[len(values) - 1][0]) == spec[len(values) - 1][2]:
            values.pop()
        return SEP.join([self.prefix, *values])

    def button(self, text: str) -> Button:
        return Button(text, self.pack())

    @classmethod
    def unpack(cls, data: str) -> Self:
        head, *parts = data.split(SEP)
        if head != cls.prefix:
            raise ButtonDataError(f"{data!r} is not a {cls.__name__}")
        spec = cls._spec()
        if len(parts) > len(spec):
            raise ButtonDataError(f"{data!r} has too many parts for {cls.__name__}")
        values: dict[str, Any] = {}
        for i, (name, kind, default) in enumerate(spec):
            if i >= len(parts):
                if default is dataclasses.MISSING:
                    raise ButtonDataError(f"{data!r} lacks {cls.__name__}.{name}")
                break
            values[name] = _convert(parts[i], kind, f"{cls.__name__}.{name}")
        return cls(**values)

    @classmethod
    def _spec(cls) -> tuple[tuple[str, Any, Any], ...]:
        if not cls._fields:
            hints = typing.get_type_hints(cls)
            cls._fields = tuple((f.name, hints[f.name], f.default) for f in dataclasses.fields(cls))
        return cls._fields


def _convert(text: str, kind: Any, what: str) -> Any:
    if kind is int:
        body = text[1:] if text.startswith("-") else text
        if not body.isdigit() or len(body) > 18:
            raise ButtonDataError(f"{what}: {text!r} is not a number")
        return int(text)
    if get_origin(kind) is Literal:
        if text not in get_args(kind):
            raise ButtonDataError(f"{what}: {text!r} is not one of {get_args(kind)}")
        return text
    if kind is str:
        if not text:
            raise ButtonDataError(f"{what} is empty")
        return text
    raise TypeError(f"{what}: button fields are int, str or Literal, not {kind!r}")


def alias(prefix: str, means: ButtonData) -> None:
    """Data with ``prefix`` (any arguments) from before an upgrade now means ``means``."""
    if prefix in _TYPES or prefix in _ALIASES:
        raise TypeError(f"button prefix {prefix!r} is taken")
    _ALIASES[prefix] = means


def parse(data: str) -> ButtonData:
    """The typed value of a press; ButtonDataError when no declared type reads it."""
    prefix = data.split(SEP, 1)[0]
    kind = _TYPES.get(prefix)
    if kind is not None:
        return kind.unpack(data)
    if prefix in _ALIASES:
        return _ALIASES[prefix]
    raise ButtonDataError(f"no button type has the prefix {prefix!r}")


def declared() -> dict[str, type[ButtonData]]:
    """Every button type declared so far (by the modules imported), by prefix."""
    return dict(_TYPES)
