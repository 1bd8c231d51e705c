"""Texts per locale may be split into several files; a key is defined once per locale and in every locale."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n import Texts, TextsError


def write(root: Path, loc: str, name: str, body: str) -> None:
    (root / loc).mkdir(parents=True, exist_ok=True)
    (root / loc / name).write_text(body, encoding="utf-8")


def test_a_capability_can_keep_its_texts_in_its_own_file(tmp_path: Path) -> None:
    for loc, hello, sent in (("zh-CN", "你好", "已发送"), ("en", "hello", "sent")):
        write(tmp_path, loc, "messages.yaml", f"hello: {hello}\n")
        write(tmp_path, loc, "broadcast.yaml", f"bc_sent: {sent} {{{{ n }}}}\n")
    texts = Texts.load(tmp_path, ("zh-CN", "en"), "zh-CN")
    assert texts.get("en", "bc_sent", n=3) == "sent 3" and texts.get("zh-CN", "hello") == "你好"


def test_a_key_twice_or_missing_in_a_locale_is_reported_with_its_file(tmp_path: Path) -> None:
    write(tmp_path, "zh-CN", "messages.yaml", "hello: 你好\nbye: 再见\n")
    write(tmp_path, "zh-CN", "broadcast.yaml", "hello: 又一个\nbc_sent: 已发送\n")
    write(tmp_path, "en", "messages.yaml", "hello: hello\nbye: bye\n")
    with pytest.raises(TextsError) as err:
        Texts.load(tmp_path, ("zh-CN", "en"), "zh-CN")
    lines = [str(p) for p in err.value.problems]
    assert any("zh-CN/broadcast.yaml:1" in p and "'hello' is defined twice" in p and "messages.yaml" in p
               for p in lines), lines
    assert any("en/messages.yaml" in p and "'bc_sent' is missing here but exists in zh-CN/broadcast.yaml" in p
               for p in lines), lines


def test_a_line_ending_in_a_tag_that_would_run_into_the_next_is_reported(tmp_path: Path) -> None:
    # trim_blocks drops the line break after a block tag: "...{% endif %}" then text = two lines run together.
    for loc in ("zh-CN", "en"):
        write(tmp_path, loc, "messages.yaml",
              "bad: |\n  姓名:{{ n }}{% if e %} · {{ e }}{% endif %}\n  岗位:{{ r }}\n"
              "fine: |\n  姓名:{{ n }}{% if e %} · {{ e }}{% endif %}\n\n  岗位:{{ r }}\n"
              "alone: |\n  {% if e %}\n  {{ e }}\n  {% endif %}\n  岗位:{{ r }}\n"
              "last: |\n  {% if xs %}\n  进度:{% for s in xs %}{{ s }}{% endfor %}\n  {% endif %}\n")
    with pytest.raises(TextsError) as err:
        Texts.load(tmp_path, ("zh-CN", "en"), "zh-CN")
    lines = [str(p) for p in err.value.problems]
    assert len(lines) == 2 and all("'bad'" in p and "runs into the next line" in p and ":1:" in p for p in lines)
    write(tmp_path, "zh-CN", "messages.yaml",
          "fine: |\n  姓名:{{ n }}{% if e %} · {{ e }}{% endif %}\n\n  岗位:{{ r }}\n")
    write(tmp_path, "en", "messages.yaml", "fine: |\n  x\n")
    texts = Texts.load(tmp_path, ("zh-CN", "en"), "zh-CN")
    assert texts.get("zh-CN", "fine", n="李娜", e="", r="操作工") == "姓名:李娜\n岗位:操作工"
    assert texts.get("zh-CN", "fine", n="李娜", e="a@b.c", r="操作工") == "姓名:李娜 · a@b.c\n岗位:操作工"
