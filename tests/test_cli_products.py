"""`main.py product add / price / list`: the catalog's shop side for operators, through the services."""

from __future__ import annotations

import pytest

from bot.cli import parse_args
from bot.cli.common import perform
from bot.db import outbox as outbox_repo
from bot.services.catalog.alerts import PRICE_DROP_KIND
from bot.services.errors import InvalidInput
from bot.services.relay.sellers import NoSuchStore
from tests.conftest import App
from tests.orderkit import ensure_user


async def run(app: App, *argv: str) -> str:
    return await perform(parse_args(["product", *argv]), app.services)


async def test_add_list_and_a_price_drop_that_alerts_keepers(app: App) -> None:
    out = await run(app, "add", "Nova Electronics", "Wireless earbuds", "29.99", "usd", "--ru", "Наушники",
                    "--category", "audio", "--option", "colour=black,white")
    product_id = int(out.split()[1])
    assert out.endswith("(Nova Electronics): Wireless earbuds")
    card = (await app.services.catalog.product(0, product_id, record=False)).product
    assert (card.price_minor, card.currency, card.title_ru, card.options) == (
        2999, "USD", "Наушники", {"colour": ["black", "white"]})
    assert await run(app, "list", "Nova Electronics") == (
        f"store {card.store_id} (Nova Electronics): 1 product(s)\n{product_id}\t2999 USD\tWireless earbuds")
    await ensure_user(app.services, 701)
    await app.services.kept.wish(701, product_id)
    assert await run(app, "price", str(product_id), "24,99") == (
        f"product {product_id}: new price 24,99 USD; 1 buyer(s) alerted")
    async with app.services.db.read() as conn:
        assert len(await outbox_repo.for_user(conn, 701, PRICE_DROP_KIND.key)) == 1
    with pytest.raises(InvalidInput):
        await run(app, "add", "Nova Electronics", "Cable", "abc", "USD")
    with pytest.raises(SystemExit):  # argparse: "an option is NAME=A,B, for example colour=black,white"
        await run(app, "add", "Nova Electronics", "Cable", "5", "USD", "--option", "colour")
    with pytest.raises(NoSuchStore):
        await run(app, "list", "No Such Store")
