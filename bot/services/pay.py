"""Paying an unpaid order with a card from the wallet (or a new one added on the way).

    options → (the buyer picks a card and confirms the amount) → pay:
      the gateway charges with an idempotency key derived from the order and its attempt number
      → the order becomes awaiting shipment with the card (and the charge) recorded on it.

A double press charges once: the second press finds the order paid (or, if it raced the first,
sends the same idempotency key and gets the same charge back). A decline leaves the order unpaid
and moves it to its next attempt, so trying again — after topping the card up, say — is a new
charge request rather than the cached decline. No transaction is open while the gateway works.

A new card the buyer does not keep pays through `pay_once`: verified like any card (the $1 hold,
released by the sweeper), charged by its token, and never written to the wallet — a full wallet
is no obstacle, and nothing is left to delete afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from bot.db import orders as orders_repo
from bot.db.engine import Database
from bot.db.orders import OrderRow
from bot.integrations.payments import Charge, IdempotencyConflict, PaymentError, VerifiedCard
from bot.services.cards import Card, CardService, ExpiredCard, PaymentDeclined
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError
from bot.services.orders import OrderInBin, OrderNotFound, OrderService, Status, check_transition
from bot.services.refunds import CardSnapshot

log = logging.getLogger(__name__)


class PaymentInProgress(DomainError):
    msgid = N_("A payment for this order is already being processed. Open the order again in a minute.")


class PaymentFailed(DomainError):
    msgid = N_("The payment service did not answer. Nothing was charged; please try again in a few minutes.")


@dataclass(frozen=True, slots=True)
class PayOptions:
    order: OrderRow
    cards: tuple[Card, ...]  # usable cards, the default first; expired cards are left out
    expired: int  # how many cards were left out because they expired


@dataclass(frozen=True, slots=True)
class Paid:
    order: OrderRow
    card: CardSnapshot
    amount_minor: int
    currency: str
    card_kept: bool  # False: a new card used for this payment only, never in the wallet


def pay_key(order: OrderRow) -> str:
    """The idempotency key of the order's current payment attempt."""
    return f"order:{order.id}:pay:{order.pay_attempts}"


class PayService:
    def __init__(self, db: Database, clock: Clock, cards: CardService, orders: OrderService) -> None:
        self.db = db
        self.clock = clock
        self.cards = cards
        self.orders = orders

    async def _payable(self, user_id: int, order_id: int) -> OrderRow:
        async with self.db.read() as conn:
            order = await orders_repo.get(conn, order_id, user_id)
        if order is None:
            raise OrderNotFound()
        if order.deleted_at is not None:
            raise OrderInBin()
        check_transition(Status(order.status), Status.awaiting_shipment)  # "already paid", "cancelled"…
        return order

    async def options(self, user_id: int, order_id: int) -> PayOptions:
        """What the buyer may pay this order with. Raises when the order can't be paid."""
        order = await self._payable(user_id, order_id)
        wallet = await self.cards.wallet(user_id)
        usable = sorted((c for c in wallet if not c.expired), key=lambda c: not c.is_default)  # stable
        return PayOptions(order, tuple(usable), sum(1 for c in wallet if c.expired))

    async def check(self, user_id: int, order_id: int, card_id: int) -> tuple[OrderRow, Card]:
        """The confirm screen's data: raises when the order can't be paid or the card can't pay."""
        order = await self._payable(user_id, order_id)
        card = await self.cards.get(user_id, card_id)
        if card.expired:
            raise ExpiredCard()
        return order, card

    async def pay(self, user_id: int, order_id: int, card_id: int) -> Paid:
        """Charge a saved card for the order and mark it paid. Raises OrderNotFound, AlreadyDone
        ("This order is already paid"), ForbiddenTransition, CardNotFound, ExpiredCard,
        PaymentDeclined, PaymentInProgress, PaymentFailed."""
        order = await self._payable(user_id, order_id)
        key = pay_key(order)
        charge = await self._charge(order, key, self.cards.charge(user_id, card_id, order.total_minor,
                                                                 order.currency, key))
        snap = await self.cards.snapshot(user_id, card_id)
        card = CardSnapshot(snap.id, snap.brand, snap.last4, snap.exp_month, snap.exp_year)
        return await self._mark_paid(order, key, charge, card, kept=True)

    async def pay_once(self, user_id: int, order_id: int, verified: VerifiedCard) -> Paid:
        """Pay with a card verified just now that the buyer does not keep (it never enters the
        wallet; its hold is recorded by `CardService.use_once`). The order remembers the card's
        brand, last 4 and expiry, and its refunds go back through the charge. Raises as `pay`."""
        order = await self._payable(user_id, order_id)
        key = pay_key(order)
        charge = await self._charge(order, key, self.cards.charge_once(verified, order.total_minor,
                                                                      order.currency, key))
        card = CardSnapshot(None, str(verified.brand), verified.last4, verified.exp_month, verified.exp_year)
        return await self._mark_paid(order, key, charge, card, kept=False)

    async def _charge(self, order: OrderRow, key: str, charging: Awaitable[Charge]) -> Charge:
        try:
            return await charging
        except PaymentDeclined as exc:
            async with self.db.write() as conn:
                await orders_repo.record_declined_payment(conn, order.id, order.user_id, order.pay_attempts)
            raise exc from None
        except IdempotencyConflict:  # the same attempt is being paid with another card right now
            raise PaymentInProgress() from None
        except PaymentError:
            log.warning("order %s: the gateway failed to charge", order.id, exc_info=True)
            raise PaymentFailed() from None

    async def _mark_paid(self, order: OrderRow, key: str, charge: Charge, card: CardSnapshot, *,
                         kept: bool) -> Paid:
        user_id = order.user_id
        try:
            paid = await self.orders.mark_paid(user_id, order.id, card, charge_id=charge.id)
        except DomainError:
            async with self.db.read() as conn:
                fresh = await orders_repo.get(conn, order.id, user_id)
            if fresh is not None and fresh.paid_charge_id == charge.id:
                raise  # a second press of the same payment: it is paid, once ("already paid")
            # the order changed while the gateway worked (cancelled by the clock, say): give the money back
            await self.cards.refund(charge.id, charge.amount_minor, charge.currency, f"{key}:void")
            raise
        return Paid(paid, card, charge.amount_minor, charge.currency, kept)
