"""The operator's calls: granting coupons and certificates, creating codes and store offers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.db import coupons as repo
from bot.db import users as users_repo
from bot.db.coupons import Certificate, Scope, Terms, ValueKind
from bot.services.coupons.base import CouponBase
from bot.services.coupons.errors import NotAnAmount
from bot.services.coupons.results import GrantResult
from bot.services.coupons.terms import check_terms, normalise_code
from bot.services.errors import N_, InvalidInput, NotFound
from bot.services.money import check_currency

__all__ = [
    "Issuing",
]


class Issuing(CouponBase):
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
                                source: str = "grant", shop_id: int | None = None) -> Certificate:
        """A gift certificate in the user's wallet; `shop_id`: a shop's, paying only in its stores."""
        currency = check_currency(currency)
        if amount_minor <= 0:
            raise NotAnAmount()
        async with self.db.write() as conn:
            now = self.clock.now()
            if valid_to <= now:  # it would land among the expired ones, never to pay anything
                raise InvalidInput(N_("A gift certificate must be valid until a moment still to come."))
            if await users_repo.get(conn, user_id) is None:
                raise NotFound()
            cert_id = await repo.insert_certificate(
                conn, user_id=user_id, currency=currency, face_minor=amount_minor,
                valid_to=valid_to, title=title, source=source, now=now, shop_id=shop_id,
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
                raise InvalidInput(N_("A gift certificate is a fixed amount valid in every store."))
            check_currency(terms.currency)
            if not terms.amount_minor or terms.amount_minor <= 0:
                raise NotAnAmount()
        else:
            check_terms(terms)
        if max_uses is not None and max_uses < 1:
            raise InvalidInput(N_("A code must allow at least one use."))
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
        if terms.category is not None or terms.new_buyers_only or terms.campaign is not None:
            raise InvalidInput(N_("Extra conditions are for platform coupons."))
        if quantity is not None and quantity < 1:
            raise InvalidInput(N_("The quantity is at least 1."))
        async with self.db.write() as conn:
            return await repo.insert_offer(conn, terms=replace(terms, scope=Scope.store),
                                           quantity=quantity, now=self.clock.now())
