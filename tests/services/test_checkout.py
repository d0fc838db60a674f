"""Checkout's rules, called directly (issue 17): today's prices with changes flagged, one store and
one currency, the coupons' discount on the order and the coupons used by it (and given back when
the unpaid order is cancelled), the cart lines it came from removed, nothing sold no more."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.demo.addresses import seed_addresses
from bot.services.catalog.checkout import BadQuantity, Item, MixedCurrencies, NothingToCheckOut
from bot.services.catalog.products import NotSold
from bot.services.clock import FakeClock
from bot.services.coupons.errors import CouponNotUsable
from bot.services.coupons.terms import Scope, Terms, ValueKind
from bot.services.loyalty import order_points
from tests.conftest import App
from tests.orderkit import ensure_user

BUYER = 701


@pytest.fixture
async def ready(app: App) -> dict[str, int]:
    return await stock(app)


async def stock(app: App) -> dict[str, int]:
    """The buyer with their addresses; two stores and their products (one in roubles)."""
    await ensure_user(app.services, BUYER)
    await seed_addresses(app.services.addresses, BUYER)
    nova = await app.services.orders.ensure_store("Nova Electronics")
    zeta = await app.services.orders.ensure_store("Zeta Home")
    catalog = app.services.catalog
    return {
        "nova": nova, "zeta": zeta,
        "address": (await app.services.addresses.list(BUYER))[0].id,
        "earbuds": await catalog.upsert(nova, "Wireless earbuds", price_minor=2999, currency="USD",
                                        options={"colour": ["black", "white"]}),
        "cable": await catalog.upsert(nova, "USB-C cable", price_minor=999, currency="USD"),
        "rub": await catalog.upsert(nova, "Кабель", price_minor=49000, currency="RUB"),
        "lamp": await catalog.upsert(zeta, "Desk lamp", price_minor=2499, currency="USD"),
    }


async def coupon(app: App, amount: int = 500) -> int:
    now = app.clock.now()
    result = await app.services.coupons.grant([BUYER], Terms(Scope.platform, ValueKind.amount, "USD",
                                                             now - timedelta(days=1), now + timedelta(days=9),
                                                             amount_minor=amount))
    return next(iter(result.granted.values()))


async def test_a_product_order_with_a_coupon(app: App, ready: dict[str, int]) -> None:
    checkout = app.services.checkout
    items = await checkout.for_product(ready["earbuds"], {"colour": "white"}, 2)
    assert items == [Item(ready["earbuds"], "colour=white", 2, 2999)]
    coupon_id = await coupon(app)
    best = (await checkout.coupons_for(BUYER, items)).best
    assert best.coupon_ids == (coupon_id,) and best.discount_minor == 500
    order = await checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[coupon_id])
    assert (order.items_minor, order.discount_minor, order.total_minor) == (5998, 500, 5498)
    with pytest.raises(CouponNotUsable, match="already been used"):  # used by that order
        await checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[coupon_id])
    await app.services.orders.cancel(BUYER, order.id, "changed_mind")  # unpaid: the coupon comes back
    again = await checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[coupon_id])
    assert again.discount_minor == 500


async def test_prices_are_todays_and_a_change_is_flagged(app: App, ready: dict[str, int]) -> None:
    items = await app.services.checkout.for_product(ready["cable"], {})
    await app.services.catalog.set_price(ready["cable"], 1299)
    quote = await app.services.checkout.quote(BUYER, items, [])
    assert quote.total_minor == 1299 and [(ln.seen_minor, ln.product.price_minor) for ln in quote.changed] == [
        (999, 1299)]


async def test_a_cart_checkout_takes_one_store_and_leaves_the_rest(app: App, ready: dict[str, int]) -> None:
    kept, checkout = app.services.kept, app.services.checkout
    await kept.add_to_cart(BUYER, ready["cable"], quantity=3)
    await kept.add_to_cart(BUYER, ready["lamp"])
    items = await checkout.for_store(BUYER, ready["nova"])
    assert [(i.product_id, i.quantity) for i in items] == [(ready["cable"], 3)]
    order = await checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[])
    assert order.total_minor == 2997
    assert [s.store for s in (await kept.cart(BUYER)).stores] == ["Zeta Home"]
    with pytest.raises(NothingToCheckOut):
        await checkout.for_store(BUYER, ready["nova"])


async def test_what_cant_be_checked_out(app: App, ready: dict[str, int]) -> None:
    checkout = app.services.checkout
    with pytest.raises(BadQuantity):
        await checkout.for_product(ready["cable"], {}, 100)
    both = [*await checkout.for_product(ready["cable"], {}), *await checkout.for_product(ready["rub"], {})]
    with pytest.raises(MixedCurrencies):
        await checkout.quote(BUYER, both, [])
    items = await checkout.for_product(ready["cable"], {})
    await app.services.catalog.upsert(ready["nova"], "USB-C cable", price_minor=999, currency="USD", active=False)
    with pytest.raises(NotSold):
        await checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[])


async def test_an_order_in_roubles_takes_the_configured_dollar_rate_for_its_points(
        settings: Settings, clock: FakeClock) -> None:
    """Points are 1 per whole dollar: checkout in the bot has no rate of its own, so USD_RATES
    gives it; without one the order keeps none (and earns no points for its amount)."""
    for rates, expected_rate, expected_points in (({"RUB": Decimal("0.011")}, "0.011", 5), ({}, None, 0)):
        app = App(settings.model_copy(update={"usd_rates": rates}), clock)
        try:
            ready = await stock(app)
            items = await app.services.checkout.for_product(ready["rub"], {}, 1)
            order = await app.services.checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[])
            assert order.usd_rate == expected_rate
            assert order_points(order.total_minor, order.currency, order.usd_rate) == expected_points  # 490 ₽
            usd = await app.services.checkout.for_product(ready["cable"], {}, 1)
            assert (await app.services.checkout.place(BUYER, usd, address_id=ready["address"],
                                                      coupon_ids=[])).usd_rate == "1"
        finally:
            await app.close()


def test_usd_rates_are_read_from_the_environment_and_checked() -> None:
    parsed = Settings(_env_file=None, usd_rates="rub=0.011; EUR = 1.08")  # type: ignore[call-arg]
    assert parsed.usd_rates == {"RUB": Decimal("0.011"), "EUR": Decimal("1.08")}
    for wrong in ("RUB", "RUB=0", "RUB=-1", "USD=1", "ROUBLE=0.01", "RUB=abc"):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, usd_rates=wrong)  # type: ignore[call-arg]
