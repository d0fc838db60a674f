"""The command line, as a process: bad settings, no token without a terminal, migrate, console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL", "LOG_LEVEL")}
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, env={**base, **(env or {})}, input=stdin,
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("LOG_LEVEL", "loud", "LOG_LEVEL: bad value"),
        ("DEFAULT_LOCALE", "fr", "DEFAULT_LOCALE: bad value"),
        ("ADMIN_IDS", "alice", "ADMIN_IDS: bad value"),
        ("DATABASE_URL", "postgresql://x", "DATABASE_URL: bad value"),
        ("TELEGRAM_API_BASE", "localhost:8081", "TELEGRAM_API_BASE: bad value"),
        ("TELEGRAM_API_LOCAL", "maybe", "TELEGRAM_API_LOCAL: bad value"),
    ],
)
def test_bad_setting_is_one_line(name: str, value: str, needle: str, monkeypatch) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)
    assert str(info.value).startswith(needle)
    assert "\n" not in str(info.value)


def test_settings_parse(monkeypatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "1, 2;3")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081/")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == (1, 2, 3)
    assert settings.log_level == "DEBUG"
    assert settings.telegram_api_base == "http://127.0.0.1:8081"


def test_api_base_goes_to_the_session() -> None:
    from bot.app import build_bot

    bot = build_bot(Settings(_env_file=None, bot_token="1:abc", telegram_api_base="http://127.0.0.1:8081"))  # type: ignore[call-arg]
    assert bot.session.api.api_url("1:abc", "getMe") == "http://127.0.0.1:8081/bot1:abc/getMe"


def test_bad_setting_exits_2_without_traceback() -> None:
    result = run("migrate", env={"LOG_LEVEL": "loud"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "LOG_LEVEL" in result.stderr and "Traceback" not in result.stderr


def test_no_token_without_a_terminal_exits_2(tmp_path: Path) -> None:
    result = run(env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: BOT_TOKEN is not set (put it in the environment or .env); "
        "for the offline console run `make console` (or `make console lang=ru`, "
        "or `.venv/bin/python main.py console`)"
    )


def test_help_lists_subcommands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for sub in ("run", "console", "migrate", "demo", "outbox"):
        assert sub in result.stdout


def test_migrate_and_demo_then_console_with_piped_input(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}"
    assert run("migrate", env={"DATABASE_URL": url}).stdout.strip() == "migrated"
    assert run("migrate", env={"DATABASE_URL": url}).stdout.strip() == "already current"
    assert run("demo", env={"DATABASE_URL": url}).returncode == 0
    assert run("demo", env={"DATABASE_URL": url}).returncode == 0  # idempotent
    console_db = tmp_path / "console.sqlite3"
    # the menu grows with the sections: press the first button of the settings screen instead
    # (what the user types starts the numbering again at 1)
    first = 1
    result = run("console", "--lang", "ru", "--db", str(console_db), stdin=f"/settings\n{first}\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "Здравствуйте, Алексей!" in result.stdout
    assert "⚙️ Настройки" in result.stdout
    assert "<b>" not in result.stdout  # HTML shown as readable text
    assert "Язык: Русский" in result.stdout and f"[{first}] 🌐 Язык" in result.stdout
    assert "Выберите язык бота" in result.stdout  # button 1 was pressed
    # a second run continues the update ids, so nothing is dropped as a duplicate
    again = run("console", "--lang", "ru", "--db", str(console_db), stdin="/help\n/quit\n")
    assert "Частые вопросы" in again.stdout
