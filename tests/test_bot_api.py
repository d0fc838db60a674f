"""The real process against a Bot API server over HTTP (TELEGRAM_API_BASE), as a person uses it:
/start, a button, a language switch; then SIGTERM and a clean exit."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from tests.botapi_emulator import BotApiEmulator
from tests.botproc import BotProcess, main_py

TOKEN = "123456:TEST-token"


async def stopped(proc: BotProcess, api: BotApiEmulator) -> str:
    """SIGTERM, wait for the exit, stop the emulator; returns the process's log (the caller checks
    the exit code after its `finally`, so that a failure inside is not masked)."""
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    await api.stop()
    return out.decode()


async def test_the_bot_works_over_a_real_bot_api_server(tmp_path: Path) -> None:
    api = BotApiEmulator(TOKEN)
    base = await api.start()
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": base,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}", "LOG_LEVEL": "INFO"}
    proc = await main_py(env)
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
        log = await stopped(proc, api)
    assert proc.returncode == 0, log
    assert TOKEN not in log  # the token is never logged
    assert "Ольга" not in log and "/start" not in log  # nor message texts
    assert "stopped" in log


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_shop_api_answers_beside_polling_in_the_real_process(tmp_path: Path) -> None:
    """`main.py` with API_LISTEN on the loopback: the OpenAPI document and a shop's authenticated
    request are answered while the same process polls a Bot API server and answers a user."""
    import aiohttp

    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}", "LOG_LEVEL": "INFO"}
    env.pop("BOT_TOKEN", None)
    made = await main_py(env, "shop", "add", "Nova")
    printed, _ = await asyncio.wait_for(made.communicate(), 120)
    assert made.returncode == 0, printed.decode()
    key = printed.decode().rsplit("API key (shown once, keep it secret): ", 1)[1].split()[0]
    api = BotApiEmulator(TOKEN)
    base = await api.start()
    port = _free_port()
    env = {**env, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": base, "API_LISTEN": f"127.0.0.1:{port}",
           "BOT_USERNAME": "kabinet_test_bot"}
    proc = await main_py(env)
    user = {"id": 5002, "is_bot": False, "first_name": "Alex", "language_code": "en"}
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        await api.wait_for(lambda a: any(m == "setmycommands" for m, _ in a.calls), timeout=60)
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # the API starts with polling: wait for its port
                try:
                    async with http.get(f"{url}/openapi.json") as response:
                        document = await response.json()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert document["openapi"].startswith("3.1") and "/api/v1/stores" in document["paths"]
            async with http.post(f"{url}/stores", json={"name": "Nova Electronics"},
                                 headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "s-1"}) as response:
                assert response.status == 201, await response.text()
                assert (await response.json())["name"] == "Nova Electronics"
            async with http.post(f"{url}/stores", json={"name": "Nova Electronics"},
                                 headers={"Authorization": "Bearer kbs_wrong", "Idempotency-Key": "s-2"}) as response:
                assert response.status == 401
            async with http.post(f"{url}/customers/c-1/link", headers={"Authorization": f"Bearer {key}",
                                                                        "Idempotency-Key": "l-1"}) as response:
                link = await response.json()
        assert link["url"].startswith("https://t.me/kabinet_test_bot?start=l_")
        await api.user_sends(user, "/start " + link["start_parameter"])  # the bot, polling, links the buyer
        await api.wait_for(lambda a: any("Nova" in t for t in a.bot_texts(5002)))
    finally:
        log = await stopped(proc, api)
    assert proc.returncode == 0, log
    assert key not in log and TOKEN not in log  # neither key is logged
    assert "shop API: listening on 127.0.0.1" in log and "stopped" in log


async def test_webhook_mode_in_the_real_process(tmp_path: Path) -> None:
    """`main.py` with WEBHOOK_URL: it calls setWebhook (the secret, the update types it uses), never
    polls, answers a user whose updates the server posts to its loopback port with the secret, refuses
    a post without it, and on SIGTERM stops cleanly without deleting the webhook."""
    api = BotApiEmulator(TOKEN)
    base = await api.start()
    port = _free_port()
    secret = "Webhook-secret_1234"
    api.webhook_base = f"http://127.0.0.1:{port}"  # the TLS proxy in front of the bot
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": base, "LOG_LEVEL": "INFO",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}", "API_LISTEN": f"127.0.0.1:{port}",
           "WEBHOOK_URL": f"https://127.0.0.1:{port}/telegram/hook", "WEBHOOK_SECRET": secret}
    proc = await main_py(env)
    user = {"id": 5003, "is_bot": False, "first_name": "Ольга", "language_code": "ru"}
    try:
        await api.wait_for(lambda a: a.webhook is not None, timeout=60)
        assert api.webhook is not None
        assert api.webhook["url"] == f"https://127.0.0.1:{port}/telegram/hook"
        assert api.webhook["secret_token"] == secret
        assert {"message", "callback_query"} <= set(api.webhook["allowed_updates"])
        assert str(api.webhook.get("drop_pending_updates", "false")).lower() == "false"
        await api.user_sends(user, "/start")
        await api.wait_for(lambda a: any("Здравствуйте, Ольга!" in t for t in a.bot_texts(5003)))
        await api.user_presses(user, "⚙️ Настройки")
        await api.wait_for(lambda a: any("<b>Настройки</b>" in t for t in a.bot_texts(5003)))
        assert api.webhook_answers == [200, 200]
        greeted = sum("Здравствуйте" in t for t in api.bot_texts(5003))
        # a post without the secret, or with a wrong one, is refused and not handled
        forged = {"update_id": 900, "message": {"message_id": 900, "date": 1, "from": user, "text": "/start",
                                                "chat": {"id": 5003, "type": "private", "first_name": "Ольга"}}}
        assert await api._post(forged, secret="") == 401
        assert await api._post(forged, secret=secret[:-1] + "X") == 401
        await api.user_presses(user, "🌐 Язык")  # the next real update is answered; the forged ones were not
        await api.wait_for(lambda a: any("Выберите язык" in t for t in a.bot_texts(5003)))
        assert sum("Здравствуйте" in t for t in api.bot_texts(5003)) == greeted
        assert api.webhook_answers == [200, 200, 401, 401, 200]
    finally:
        log = await stopped(proc, api)
    assert proc.returncode == 0, log
    methods = {m for m, _ in api.calls}
    assert "getupdates" not in methods and "deletewebhook" not in methods
    assert TOKEN not in log and secret not in log
    assert "webhook: listening on 127.0.0.1" in log and "stopped" in log
