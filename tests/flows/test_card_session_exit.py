"""Leaving the add-card flow, by any way out, ends the gateway's card session (which holds the
number) at once, not at its 15-minute expiry (issue 15, item 8)."""

from __future__ import annotations

import json

import pytest

from bot.fakebot import Player
from bot.integrations.payments import SessionNotFound
from bot.keyboards.common import MenuCb, NavAction, NavCb
from tests.conftest import App


async def fsm(app: App, p: Player) -> tuple[str | None, dict]:
    row = next((r for r in await app.flows() if r[0] == p.user.id), None)  # SQL or Redis
    return (row[1], json.loads(row[2])) if row else (None, {})


async def card_session_id(app: App, p: Player) -> str | None:
    return (await fsm(app, p))[1].get("sid")


async def session_alive(app: App, sid: str) -> bool:
    try:
        await app.services.payments.get_session(sid)
    except SessionNotFound:
        return False
    return True


async def number_entered(app: App, p: Player) -> str:
    """In the add-card flow with the number typed: the gateway's session holds it."""
    await p.send("/start")
    await p.press("💳 Bank cards")
    await p.press("➕ Add a card")
    await p.send("4242 4242 4242 4242")
    assert "step 2 of 4" in p.last_text, p.last_text
    sid = await card_session_id(app, p)
    assert sid and await session_alive(app, sid)
    return sid


async def _press_menu(p: Player) -> None:
    await p.press_data(NavCb(action=NavAction.menu).pack(), p.last)


WAYS_OUT = {
    "/cancel": lambda p: p.send("/cancel"),
    "/menu": lambda p: p.send("/menu"),
    "/start": lambda p: p.send("/start"),
    "/settings": lambda p: p.send("/settings"),
    "☰ Menu": _press_menu,
    "✖ Cancel": lambda p: p.press("✖ Cancel"),
    "💳 Bank cards of an older message": lambda p: p.press_data(MenuCb(section="cards").pack(), p.last),
    "another flow started from an older message": lambda p: p.press("🔍 Search"),
}


@pytest.mark.parametrize("way", list(WAYS_OUT))
async def test_every_way_out_ends_the_card_session(app: App, alex: Player, way: str) -> None:
    if way == "another flow started from an older message":
        await alex.send("/start")
        await alex.press("📦 My orders")  # a message with "🔍 Search" stays above the flow
    sid = await number_entered(app, alex)
    await WAYS_OUT[way](alex)
    state, _ = await fsm(app, alex)
    assert not (state or "").startswith("CardFlow")  # the flow is left…
    assert not await session_alive(app, sid)  # …and the gateway no longer holds the number


async def test_moving_between_steps_keeps_the_session(app: App, alex: Player) -> None:
    sid = await number_entered(app, alex)
    await alex.send("12/30")
    assert "step 3 of 4" in alex.last_text
    await alex.press("‹ Back")
    await alex.press("‹ Back")  # to the number: the session (and the number in it) stays for "Keep"
    assert "step 1 of 4" in alex.last_text
    assert await card_session_id(app, alex) == sid and await session_alive(app, sid)
    await alex.press("‹ Back")  # out of the flow, back to the wallet
    assert not await session_alive(app, sid)
