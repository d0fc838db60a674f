"""Checkout's calls, each in the caller's unit of work (hence `conn`): what applies, a quote, using
coupons for an order and giving them back, spending and refunding certificate money."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import certificates as certificates_repo
from bot.db import coupons as repo
from bot.db.coupons import Coupon, Scope
from bot.services import reminders
from bot.services.coupons.base import CouponBase, reminder_prefix
from bot.services.coupons.errors import (
    AlreadySpent,
    CertificateCurrency,
    CertificateExpired,
    CertificateNotFound,
    CertificateOtherShop,
    CouponAlreadyUsed,
    CouponCombination,
    CouponNotFound,
    CouponNotUsable,
    NotAnAmount,
    NotEnoughBalance,
    RefundTooLarge,
    Why,
)
from bot.services.coupons.pricing import Cart, Plan, WhatApplies, best_plan, options, price

__all__ = [
    "RENEWED_FOR",
    "CheckoutCoupling",
    "credit_back",
    "renewed_until",
    "renews",
]


class CheckoutCoupling(CouponBase):
    async def what_applies(self, user_id: int, cart: Cart) -> WhatApplies:
        """The wallet's coupons for this order (each alone, or why not) and the best plan."""
        now = self.clock.now()
        async with self.db.read() as conn:
            cart = await self._cart(conn, user_id, cart)
            coupons = await repo.usable_coupons(conn, user_id, now)
            certs = await repo.certificates_for(conn, user_id)
        return WhatApplies(options(cart, coupons, now), best_plan(cart, coupons, certs, now))

    async def quote(self, user_id: int, cart: Cart, coupon_ids: Sequence[int], *,
                    use_certificates: bool = True) -> Plan:
        """The plan for the coupons the buyer chose (checked: theirs, usable, combinable)."""
        now = self.clock.now()
        async with self.db.read() as conn:
            cart = await self._cart(conn, user_id, cart)
            chosen = await self._own(conn, user_id, coupon_ids)
            certs = await repo.certificates_for(conn, user_id) if use_certificates else []
        return price(cart, chosen, certs, now, use_certificates=use_certificates)

    @staticmethod
    async def _cart(conn: AsyncConnection, user_id: int, cart: Cart) -> Cart:
        """The order as the conditions read it: whether the buyer has no paid order yet (a coupon
        for new buyers), and the shop its store belongs to (that shop's certificates pay there)."""
        new_buyer, shop_id = await repo.buyer_and_shop(conn, user_id, cart.store_id)
        return replace(cart, new_buyer=new_buyer, shop_id=shop_id)

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
        await reminders.cancel(conn, user_id=user_id, prefix=reminder_prefix(coupon.id), now=now)
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
                    amount_minor: int, currency: str, order_ref: str, *, shop_id: int | None = None) -> int:
        """Pay `amount_minor` of an order from a gift certificate, as a ledger row in the order's
        unit of work (`shop_id`: the shop of the order's store). Returns the balance left."""
        if amount_minor <= 0:
            raise NotAnAmount()
        cert = await repo.get_certificate(conn, user_id, certificate_id)
        if cert is None:
            raise CertificateNotFound()
        if cert.is_expired(self.clock.now()):
            raise CertificateExpired()
        if cert.currency != currency:
            raise CertificateCurrency(currency=cert.currency)
        if not cert.pays_in(shop_id):
            raise CertificateOtherShop(shop=cert.shop or "")
        if cert.balance_minor < amount_minor:
            raise NotEnoughBalance()
        if not await repo.add_ledger(conn, certificate_id=cert.id, kind="spend",
                                     delta_minor=-amount_minor, order_ref=order_ref,
                                     now=self.clock.now()):
            raise AlreadySpent()
        return cert.balance_minor - amount_minor

    async def refund(self, conn: AsyncConnection, user_id: int, order_ref: str,
                     amount_minor: int | None = None) -> list[tuple[int, int]]:
        """Give certificate money paid for an order back (`credit_back`)."""
        return await credit_back(conn, user_id, order_ref, amount_minor, self.clock.now())


RENEWED_FOR = timedelta(days=30)  # money a refund puts back on a certificate can be spent this long at least


def renewed_until(now: datetime) -> datetime:
    return now + RENEWED_FOR


def _parts(spent: list[tuple[int, int]], wanted: int) -> list[tuple[int, int]]:
    """How `wanted` goes back over what each certificate paid (as `net_spent_on_order` lists it: the
    latest spend first): (certificate id, amount) each."""
    parts = []
    for cert_id, amount in spent:
        if wanted <= 0:
            break
        parts.append((cert_id, min(amount, wanted)))
        wanted -= amount
    return parts


async def renews(conn: AsyncConnection, user_id: int, order_ref: str, amount_minor: int,
                 now: datetime) -> datetime | None:
    """When giving `amount_minor` back to the certificates that paid for this order would renew one
    of them (expired, or ending within `RENEWED_FOR`): the date it would be valid until; else None."""
    until = renewed_until(now)
    for cert_id, _part in _parts(await repo.net_spent_on_order(conn, user_id, order_ref), amount_minor):
        cert = await repo.get_certificate(conn, user_id, cert_id)
        if cert is not None and cert.valid_to < until:
            return until
    return None


async def credit_back(conn: AsyncConnection, user_id: int, order_ref: str, amount_minor: int | None,
                      now: datetime) -> list[tuple[int, int]]:
    """Give certificate money paid for an order back to the certificates it came from (the latest
    spend first), as ledger rows in the caller's unit of work; `amount_minor` None gives back all
    that is not given back yet. A certificate credited is left valid for `RENEWED_FOR` from now at
    least (one that expired meanwhile is renewed), so the money can be spent. Returns (certificate
    id, amount) per certificate credited."""
    spent = await repo.net_spent_on_order(conn, user_id, order_ref)
    total = sum(amount for _cert, amount in spent)
    wanted = total if amount_minor is None else amount_minor
    if wanted < 0 or wanted > total:
        raise RefundTooLarge()
    credited = _parts(spent, wanted)
    for cert_id, part in credited:
        await repo.add_ledger(conn, certificate_id=cert_id, kind="refund", delta_minor=part,
                              order_ref=order_ref, now=now)
        await certificates_repo.extend(conn, cert_id, renewed_until(now))  # never shortened
    return credited
