"""The buyer's side: the wallet, redeeming a code, collecting a store coupon; failed attempts are
forgotten after a day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import coupons as repo
from bot.db.coupons import Certificate, Code, Coupon
from bot.services.coupons.base import (
    ATTEMPT_WINDOW,
    KEEP_ATTEMPTS,
    MAX_FAILED_ATTEMPTS,
    PAGE_SIZE,
    CouponBase,
)
from bot.services.coupons.errors import (
    CampaignTaken,
    CertificateNotFound,
    CodeAlreadyYours,
    CodeExpired,
    CodeForeign,
    CodeNotYetValid,
    CodeUnknown,
    CodeUsedUp,
    CouponNotFound,
    OfferAlreadyCollected,
    OfferGone,
    OfferSoldOut,
    TooManyAttempts,
)
from bot.services.coupons.results import CertificateCard, Item, Redeemed, Tab, WalletPage, certificate_tab
from bot.services.coupons.terms import normalise_code
from bot.services.errors import DomainError

__all__ = [
    "WalletSide",
]


class WalletSide(CouponBase):
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
                items += (await repo.wallet_read(self.db, user_id, tab.key, now, limit=room, offset=offset)).coupons
        return WalletPage(tab, page, pages, counts, tuple(items), now, start)

    async def coupon(self, user_id: int, coupon_id: int) -> Coupon:
        async with self.db.read() as conn:
            coupon = await repo.get_coupon(conn, user_id, coupon_id)
        if coupon is None:
            raise CouponNotFound()
        return coupon

    async def for_this_buyer(self, user_id: int, coupon: Coupon) -> bool:
        """Whether the buyer meets the coupon's conditions on who they are: a coupon for new buyers
        only is not for one who has paid an order (checkout never offers it; its card says so)."""
        if not coupon.terms.new_buyers_only:
            return True
        async with self.db.read() as conn:
            new_buyer, _ = await repo.buyer_and_shop(conn, user_id, coupon.terms.store_id or 0)
        return new_buyer

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

    async def prune_attempts(self, now: datetime) -> int:
        """Sweeper: forget failed code attempts older than a day."""
        async with self.db.write() as conn:
            return await repo.prune_attempts(conn, now - KEEP_ATTEMPTS)
