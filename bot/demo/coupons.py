"""Demo coupons for the console and `main.py demo`: every kind and state, one expiring tomorrow,
a gift certificate partly spent, and two codes to try (WELCOME5, GIFT25). In the demo buyer's
currency and language: dollars and English names for the English demo, roubles and Russian names
for the Russian one (whose orders are in roubles, so the coupons can apply). Idempotent: a wallet
that already has demo coupons is left alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db import coupons as repo
from bot.services.coupons import CouponService, Scope, Terms, ValueKind
from bot.services.errors import DomainError

DEMO_CODES = ("WELCOME5", "GIFT25")


@dataclass(frozen=True, slots=True)
class Money:
    """The demo's currency: amounts are written in dollars and cents and scaled (1 USD ≈ 100 RUB
    keeps the round numbers a shop would choose)."""

    currency: str
    scale: int
    names: dict[str, str]

    def __call__(self, cents: int) -> int:
        return cents * self.scale

    def name(self, english: str) -> str:
        return self.names.get(english, english)


LOCALES = {
    "en": Money("USD", 1, {}),
    "ru": Money("RUB", 100, {
        "Black Friday": "Чёрная пятница", "Welcome gift": "Подарок новичку",
        "12.12 sale": "Распродажа 12.12", "Birthday gift": "Подарок на день рождения",
        "Gift certificate": "Подарочный сертификат",
    }),
}


def _day_end(now: datetime, days: int) -> datetime:
    """Midnight UTC after `days` days: "valid through" that day."""
    return (now + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def _coupons(now: datetime, m: Money) -> list[Terms]:
    currency = m.currency
    long_ago = now - timedelta(days=60)
    return [
        # a platform coupon: $5 off orders from $30
        Terms(Scope.platform, ValueKind.amount, currency, long_ago, _day_end(now, 20), amount_minor=m(500),
              min_order_minor=m(3000), title=m.name("Black Friday")),
        # a platform percent coupon with a cap
        Terms(Scope.platform, ValueKind.percent, currency, long_ago, _day_end(now, 45), percent=10,
              cap_minor=m(1500)),
        # a store coupon that expires tomorrow
        Terms(Scope.store, ValueKind.amount, currency, long_ago, _day_end(now, 1), amount_minor=m(300),
              min_order_minor=m(2000), store_id=101, store_name="Xiaomi Official Store"),
        # another store's coupon, valid for a month
        Terms(Scope.store, ValueKind.percent, currency, long_ago, _day_end(now, 30), percent=15,
              cap_minor=m(1000), min_order_minor=m(4000), store_id=102, store_name="Anker & Co"),
        # special coupons: new buyers only; a category; one per customer
        Terms(Scope.platform, ValueKind.amount, currency, long_ago, _day_end(now, 10), amount_minor=m(400),
              new_buyers_only=True, campaign="demo-welcome", title=m.name("Welcome gift")),
        Terms(Scope.platform, ValueKind.percent, currency, long_ago, _day_end(now, 6), percent=8,
              cap_minor=m(2000), min_order_minor=m(5000), category="phones"),
        # starts in three days
        Terms(Scope.platform, ValueKind.amount, currency, _day_end(now, 2), _day_end(now, 33),
              amount_minor=m(700), min_order_minor=m(5000), title=m.name("12.12 sale")),
        # expired five days ago, and one long ago
        Terms(Scope.store, ValueKind.amount, currency, long_ago, _day_end(now, -6), amount_minor=m(200),
              min_order_minor=m(1500), store_id=103, store_name="Baseus Store"),
        Terms(Scope.platform, ValueKind.amount, currency, long_ago, _day_end(now, -30), amount_minor=m(1000),
              min_order_minor=m(8000), title=m.name("11.11")),
    ]


async def seed_coupons(coupons: CouponService, user_id: int, locale: str = "en") -> None:
    m = LOCALES.get(locale, LOCALES["en"])
    currency = m.currency
    async with coupons.db.read() as conn:
        if await repo.has_demo(conn, user_id):
            return
    now = coupons.clock.now()
    async with coupons.db.write() as conn:
        ids = []
        for terms in _coupons(now, m):
            result = await coupons.grant([user_id], terms, source="demo")
            ids.extend(result.granted.values())
        # two used coupons: one by a past order, one by an order in progress
        used = Terms(Scope.store, ValueKind.amount, currency, now - timedelta(days=40), _day_end(now, 12),
                     amount_minor=m(250), min_order_minor=m(1000), store_id=101,
                     store_name="Xiaomi Official Store")
        used_ids = list((await coupons.grant([user_id], used, source="demo")).granted.values())
        platform_used = Terms(Scope.platform, ValueKind.amount, currency, now - timedelta(days=40),
                              _day_end(now, 15), amount_minor=m(300), min_order_minor=m(2000))
        used_ids += (await coupons.grant([user_id], platform_used, source="demo")).granted.values()
        await coupons.use(conn, user_id, used_ids, "demo-order-1")
        # a gift certificate of $50, $17.50 spent; and one spent in full
        cert = await coupons.grant_certificate(user_id, amount_minor=m(5000), currency=currency,
                                               valid_to=_day_end(now, 200), title=m.name("Birthday gift"),
                                               source="demo")
        await coupons.spend(conn, user_id, cert.id, m(1750), currency, "demo-order-2")
        spent = await coupons.grant_certificate(user_id, amount_minor=m(1000), currency=currency,
                                                valid_to=_day_end(now, 90), source="demo")
        await coupons.spend(conn, user_id, spent.id, m(1000), currency, "demo-order-3")
    # codes anyone can try in the console (exist once per database)
    for code, terms, certificate in (
        ("WELCOME5", Terms(Scope.platform, ValueKind.amount, currency, now - timedelta(days=1),
                           _day_end(now, 60), amount_minor=m(500), min_order_minor=m(2500)), False),
        ("GIFT25", Terms(Scope.platform, ValueKind.amount, currency, now - timedelta(days=1),
                         _day_end(now, 365), amount_minor=m(2500), title=m.name("Gift certificate")), True),
    ):
        try:
            await coupons.create_code(code, terms, certificate=certificate)
        except DomainError:
            pass  # the code exists already
