"""Coupons: the rule that picks what applies (pure, parametrized), codes and the guessing pause,
store coupons, the wallet, order coupling, gift certificates, reminders — with a fake clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.db import coupons as repo
from bot.db import outbox as outbox_repo
from bot.db.engine import Database
from bot.demo.coupons import seed_coupons
from bot.i18n import build_i18n
from bot.services import reminders
from bot.services.clock import FakeClock
from bot.services.coupons import (
    AlreadySpent,
    CampaignTaken,
    Cart,
    Certificate,
    CertificateCurrency,
    CertificateExpired,
    CertificateNotFound,
    CodeAlreadyYours,
    CodeExpired,
    CodeForeign,
    CodeFormat,
    CodeNotYetValid,
    CodeUnknown,
    CodeUsedUp,
    Coupon,
    CouponAlreadyUsed,
    CouponCombination,
    CouponNotFound,
    CouponNotUsable,
    CouponService,
    NotEnoughBalance,
    OfferAlreadyCollected,
    OfferGone,
    OfferSoldOut,
    RefundTooLarge,
    Scope,
    Tab,
    Terms,
    TooManyAttempts,
    ValueKind,
    Why,
    best_plan,
    discount,
    normalise_code,
    price,
    why_not,
)
from bot.services.errors import InvalidInput
from bot.services.money import parse_amount
from bot.services.users import Contact, UserService
from bot.views import coupons as views
from bot.views.common import Fmt
from tests.plankit import plan, recording
from tests.services_kit import sqlite_only

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)


def terms(scope: Scope = Scope.platform, *, amount: int | None = 500, percent: int | None = None,
          cap: int | None = None, currency: str = "USD", minimum: int = 0, store: int | None = None,
          start: datetime = NOW - DAY, end: datetime = NOW + 10 * DAY, **kw) -> Terms:
    kind = ValueKind.percent if percent is not None else ValueKind.amount
    if scope == Scope.store and store is None:
        store = 1
    return Terms(scope, kind, currency, start, end, amount_minor=None if percent else amount,
                 percent=percent, cap_minor=cap, min_order_minor=minimum, store_id=store,
                 store_name=f"Store {store}" if store else None, **kw)


def coupon(id: int = 1, status: str = "active", **kw) -> Coupon:
    return Coupon(id, 1, terms(**kw), status, None, None, "grant", NOW - DAY)


def cert(id: int = 1, balance: int = 1000, *, currency: str = "USD", end: datetime = NOW + 100 * DAY) -> Certificate:
    return Certificate(id, 1, currency, max(balance, 1), balance, None, end, "grant", NOW - DAY)


CART = Cart(store_id=1, amount_minor=10_000, currency="USD")


# -- does it apply? -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("c", "cart", "base", "now", "why"),
    [
        pytest.param(coupon(), CART, 10_000, NOW, None, id="platform-any-store"),
        pytest.param(coupon(), replace(CART, store_id=99), 10_000, NOW, None, id="platform-other-store"),
        pytest.param(coupon(scope=Scope.store, store=1), CART, 10_000, NOW, None, id="store-own"),
        pytest.param(coupon(scope=Scope.store, store=2), CART, 10_000, NOW, Why.other_store, id="store-other"),
        pytest.param(coupon(minimum=2000), CART, 2000, NOW, None, id="minimum-exact"),
        pytest.param(coupon(minimum=2000), CART, 1999, NOW, Why.minimum, id="minimum-below"),
        pytest.param(coupon(start=NOW), CART, 10_000, NOW, None, id="starts-exactly-now"),
        pytest.param(coupon(start=NOW + TICK), CART, 10_000, NOW, Why.not_yet, id="starts-next-tick"),
        pytest.param(coupon(end=NOW + TICK), CART, 10_000, NOW, None, id="last-valid-tick"),
        pytest.param(coupon(end=NOW), CART, 10_000, NOW, Why.expired, id="ends-exactly-now"),
        pytest.param(coupon(currency="EUR"), CART, 10_000, NOW, Why.currency, id="currency"),
        pytest.param(coupon(category="phones"), replace(CART, categories=frozenset({"audio", "phones"})), 10_000, NOW,
                     None, id="category-present"),
        pytest.param(coupon(category="phones"), replace(CART, categories=frozenset({"audio"})), 10_000, NOW,
                     Why.category, id="category-absent"),
        pytest.param(coupon(new_buyers_only=True), replace(CART, new_buyer=True), 10_000, NOW, None,
                     id="new-buyer"),
        pytest.param(coupon(new_buyers_only=True), CART, 10_000, NOW, Why.new_buyers, id="not-new-buyer"),
        pytest.param(coupon(status="used"), CART, 10_000, NOW, Why.used, id="used"),
    ],
)
def test_why_not(c: Coupon, cart: Cart, base: int, now: datetime, why: Why | None) -> None:
    assert why_not(c, cart, base, now) == why


@pytest.mark.parametrize(
    ("t", "base", "off"),
    [
        pytest.param(terms(amount=500), 10_000, 500, id="amount"),
        pytest.param(terms(amount=500), 300, 300, id="amount-never-below-zero"),
        pytest.param(terms(amount=500), 0, 0, id="nothing-to-take-off"),
        pytest.param(terms(percent=10), 1999, 199, id="percent-rounds-down"),
        pytest.param(terms(percent=15), 1, 0, id="percent-of-a-cent"),
        pytest.param(terms(percent=33), 100, 33, id="percent-exact"),
        pytest.param(terms(percent=10, cap=1500), 100_000, 1500, id="percent-capped"),
        pytest.param(terms(percent=10, cap=1500), 14_999, 1499, id="percent-under-cap"),
        pytest.param(terms(percent=100), 500, 500, id="percent-all"),
        pytest.param(terms(percent=10, currency="JPY"), 1999, 199, id="zero-decimal-currency"),
    ],
)
def test_discount(t: Terms, base: int, off: int) -> None:
    assert discount(t, base) == off


# -- the best combination -----------------------------------------------------------------------

def _plan(cart: Cart, coupons: list[Coupon], certs: list[Certificate] = ()):  # type: ignore[assignment]
    return best_plan(cart, coupons, certs, NOW)


def test_store_then_platform_on_what_is_left() -> None:
    seller = coupon(1, scope=Scope.store, store=1, amount=1000, minimum=5000)
    platform = coupon(2, percent=10)
    plan = _plan(CART, [seller, platform])
    assert plan.coupon_ids == (1, 2)
    assert (plan.seller.discount_minor, plan.platform.discount_minor) == (1000, 900)
    assert plan.to_pay_minor == 8100


def test_platform_minimum_is_checked_after_the_store_coupon() -> None:
    cart = replace(CART, amount_minor=3000)
    seller = coupon(1, scope=Scope.store, amount=200)
    platform = coupon(2, amount=500, minimum=3000)
    plan = _plan(cart, [seller, platform])
    # together the platform coupon would see 28.00 < 30.00: the platform coupon alone is better
    assert plan.coupon_ids == (2,)
    assert plan.discount_minor == 500
    with pytest.raises(CouponNotUsable) as info:
        price(cart, [seller, platform], [], NOW)
    assert info.value.why == Why.minimum


def test_one_coupon_of_each_kind_the_largest() -> None:
    plan = _plan(CART, [
        coupon(1, scope=Scope.store, amount=300), coupon(2, scope=Scope.store, amount=700),
        coupon(3, amount=100), coupon(4, percent=20, cap=400),
        coupon(5, scope=Scope.store, store=2, amount=5000),  # another store's
        coupon(6, amount=5000, currency="EUR"),  # another currency
    ])
    assert plan.coupon_ids == (2, 4)
    assert plan.discount_minor == 1100


def test_never_below_zero_and_no_coupon_wasted() -> None:
    cart = replace(CART, amount_minor=300)
    plan = _plan(cart, [coupon(1, scope=Scope.store, amount=500), coupon(2, amount=100)])
    assert plan.to_pay_minor == 0
    assert plan.coupon_ids == (1,)  # the platform coupon would take nothing: it stays in the wallet


def test_tie_uses_the_coupon_expiring_sooner() -> None:
    plan = _plan(CART, [coupon(1, amount=500, end=NOW + 9 * DAY), coupon(2, amount=500, end=NOW + 2 * DAY)])
    assert plan.coupon_ids == (2,)


def test_no_coupons() -> None:
    plan = _plan(CART, [])
    assert (plan.coupon_ids, plan.to_pay_minor) == ((), 10_000)


def test_certificates_pay_what_remains_soonest_expiry_first() -> None:
    plan = _plan(CART, [coupon(1, amount=1900)], [
        cert(1, 10_000, end=NOW + 300 * DAY), cert(2, 5000, end=NOW + 30 * DAY),
        cert(3, 9999, currency="EUR"), cert(4, 9999, end=NOW), cert(5, 0),
    ])
    assert [(p.certificate.id, p.amount_minor) for p in plan.certificates] == [(2, 5000), (1, 3100)]
    assert (plan.after_coupons_minor, plan.certificates_minor, plan.to_pay_minor) == (8100, 8100, 0)


def test_certificate_pays_part() -> None:
    plan = _plan(CART, [], [cert(1, 1000)])
    assert (plan.certificates_minor, plan.to_pay_minor) == (1000, 9000)
    assert best_plan(CART, [], [cert(1, 1000)], NOW, use_certificates=False).to_pay_minor == 10_000


def test_price_refuses_two_of_a_kind() -> None:
    with pytest.raises(CouponCombination):
        price(CART, [coupon(1), coupon(2)], [], NOW)
    with pytest.raises(CouponCombination):
        price(CART, [coupon(1, scope=Scope.store), coupon(2, scope=Scope.store)], [], NOW)


@pytest.mark.parametrize(
    ("text", "code"),
    [("welcome5", "WELCOME5"), (" gift-25 ", "GIFT25"), ("ABCD EFGH", "ABCDEFGH"),
     ("ВЕСНА2026", "BECHA2026"), ("СКОРО", "CKOPO")],
)
def test_normalise_code(text: str, code: str) -> None:
    assert normalise_code(text) == code


@pytest.mark.parametrize("text", ["", "abc", "x" * 33, "😀😀😀😀", "<b>CODE</b>", "ПРИВЕТ"])
def test_normalise_code_refuses(text: str) -> None:
    with pytest.raises(CodeFormat):
        normalise_code(text)


@pytest.mark.parametrize(("text", "currency", "minor"),
                         [("5", "USD", 500), ("5.5", "USD", 550), ("5,25", "USD", 525), ("300", "JPY", 300)])
def test_parse_amount(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(("text", "currency"), [("0", "USD"), ("-1", "USD"), ("1.005", "USD"),
                                                ("abc", "USD"), ("1.5", "JPY"), ("nan", "USD")])
def test_parse_amount_refuses(text: str, currency: str) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(text, currency)


# -- Russian plurals and dates in the views -----------------------------------------------------

@pytest.fixture(scope="module")
def i18n():
    return build_i18n("en")


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "истекает через 1 день"), (2, "истекает через 2 дня"), (5, "истекает через 5 дней"),
     (11, "истекает через 11 дней"), (21, "истекает через 21 день"), (22, "истекает через 22 дня")],
)
def test_russian_plurals(i18n, n: int, text: str) -> None:
    assert views.expires_in(n, Fmt(i18n, "ru")) == text


def test_expiry_text_counts_calendar_days_in_the_users_zone(i18n) -> None:
    f = Fmt(i18n, "en", "Europe/Moscow")
    midnight_utc = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # valid through Nov 26 (UTC)
    assert views.expiry_text(midnight_utc, NOW, Fmt(i18n, "en")) == "expires in 1 day"
    assert views.expiry_text(midnight_utc, NOW, f) == "expires in 2 days"  # 02:59 on Nov 27 in Moscow
    assert views.expiry_text(NOW + timedelta(hours=5), NOW, f) == "expires today at 7:59\u202fPM"
    assert views.expiry_text(NOW + 40 * DAY, NOW, Fmt(i18n, "ru")) == "действует до 4 янв. 2027\u202fг."


# -- with the database --------------------------------------------------------------------------

ALEX, MASHA = 1001, 2002


@pytest.fixture
async def svc(settings, clock: FakeClock) -> AsyncIterator[CouponService]:
    db = Database(settings.database_url)
    users = UserService(db, clock)
    for uid in (ALEX, MASHA):
        await users.touch(Contact(uid, "U", None, "en"))
    yield CouponService(db, clock)
    await db.dispose()


async def _give(svc: CouponService, user: int = ALEX, **kw) -> Coupon:
    now = svc.clock.now()
    kw.setdefault("start", now - DAY)
    kw.setdefault("end", now + 10 * DAY)
    result = await svc.grant([user], terms(**kw))
    return await svc.coupon(user, result.granted[user])


async def _code(svc: CouponService, code: str, **kw) -> int:
    certificate = kw.pop("certificate", False)
    max_uses = kw.pop("max_uses", None)
    for_user = kw.pop("for_user_id", None)
    now = svc.clock.now()
    kw.setdefault("start", now - DAY)
    kw.setdefault("end", now + 10 * DAY)
    return await svc.create_code(code, terms(**kw), certificate=certificate, max_uses=max_uses,
                                 for_user_id=for_user)


async def test_redeem_a_coupon_code(svc: CouponService) -> None:
    await _code(svc, "WELCOME5", amount=500, minimum=2500)
    got = await svc.redeem_code(ALEX, " welcome-5 ")
    assert got.coupon is not None and got.coupon.terms.amount_minor == 500
    assert got.coupon.user_id == ALEX and got.coupon.source == "code"
    # a code for everyone works once per user
    assert (await svc.redeem_code(MASHA, "WELCOME5")).coupon is not None
    with pytest.raises(CodeAlreadyYours):
        await svc.redeem_code(ALEX, "WELCOME5")


async def test_redeem_a_certificate_code(svc: CouponService) -> None:
    await _code(svc, "GIFT25", amount=2500, certificate=True)
    got = await svc.redeem_code(ALEX, "gift25")
    assert got.certificate is not None
    assert (got.certificate.face_minor, got.certificate.balance_minor) == (2500, 2500)
    card = await svc.certificate(ALEX, got.certificate.id)
    assert [(e.kind, e.delta_minor) for e in card.history] == [("issue", 2500)]


async def test_code_errors_give_the_reason(svc: CouponService, clock: FakeClock) -> None:
    await _code(svc, "ONCEONLY", max_uses=1)
    await svc.redeem_code(MASHA, "ONCEONLY")
    await _code(svc, "OLDCODE1", start=clock.now() - 10 * DAY, end=clock.now())  # ends exactly now
    await _code(svc, "SOONCODE", start=clock.now() + DAY)
    await _code(svc, "FORMASHA", for_user_id=MASHA)
    await _code(svc, "CAMPAIGN1", campaign="winter")
    await _code(svc, "CAMPAIGN2", campaign="winter")
    await svc.redeem_code(ALEX, "CAMPAIGN1")
    cases = [
        ("NOSUCHCODE", CodeUnknown), ("ONCEONLY", CodeUsedUp), ("OLDCODE1", CodeExpired),
        ("SOONCODE", CodeNotYetValid), ("FORMASHA", CodeForeign),
    ]
    for code, error in cases:
        with pytest.raises(error):
            await svc.redeem_code(ALEX, code)
    with pytest.raises(CampaignTaken):  # the 6th failure would pause: count from a fresh clock
        clock.advance(minutes=11)
        await svc.redeem_code(ALEX, "CAMPAIGN2")
    with pytest.raises(CodeExpired) as info:
        clock.advance(minutes=11)
        await svc.redeem_code(ALEX, "OLDCODE1")
    assert info.value.params == {"date": clock.now() - timedelta(minutes=22)}
    # the personal code still works for its owner
    assert (await svc.redeem_code(MASHA, "FORMASHA")).coupon is not None


async def test_five_failures_in_ten_minutes_pause_redemption(svc: CouponService, clock: FakeClock) -> None:
    await _code(svc, "REALCODE")
    start = clock.now()
    for _ in range(5):
        with pytest.raises(CodeUnknown):
            await svc.redeem_code(ALEX, "GUESS123")
        clock.advance(minutes=1)
    # paused: even the right code waits, and the pause is not extended by trying
    with pytest.raises(TooManyAttempts) as info:
        await svc.redeem_code(ALEX, "REALCODE")
    assert info.value.retry_at == start + timedelta(minutes=10)
    clock.set(start + timedelta(minutes=10) - TICK)
    with pytest.raises(TooManyAttempts):
        await svc.redeem_code(ALEX, "REALCODE")
    # other users are not paused
    with pytest.raises(CodeUnknown):
        await svc.redeem_code(MASHA, "GUESS123")
    # the pause is counted in the database: a new process sees it too
    again = CouponService(svc.db, clock)
    with pytest.raises(TooManyAttempts):
        await again.redeem_code(ALEX, "REALCODE")
    clock.set(start + timedelta(minutes=10))
    assert (await again.redeem_code(ALEX, "REALCODE")).coupon is not None


async def test_text_that_cannot_be_a_code_is_not_counted(svc: CouponService) -> None:
    await _code(svc, "REALCODE")
    for _ in range(8):
        with pytest.raises(CodeFormat):
            await svc.redeem_code(ALEX, "hi!")
    assert (await svc.redeem_code(ALEX, "realcode")).coupon is not None


async def test_a_failed_try_is_kept_when_the_caller_catches_it(svc: CouponService) -> None:
    """The handler redeems and leaves the flow in one unit of work and catches the error."""
    await _code(svc, "ONCEONLY", max_uses=1)
    for _ in range(5):
        async with svc.db.write():
            with pytest.raises(CodeUnknown):
                await svc.redeem_code(ALEX, "GUESS123")
    with pytest.raises(TooManyAttempts):
        await svc.redeem_code(ALEX, "ONCEONLY")
    async with svc.db.read() as conn:
        code = await repo.find_code(conn, "ONCEONLY")
    assert code is not None and code.uses == 0  # nothing half-written by the failed tries


async def test_collect_store_coupon(svc: CouponService, clock: FakeClock) -> None:
    now = clock.now()
    offer = await svc.create_store_offer(
        terms(Scope.store, store=42, amount=300, minimum=2000, start=now - DAY, end=now + 5 * DAY),
        quantity=1,
    )
    got = await svc.collect_store_coupon(ALEX, offer)
    assert (got.terms.scope, got.terms.store_id, got.terms.store_name) == (Scope.store, 42, "Store 42")
    with pytest.raises(OfferAlreadyCollected):
        await svc.collect_store_coupon(ALEX, offer)
    with pytest.raises(OfferSoldOut):
        await svc.collect_store_coupon(MASHA, offer)
    assert (await svc.wallet(MASHA)).counts[Tab.active] == 0
    with pytest.raises(OfferGone):
        await svc.collect_store_coupon(MASHA, 999)
    clock.advance(days=5)
    ended = await svc.create_store_offer(terms(Scope.store, store=42, start=now, end=now + 5 * DAY))
    with pytest.raises(OfferGone):
        await svc.collect_store_coupon(MASHA, ended)


async def test_wallet_tabs_keep_expired_coupons_visible(svc: CouponService, clock: FakeClock) -> None:
    now = clock.now()
    soon = await _give(svc, end=now + DAY)
    later = await _give(svc, end=now + 20 * DAY)
    expired = await _give(svc, start=now - 10 * DAY, end=now - DAY)
    used = await _give(svc)
    async with svc.db.write() as conn:
        await svc.use(conn, ALEX, [used.id], "order-1")
    gift = await svc.grant_certificate(ALEX, amount_minor=5000, currency="USD", valid_to=now + 100 * DAY)
    page = await svc.wallet(ALEX, Tab.active)
    assert [type(i).__name__ + str(i.id) for i in page.items] == [
        f"Certificate{gift.id}", f"Coupon{soon.id}", f"Coupon{later.id}"]
    assert page.counts == {Tab.active: 3, Tab.used: 1, Tab.expired: 1}
    assert [i.id for i in (await svc.wallet(ALEX, Tab.expired)).items] == [expired.id]
    assert [i.id for i in (await svc.wallet(ALEX, Tab.used)).items] == [used.id]
    # time passes: the coupon expiring tomorrow moves to Expired and stays visible
    clock.advance(days=2)
    assert {i.id for i in (await svc.wallet(ALEX, Tab.expired)).items} == {soon.id, expired.id}
    # someone else's wallet is empty
    assert (await svc.wallet(MASHA)).items == ()


async def test_wallet_pages(svc: CouponService, clock: FakeClock) -> None:
    await svc.grant_certificate(ALEX, amount_minor=100, currency="USD", valid_to=clock.now() + DAY)
    ids = [(await _give(svc, end=clock.now() + (2 + i) * DAY)).id for i in range(7)]
    first = await svc.wallet(ALEX, Tab.active, 0)
    second = await svc.wallet(ALEX, Tab.active, 1)
    assert (first.pages, len(first.items), len(second.items), second.first_index) == (2, 6, 2, 6)
    assert [i.id for i in first.items[1:]] + [i.id for i in second.items] == ids
    assert (await svc.wallet(ALEX, Tab.active, 99)).page == 1  # a stale page number → the last one


async def test_someone_elses_ids_are_not_found(svc: CouponService, clock: FakeClock) -> None:
    mine = await _give(svc, user=ALEX)
    gift = await svc.grant_certificate(ALEX, amount_minor=100, currency="USD", valid_to=clock.now() + DAY)
    with pytest.raises(CouponNotFound):
        await svc.coupon(MASHA, mine.id)
    with pytest.raises(CertificateNotFound):
        await svc.certificate(MASHA, gift.id)
    async with svc.db.write() as conn:
        with pytest.raises(CouponNotFound):
            await svc.use(conn, MASHA, [mine.id], "order-x")
        with pytest.raises(CertificateNotFound):
            await svc.spend(conn, MASHA, gift.id, 100, "USD", "order-x")
    with pytest.raises(CouponNotFound):
        await svc.quote(MASHA, CART, [mine.id])
    assert (await svc.coupon(ALEX, mine.id)).status == "active"


async def test_use_and_give_back(svc: CouponService, clock: FakeClock) -> None:
    seller = await _give(svc, scope=Scope.store, store=1, amount=1000)
    platform = await _give(svc, percent=10)
    async with svc.db.write() as conn:
        used = await svc.use(conn, ALEX, [seller.id, platform.id], "order-1", cart=CART)
    assert [(c.status, c.order_ref, c.used_at) for c in used] == [("used", "order-1", clock.now())] * 2
    # a double tap, or another order: used once
    async with svc.db.write() as conn:
        with pytest.raises(CouponAlreadyUsed):
            await svc.use(conn, ALEX, [seller.id], "order-2")
    # the unpaid order is cancelled: both come back, once
    async with svc.db.write() as conn:
        back = await svc.give_back(conn, ALEX, "order-1")
        assert await svc.give_back(conn, ALEX, "order-1") == []
    assert [(c.id, c.status, c.order_ref) for c in back] == [(seller.id, "active", None), (platform.id, "active", None)]


async def test_use_is_all_or_nothing(svc: CouponService) -> None:
    first = await _give(svc, scope=Scope.store)
    second = await _give(svc)
    async with svc.db.write() as conn:
        await svc.use(conn, ALEX, [second.id], "order-1")
    async with svc.db.write() as conn:  # the caller catches the error and goes on
        with pytest.raises(CouponAlreadyUsed):
            await svc.use(conn, ALEX, [first.id, second.id], "order-2")
    assert (await svc.coupon(ALEX, first.id)).status == "active"


@pytest.mark.parametrize(
    ("kw", "cart", "why"),
    [
        ({"scope": Scope.store, "store": 2}, CART, Why.other_store),
        ({"minimum": 20_000}, CART, Why.minimum),
        ({"currency": "EUR"}, CART, Why.currency),
    ],
)
async def test_use_checks_the_order_when_given(svc: CouponService, kw, cart: Cart, why: Why) -> None:
    c = await _give(svc, **kw)
    async with svc.db.write() as conn:
        with pytest.raises(CouponNotUsable) as info:
            await svc.use(conn, ALEX, [c.id], "order-1", cart=cart)
    assert info.value.why == why


async def test_use_refuses_expired_and_two_platform_coupons(svc: CouponService, clock: FakeClock) -> None:
    old = await _give(svc, start=clock.now() - 5 * DAY, end=clock.now())
    a, b = await _give(svc), await _give(svc)
    async with svc.db.write() as conn:
        with pytest.raises(CouponNotUsable) as info:
            await svc.use(conn, ALEX, [old.id], "order-1")
        assert info.value.why == Why.expired
        with pytest.raises(CouponCombination):
            await svc.use(conn, ALEX, [a.id, b.id], "order-1")


async def test_expiry_reminders(svc: CouponService, clock: FakeClock) -> None:
    now = clock.now()
    ten = await _give(svc, end=now + 10 * DAY)
    two = await _give(svc, end=now + 2 * DAY)
    await _give(svc, end=now + timedelta(hours=12))
    async with svc.db.read() as conn:
        rows = await outbox_repo.for_user(conn, ALEX, "coupon_expiry")
    assert [(r.dedupe_key, r.due_at) for r in rows] == [
        (f"coupon:{ten.id}:expiry:3d", now + 7 * DAY),
        (f"coupon:{ten.id}:expiry:1d", now + 9 * DAY),
        (f"coupon:{two.id}:expiry:1d", now + DAY),
    ]
    assert rows[0].payload == {
        "coupon_id": ten.id, "days": 3, "valid_to": (now + 10 * DAY).isoformat(), "scope": "platform",
        "store_name": None, "value_kind": "amount", "amount_minor": 500, "percent": None,
        "cap_minor": None, "currency": "USD", "min_order_minor": 0,
    }


async def test_using_a_coupon_drops_its_pending_reminders(svc: CouponService, clock: FakeClock) -> None:
    c = await _give(svc, end=clock.now() + 10 * DAY)
    other = await _give(svc, end=clock.now() + 10 * DAY)
    async with svc.db.write() as conn:  # the 3-day reminder went out already
        await conn.execute(
            text("UPDATE outbox SET state = 'sent' WHERE dedupe_key = :key"), {"key": f"coupon:{c.id}:expiry:3d"})
        await svc.use(conn, ALEX, [c.id], "order-1")
    async with svc.db.read() as conn:
        keys = {(r.dedupe_key, r.state) for r in await outbox_repo.for_user(conn, ALEX)}
    # the sent one stays sent; the one not yet sent is dropped (kept, not deleted); others untouched
    assert keys == {(f"coupon:{c.id}:expiry:3d", "sent"), (f"coupon:{c.id}:expiry:1d", "dropped"),
                    (f"coupon:{other.id}:expiry:3d", "pending"),
                    (f"coupon:{other.id}:expiry:1d", "pending")}
    # given back: the reminder still ahead is planned again
    async with svc.db.write() as conn:
        await svc.give_back(conn, ALEX, "order-1")
    async with svc.db.read() as conn:
        keys = {(r.dedupe_key, r.state) for r in await outbox_repo.for_user(conn, ALEX)}
    assert (f"coupon:{c.id}:expiry:1d", "pending") in keys


async def test_certificate_spend_and_refund_are_ledger_rows(svc: CouponService, clock: FakeClock) -> None:
    gift = await svc.grant_certificate(ALEX, amount_minor=5000, currency="USD", valid_to=clock.now() + 30 * DAY)
    async with svc.db.write() as conn:
        assert await svc.spend(conn, ALEX, gift.id, 1750, "USD", "order-1") == 3250
        with pytest.raises(AlreadySpent):
            await svc.spend(conn, ALEX, gift.id, 100, "USD", "order-1")
        with pytest.raises(NotEnoughBalance):
            await svc.spend(conn, ALEX, gift.id, 3251, "USD", "order-2")
        with pytest.raises(CertificateCurrency) as info:
            await svc.spend(conn, ALEX, gift.id, 100, "EUR", "order-2")
        assert info.value.params == {"currency": "USD"}
        assert await svc.refund(conn, ALEX, "order-1", 500) == [(gift.id, 500)]
        with pytest.raises(RefundTooLarge):
            await svc.refund(conn, ALEX, "order-1", 1251)
        assert await svc.refund(conn, ALEX, "order-1") == [(gift.id, 1250)]
        assert await svc.refund(conn, ALEX, "order-1") == []
        assert await svc.refund(conn, MASHA, "order-1") == []  # not hers
    card = await svc.certificate(ALEX, gift.id)
    assert card.certificate.balance_minor == 5000
    assert [(e.kind, e.delta_minor, e.order_ref) for e in card.history] == [
        ("issue", 5000, None), ("spend", -1750, "order-1"), ("refund", 500, "order-1"),
        ("refund", 1250, "order-1"),
    ]
    clock.advance(days=30)
    async with svc.db.write() as conn:
        with pytest.raises(CertificateExpired):
            await svc.spend(conn, ALEX, gift.id, 100, "USD", "order-3")


async def test_what_applies_reads_the_wallet(svc: CouponService, clock: FakeClock) -> None:
    seller = await _give(svc, scope=Scope.store, store=1, amount=1000)
    await _give(svc, scope=Scope.store, store=2, amount=5000)
    platform = await _give(svc, percent=10, cap=500)
    await svc.grant_certificate(ALEX, amount_minor=2000, currency="USD", valid_to=clock.now() + DAY)
    result = await svc.what_applies(ALEX, CART)
    assert {o.coupon.id for o in result.applicable} == {seller.id, platform.id}
    assert [o.why for o in result.options if o.why] == [Why.other_store]
    assert result.best.coupon_ids == (seller.id, platform.id)
    assert (result.best.discount_minor, result.best.certificates_minor, result.best.to_pay_minor) == (1500, 2000, 6500)
    plan = await svc.quote(ALEX, CART, [platform.id], use_certificates=False)
    assert (plan.discount_minor, plan.to_pay_minor) == (500, 9500)


async def test_grant_skips_unknown_users_and_second_campaign_coupons(svc: CouponService) -> None:
    first = await svc.grant([ALEX, 999], terms(campaign="spring"))
    assert (list(first.granted), first.unknown_users) == ([ALEX], (999,))
    second = await svc.grant([ALEX, MASHA], terms(campaign="spring"))
    assert (list(second.granted), second.already_had) == ([MASHA], (ALEX,))
    with pytest.raises(InvalidInput):
        await svc.grant([ALEX], terms(percent=120))
    with pytest.raises(InvalidInput):
        await svc.grant([ALEX], terms(end=NOW - 2 * DAY))


async def test_attempts_are_pruned_after_a_day(svc: CouponService, clock: FakeClock) -> None:
    with pytest.raises(CodeUnknown):
        await svc.redeem_code(ALEX, "GUESS123")
    assert await svc.prune_attempts(clock.now() + timedelta(hours=23)) == 0
    assert await svc.prune_attempts(clock.now() + timedelta(hours=25)) == 1


async def test_demo_data_has_every_state_and_is_idempotent(svc: CouponService, clock: FakeClock) -> None:
    await seed_coupons(svc, ALEX)
    await seed_coupons(svc, ALEX)
    page = await svc.wallet(ALEX)
    assert page.counts == {Tab.active: 8, Tab.used: 3, Tab.expired: 2}
    active = [i for i in page.items if isinstance(i, Coupon)]
    assert active[0].terms.valid_to - clock.now() < 2 * DAY  # one expires tomorrow
    gift = page.items[0]
    assert isinstance(gift, Certificate) and (gift.balance_minor, gift.face_minor) == (3250, 5000)
    kinds = {(c.terms.scope, c.terms.is_special) for c in active}
    assert kinds == {(Scope.store, False), (Scope.platform, False), (Scope.platform, True)}
    assert (await svc.redeem_code(MASHA, "WELCOME5")).coupon is not None
    assert (await svc.redeem_code(MASHA, "GIFT25")).certificate is not None


def test_expiry_push_renders_from_the_payload(i18n) -> None:
    payload = {
        "coupon_id": 7, "days": 1, "valid_to": "2026-11-27T00:00:00+00:00", "scope": "store",
        "store_name": "Anker & Co", "value_kind": "percent", "amount_minor": None, "percent": 15,
        "cap_minor": 1000, "currency": "USD", "min_order_minor": 4000,
    }
    en = views.expiry_push(payload, Fmt(i18n, "en"))
    assert en.text == "⏳ A coupon expires in 1 day\n<b>15% off, up to $10.00</b> · from $40.00 · Anker &amp; Co"
    ru = views.expiry_push({**payload, "days": 3, "scope": "platform"}, Fmt(i18n, "ru"))
    assert ru.text == (
        "⏳ Купон истекает через 3 дня\n"
        "<b>Скидка 15%, не больше 10,00\xa0$</b> · от 40,00\xa0$ · Все магазины"
    )
    assert [b.text for row in ru.reply_markup.inline_keyboard for b in row] == ["🎟 Мои купоны"]


async def test_cancel_takes_exactly_the_prefix(svc: CouponService, clock: FakeClock) -> None:
    from bot.services.outbox import enqueue

    keys = ["coupon:1:expiry:3d", "coupon:1:expiry:1d", "coupon:10:expiry:3d", "coupon:1:expiryx",
            "coupon:2:expiry:1d"]
    async with svc.db.write() as conn:
        for key in keys:
            await enqueue(conn, user_id=ALEX, kind="coupon_expiry", payload={}, dedupe_key=key,
                          now=clock.now())
        assert await reminders.cancel(conn, user_id=ALEX, prefix="coupon:1:expiry:", now=clock.now()) == 2
        rows = await outbox_repo.for_user(conn, ALEX)
    assert [r.dedupe_key for r in rows if r.state == "pending"] == keys[2:]


@pytest.mark.parametrize(
    ("run", "table", "index"),  # a production call (conn, now), the table its statement reads or writes
    [
        pytest.param(lambda conn, now: repo.usable_coupons(conn, ALEX, now),
                     "coupons", "ix_coupons_user_status", id="usable_coupons"),
        pytest.param(lambda conn, now: repo.give_back(conn, user_id=ALEX, order_ref="o-1"),
                     "coupons", "ix_coupons_order", id="give_back"),
        pytest.param(lambda conn, now: repo.recent_attempts(conn, ALEX, now - timedelta(hours=1), 5),
                     "coupon_code_attempts", "ix_coupon_code_attempts_user", id="recent_attempts"),
        # the user's rows, then the prefix among them (a user has a few hundred at most)
        pytest.param(lambda conn, now: reminders.cancel(conn, user_id=ALEX, prefix="coupon:1:expiry:", now=now),
                     "outbox", "ix_outbox_user", id="reminders_cancel"),
        pytest.param(lambda conn, now: repo.certificates_for(conn, ALEX),
                     "gift_certificate_ledger", "ix_gift_certificate_ledger_cert", id="certificate_balance"),
    ],
)
@sqlite_only
async def test_queries_use_their_indexes(svc: CouponService, clock: FakeClock, run: Callable[..., Awaitable[object]],
                                         table: str, index: str) -> None:
    """EXPLAIN of the statement the production call runs (tests/plankit.py records it), not a copy of it."""
    with recording(svc.db) as ran:
        async with svc.db.write() as conn:
            await run(conn, clock.now())
    touches = re.compile(rf"\b(FROM|UPDATE)\s+{table}\b")
    details = await plan(svc.db, next(s for s in ran if touches.search(s.sql)))
    assert any(index in d for d in details), details


def test_the_sweeper_prunes_failed_code_attempts(settings) -> None:
    from bot.app import build_services
    from bot.runner import build_sweeper

    assert "coupon_code_attempts" in build_sweeper(build_services(settings)).names



async def test_the_wallets_reader_reads_the_wallet_as_it_is(svc: CouponService, clock: FakeClock) -> None:
    """The wallet's reader (counts, certificates, a page of coupons: one statement) on every tab
    and page: 12 coupons ending a day apart, 6 of them past, 3 of the live ones used a minute apart,
    and two certificates."""
    now = clock.now()
    given = [await _give(svc, start=now - 30 * DAY, end=now + (n - 5) * DAY) for n in range(12)]
    for n, used in enumerate(given[7:10]):
        clock.advance(minutes=1)
        async with svc.db.write() as conn:
            await svc.use(conn, ALEX, [used.id], f"order-{n}")
    now = clock.now()
    far = await svc.grant_certificate(ALEX, amount_minor=5000, currency="USD", valid_to=now + 100 * DAY)
    soon = await svc.grant_certificate(ALEX, amount_minor=700, currency="USD", valid_to=now + 3 * DAY)
    ids = [c.id for c in given]
    expected = {  # active: soonest expiry first; used: latest use first; expired: latest expiry first
        "active": [ids[6], ids[10], ids[11]], "used": [ids[9], ids[8], ids[7]], "expired": ids[5::-1],
    }
    for tab, in_tab in expected.items():
        for offset in (0, 2, 6, 40):
            read = await repo.wallet_read(svc.db, ALEX, tab, now, limit=6, offset=offset)
            assert read.counts == {"active": 3, "used": 3, "expired": 6}
            assert [(c.id, c.face_minor, c.balance_minor, c.valid_to) for c in read.certificates] == [
                (soon.id, 700, 700, now + 3 * DAY), (far.id, 5000, 5000, now + 100 * DAY)]
            assert [c.id for c in read.coupons] == in_tab[offset:offset + 6], (tab, offset)
            for coupon in read.coupons:
                assert coupon == await svc.coupon(ALEX, coupon.id)  # every field, decoded by name
            for certificate in read.certificates:
                assert certificate == (await svc.certificate(ALEX, certificate.id)).certificate
    empty = await repo.wallet_read(svc.db, MASHA, "active", now, limit=6, offset=0)
    assert (empty.counts, empty.certificates, empty.coupons) == ({"active": 0, "used": 0, "expired": 0}, [], [])
