"""Where coupons and certificates apply at checkout: a coupon for new buyers applies until the
buyer's first paid order, a category coupon when the order has a product of its category, and a
gift certificate a shop granted pays only in that shop's stores (a platform one everywhere)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.db.coupons import Scope, Terms, ValueKind
from bot.services.coupons import CertificateOtherShop, Why
from tests.conftest import App
from tests.services.test_checkout import BUYER, stock
from tests.services.test_pay import add_card


@pytest.fixture
async def ready(app: App) -> dict[str, int]:
    return await stock(app)


async def special(app: App, **conditions: object) -> int:
    now = app.clock.now()
    terms = Terms(Scope.platform, ValueKind.amount, "USD", now - timedelta(days=1), now + timedelta(days=9),
                  amount_minor=300, **conditions)  # type: ignore[arg-type]
    return next(iter((await app.services.coupons.grant([BUYER], terms)).granted.values()))


async def why(app: App, product_id: int, coupon_id: int) -> Why | None:
    items = await app.services.checkout.for_product(product_id, {})
    applies = await app.services.checkout.coupons_for(BUYER, items)
    return next(o.why for o in applies.options if o.coupon.id == coupon_id)


async def test_a_coupon_for_new_buyers_applies_until_the_first_paid_order(app: App, ready: dict[str, int]) -> None:
    welcome = await special(app, new_buyers_only=True, campaign="welcome")
    assert await why(app, ready["cable"], welcome) is None
    items = await app.services.checkout.for_product(ready["cable"], {})
    assert (await app.services.checkout.coupons_for(BUYER, items)).best.coupon_ids == (welcome,)
    unpaid = await app.services.checkout.place(BUYER, items, address_id=ready["address"], coupon_ids=[])
    assert await why(app, ready["cable"], welcome) is None  # an unpaid order is not a purchase yet
    await app.services.pay.pay(BUYER, unpaid.id, await add_card(app, BUYER))
    assert await why(app, ready["cable"], welcome) == Why.new_buyers


async def test_a_category_coupon_applies_to_an_order_with_a_product_of_its_category(
        app: App, ready: dict[str, int]) -> None:
    catalog = app.services.catalog
    case = await catalog.upsert(ready["nova"], "Phone case", price_minor=1500, currency="USD", category="cases")
    phones = await special(app, category="cases", category_name=None)
    assert await why(app, case, phones) is None
    assert await why(app, ready["cable"], phones) == Why.category  # no category: not the coupon's
    order = await app.services.checkout.place(BUYER, await app.services.checkout.for_product(case, {}),
                                              address_id=ready["address"], coupon_ids=[phones])
    assert (order.discount_minor, order.total_minor) == (300, 1200)


async def test_a_shops_certificate_pays_only_in_that_shops_stores(app: App, ready: dict[str, int]) -> None:
    nova_shop = (await app.services.shops.add("Nova", (ready["nova"],))).shop.id
    ours = await app.services.coupons.grant_certificate(
        BUYER, amount_minor=5000, currency="USD", valid_to=app.clock.now() + timedelta(days=30), shop_id=nova_shop)
    assert (ours.shop_id, ours.shop) == (nova_shop, "Nova")
    checkout = app.services.checkout
    lamp = await checkout.for_product(ready["lamp"], {})  # Zeta Home: another store, no shop's
    quote = await checkout.quote(BUYER, lamp, [])
    assert (quote.certificates_minor, quote.card_minor) == (0, 2499)
    cable = await checkout.for_product(ready["cable"], {})  # Nova Electronics: the shop's store
    quote = await checkout.quote(BUYER, cable, [])
    assert (quote.certificates_minor, quote.card_minor) == (999, 0)
    order = await checkout.place(BUYER, cable, address_id=ready["address"], coupon_ids=[])
    assert order.certificate_minor == 999 and order.paid_at is not None
    # spent directly for another store's order: refused, whatever asks
    async with app.services.db.write() as conn:
        with pytest.raises(CertificateOtherShop) as refused:
            await app.services.coupons.spend(conn, BUYER, ours.id, 100, "USD", "ZETA-1", shop_id=None)
    assert refused.value.english == "This gift certificate pays only in the stores of Nova."
    # a platform certificate still pays anywhere
    await app.services.coupons.grant_certificate(BUYER, amount_minor=1000, currency="USD",
                                                 valid_to=app.clock.now() + timedelta(days=30))
    assert (await checkout.quote(BUYER, lamp, [])).certificates_minor == 1000


def test_the_migration_keeps_every_category_condition(tmp_path: Path, template_db: Path) -> None:
    """0025: a coupon's integer category becomes a code — its name's, or one no product has when it
    had no name, so the condition is never dropped; the tables match the metadata; it goes back."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from bot.db.migrate import alembic_config
    from bot.db.tables import metadata

    engine = create_engine(f"sqlite:///{template_db}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert [d for d in diff if "coupon" in repr(d) or "certificate" in repr(d)] == []

    path = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    command.upgrade(alembic_config(url), "0024_order_certificates")
    con = sqlite3.connect(path)
    at = "'2026-11-01T00:00:00.000000'"
    con.executescript(f"""
        INSERT INTO users (id, locale, created_at) VALUES (1, 'en', {at});
        INSERT INTO coupons (id, user_id, scope, value_kind, amount_minor, currency, category_id, category_name,
                             valid_from, valid_to, source, created_at)
            VALUES (1, 1, 'platform', 'amount', 300, 'USD', 7, 'Phones', {at}, {at}, 'grant', {at}),
                   (2, 1, 'platform', 'amount', 300, 'USD', 9, NULL, {at}, {at}, 'grant', {at}),
                   (3, 1, 'platform', 'amount', 300, 'USD', NULL, NULL, {at}, {at}, 'grant', {at});
        INSERT INTO coupon_codes (id, code, kind, currency, category_id, valid_from, valid_to, created_at)
            VALUES (1, 'PHONES5', 'coupon', 'USD', 4, {at}, {at}, {at});
    """)
    con.commit()
    con.close()
    command.upgrade(alembic_config(url), "head")
    con = sqlite3.connect(path)
    coupons = con.execute("SELECT id, category FROM coupons ORDER BY id").fetchall()
    codes = con.execute("SELECT category FROM coupon_codes").fetchall()
    con.close()
    assert coupons == [(1, "phones"), (2, "legacy:9"), (3, None)] and codes == [("legacy:4",)]
    command.downgrade(alembic_config(url), "0024_order_certificates")
