"""Coupons, special coupons and gift certificates: the wallet, codes, store coupons, and the rule
that picks what applies to an order.

Kinds. A *store* (seller's) coupon works only in its store; a *platform* coupon in every store; a
*special* coupon is a platform coupon with extra conditions (a category in the order, new buyers
only, one per user — its campaign); a *gift certificate* is a balance in money that pays part of an
order. Every amount is integer minor units with its ISO 4217 currency; a coupon or certificate
applies only to orders in its own currency.

What applies (`best_plan`, `price`). At most one store coupon (of the order's store) and then one
platform coupon per order. The store coupon's minimum is checked on the order amount, the platform
coupon's on the amount left after the store coupon. A fixed amount takes off at most what is left
(never below zero); a percent rounds down in minor units and stops at its cap. Gift certificates
then pay what remains, soonest expiry first. A coupon is valid while valid_from <= now < valid_to.
A category condition means "the order contains an item of this category"; the discount applies to
the order amount.

Order coupling (called by checkout in its own unit of work, hence the `conn` argument): `use`
marks coupons used by an order (conditionally: a coupon is used once), `give_back` returns them
when an unpaid order is cancelled, `spend` / `refund` move certificate money as ledger rows.

Reminders: each coupon writes outbox rows (kind "coupon_expiry") 3 days and 1 day before it
expires; using it drops those still pending, giving it back plans them again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import coupons as repo
from bot.db import users as users_repo
from bot.db.coupons import Certificate, Code, Coupon, LedgerEntry, Scope, Terms, ValueKind
from bot.db.engine import Database
from bot.services import reminders
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.notifications import Category, declare

__all__ = [
    "Applied", "Cart", "Certificate", "CertificatePart", "Coupon", "CouponService", "LedgerEntry",
    "Option", "Plan", "Redeemed", "Scope", "Tab", "Terms", "ValueKind", "WalletPage",
    "WhatApplies", "Why", "best_plan", "discount", "normalise_code", "parse_amount", "price",
    "why_not",
]

EXPIRY_KIND = declare("coupon_expiry", N_("Coupons about to expire"), category=Category.reminder, order=40)
REMINDERS: tuple[tuple[timedelta, str], ...] = ((timedelta(days=3), "3d"), (timedelta(days=1), "1d"))

ATTEMPT_WINDOW = timedelta(minutes=10)
MAX_FAILED_ATTEMPTS = 5
KEEP_ATTEMPTS = timedelta(days=1)
PAGE_SIZE = 6


# -- errors -------------------------------------------------------------------------------------

class CouponNotFound(NotFound):
    msgid = N_("This coupon is no longer available.")


class CertificateNotFound(NotFound):
    msgid = N_("This gift certificate is no longer available.")


class CodeFormat(InvalidInput):
    msgid = N_("That doesn't look like a code: a code is 4 to 32 Latin letters and digits.")


class CodeUnknown(DomainError):
    msgid = N_("There is no such code. Check the letters and digits and try again.")


class CodeUsedUp(DomainError):
    msgid = N_("This code has already been used.")


class CodeAlreadyYours(DomainError):
    msgid = N_("You have already added this code: it is in My coupons.")


class CodeExpired(DomainError):
    msgid = N_("This code expired on {date}.")


class CodeNotYetValid(DomainError):
    msgid = N_("This code can be added from {date}.")


class CodeForeign(DomainError):
    msgid = N_("This code was issued to another account, so it can't be added here.")


class CampaignTaken(DomainError):
    msgid = N_("You already have this coupon: it is one per customer.")


class TooManyAttempts(DomainError):
    msgid = N_("Too many wrong codes. Please try again later.")

    def __init__(self, retry_at: datetime) -> None:
        super().__init__()
        self.retry_at = retry_at


class OfferGone(NotFound):
    msgid = N_("This store coupon is no longer available.")


class OfferSoldOut(DomainError):
    msgid = N_("All coupons of this store have been collected.")


class OfferAlreadyCollected(DomainError):
    msgid = N_("You have already collected this coupon.")


class CouponAlreadyUsed(DomainError):
    msgid = N_("This coupon has already been used.")


class CouponNotUsable(DomainError):
    """A coupon that does not apply to this order; `why` says what is wrong."""

    def __init__(self, why: Why) -> None:
        super().__init__(WHY_MSGIDS[why])
        self.why = why


class CouponCombination(DomainError):
    msgid = N_("An order takes one store coupon and one platform coupon at most.")


class CertificateExpired(DomainError):
    msgid = N_("This gift certificate has expired.")


class CertificateCurrency(DomainError):
    msgid = N_("This gift certificate pays only for orders in {currency}.")


class NotEnoughBalance(DomainError):
    msgid = N_("There is not enough money left on this gift certificate.")


class AlreadySpent(DomainError):
    msgid = N_("This gift certificate has already paid for this order.")


class RefundTooLarge(DomainError):
    msgid = N_("The refund is larger than what gift certificates paid for this order.")


# -- what applies (pure) ------------------------------------------------------------------------

class Why(str, Enum):
    """Why a coupon does not apply to an order."""

    used = "used"
    not_yet = "not_yet"
    expired = "expired"
    currency = "currency"
    other_store = "other_store"
    minimum = "minimum"
    category = "category"
    new_buyers = "new_buyers"


WHY_MSGIDS: dict[Why, str] = {
    Why.used: N_("This coupon has already been used."),
    Why.not_yet: N_("This coupon is not valid yet."),
    Why.expired: N_("This coupon has expired."),
    Why.currency: N_("This coupon is for orders in another currency."),
    Why.other_store: N_("This coupon works only in its own store."),
    Why.minimum: N_("The order is below this coupon's minimum."),
    Why.category: N_("The order has no item of this coupon's category."),
    Why.new_buyers: N_("This coupon is for new buyers only."),
}


@dataclass(frozen=True, slots=True)
class Cart:
    """One store's order at checkout."""

    store_id: int
    amount_minor: int
    currency: str
    category_ids: frozenset[int] = frozenset()
    new_buyer: bool = False


def why_not(coupon: Coupon, cart: Cart, base_minor: int, now: datetime) -> Why | None:
    """Why `coupon` does not apply to an order of `base_minor` left to pay (None: it applies)."""
    terms = coupon.terms
    if coupon.status != "active":
        return Why.used
    if now < terms.valid_from:
        return Why.not_yet
    if now >= terms.valid_to:
        return Why.expired
    if terms.currency != cart.currency:
        return Why.currency
    if terms.scope == Scope.store and terms.store_id != cart.store_id:
        return Why.other_store
    if terms.category_id is not None and terms.category_id not in cart.category_ids:
        return Why.category
    if terms.new_buyers_only and not cart.new_buyer:
        return Why.new_buyers
    if base_minor < terms.min_order_minor:
        return Why.minimum
    return None


def discount(terms: Terms, base_minor: int) -> int:
    """What the coupon takes off `base_minor`: never more than that, a percent rounded down in
    minor units and stopped at its cap."""
    if base_minor <= 0:
        return 0
    if terms.value_kind == ValueKind.percent:
        off = base_minor * (terms.percent or 0) // 100
        if terms.cap_minor is not None:
            off = min(off, terms.cap_minor)
    else:
        off = terms.amount_minor or 0
    return max(0, min(off, base_minor))


@dataclass(frozen=True, slots=True)
class Applied:
    coupon: Coupon
    discount_minor: int


@dataclass(frozen=True, slots=True)
class CertificatePart:
    certificate: Certificate
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Coupons and certificates for one order, and what is left to pay."""

    cart: Cart
    seller: Applied | None = None
    platform: Applied | None = None
    certificates: tuple[CertificatePart, ...] = ()

    @property
    def discount_minor(self) -> int:
        return sum(a.discount_minor for a in (self.seller, self.platform) if a is not None)

    @property
    def after_coupons_minor(self) -> int:
        return self.cart.amount_minor - self.discount_minor

    @property
    def certificates_minor(self) -> int:
        return sum(p.amount_minor for p in self.certificates)

    @property
    def to_pay_minor(self) -> int:
        return self.after_coupons_minor - self.certificates_minor

    @property
    def coupon_ids(self) -> tuple[int, ...]:
        return tuple(a.coupon.id for a in (self.seller, self.platform) if a is not None)


@dataclass(frozen=True, slots=True)
class Option:
    """A coupon of the wallet for this order: its discount alone, or why it does not apply."""

    coupon: Coupon
    discount_minor: int
    why: Why | None


@dataclass(frozen=True, slots=True)
class WhatApplies:
    options: tuple[Option, ...]
    best: Plan

    @property
    def applicable(self) -> tuple[Option, ...]:
        return tuple(o for o in self.options if o.why is None)


def _certificate_parts(cart: Cart, remaining: int, certificates: Sequence[Certificate],
                       now: datetime) -> tuple[CertificatePart, ...]:
    parts = []
    usable = [c for c in certificates
              if c.currency == cart.currency and c.balance_minor > 0 and not c.is_expired(now)]
    for cert in sorted(usable, key=lambda c: (c.valid_to, c.id)):
        if remaining <= 0:
            break
        amount = min(cert.balance_minor, remaining)
        parts.append(CertificatePart(cert, amount))
        remaining -= amount
    return tuple(parts)


def options(cart: Cart, coupons: Sequence[Coupon], now: datetime) -> tuple[Option, ...]:
    """Each coupon alone against the whole order (the store coupon comes first, so this is also
    what a platform coupon would take with no store coupon)."""
    result = []
    for coupon in coupons:
        why = why_not(coupon, cart, cart.amount_minor, now)
        off = discount(coupon.terms, cart.amount_minor) if why is None else 0
        result.append(Option(coupon, off, why))
    return tuple(result)


def best_plan(cart: Cart, coupons: Sequence[Coupon], certificates: Sequence[Certificate],
              now: datetime, *, use_certificates: bool = True) -> Plan:
    """The combination that takes the most off: one store coupon of this store, then one platform
    coupon on what is left. Ties go to fewer coupons, then to coupons expiring sooner (use them
    before they are lost), then to lower ids."""
    sellers = [c for c in coupons if c.terms.scope == Scope.store
               and why_not(c, cart, cart.amount_minor, now) is None]
    platforms = [c for c in coupons if c.terms.scope == Scope.platform]
    best: tuple[Any, ...] | None = None
    chosen: tuple[Applied | None, Applied | None] = (None, None)
    for seller in [None, *sellers]:
        seller_off = discount(seller.terms, cart.amount_minor) if seller else 0
        base = cart.amount_minor - seller_off
        for platform in [None, *platforms]:
            if platform is not None and why_not(platform, cart, base, now) is not None:
                continue
            platform_off = discount(platform.terms, base) if platform else 0
            used = [c for c in (seller, platform) if c is not None]
            key = (
                -(seller_off + platform_off),
                len(used),
                sorted(c.terms.valid_to for c in used),
                sorted(c.id for c in used),
            )
            if best is None or key < best:
                best = key
                chosen = (
                    Applied(seller, seller_off) if seller else None,
                    Applied(platform, platform_off) if platform else None,
                )
    plan = Plan(cart, *chosen)
    if use_certificates:
        plan = replace(plan, certificates=_certificate_parts(cart, plan.after_coupons_minor,
                                                             certificates, now))
    return plan


def price(cart: Cart, chosen: Sequence[Coupon], certificates: Sequence[Certificate], now: datetime,
          *, use_certificates: bool = True) -> Plan:
    """The plan for coupons the buyer chose. Raises CouponCombination or CouponNotUsable."""
    sellers = [c for c in chosen if c.terms.scope == Scope.store]
    platforms = [c for c in chosen if c.terms.scope == Scope.platform]
    if len(sellers) > 1 or len(platforms) > 1:
        raise CouponCombination()
    applied: list[Applied | None] = []
    base = cart.amount_minor
    for coupon in (sellers[0] if sellers else None, platforms[0] if platforms else None):
        if coupon is None:
            applied.append(None)
            continue
        why = why_not(coupon, cart, base, now)
        if why is not None:
            raise CouponNotUsable(why)
        off = discount(coupon.terms, base)
        applied.append(Applied(coupon, off))
        base -= off
    plan = Plan(cart, applied[0], applied[1])
    if use_certificates:
        plan = replace(plan, certificates=_certificate_parts(cart, plan.after_coupons_minor,
                                                             certificates, now))
    return plan


# -- codes and amounts as typed -----------------------------------------------------------------

# Russian keyboards: letters that look like Latin ones are read as those.
_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")
_CODE_RE = re.compile(r"^[A-Z0-9]{4,32}$")


def normalise_code(text: str) -> str:
    """What a user typed → the stored form: upper case, without spaces and dashes, Cyrillic
    look-alike letters read as Latin. Raises CodeFormat when it cannot be a code."""
    raw = text.strip().upper().translate(_LOOKALIKES)
    raw = re.sub(r"[\s\-_–—]", "", raw)
    if not _CODE_RE.match(raw):
        raise CodeFormat()
    return raw


def parse_amount(text: str, currency: str) -> int:
    """"5", "5.50" or "5,50" in `currency` → minor units (no floats). Positive only."""
    precision = get_currency_precision(currency)
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(N_("That is not an amount.")) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(N_("That is not an amount."))
    minor = value.scaleb(precision)
    if minor != minor.to_integral_value():
        raise InvalidInput(N_("That is not an amount."))
    return int(minor)


def check_currency(currency: str) -> str:
    code = currency.strip().upper()
    if code not in list_currencies():
        raise InvalidInput(N_("Unknown currency."))
    return code


def check_terms(terms: Terms) -> Terms:
    """Terms an operator typed, checked before they are stored."""
    check_currency(terms.currency)
    if terms.value_kind == ValueKind.amount:
        if not terms.amount_minor or terms.amount_minor <= 0 or terms.percent is not None:
            raise InvalidInput(N_("A coupon takes off an amount or a percent."))
    elif not terms.percent or not 1 <= terms.percent <= 100 or terms.amount_minor is not None:
        raise InvalidInput(N_("A percent is between 1 and 100."))
    if terms.cap_minor is not None and (terms.cap_minor <= 0 or terms.value_kind != ValueKind.percent):
        raise InvalidInput(N_("A cap applies to a percent coupon and is positive."))
    if terms.min_order_minor < 0:
        raise InvalidInput(N_("That is not an amount."))
    if terms.valid_to <= terms.valid_from:
        raise InvalidInput(N_("A coupon must end after it starts."))
    if terms.scope == Scope.store and (terms.store_id is None or not terms.store_name):
        raise InvalidInput(N_("A store coupon needs the store's id and name."))
    if terms.scope == Scope.platform and terms.store_id is not None:
        raise InvalidInput(N_("A platform coupon belongs to no store."))
    return terms


# -- results ------------------------------------------------------------------------------------

class Tab(str, Enum):
    active = "a"
    used = "u"
    expired = "e"

    @property
    def key(self) -> str:
        return self.name


Item = Coupon | Certificate


def certificate_tab(cert: Certificate, now: datetime) -> Tab:
    if cert.balance_minor <= 0:
        return Tab.used
    return Tab.expired if cert.is_expired(now) else Tab.active


def coupon_tab(coupon: Coupon, now: datetime) -> Tab:
    if coupon.status == "used":
        return Tab.used
    return Tab.expired if coupon.is_expired(now) else Tab.active


@dataclass(frozen=True, slots=True)
class WalletPage:
    tab: Tab
    page: int
    pages: int
    counts: dict[Tab, int]
    items: tuple[Item, ...]
    now: datetime
    first_index: int = 0  # the number of the first item on this page, from 0


@dataclass(frozen=True, slots=True)
class CertificateCard:
    certificate: Certificate
    history: tuple[LedgerEntry, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What a code put in the wallet: a coupon or a gift certificate."""

    coupon: Coupon | None = None
    certificate: Certificate | None = None


@dataclass(frozen=True, slots=True)
class GrantResult:
    granted: dict[int, int] = field(default_factory=dict)  # user id → coupon id
    unknown_users: tuple[int, ...] = ()
    already_had: tuple[int, ...] = ()  # one per user: they had this campaign's coupon


# -- the service --------------------------------------------------------------------------------

def _reminder_prefix(coupon_id: int) -> str:
    return f"coupon:{coupon_id}:expiry:"


class CouponService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # -- the wallet --------------------------------------------------------------------------
    async def wallet(self, user_id: int, tab: Tab = Tab.active, page: int = 0) -> WalletPage:
        """One page of a tab: gift certificates first, then coupons (active: soonest expiry
        first; used: latest first; expired: latest first)."""
        now = self.clock.now()
        page = max(page, 0)
        # one statement: the counts, the certificates and the page of coupons as if no certificate
        # were on it (the usual case); the coupons again only when certificates take room on it
        read = await repo.wallet_read(self.db, user_id, tab.key, now, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        counts = {Tab[k]: v for k, v in read.counts.items()}
        all_certs = read.certificates
        for cert in all_certs:
            counts[certificate_tab(cert, now)] += 1
        certs = [c for c in all_certs if certificate_tab(c, now) == tab]
        if tab == Tab.used:
            certs.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        elif tab == Tab.expired:
            certs.sort(key=lambda c: (c.valid_to, c.id), reverse=True)
        pages = max(1, -(-counts[tab] // PAGE_SIZE))
        page = min(page, pages - 1)
        start = page * PAGE_SIZE
        items: list[Item] = list(certs[start : start + PAGE_SIZE])
        room = PAGE_SIZE - len(items)
        if room > 0:
            offset = max(0, start - len(certs))
            if (room, offset) == (read.limit, read.offset):
                items += read.coupons
            else:
                async with self.db.read() as conn:
                    items += await repo.list_coupons(conn, user_id, tab.key, now, limit=room, offset=offset)
        return WalletPage(tab, page, pages, counts, tuple(items), now, start)

    async def coupon(self, user_id: int, coupon_id: int) -> Coupon:
        async with self.db.read() as conn:
            coupon = await repo.get_coupon(conn, user_id, coupon_id)
        if coupon is None:
            raise CouponNotFound()
        return coupon

    async def certificate(self, user_id: int, certificate_id: int) -> CertificateCard:
        async with self.db.read() as conn:
            cert = await repo.get_certificate(conn, user_id, certificate_id)
            if cert is None:
                raise CertificateNotFound()
            history = await repo.ledger(conn, cert.id)
        return CertificateCard(cert, tuple(history), self.clock.now())

    # -- getting coupons ---------------------------------------------------------------------
    async def redeem_code(self, user_id: int, text: str) -> Redeemed:
        """Redeem a typed code. A failed try is recorded (and committed, also when the caller's
        unit of work catches the error); 5 failures in 10 minutes pause redemption, against
        guessing. Raises CodeFormat (not counted: it cannot be anybody's code), TooManyAttempts,
        or the reason the code did not work."""
        code = normalise_code(text)
        async with self.db.write() as conn:
            now = self.clock.now()
            recent = await repo.recent_attempts(conn, user_id, now - ATTEMPT_WINDOW,
                                                MAX_FAILED_ATTEMPTS)
            if len(recent) >= MAX_FAILED_ATTEMPTS:
                outcome: Redeemed | DomainError = TooManyAttempts(recent[-1] + ATTEMPT_WINDOW)
            else:
                try:
                    async with conn.begin_nested():  # a failed try leaves nothing half-written
                        outcome = await self._redeem(conn, user_id, code, now)
                except DomainError as exc:
                    await repo.add_attempt(conn, user_id, now)
                    outcome = exc
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    async def _redeem(self, conn: AsyncConnection, user_id: int, code_text: str,
                      now: datetime) -> Redeemed:
        code = await repo.find_code(conn, code_text)
        if code is None:
            raise CodeUnknown()
        if code.for_user_id is not None and code.for_user_id != user_id:
            raise CodeForeign()
        if await repo.user_has_code(conn, user_id, code.id):
            raise CodeAlreadyYours()
        if now >= code.terms.valid_to:
            raise CodeExpired(date=code.terms.valid_to)
        if now < code.terms.valid_from:
            raise CodeNotYetValid(date=code.terms.valid_from)
        if code.kind == "coupon" and code.terms.campaign is not None and \
                await repo.user_has_campaign(conn, user_id, code.terms.campaign):
            raise CampaignTaken()
        if not await repo.take_code_use(conn, code.id):
            raise CodeUsedUp()
        if code.kind == "certificate":
            return Redeemed(certificate=await self._issue_certificate(conn, user_id, code, now))
        coupon_id = await repo.insert_coupon(conn, user_id=user_id, terms=code.terms, source="code",
                                             now=now, code_id=code.id)
        if coupon_id is None:  # another update of the same user got there first
            raise CodeAlreadyYours()
        coupon = await repo.get_coupon(conn, user_id, coupon_id)
        assert coupon is not None
        await self._plan_reminders(conn, coupon, now)
        return Redeemed(coupon=coupon)

    async def _issue_certificate(self, conn: AsyncConnection, user_id: int, code: Code,
                                 now: datetime) -> Certificate:
        assert code.terms.amount_minor is not None
        cert_id = await repo.insert_certificate(
            conn, user_id=user_id, currency=code.terms.currency, face_minor=code.terms.amount_minor,
            valid_to=code.terms.valid_to, title=code.terms.title, source="code", now=now,
            code_id=code.id,
        )
        if cert_id is None:
            raise CodeAlreadyYours()
        cert = await repo.get_certificate(conn, user_id, cert_id)
        assert cert is not None
        return cert

    async def collect_store_coupon(self, user_id: int, offer_id: int) -> Coupon:
        """A store's coupon into the wallet, once per buyer, while the offer runs and lasts.
        (The catalog's store page calls this.)"""
        async with self.db.write() as conn:
            now = self.clock.now()
            offer = await repo.get_offer(conn, offer_id)
            if offer is None or not offer.terms.valid_from <= now < offer.terms.valid_to:
                raise OfferGone()
            if await repo.user_has_offer(conn, user_id, offer.id):
                raise OfferAlreadyCollected()
            if not await repo.take_offer(conn, offer.id):
                raise OfferSoldOut()
            coupon_id = await repo.insert_coupon(conn, user_id=user_id, terms=offer.terms,
                                                 source="offer", now=now, offer_id=offer.id)
            assert coupon_id is not None  # checked above, under the write lock
            coupon = await repo.get_coupon(conn, user_id, coupon_id)
            assert coupon is not None
            await self._plan_reminders(conn, coupon, now)
        return coupon

    # -- operators ---------------------------------------------------------------------------
    async def grant(self, user_ids: Sequence[int], terms: Terms, *, source: str = "grant") -> GrantResult:
        """Put a coupon into each user's wallet (operators; demo data). A user who already has
        this campaign's coupon is skipped, as is an id that never used the bot."""
        check_terms(terms)
        granted: dict[int, int] = {}
        unknown: list[int] = []
        had: list[int] = []
        async with self.db.write() as conn:
            now = self.clock.now()
            for user_id in dict.fromkeys(user_ids):
                if await users_repo.get(conn, user_id) is None:
                    unknown.append(user_id)
                    continue
                coupon_id = await repo.insert_coupon(conn, user_id=user_id, terms=terms,
                                                     source=source, now=now)
                if coupon_id is None:
                    had.append(user_id)
                    continue
                coupon = await repo.get_coupon(conn, user_id, coupon_id)
                assert coupon is not None
                await self._plan_reminders(conn, coupon, now)
                granted[user_id] = coupon_id
        return GrantResult(granted, tuple(unknown), tuple(had))

    async def grant_certificate(self, user_id: int, *, amount_minor: int, currency: str,
                                valid_to: datetime, title: str | None = None,
                                source: str = "grant") -> Certificate:
        currency = check_currency(currency)
        if amount_minor <= 0:
            raise InvalidInput(N_("That is not an amount."))
        async with self.db.write() as conn:
            now = self.clock.now()
            if await users_repo.get(conn, user_id) is None:
                raise NotFound()
            cert_id = await repo.insert_certificate(
                conn, user_id=user_id, currency=currency, face_minor=amount_minor,
                valid_to=valid_to, title=title, source=source, now=now,
            )
            assert cert_id is not None
            cert = await repo.get_certificate(conn, user_id, cert_id)
        assert cert is not None
        return cert

    async def create_code(self, code: str, terms: Terms, *, certificate: bool = False,
                          max_uses: int | None = None, for_user_id: int | None = None) -> int:
        """A code that puts a coupon (or, with `certificate`, a gift certificate of
        `terms.amount_minor`) into the wallet of whoever redeems it. `max_uses` None: any number
        of users, each once; `for_user_id`: only that user."""
        normalised = normalise_code(code)
        if certificate:
            if terms.value_kind != ValueKind.amount or terms.scope != Scope.platform:
                raise InvalidInput(N_("A gift certificate is an amount for every store."))
            check_currency(terms.currency)
            if not terms.amount_minor or terms.amount_minor <= 0:
                raise InvalidInput(N_("That is not an amount."))
        else:
            check_terms(terms)
        if max_uses is not None and max_uses < 1:
            raise InvalidInput(N_("A code is used at least once."))
        async with self.db.write() as conn:
            code_id = await repo.insert_code(
                conn, code=normalised, kind="certificate" if certificate else "coupon",
                terms=terms, max_uses=max_uses, for_user_id=for_user_id, now=self.clock.now(),
            )
        if code_id is None:
            raise InvalidInput(N_("This code exists already."))
        return code_id

    async def create_store_offer(self, terms: Terms, *, quantity: int | None = None) -> int:
        """A store coupon buyers can collect (the seller side or an operator creates it)."""
        check_terms(replace(terms, scope=Scope.store))
        if terms.category_id is not None or terms.new_buyers_only or terms.campaign is not None:
            raise InvalidInput(N_("Extra conditions are for platform coupons."))
        if quantity is not None and quantity < 1:
            raise InvalidInput(N_("The quantity is at least 1."))
        async with self.db.write() as conn:
            return await repo.insert_offer(conn, terms=replace(terms, scope=Scope.store),
                                           quantity=quantity, now=self.clock.now())

    # -- what applies (checkout) -------------------------------------------------------------
    async def what_applies(self, user_id: int, cart: Cart) -> WhatApplies:
        """The wallet's coupons for this order (each alone, or why not) and the best plan."""
        now = self.clock.now()
        async with self.db.read() as conn:
            coupons = await repo.usable_coupons(conn, user_id, now)
            certs = await repo.certificates_for(conn, user_id)
        return WhatApplies(options(cart, coupons, now), best_plan(cart, coupons, certs, now))

    async def quote(self, user_id: int, cart: Cart, coupon_ids: Sequence[int], *,
                    use_certificates: bool = True) -> Plan:
        """The plan for the coupons the buyer chose (checked: theirs, usable, combinable)."""
        now = self.clock.now()
        async with self.db.read() as conn:
            chosen = await self._own(conn, user_id, coupon_ids)
            certs = await repo.certificates_for(conn, user_id) if use_certificates else []
        return price(cart, chosen, certs, now, use_certificates=use_certificates)

    async def _own(self, conn: AsyncConnection, user_id: int, coupon_ids: Sequence[int]) -> list[Coupon]:
        ids = list(dict.fromkeys(coupon_ids))
        found = await repo.coupons_by_ids(conn, user_id, ids) if ids else []
        if len(found) != len(ids):
            raise CouponNotFound()
        by_id = {c.id: c for c in found}
        return [by_id[i] for i in ids]

    # -- order coupling: in the caller's unit of work ----------------------------------------
    async def use(self, conn: AsyncConnection, user_id: int, coupon_ids: Sequence[int],
                  order_ref: str, *, cart: Cart | None = None) -> list[Coupon]:
        """Mark the coupons used by `order_ref`, inside the order's unit of work. Conditional: a
        coupon already used (a double tap, another order) raises CouponAlreadyUsed, an expired or
        not yet valid one CouponNotUsable; nothing is marked then. With `cart`, the coupons are
        also checked against the order (store, minimum, conditions) as `price` does. Drops the
        coupons' pending expiry reminders."""
        now = self.clock.now()
        chosen = await self._own(conn, user_id, coupon_ids)
        if cart is not None:
            price(cart, chosen, [], now, use_certificates=False)
        stores = [c.terms.store_id for c in chosen if c.terms.scope == Scope.store]
        platforms = [c for c in chosen if c.terms.scope == Scope.platform]
        if len(platforms) > 1 or len(stores) != len(set(stores)):
            raise CouponCombination()
        used = []
        async with conn.begin_nested():  # all or nothing, even when the caller catches the error
            for coupon in chosen:
                used.append(await self._use_one(conn, user_id, coupon, order_ref, now))
        return used

    async def _use_one(self, conn: AsyncConnection, user_id: int, coupon: Coupon, order_ref: str,
                       now: datetime) -> Coupon:
        if not await repo.mark_used(conn, user_id=user_id, coupon_id=coupon.id,
                                    order_ref=order_ref, now=now):
            fresh = await repo.get_coupon(conn, user_id, coupon.id)
            if fresh is None:
                raise CouponNotFound()
            if fresh.status == "used":
                raise CouponAlreadyUsed()
            raise CouponNotUsable(Why.not_yet if now < fresh.terms.valid_from else Why.expired)
        await reminders.cancel(conn, user_id=user_id, prefix=_reminder_prefix(coupon.id), now=now)
        fresh = await repo.get_coupon(conn, user_id, coupon.id)
        assert fresh is not None
        return fresh

    async def give_back(self, conn: AsyncConnection, user_id: int, order_ref: str) -> list[Coupon]:
        """An unpaid order was cancelled: its coupons are active again (an expired one shows as
        expired), and their reminders still ahead are planned again. Idempotent."""
        now = self.clock.now()
        returned = []
        for coupon_id in await repo.give_back(conn, user_id=user_id, order_ref=order_ref):
            coupon = await repo.get_coupon(conn, user_id, coupon_id)
            assert coupon is not None
            await self._plan_reminders(conn, coupon, now)
            returned.append(coupon)
        return returned

    async def spend(self, conn: AsyncConnection, user_id: int, certificate_id: int,
                    amount_minor: int, currency: str, order_ref: str) -> int:
        """Pay `amount_minor` of an order from a gift certificate, as a ledger row in the order's
        unit of work. Returns the balance left."""
        if amount_minor <= 0:
            raise InvalidInput(N_("That is not an amount."))
        cert = await repo.get_certificate(conn, user_id, certificate_id)
        if cert is None:
            raise CertificateNotFound()
        if cert.is_expired(self.clock.now()):
            raise CertificateExpired()
        if cert.currency != currency:
            raise CertificateCurrency(currency=cert.currency)
        if cert.balance_minor < amount_minor:
            raise NotEnoughBalance()
        if not await repo.add_ledger(conn, certificate_id=cert.id, kind="spend",
                                     delta_minor=-amount_minor, order_ref=order_ref,
                                     now=self.clock.now()):
            raise AlreadySpent()
        return cert.balance_minor - amount_minor

    async def refund(self, conn: AsyncConnection, user_id: int, order_ref: str,
                     amount_minor: int | None = None) -> list[tuple[int, int]]:
        """Give certificate money paid for an order back to the certificates it came from (the
        latest spend first), as ledger rows; `amount_minor` None refunds all that is not refunded
        yet. Returns (certificate id, amount) per certificate credited."""
        spent = await repo.net_spent_on_order(conn, user_id, order_ref)
        total = sum(amount for _cert, amount in spent)
        wanted = total if amount_minor is None else amount_minor
        if wanted < 0 or wanted > total:
            raise RefundTooLarge()
        now = self.clock.now()
        credited = []
        for cert_id, amount in spent:
            if wanted <= 0:
                break
            part = min(amount, wanted)
            await repo.add_ledger(conn, certificate_id=cert_id, kind="refund", delta_minor=part,
                                  order_ref=order_ref, now=now)
            credited.append((cert_id, part))
            wanted -= part
        return credited

    # -- reminders and housekeeping ----------------------------------------------------------
    async def _plan_reminders(self, conn: AsyncConnection, coupon: Coupon, now: datetime) -> None:
        """The coupon's expiry reminders (3 days and 1 day before), re-planned as a whole: those
        already past are not planned, a used coupon has none."""
        terms = coupon.terms
        payload = {
            "coupon_id": coupon.id, "valid_to": terms.valid_to.isoformat(), "scope": str(terms.scope),
            "store_name": terms.store_name, "value_kind": str(terms.value_kind),
            "amount_minor": terms.amount_minor, "percent": terms.percent,
            "cap_minor": terms.cap_minor, "currency": terms.currency,
            "min_order_minor": terms.min_order_minor,
        }
        wanted = [
            reminders.Reminder(
                EXPIRY_KIND.key, f"{_reminder_prefix(coupon.id)}{label}", due_at=terms.valid_to - ahead,
                payload={**payload, "days": ahead.days}, expires_at=terms.valid_to,
            )
            for ahead, label in REMINDERS
            if terms.valid_to - ahead > now and coupon.status == "active"
        ]
        await reminders.replan(conn, user_id=coupon.user_id, prefix=_reminder_prefix(coupon.id),
                               reminders=wanted, now=now)

    async def prune_attempts(self, now: datetime) -> int:
        """Sweeper: forget failed code attempts older than a day."""
        async with self.db.write() as conn:
            return await repo.prune_attempts(conn, now - KEEP_ATTEMPTS)
