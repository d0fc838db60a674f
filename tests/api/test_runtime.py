"""The shop API in the bot's process (bot/runner.py: started with polling when API_LISTEN is set and
a shop has a key, closed on shutdown before the database), `main.py shop add / list`, API_LISTEN."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from bot.app import build_bot
from bot.cli import parse_args
from bot.cli.common import perform
from bot.config import Settings, SettingsError, load_settings
from bot.fakebot import FakeSession
from bot.runner import build_runtime
from bot.services.clock import FakeClock
from bot.services.errors import NotFound
from bot.services.shops import ShopExists
from tests.conftest import App


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_api_starts_with_the_bot_on_api_listen_and_stops_before_the_database_closes(
        settings: Settings, clock: FakeClock) -> None:
    port = _free_port()
    settings = settings.model_copy(update={"api_listen": f"127.0.0.1:{port}", "bot_username": "kabinet_bot"})
    runtime = build_runtime(settings, bot=build_bot(settings, session=FakeSession(now=clock.now)))
    await runtime.start_api()
    assert runtime.api is None  # no shop has a key yet: off
    key = (await runtime.services.shops.add("Nova")).key
    await runtime.start_api()
    assert runtime.api is not None
    base = f"http://127.0.0.1:{port}/api/v1"
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/openapi.json") as response:
            assert response.status == 200 and (await response.json())["openapi"] == "3.1.0"
        async with http.post(base + "/stores", json={"name": "Nova Electronics"},
                             headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "1"}) as response:
            assert response.status == 201 and (await response.json())["name"] == "Nova Electronics"
        async with http.post(base + "/customers/c-1/link", headers={"Authorization": f"Bearer {key}",
                                                                    "Idempotency-Key": "2"}) as response:
            assert (await response.json())["url"].startswith("https://t.me/kabinet_bot?start=l_")
    await runtime.on_shutdown()
    assert runtime.api is None and runtime.stopped
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", port))


async def test_shop_add_prints_a_key_once_and_list_shows_the_shops(app: App) -> None:
    store_id = await app.services.orders.ensure_store("Nova Electronics")
    out = await perform(parse_args(["shop", "add", "Nova", "--store", "Nova Electronics"]), app.services)
    assert f"stores: {store_id} (Nova Electronics)" in out
    key = out.rsplit(": ", 1)[1]
    shop = await app.services.shops.authenticate(key)
    assert shop is not None and shop.name == "Nova"
    # only the key's hash is kept
    async with app.services.db.read() as conn:
        from sqlalchemy import text

        stored = (await conn.execute(text("SELECT key_hash FROM shops"))).scalar_one()
    assert key not in stored and len(stored) == 64
    with pytest.raises(ShopExists):
        await perform(parse_args(["shop", "add", "Nova"]), app.services)
    await perform(parse_args(["shop", "add", "Second"]), app.services)
    listed = await perform(parse_args(["shop", "list"]), app.services)
    assert listed.splitlines()[0].startswith("shop 1 (Nova), since 2026-11-25: store")
    assert listed.splitlines()[1].endswith("no stores")
    # a key leaked or lost: a new one, and the old stops working; the shop keeps its stores
    out = await perform(parse_args(["shop", "key", "Nova"]), app.services)
    assert out.startswith("shop 1 (Nova): the old API key no longer works")
    new = out.rsplit(": ", 1)[1]
    assert new != key and await app.services.shops.authenticate(key) is None
    renewed = await app.services.shops.authenticate(new)
    assert renewed is not None and renewed.id == shop.id
    assert await app.services.shops.store(shop.id, store_id) == (store_id, "Nova Electronics")
    with pytest.raises(NotFound):
        await perform(parse_args(["shop", "key", "Nobody"]), app.services)


def test_api_listen_is_host_and_port() -> None:
    assert load_settings(api_listen="127.0.0.1:8080").api_address == ("127.0.0.1", 8080)
    assert load_settings(api_listen="[::1]:8080").api_address == ("::1", 8080)
    assert load_settings(api_listen="").api_address is None
    for bad in ("8080", "localhost", "host:0", "host:99999"):
        with pytest.raises(SettingsError) as raised:
            load_settings(api_listen=bad)
        assert "API_LISTEN" in str(raised.value)
