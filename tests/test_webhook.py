"""Webhook mode (bot/webhook.py, bot/runner.py): the secret token checked on every request (missing
or wrong → 401 and nothing handled), the update handled in a task the shutdown waits for,
setWebhook at start with the secret and the update types used, one HTTP server for the webhook
and the shop API, and the settings that turn it on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram.methods import DeleteWebhook, GetUpdates, SendMessage, SetWebhook
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_bot
from bot.config import Settings, SettingsError, load_settings
from bot.fakebot import FakeSession
from bot.middlewares.isolation import UPDATE_ID
from bot.runner import Runtime, build_runtime
from bot.services.clock import FakeClock
from bot.webhook import SECRET_HEADER, TelegramWebhook
from tests.conftest import App
from tests.runtimekit import block_on_slow

SECRET = "s3cret_token-42"


def update(update_id: int, text: str, user_id: int = 1001) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Alex", "language_code": "en"}
    message = {"message_id": update_id, "date": 1_795_000_000, "chat": {"id": user_id, "type": "private"},
               "from": user, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


@pytest.fixture
async def hook(app: App) -> AsyncIterator[tuple[TestClient, TelegramWebhook]]:
    webhook = TelegramWebhook(app.dp, app.bot, SECRET, app.services.in_flight)
    application = web.Application()
    webhook.register(application, "/telegram")
    async with TestClient(TestServer(application)) as client:
        yield client, webhook


async def test_the_right_secret_gets_the_update_handled(app: App, hook: tuple[TestClient, TelegramWebhook]) -> None:
    client, webhook = hook
    response = await client.post("/telegram", json=update(1, "/start"), headers={SECRET_HEADER: SECRET})
    assert response.status == 200 and await response.json() == {"ok": True}
    assert await app.services.in_flight.wait(10) == 0  # handled in a task of its own, tracked
    assert webhook.accepted == 1
    texts = [c.text for c in app.session.calls_of(SendMessage) if int(c.chat_id) == 1001]
    assert any("Alex" in t for t in texts), texts


async def test_an_update_is_handled_under_its_id_for_the_users_order(
        app: App, hook: tuple[TestClient, TelegramWebhook], monkeypatch: pytest.MonkeyPatch) -> None:
    """With several instances the user's lock is taken in the order of the update ids
    (tests/test_redis_order.py): the webhook tells the isolation which update it is handling."""
    client, _ = hook
    seen: list[int | None] = []
    feed = app.dp.feed_update

    async def recording(bot: Any, update: Any, **kwargs: Any) -> Any:
        seen.append(UPDATE_ID.get())
        return await feed(bot, update, **kwargs)

    monkeypatch.setattr(app.dp, "feed_update", recording)
    for update_id in (41, 40):
        response = await client.post("/telegram", json=update(update_id, "/start"), headers={SECRET_HEADER: SECRET})
        assert response.status == 200
    assert await app.services.in_flight.wait(10) == 0
    assert sorted(seen) == [40, 41] and UPDATE_ID.get() is None


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: ""}, {SECRET_HEADER: "wrong"},
                                     {SECRET_HEADER: SECRET + "x"}, {SECRET_HEADER: SECRET[:-1]},
                                     {SECRET_HEADER: "sécret"}, {"X-Other": SECRET}])
async def test_a_missing_or_wrong_secret_is_401_and_nothing_is_handled(
        app: App, hook: tuple[TestClient, TelegramWebhook], headers: dict[str, str]) -> None:
    client, webhook = hook
    response = await client.post("/telegram", json=update(1, "/start"), headers=headers)
    assert response.status == 401
    assert await app.services.in_flight.wait(10) == 0
    assert webhook.accepted == 0 and app.session.calls == []
    assert app.sqlite("SELECT count(*) FROM users") == [(0,)]


async def test_a_body_that_is_not_an_update_is_400(app: App, hook: tuple[TestClient, TelegramWebhook]) -> None:
    client, webhook = hook
    for body in (b"not json", b"[1, 2]", b'{"update_id": "x"}'):
        response = await client.post("/telegram", data=body, headers={SECRET_HEADER: SECRET})
        assert response.status == 400
    assert webhook.accepted == 0 and app.session.calls == []
    # only POST is served
    assert (await client.get("/telegram", headers={SECRET_HEADER: SECRET})).status == 405


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(update={
        "api_listen": f"127.0.0.1:{port}", "bot_username": "kabinet_bot",
        "webhook_url": "https://bot.example.com/tg/hook", "webhook_secret": load_settings(
            _env_file=None, webhook_secret=SECRET).webhook_secret})


async def _serving(runtime: Runtime, session: FakeSession) -> asyncio.Task[None]:
    task = asyncio.create_task(runtime.serve_webhook(handle_signals=False))
    for _ in range(500):
        if session.calls_of(SetWebhook) or task.done():
            break
        await asyncio.sleep(0.01)
    assert not task.done(), task
    return task


async def test_webhook_mode_serves_the_webhook_and_sets_it_at_start(settings: Settings, clock: FakeClock) -> None:
    port = _free_port()
    session = FakeSession(now=clock.now)
    runtime = build_runtime(webhook_settings(settings, port), bot=build_bot(settings, session=session))
    serving = await _serving(runtime, session)
    (call,) = session.calls_of(SetWebhook)
    assert call.url == "https://bot.example.com/tg/hook" and call.secret_token == SECRET
    assert set(call.allowed_updates or ()) == set(runtime.dp.resolve_used_update_types()) | {"edited_message"}
    assert "callback_query" in (call.allowed_updates or ()) and call.drop_pending_updates is False
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/tg/hook", json=update(7, "/start", 42)) as response:
            assert response.status == 401  # no secret
        async with http.post(base + "/tg/hook", json=update(8, "/start", 42),
                             headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200
        async with http.get(base + "/api/v1/openapi.json") as response:
            assert response.status == 404  # no shop has a key: no shop API on the port
    assert await runtime.services.in_flight.wait(10) == 0
    assert any(int(c.chat_id) == 42 for c in session.calls_of(SendMessage))
    runtime.stop()
    await asyncio.wait_for(serving, 20)
    assert runtime.stopped and session.closed
    assert not session.calls_of(GetUpdates)  # no polling
    assert not session.calls_of(DeleteWebhook)  # other instances may serve it
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", port))


async def test_the_shop_api_and_the_webhook_share_one_server(settings: Settings, clock: FakeClock) -> None:
    port = _free_port()
    session = FakeSession(now=clock.now)
    runtime = build_runtime(webhook_settings(settings, port), bot=build_bot(settings, session=session))
    key = (await runtime.services.shops.add("Nova")).key
    serving = await _serving(runtime, session)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(base + "/api/v1/stores", json={"name": "Nova Electronics"},
                                 headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "1"}) as response:
                assert response.status == 201
            async with http.post(base + "/tg/hook", json=update(9, "/start", 43),
                                 headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
            async with http.post(base + "/tg/hook", json=update(10, "/start", 43),
                                 headers={"Authorization": f"Bearer {key}"}) as response:
                assert response.status == 401  # a shop's key is not the webhook's secret
        assert await runtime.services.in_flight.wait(10) == 0
        assert any(int(c.chat_id) == 43 for c in session.calls_of(SendMessage))
    finally:
        runtime.stop()
        await asyncio.wait_for(serving, 20)


async def test_shutdown_waits_for_an_update_the_webhook_took(settings: Settings, clock: FakeClock) -> None:
    port = _free_port()
    session = FakeSession(now=clock.now)
    runtime = build_runtime(webhook_settings(settings, port), bot=build_bot(settings, session=session))
    blocked = block_on_slow(runtime)
    started, release, order = blocked.started, blocked.release, blocked.order
    serving = await _serving(runtime, session)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/tg/hook", json=update(11, "slow", 44),
                             headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200  # answered before the handler finished
    await asyncio.wait_for(started.wait(), 10)
    runtime.stop()
    await asyncio.sleep(0.05)  # the stop begins while the handler is still blocked
    assert not runtime.stopped
    release.set()
    await asyncio.wait_for(serving, 20)
    assert order == ["handler finished", "database closed"]


def test_webhook_settings() -> None:
    ok = load_settings(_env_file=None, webhook_url="https://bot.example.com", webhook_secret="a-B_9",
                       api_listen="127.0.0.1:8443")
    assert ok.webhook_path == "/" and ok.webhook_secret is not None
    assert ok.webhook_secret.get_secret_value() == "a-B_9" and "a-B_9" not in repr(ok)
    assert load_settings(_env_file=None, webhook_secret="x" * 256).webhook_url is None  # polling
    local = load_settings(_env_file=None, webhook_url="http://10.0.0.5:8081/tg", webhook_secret="s",
                          api_listen="0.0.0.0:8081", telegram_api_local=True)
    assert local.webhook_path == "/tg"
    bad: list[tuple[dict[str, Any], str]] = [
        ({"webhook_url": "https://bot.example.com/tg", "api_listen": "127.0.0.1:1"},
         "WEBHOOK_SECRET: required with WEBHOOK_URL"),
        ({"webhook_url": "https://bot.example.com/tg", "webhook_secret": "s"}, "API_LISTEN: required"),
        ({"webhook_url": "http://bot.example.com/tg", "webhook_secret": "s", "api_listen": "127.0.0.1:1"},
         "WEBHOOK_URL: https://"),
        ({"webhook_url": "ftp://bot.example.com/tg"}, "WEBHOOK_URL: bad value"),
        ({"webhook_url": "https://bot.example.com/tg?x=1"}, "WEBHOOK_URL: bad value"),
        ({"webhook_url": "https://bot.example.com/api/v1/hook"}, "WEBHOOK_URL: bad value"),
        ({"webhook_secret": "x" * 257}, "WEBHOOK_SECRET: bad value"),
        ({"webhook_secret": "has space"}, "WEBHOOK_SECRET: bad value"),
        ({"webhook_secret": "ключ"}, "WEBHOOK_SECRET: bad value"),
    ]
    for values, message in bad:
        with pytest.raises(SettingsError) as raised:
            load_settings(_env_file=None, **values)
        assert str(raised.value).startswith(message), (values, str(raised.value))
