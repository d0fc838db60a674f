"""The real process against a Bot API server over HTTP (TELEGRAM_API_BASE), as a person uses it:
/start, a button, a language switch; then SIGTERM and a clean exit."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.botapi_emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token"


async def test_the_bot_works_over_a_real_bot_api_server(tmp_path: Path) -> None:
    api = BotApiEmulator(TOKEN)
    base = await api.start()
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": base,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}", "LOG_LEVEL": "INFO"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "main.py", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    user = {"id": 5001, "is_bot": False, "first_name": "Ольга", "language_code": "ru"}
    try:
        await api.wait_for(lambda a: any(m == "setmycommands" for m, _ in a.calls), timeout=60)
        await api.user_sends(user, "/start")
        await api.wait_for(lambda a: any("Здравствуйте, Ольга!" in t for t in a.bot_texts(5001)))
        await api.user_presses(user, "⚙️ Настройки")
        await api.wait_for(lambda a: any("<b>Настройки</b>" in t for t in a.bot_texts(5001)))
        await api.user_presses(user, "🌐 Язык")
        await api.wait_for(lambda a: any("Выберите язык" in t for t in a.bot_texts(5001)))
        await api.user_presses(user, "English")
        await api.wait_for(lambda a: any("Language: English" in t for t in a.bot_texts(5001)))
        # HTML parse mode went over the wire, and every callback query was answered
        sends = [p for m, p in api.calls if m == "sendmessage"]
        assert all(p.get("parse_mode") == "HTML" for p in sends)
        await api.wait_for(lambda a: len({p["callback_query_id"] for m, p in a.calls
                                          if m == "answercallbackquery"}) == 3)
        commands = [p for m, p in api.calls if m == "setmycommands"]
        assert {p.get("language_code") for p in commands} == {None, "en", "ru"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        await api.stop()
    log = out.decode()
    assert proc.returncode == 0, log
    assert TOKEN not in log  # the token is never logged
    assert "Ольга" not in log and "/start" not in log  # nor message texts
    assert "stopped" in log
