"""The pricing engine (pure): which coupons apply to a cart and why not, the discount of each, the
best plan (one store coupon, then one platform coupon, then gift certificates) and the price of a
chosen one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.db.coupons import Certificate, Coupon, Scope, Terms, ValueKind
from bot.services.coupons.errors import CouponCombination, CouponNotUsable, Why

__all__ = [
    "Cart",
    "best_plan",
    "discount",
    "price",
    "why_not",
]


@dataclass(frozen=True, slots=True)
class Cart:
    """One store's order at checkout."""

    store_id: int
    amount_minor: int
    currency: str
    categories: frozenset[str] = frozenset()  # the product categories in it
    new_buyer: bool = False  # the buyer has no paid order yet
    shop_id: int | None = None  # the shop the store belongs to (its gift certificates pay here)


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
    if terms.category is not None and terms.category not in cart.categories:
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


def _with_certificates(plan: Plan, certificates: Sequence[Certificate], now: datetime) -> Plan:
    """The plan with gift certificates paying what the coupons leave, the soonest to expire first."""
    parts = []
    remaining = plan.after_coupons_minor
    usable = [c for c in certificates
              if c.currency == plan.cart.currency and c.balance_minor > 0 and not c.is_expired(now)
              and c.pays_in(plan.cart.shop_id)]
    for cert in sorted(usable, key=lambda c: (c.valid_to, c.id)):
        if remaining <= 0:
            break
        amount = min(cert.balance_minor, remaining)
        parts.append(CertificatePart(cert, amount))
        remaining -= amount
    return replace(plan, certificates=tuple(parts))


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
    return _with_certificates(plan, certificates, now) if use_certificates else plan


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
    return _with_certificates(plan, certificates, now) if use_certificates else plan
