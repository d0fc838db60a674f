"""Paying an unpaid order with a card from the wallet (or a new one added on the way).

    options → (the buyer picks a card and confirms the amount) → pay:
      record the attempt → the gateway charges with the attempt's idempotency key → record the
      outcome: the order becomes awaiting shipment with the card (and the charge) on it.

**Record, then call, then reconcile.** Money moves at the gateway, outside our database, so the
attempt (order, idempotency key, amount, the card's snapshot) is committed in its own unit of work
*before* the gateway is called, and the outcome in another one after: paid and the attempt
succeeded together; a decline or a refusal recorded as such; a charge the order can no longer take
(cancelled while the gateway worked) given back ("voided"). When the outcome can't be recorded —
the gateway did not answer, the database refused the write, the process died — the attempt stays
`started`, and the buyer is told the payment is being checked. The sweeper (`reconcile`) asks the
gateway by the key about every such attempt older than RECONCILE_AFTER: a charge completes the
payment if the order can still be paid and is given back otherwise; no charge means the attempt
failed. Either way the buyer gets a push. The clock never cancels an order with an attempt whose
outcome is unknown (`bot/db/orders.due_unpaid`).

A double press charges once: the second press finds the order paid, or the attempt in progress.
A decline (or a failed attempt) moves the order to its next attempt, so trying again — after
topping the card up, say — is a new charge request rather than the cached decline. No transaction
is open while the gateway works.

A new card the buyer does not keep pays through `pay_once`: verified like any card (the $1 hold,
released by the sweeper), charged by its token, and never written to the wallet — a full wallet
is no obstacle, and nothing is left to delete afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as orders_repo
from bot.db import pay as attempts
from bot.db.engine import Database
from bot.db.orders import OrderRow
from bot.db.pay import AttemptRow
from bot.integrations.payments import (
    Charge,
    IdempotencyConflict,
    InvalidRequest,
    UnknownPayment,
    VerifiedCard,
)
from bot.services.backoff import doubling
from bot.services.cards import AddOutcome, AddRefused, Card, CardService, ExpiredCard, PaymentDeclined
from bot.services.cards.errors import GATEWAY_NO_ANSWER
from bot.services.cards.policy import CARD_LIMIT
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError
from bot.services.notifications import declare
from bot.services.orders import OrderInBin, OrderNotFound, OrderService, Status, check_transition
from bot.services.outbox import enqueue
from bot.services.refunds import CardSnapshot

log = logging.getLogger(__name__)

# A request may still be on its way to the gateway (a slow answer, a timeout on our side): the
# sweeper asks about an attempt only after this grace, well above the gateway client's timeout.
RECONCILE_AFTER = timedelta(minutes=2)
RECHECK_MAX = timedelta(hours=1)  # the gateway can't be asked: again after 2, 4, 8 … 60 minutes
# the push: the outcome of a payment that was being checked
PAYMENT_CHECKED_KIND = declare("payment_checked", order=12)


class PaymentInProgress(DomainError, msgid=N_("A payment for this order is already being processed. Open the order again in a minute.")): ...


class PaymentFailed(DomainError, msgid=GATEWAY_NO_ANSWER): ...


class PaymentBeingChecked(DomainError):
    """The card may have been charged, but the outcome is not recorded yet (the gateway did not
    answer, or the database refused the write): the sweeper finds out and tells the buyer."""

    msgid = N_("We could not confirm the payment yet. We are checking it with the payment service and will "
               "message you here as soon as it is settled; if the money was taken and the order can't "
               "take it any more, it goes back to the card. Please don't pay for this order again meanwhile.")


class CheckOutcome(StrEnum):
    paid = "paid"  # the charge went through and the order is paid
    failed = "failed"  # nothing was charged
    voided = "voided"  # charged, but the order could no longer be paid: the money is given back


@dataclass(frozen=True, slots=True)
class PayOptions:
    order: OrderRow
    cards: tuple[Card, ...]  # usable cards, the default first; expired cards are left out
    expired: int  # how many cards were left out because they expired
    wallet_full: bool = False  # a new card can pay this order only once: it takes no place in the wallet


@dataclass(frozen=True, slots=True)
class Paid:
    order: OrderRow
    card: CardSnapshot
    amount_minor: int
    currency: str
    card_kept: bool  # False: a new card used for this payment only, never in the wallet


@dataclass(frozen=True, slots=True)
class NewCard:
    """What became of a card verified at the end of the add-card flow (`PayService.new_card`)."""

    saved: AddOutcome | None = None  # kept in the wallet
    refused: AddRefused | None = None  # verified, but not saved (the limit or a duplicate); nothing paid
    paid: Paid | None = None  # the order it was added for is paid with it
    failed: DomainError | None = None  # the order was not paid (declined, paid meanwhile, being checked…)


def pays_once(order_id: int | None, save: bool) -> bool:
    """A new card added to pay an order and not to keep: it pays once and takes no place in the
    wallet (so it is verified as such: a full wallet is no obstacle)."""
    return bool(order_id) and not save


def pay_key(order: OrderRow) -> str:
    """The idempotency key of the order's current payment attempt."""
    return f"order:{order.id}:pay:{order.pay_attempts}"


def void_key(attempt: AttemptRow) -> str:
    return f"{attempt.idempotency_key}:void"


def _card_of(attempt: AttemptRow) -> CardSnapshot:
    return CardSnapshot(attempt.card_id, attempt.card_brand, attempt.card_last4, attempt.card_exp_month,
                        attempt.card_exp_year)


@dataclass(frozen=True, slots=True)
class _Recorded:
    """What recording a charge came to (inside the unit of work)."""

    paid: OrderRow | None = None  # the order, paid with this charge now
    refusal: DomainError | None = None  # the order could not take it (already paid with it, or cancelled…)
    void: bool = False  # the charge is not the order's: give the money back


class PayService:
    def __init__(self, db: Database, clock: Clock, cards: CardService, orders: OrderService) -> None:
        self.db = db
        self.clock = clock
        self.cards = cards
        self.orders = orders

    async def _payable(self, user_id: int, order_id: int) -> OrderRow:
        async with self.db.read() as conn:
            order = await orders_repo.get(conn, order_id, user_id)
            checking = order is not None and await attempts.outcome_unknown(conn, order_id)
        if order is None:
            raise OrderNotFound()
        if order.deleted_at is not None:
            raise OrderInBin()
        check_transition(Status(order.status), Status.awaiting_shipment)  # "already paid", "cancelled"…
        if checking:
            raise PaymentInProgress()
        return order

    async def options(self, user_id: int, order_id: int) -> PayOptions:
        """What the buyer may pay this order with. Raises when the order can't be paid."""
        order = await self._payable(user_id, order_id)
        wallet = await self.cards.wallet(user_id)
        usable = sorted((c for c in wallet if not c.expired), key=lambda c: not c.is_default)  # stable
        return PayOptions(order, tuple(usable), sum(1 for c in wallet if c.expired),
                          wallet_full=len(wallet) >= CARD_LIMIT)

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
        PaymentDeclined, PaymentInProgress, PaymentFailed, PaymentBeingChecked."""
        _order, wallet_card = await self.check(user_id, order_id, card_id)
        card = CardSnapshot(wallet_card.id, wallet_card.brand, wallet_card.last4, wallet_card.exp_month,
                            wallet_card.exp_year)
        order, attempt = await self._record(user_id, order_id, card, kept=True)
        charge = await self._charge(order, attempt, self.cards.charge(
            user_id, card_id, order.card_minor, order.currency, attempt.idempotency_key))
        return await self._settle(order, attempt, charge, card)

    async def pay_once(self, user_id: int, order_id: int, verified: VerifiedCard) -> Paid:
        """Pay with a card verified just now that the buyer does not keep (it never enters the
        wallet; its hold is recorded by `CardService.use_once`). The order remembers the card's
        brand, last 4 and expiry, and its refunds go back through the charge. Raises as `pay`."""
        await self._payable(user_id, order_id)
        card = CardSnapshot(None, str(verified.brand), verified.last4, verified.exp_month, verified.exp_year)
        order, attempt = await self._record(user_id, order_id, card, kept=False)
        charge = await self._charge(order, attempt, self.cards.charge_once(
            verified, order.card_minor, order.currency, attempt.idempotency_key))
        return await self._settle(order, attempt, charge, card)

    async def new_card(self, user_id: int, verified: VerifiedCard, *, order_id: int | None, save: bool,
                       replaces: int | None, leave: Callable[[], Awaitable[None]]) -> NewCard:
        """The end of the add-card flow — "pay with a new card" when it was started to pay an order:

        - no order: the card is saved (replacing `replaces`), or refused at the last moment;
        - an order, the card not to keep: its hold is recorded, and it pays once by its token;
        - an order, the card to keep: it is saved, then pays as a wallet card; refused → nothing paid.

        `leave` (leaving the flow) runs in the unit of work that records the card, so the two are
        atomic. The payment runs after that commit; its failure is returned, not raised."""
        if pays_once(order_id, save):
            assert order_id
            async with self.db.write():  # its hold is recorded (to be released) as the flow ends
                await self.cards.use_once(user_id, verified)
                await leave()
            return await self._paying(self.pay_once(user_id, order_id, verified))
        async with self.db.write():  # save and leave the flow atomically
            outcome = await self.cards.save(user_id, verified, replaces=replaces)
            await leave()
        if isinstance(outcome, AddRefused):
            return NewCard(refused=outcome)
        if not order_id:
            return NewCard(saved=outcome)
        return replace(await self._paying(self.pay(user_id, order_id, outcome.card.id)), saved=outcome)

    @staticmethod
    async def _paying(paying: Awaitable[Paid]) -> NewCard:
        try:
            return NewCard(paid=await paying)
        except DomainError as exc:  # declined, paid meanwhile, cancelled by the clock, being checked…
            return NewCard(failed=exc)

    # -- record, then call, then record the outcome ---------------------------------------------
    async def _record(self, user_id: int, order_id: int, card: CardSnapshot, *,
                      kept: bool) -> tuple[OrderRow, AttemptRow]:
        """The attempt, committed before the gateway hears of it (its own unit of work)."""
        if self.db.current_write() is not None:  # the gateway call must not run inside a transaction
            raise RuntimeError("a payment is started inside an open unit of work")
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await orders_repo.get(conn, order_id, user_id)
            if order is None:
                raise OrderNotFound()
            check_transition(Status(order.status), Status.awaiting_shipment)
            key = pay_key(order)
            started = await attempts.start(
                conn, order_id=order.id, user_id=user_id, idempotency_key=key, gateway=self.cards.gateway.name,
                amount_minor=order.card_minor, currency=order.currency, card_id=card.card_id,
                card_brand=card.brand, card_last4=card.last4, card_exp_month=card.exp_month,
                card_exp_year=card.exp_year, card_kept=kept, created_at=now, next_check_at=now + RECONCILE_AFTER,
            )
            attempt = await attempts.by_key(conn, key)
        if not started or attempt is None:  # a press racing another one with the same attempt
            raise PaymentInProgress()
        return order, attempt

    async def _charge(self, order: OrderRow, attempt: AttemptRow, charging: Awaitable[Charge]) -> Charge:
        try:
            return await charging
        except PaymentDeclined as exc:
            await self._nothing_charged(attempt, attempts.DECLINED)
            raise exc from None
        except DomainError:  # the card was deleted or expired meanwhile: the gateway was not asked
            await self._nothing_charged(attempt, attempts.FAILED)
            raise
        except (InvalidRequest, UnknownPayment):  # refused outright: nothing was charged
            log.warning("order %s: the gateway refused the charge request", order.id, exc_info=True)
            await self._nothing_charged(attempt, attempts.FAILED)
            raise PaymentFailed() from None
        except IdempotencyConflict:  # the key was used otherwise: the sweeper asks what it charged
            log.warning("order %s: the gateway knows attempt %s otherwise; left to the sweeper", order.id, attempt.id)
            raise PaymentInProgress() from None
        except Exception:  # no answer (a timeout, a dropped connection…): it may have charged
            log.warning("order %s: no answer from the gateway for attempt %s; the sweeper will ask",
                        order.id, attempt.id, exc_info=True)
            raise PaymentBeingChecked() from None

    async def _nothing_charged(self, attempt: AttemptRow, state: str) -> None:
        """The attempt took no money: settle it, and the order's next attempt gets a new key."""
        async with self.db.write() as conn:
            await self._close_without_charge(conn, attempt, state, self.clock.now())

    @staticmethod
    async def _close_without_charge(conn: AsyncConnection, attempt: AttemptRow, state: str,
                                    now: datetime) -> tuple[bool, OrderRow | None]:
        """Settled now (False: it was settled before), and the order as it is after."""
        if not await attempts.settle(conn, attempt.id, state, now):
            return False, None
        order = await orders_repo.get(conn, attempt.order_id, attempt.user_id)
        if order is not None and pay_key(order) == attempt.idempotency_key:
            await orders_repo.record_declined_payment(conn, order.id, order.user_id, order.pay_attempts)
            order = await orders_repo.get(conn, attempt.order_id, attempt.user_id)
        return True, order

    async def _record_charge(self, conn: AsyncConnection, attempt: AttemptRow, charge: Charge, now: datetime,
                             ) -> _Recorded:
        """Inside a unit of work: the order paid with the charge and the attempt succeeded; or,
        when the order can't take it, the attempt marked for the money to go back."""
        expected = (attempts.STARTED, attempts.FAILED)  # (failed: the sweeper asked before the charge landed)
        try:
            paid = await self.orders.mark_paid(attempt.user_id, attempt.order_id, _card_of(attempt), now,
                                               charge_id=charge.id)
        except DomainError as exc:
            fresh = await orders_repo.get(conn, attempt.order_id, attempt.user_id)
            if fresh is not None and fresh.paid_charge_id == charge.id:  # recorded already: paid, once
                await attempts.settle(conn, attempt.id, attempts.SUCCEEDED, now, expected=expected,
                                      charge_id=charge.id)
                return _Recorded(refusal=exc)
            # the order changed while the gateway worked (cancelled, say): the money goes back
            await attempts.settle(conn, attempt.id, attempts.VOIDING, now, expected=expected, charge_id=charge.id)
            return _Recorded(refusal=exc, void=True)
        await attempts.settle(conn, attempt.id, attempts.SUCCEEDED, now, expected=expected, charge_id=charge.id)
        return _Recorded(paid=paid)

    async def _settle(self, order: OrderRow, attempt: AttemptRow, charge: Charge, card: CardSnapshot) -> Paid:
        try:
            async with self.db.write() as conn:
                recorded = await self._record_charge(conn, attempt, charge, self.clock.now())
        except Exception:  # charged, but not recorded (the database is locked or full): the sweeper will
            log.warning("order %s: charged (attempt %s) but the outcome was not recorded; the sweeper will "
                        "settle it", order.id, attempt.id, exc_info=True)
            raise PaymentBeingChecked() from None
        if recorded.void:
            await self._void(attempt, charge.id, self.clock.now())
        if recorded.refusal is not None:
            raise recorded.refusal
        assert recorded.paid is not None
        return Paid(recorded.paid, card, charge.amount_minor, charge.currency, attempt.card_kept)

    async def _void(self, attempt: AttemptRow, charge_id: str, now: datetime) -> bool:
        """Give a charge the order could not take back. False: it stays for the sweeper."""
        try:
            await self.cards.refund(charge_id, attempt.amount_minor, attempt.currency, void_key(attempt))
        except Exception:
            log.warning("order %s: giving charge %s back failed; the sweeper will retry", attempt.order_id,
                        charge_id, exc_info=True)
            return False
        async with self.db.write() as conn:
            if await attempts.settle(conn, attempt.id, attempts.VOIDED, now, expected=(attempts.VOIDING,)):
                order = await orders_repo.get(conn, attempt.order_id, attempt.user_id)
                if order is not None:
                    await self._tell(conn, attempt, order, CheckOutcome.voided, now)
        return True

    # -- the sweeper ---------------------------------------------------------------------------
    async def unanswered(self, limit: int) -> tuple[int, list[attempts.UnansweredRow]]:
        """Payments whose outcome (or whose charge's return) the gateway could not be asked about at
        the last check: the sweeper asks again (at most hourly) for as long as it takes — money is
        never settled by guessing — and /ops shows them, so that someone looks at the gateway."""
        async with self.db.read() as conn:
            return await attempts.unanswered(conn, limit)

    async def reconcile(self, now: datetime, batch: int = 50) -> int:
        """Settle every attempt whose outcome is unknown (older than RECONCILE_AFTER) by asking the
        gateway by its key, and give back the charges orders could not take. Each settled attempt
        is pushed to the buyer. The gateway is called outside any transaction. Returns how many
        attempts were settled."""
        async with self.db.read() as conn:
            due = await attempts.due(conn, now, batch)
        done = 0
        for attempt in due:
            try:
                if attempt.state == attempts.STARTED:
                    done += await self._reconcile(attempt, now)
                elif attempt.charge_id is not None:
                    done += await self._void_due(attempt, now)
            except Exception as exc:
                log.warning("payment attempt %s: asking the gateway failed (%s); will retry", attempt.id,
                            type(exc).__name__)
                async with self.db.write() as conn:
                    wait = doubling(RECONCILE_AFTER, RECHECK_MAX, attempt.checks)
                    await attempts.postpone(conn, attempt.id, now + wait, type(exc).__name__)
        return done

    async def _reconcile(self, attempt: AttemptRow, now: datetime) -> int:
        charge = await self.cards.find_charge(attempt.idempotency_key)
        async with self.db.write() as conn:
            if charge is None:
                settled, order = await self._close_without_charge(conn, attempt, attempts.FAILED, now)
                if order is not None:
                    await self._tell(conn, attempt, order, CheckOutcome.failed, now)
                return int(settled)
            recorded = await self._record_charge(conn, attempt, charge, now)
            if recorded.paid is not None:
                await self._tell(conn, attempt, recorded.paid, CheckOutcome.paid, now)
        if recorded.void:
            await self._void(attempt, charge.id, now)
        return 1

    async def _void_due(self, attempt: AttemptRow, now: datetime) -> int:
        assert attempt.charge_id is not None
        refunded = await self.cards.refund(attempt.charge_id, attempt.amount_minor, attempt.currency,
                                           void_key(attempt))
        async with self.db.write() as conn:
            if not await attempts.settle(conn, attempt.id, attempts.VOIDED, now, expected=(attempts.VOIDING,)):
                return 0
            order = await orders_repo.get(conn, attempt.order_id, attempt.user_id)
            if order is not None:
                await self._tell(conn, attempt, order, CheckOutcome.voided, now)
        log.info("payment attempt %s: charge %s given back (%s)", attempt.id, attempt.charge_id, refunded.id)
        return 1

    @staticmethod
    async def _tell(conn: AsyncConnection, attempt: AttemptRow, order: OrderRow, outcome: CheckOutcome,
                    now: datetime) -> None:
        payable = order.status == Status.awaiting_payment and order.deleted_at is None
        await enqueue(
            conn, user_id=attempt.user_id, kind=PAYMENT_CHECKED_KIND.key,
            payload={"order_id": order.id, "number": order.number, "outcome": outcome.value,
                     "amount_minor": attempt.amount_minor, "currency": attempt.currency,
                     "brand": attempt.card_brand, "last4": attempt.card_last4, "payable": payable},
            dedupe_key=f"payment:{attempt.id}:{outcome.value}", now=now,
        )
