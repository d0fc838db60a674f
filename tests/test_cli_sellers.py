"""`main.py seller invite / list / remove`: operators link accounts to stores through the services."""

from __future__ import annotations

import re

import pytest

from bot.cli import parse_args
from bot.cli.common import perform
from bot.services.relay.sellers import NoSuchStore
from tests.conftest import App
from tests.orderkit import ensure_user

SELLER = 801


async def run(app: App, *argv: str) -> str:
    return await perform(parse_args(["seller", *argv]), app.services)


async def test_invite_prints_a_deep_link_that_links_the_seller(app: App) -> None:
    store_id = await app.services.orders.ensure_store("Nova Electronics")
    out = await run(app, "invite", "Nova Electronics", "--bot", "@kabinet_bot")
    link = re.search(r"https://t\.me/kabinet_bot\?start=s_([A-Za-z0-9_-]{22,})$", out)
    assert link is not None and f"store {store_id} (Nova Electronics)" in out
    await ensure_user(app.services, SELLER)
    await app.services.sellers.redeem(link.group(1), SELLER)
    listed = await run(app, "list")
    assert f"store {store_id} (Nova Electronics): user {SELLER}" in listed
    assert await run(app, "list", "--store", str(store_id)) == listed
    assert "no longer a seller" in await run(app, "remove", str(store_id), str(SELLER))
    assert await run(app, "list") == "no sellers"


async def test_without_the_username_the_start_parameter_is_printed_with_a_note(app: App) -> None:
    await app.services.orders.ensure_store("Nova Electronics")
    out = await run(app, "invite", "Nova Electronics")  # perform skips the settings: no BOT_USERNAME
    assert re.search(r"^start=s_[A-Za-z0-9_-]{22,}$", out, re.M) and "--bot USERNAME" in out
    with pytest.raises(NoSuchStore):
        await run(app, "invite", "No Such Store")


def test_the_settings_username_is_used_when_no_bot_is_given() -> None:
    from bot.cli.sellers import _WithUsername

    args = parse_args(["seller", "invite", "7"])
    assert isinstance(args.func, _WithUsername) and args.bot is None
