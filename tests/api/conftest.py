"""The shop API under test: the real aiohttp application over the test's services (the same ones the
bot's Dispatcher uses), driven through aiohttp's own test client."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api import ApiConfig, build_api
from bot.fakebot import Player
from tests.conftest import App

BOT = "kabinet_test_bot"
_keys = itertools.count(1)


@dataclass
class Shop:
    """One shop's client: its key on every request, a fresh Idempotency-Key on every POST."""

    client: TestClient
    key: str
    id: int

    def _headers(self, key: str | None, idem: str | None, method: str) -> dict[str, str]:
        headers = {} if key == "" else {"Authorization": f"Bearer {key or self.key}"}
        if method == "POST" and idem != "":
            headers["Idempotency-Key"] = idem or f"k-{next(_keys)}"
        return headers

    async def post(self, path: str, body: Any = None, *, key: str | None = None, idem: str | None = None,
                   status: int | None = None, raw: bytes | None = None) -> tuple[int, Any]:
        response = await self.client.post("/api/v1" + path, json=body if raw is None else None, data=raw,
                                          headers=self._headers(key, idem, "POST"))
        data = await response.json()
        if status is not None:
            assert response.status == status, (response.status, data)
        return response.status, data

    async def get(self, path: str, *, key: str | None = None, status: int | None = None) -> tuple[int, Any]:
        response = await self.client.get("/api/v1" + path, headers=self._headers(key, None, "GET"))
        data = await response.json()
        if status is not None:
            assert response.status == status, (response.status, data)
        return response.status, data


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient]:
    server = TestServer(build_api(app.services, ApiConfig(bot_username=BOT, rate=1000, burst=10_000)))
    async with TestClient(server) as test_client:
        yield test_client


async def make_shop(app: App, client: TestClient, name: str, stores: tuple[int, ...] = ()) -> Shop:
    made = await app.services.shops.add(name, stores)
    return Shop(client, made.key, made.shop.id)


@pytest.fixture
async def nova(app: App, client: TestClient) -> Shop:
    return await make_shop(app, client, "Nova")


@pytest.fixture
async def other(app: App, client: TestClient) -> Shop:
    return await make_shop(app, client, "Other")


async def store(shop: Shop, name: str = "Nova Electronics") -> int:
    _, data = await shop.post("/stores", {"name": name})
    return int(data["id"])


def order_body(store_id: int, **extra: Any) -> dict[str, Any]:
    return {"store_id": store_id, "currency": "USD", "shipping_minor": 300,
            "items": [{"title": "Wireless earbuds", "quantity": 1, "unit_price_minor": 2599,
                       "options": {"Colour": "black"}},
                      {"title": "USB-C cable", "quantity": 2, "unit_price_minor": 450}],
            "address": {"recipient": "Alex Doe", "street": "1 Main St", "city": "Springfield", "country": "us"},
            **extra}


async def linked(shop: Shop, player: Player, customer: str = "c-1") -> None:
    """The customer's link, opened by the player (who has started the bot)."""
    _, link = await shop.post(f"/customers/{customer}/link", status=201)
    await player.send("/start " + link["start_parameter"])
