"""config.yaml validation: every problem at once, with file:line:col and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, EnvSettings, load_settings
from tests.conftest import ROOT


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=EnvSettings())
    return [str(p) for p in info.value.problems]


def line_of(path: Path, needle: str) -> int:
    """The number of the line that reads exactly ``needle`` (indentation and comment aside)."""
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.split(" #")[0].strip() == needle)


def test_shipped_config_is_valid() -> None:
    s = load_settings(ROOT / "config.yaml", env=EnvSettings())
    assert s.file.company.timezone == "Asia/Shanghai" and s.default_locale == "zh-CN"
    assert s.stage_order[0] == "interview_passed"


def test_every_problem_at_once_with_positions(tmp_path: Path) -> None:
    path = broken(tmp_path, "timezone: Asia/Shanghai", "timezone: Asia/Shangai")
    text = path.read_text()
    text = text.replace("    department: warehouse\n    training_date: 2027-01-12",
                        "    department: warehous\n    training_date: 2027-13-12", 1)
    text = text.replace("  - 100000001", "  - alice", 1)
    path.write_text(text)
    found = errors(path)
    tz = line_of(path, "timezone: Asia/Shangai")
    assert f"{path}:{tz}:3: company.timezone: unknown timezone 'Asia/Shangai'; use an IANA name such as " \
           "Asia/Shanghai" in found
    assert any(f"{path}:{line_of(path, 'training_date: 2027-13-12')}:5: cohorts[2].training_date:" in p for p in found)
    assert any(f"{path}:{line_of(path, '- alice')}" in p and "numeric Telegram user id" in p for p in found)
    assert f"{path}:{line_of(path, 'department: warehous')}:5: unknown department 'warehous'; did you mean " \
           "'warehouse'?" in found
    assert len(found) == 4
    assert found == sorted(found, key=lambda p: int(p.split(":")[1]))  # in file order


def test_cross_references_with_did_you_mean(tmp_path: Path) -> None:
    path = broken(tmp_path, "    department: warehouse\n    training_date: 2027-01-12",
                  "    department: warehous\n    training_date: 2027-01-12")
    found = errors(path)
    assert found == [f"{path}:{line_of(path, 'department: warehous')}:5: unknown department 'warehous'; "
                     "did you mean 'warehouse'?"]


def test_unknown_key_and_missing_translation(tmp_path: Path) -> None:
    path = broken(tmp_path, "  ttl_days: 60", "  ttl_dayz: 60")
    assert errors(path) == [
        f"{path}:{line_of(path, 'ttl_dayz: 60')}:3: invites.ttl_dayz: unknown key; did you mean 'ttl_days'?"]
    path = broken(tmp_path, "    label: {zh-CN: 背景调查, en: Background check}", "    label: {zh-CN: 背景调查}")
    assert errors(path) == [f"{path}:{line_of(path, 'label: {zh-CN: 背景调查}')}:5: missing en text; add a 'en:' line"]


def test_task_roles_and_due_format(tmp_path: Path) -> None:
    path = broken(tmp_path, "    due: -10d", "    due: ten days before")
    found = errors(path)
    assert any("tasks[3].due: 'ten days before' is not a relative day count; write e.g. -5d" in p for p in found)
    path = broken(tmp_path, "    roles: [forklift_driver]", "    roles: [forklift_drivr]")
    assert errors(path) == [f"{path}:{line_of(path, 'roles: [forklift_drivr]')}:13: unknown role 'forklift_drivr'; "
                            "did you mean 'forklift_driver'?"]


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = broken(tmp_path, "company:\n  name:", "company:\n name:\n  - [")
    [problem] = errors(path)
    assert problem.startswith(f"{path}:") and "YAML syntax error" in problem


def test_missing_file(tmp_path: Path) -> None:
    assert errors(tmp_path / "nope.yaml") == [
        f"{tmp_path / 'nope.yaml'}:1:1: config file not found; set HRBOT_CONFIG or run from the project folder"]


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    env = EnvSettings(database_url="postgresql+psycopg://u@h/db", telegram_bot_token="1:abc",  # type: ignore[arg-type]
                      telegram_api_url="http://127.0.0.1:9")
    s = load_settings(ROOT / "config.yaml", env=env)
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.bot_token == "1:abc" and "1:abc" not in repr(s.env)
    default = load_settings(ROOT / "config.yaml", env=EnvSettings())
    assert default.database_url == f"sqlite:///{ROOT / 'data/hrbot.sqlite3'}"


def test_env_vars_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRBOT_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:1234")
    monkeypatch.setenv("WEBHOOK_URL", "https://example.com/hook")
    s = load_settings()
    assert s.env.telegram_api_url == "http://127.0.0.1:1234" and s.env.webhook_url == "https://example.com/hook"


def test_duplicate_ids_and_unknown_locale(tmp_path: Path) -> None:
    path = broken(tmp_path, "  - id: background_check", "  - id: interview_passed")
    path.write_text(path.read_text().replace("default_locale: zh-CN", "default_locale: fr", 1))
    second = [i for i, line in enumerate(path.read_text().splitlines(), start=1)
              if line.strip() == "- id: interview_passed"][1]
    assert errors(path) == [
        f"{path}:{line_of(path, 'default_locale: fr')}:1: unknown locale 'fr'; shipped: zh-CN, en",
        f"{path}:{second}:5: duplicate stage id 'interview_passed'",
    ]
