"""Demo coupons for the console and `main.py demo`: every kind and state, one expiring tomorrow,
a gift certificate partly spent, and two codes to try (WELCOME5, GIFT25). Idempotent: a wallet
that already has demo coupons is left alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db import coupons as repo
from bot.services.coupons import CouponService, Scope, Terms, ValueKind
from bot.services.errors import DomainError

DEMO_CODES = ("WELCOME5", "GIFT25")
USD = "USD"


def _day_end(now: datetime, days: int) -> datetime:
    """Midnight UTC after `days` days: "valid through" that day."""
    return (now + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def _coupons(now: datetime) -> list[Terms]:
    long_ago = now - timedelta(days=60)
    return [
        # a platform coupon: $5 off orders from $30
        Terms(Scope.platform, ValueKind.amount, USD, long_ago, _day_end(now, 20), amount_minor=500,
              min_order_minor=3000, title="Black Friday"),
        # a platform percent coupon with a cap
        Terms(Scope.platform, ValueKind.percent, USD, long_ago, _day_end(now, 45), percent=10,
              cap_minor=1500),
        # a store coupon that expires tomorrow
        Terms(Scope.store, ValueKind.amount, USD, long_ago, _day_end(now, 1), amount_minor=300,
              min_order_minor=2000, store_id=101, store_name="Xiaomi Official Store"),
        # another store's coupon, valid for a month
        Terms(Scope.store, ValueKind.percent, USD, long_ago, _day_end(now, 30), percent=15,
              cap_minor=1000, min_order_minor=4000, store_id=102, store_name="Anker & Co"),
        # special coupons: new buyers only; a category; one per customer
        Terms(Scope.platform, ValueKind.amount, USD, long_ago, _day_end(now, 10), amount_minor=400,
              new_buyers_only=True, campaign="demo-welcome", title="Welcome gift"),
        Terms(Scope.platform, ValueKind.percent, USD, long_ago, _day_end(now, 6), percent=8,
              cap_minor=2000, min_order_minor=5000, category_id=7, category_name="Phones"),
        # starts in three days
        Terms(Scope.platform, ValueKind.amount, USD, _day_end(now, 2), _day_end(now, 33),
              amount_minor=700, min_order_minor=5000, title="12.12 sale"),
        # expired five days ago, and one long ago
        Terms(Scope.store, ValueKind.amount, USD, long_ago, _day_end(now, -6), amount_minor=200,
              min_order_minor=1500, store_id=103, store_name="Baseus Store"),
        Terms(Scope.platform, ValueKind.amount, USD, long_ago, _day_end(now, -30), amount_minor=1000,
              min_order_minor=8000, title="11.11"),
    ]


async def seed(coupons: CouponService, user_id: int) -> None:
    async with coupons.db.read() as conn:
        if await repo.has_demo(conn, user_id):
            return
    now = coupons.clock.now()
    async with coupons.db.write() as conn:
        ids = []
        for terms in _coupons(now):
            result = await coupons.grant([user_id], terms, source="demo")
            ids.extend(result.granted.values())
        # two used coupons: one by a past order, one by an order in progress
        used = Terms(Scope.store, ValueKind.amount, USD, now - timedelta(days=40), _day_end(now, 12),
                     amount_minor=250, min_order_minor=1000, store_id=101,
                     store_name="Xiaomi Official Store")
        used_ids = list((await coupons.grant([user_id], used, source="demo")).granted.values())
        platform_used = Terms(Scope.platform, ValueKind.amount, USD, now - timedelta(days=40),
                              _day_end(now, 15), amount_minor=300, min_order_minor=2000)
        used_ids += (await coupons.grant([user_id], platform_used, source="demo")).granted.values()
        await coupons.use(conn, user_id, used_ids, "demo-order-1")
        # a gift certificate of $50, $17.50 spent; and one spent in full
        cert = await coupons.grant_certificate(user_id, amount_minor=5000, currency=USD,
                                               valid_to=_day_end(now, 200), title="Birthday gift",
                                               source="demo")
        await coupons.spend(conn, user_id, cert.id, 1750, USD, "demo-order-2")
        spent = await coupons.grant_certificate(user_id, amount_minor=1000, currency=USD,
                                                valid_to=_day_end(now, 90), source="demo")
        await coupons.spend(conn, user_id, spent.id, 1000, USD, "demo-order-3")
    # codes anyone can try in the console (exist once per database)
    for code, terms, certificate in (
        ("WELCOME5", Terms(Scope.platform, ValueKind.amount, USD, now - timedelta(days=1),
                           _day_end(now, 60), amount_minor=500, min_order_minor=2500), False),
        ("GIFT25", Terms(Scope.platform, ValueKind.amount, USD, now - timedelta(days=1),
                         _day_end(now, 365), amount_minor=2500, title="Gift certificate"), True),
    ):
        try:
            await coupons.create_code(code, terms, certificate=certificate)
        except DomainError:
            pass  # the code exists already
