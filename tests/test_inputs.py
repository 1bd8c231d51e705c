"""Typed input as flows read it: what each type accepts, and the value that is stored."""

from __future__ import annotations

import pytest

from bot.inputs import INPUT_TYPES, parse


@pytest.mark.parametrize(("kind", "text", "value"), [
    ("text", "随便什么", "随便什么"),
    ("number", "42", "42"),
    ("number", "42.5", "42.5"),
    ("number", "42码", None),
    ("number", "1.234", None),
    ("phone", "138 0000 0001", "+8613800000001"),
    ("phone", "12345", None),
    ("date", "2026年12月15日", "2026-12-15"),
    ("date", "2026/2/3", "2026-02-03"),
    ("date", "2026-02-30", None),
    ("date", "next week", None),
    ("id_number", "11010519491231002X", "11010519491231002X"),
    ("id_number", "110105194912310021", None),
])
def test_each_type_reads_what_it_should(kind: str, text: str, value: str | None) -> None:
    assert kind in INPUT_TYPES
    assert parse(kind, text) == value
