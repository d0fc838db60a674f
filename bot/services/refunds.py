"""Refunds return where the money came from: to the card that paid. When that card has expired or
was deleted, the bank credits the account the card belonged to — the buyer is told so.

The card's state comes through a `CardLookup` (the cards section plugs in the real one, which knows
deleted cards); the default one only knows what the order's snapshot says (its expiry).

A refund is recorded (and the buyer told) in the unit of work that decided it; paying it out is the
sweeper's: `RefundService.pay_out_due` sends each pending refund of a gateway charge to
`PaymentGateway.refund` — outside any transaction, with the idempotency key "refund:<id>", so a
retry after a crash or a timeout never refunds twice — and completes it (and tells the buyer) when
the gateway says the money went back. A refund the gateway has accepted but not finished is asked
about again later; a temporary failure is retried with a growing pause; a refusal (an unknown
charge, more than was paid…) stops the retries and waits for an operator (`order refunds`,
`order refund-retry`, `order refund-done`). A refund of an order paid outside the gateway (the
operator's `order pay`) has no charge: an operator completes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as orders_repo
from bot.db import refunds as repo
from bot.db.engine import Database
from bot.db.orders import OrderRow
from bot.db.refunds import RefundRow
from bot.integrations.payments import (
    CardDeclined,
    IdempotencyConflict,
    InvalidRequest,
    PaymentGateway,
    RefundStatus,
    UnknownPayment,
)
from bot.integrations.payments import Refund as GatewayRefund
from bot.services import loyalty
from bot.services.backoff import doubling
from bot.services.clock import Clock, after_month
from bot.services.coupons.checkout import credit_back
from bot.services.errors import N_, DomainError, NotFound
from bot.services.notifications import declare
from bot.services.outbox import enqueue

log = logging.getLogger(__name__)

REFUND_KIND = declare("refund", N_("Refunds"), order=13)
RETRY_FIRST = timedelta(minutes=5)  # a temporary failure: try again after 5 min, 10, 20… up to
RETRY_MOST = timedelta(hours=6)
POLL_EVERY = timedelta(hours=1)  # a refund the gateway accepted but has not finished

class CardState(StrEnum):
    active = "active"
    expired = "expired"
    deleted = "deleted"
    unknown = "unknown"


@dataclass(frozen=True, slots=True)
class CardSnapshot:
    """The paying card as the order remembers it."""

    card_id: int | None
    brand: str
    last4: str
    exp_month: int | None = None
    exp_year: int | None = None

    def expired(self, now: datetime) -> bool:
        """A card is valid through the last moment of its expiry month."""
        if not self.exp_month or not self.exp_year:
            return False
        return now >= after_month(self.exp_year, self.exp_month)


class CardLookup(Protocol):
    async def card_state(self, conn: AsyncConnection, user_id: int, card: CardSnapshot,
                         now: datetime) -> CardState:
        """What became of the card that paid: still there, expired, deleted, or unknown."""
        ...


class SnapshotCardLookup:
    """Knows only the snapshot: expired after its expiry month, otherwise active."""

    async def card_state(self, conn: AsyncConnection, user_id: int, card: CardSnapshot,
                         now: datetime) -> CardState:
        return CardState.expired if card.expired(now) else CardState.active


class RefundTo(StrEnum):
    card = "card"  # back to the card that paid
    bank_account = "bank_account"  # the card expired or was deleted: its bank account
    original = "original"  # the order has no card on record: the original payment method
    certificate = "certificate"  # the gift certificates that paid part of it at checkout: at once


@dataclass(frozen=True, slots=True)
class RefundDestination:
    to: RefundTo
    card_state: CardState
    brand: str | None = None
    last4: str | None = None


def refund_destination(card: CardSnapshot | None, state: CardState) -> RefundDestination:
    """Where a refund goes and what to tell the buyer about it (the one place this is decided)."""
    if card is None:
        return RefundDestination(RefundTo.original, CardState.unknown)
    if state in (CardState.expired, CardState.deleted):
        return RefundDestination(RefundTo.bank_account, state, card.brand, card.last4)
    return RefundDestination(RefundTo.card, state, card.brand, card.last4)


def refund_eta(now: datetime, level: int, days: int, fast_days: int) -> datetime:
    """When a refund is expected: `fast_days` from the fast-refund loyalty level, else `days`."""
    return now + timedelta(days=fast_days if loyalty.fast_refunds(level) else days)


@dataclass(frozen=True, slots=True)
class RefundPreview:
    amount_minor: int
    currency: str
    destination: RefundDestination  # where the card's part goes (RefundTo.certificate: there is none)
    expected_at: datetime
    fast: bool
    certificates_minor: int = 0  # the part of `amount_minor` that goes back to gift certificates, at once
    certificates_until: datetime | None = None  # a certificate it goes back to is renewed until then

    @property
    def card_minor(self) -> int:
        return self.amount_minor - self.certificates_minor


class RefundNotFound(NotFound, msgid=N_("This refund is no longer available.")): ...


class RefundAlreadyCompleted(DomainError, msgid=N_("This refund has already been completed.")): ...


class GatewayPaysIt(DomainError, msgid=N_("The payment gateway pays this refund back to the card and says when it has.")): ...


async def preview(conn: AsyncConnection, *, lookup: CardLookup, user_id: int, card: CardSnapshot | None,
                  amount_minor: int, currency: str, level: int, days: int, fast_days: int,
                  now: datetime, certificates_minor: int = 0,
                  certificates_until: datetime | None = None) -> RefundPreview:
    """Where a refund of `amount_minor` would go and when: `certificates_minor` of it to gift
    certificates (at once; renewed until `certificates_until` when one would be), the rest to the
    card."""
    if certificates_minor >= amount_minor:
        return RefundPreview(amount_minor, currency, RefundDestination(RefundTo.certificate, CardState.unknown),
                             expected_at=now, fast=False, certificates_minor=amount_minor,
                             certificates_until=certificates_until)
    state = await lookup.card_state(conn, user_id, card, now) if card is not None else CardState.unknown
    return RefundPreview(
        amount_minor=amount_minor, currency=currency, destination=refund_destination(card, state),
        expected_at=refund_eta(now, level, days, fast_days), fast=loyalty.fast_refunds(level),
        certificates_minor=certificates_minor, certificates_until=certificates_until,
    )


async def issue(conn: AsyncConnection, *, order_id: int, number: str, user_id: int, reason: str,
                dispute_id: int | None, refund: RefundPreview, card: CardSnapshot | None,
                charge_id: str | None, now: datetime, seen: bool = False, completed: bool = False,
                told: dict[str, Any] | None = None) -> RefundRow:
    """Record a refund and its push, inside the caller's unit of work. With the gateway's
    `charge_id` the sweeper pays it out at its next run. `seen`: the buyer's own action (a
    cancellation) showed them the refund: its "issued" push is kept for the message centre only.
    `completed`: the money is back already (gift certificates); `told`: more for its push."""
    dest = refund.destination
    refund_id = await repo.insert(
        conn, order_id=order_id, user_id=user_id, dispute_id=dispute_id,
        amount_minor=refund.amount_minor, currency=refund.currency, reason=reason,
        destination=dest.to.value, card_state=dest.card_state.value,
        card_id=card.card_id if card else None, card_brand=dest.brand, card_last4=dest.last4,
        state="completed" if completed else "pending", completed_at=now if completed else None,
        created_at=now, expected_at=refund.expected_at,
        charge_id=charge_id, next_attempt_at=now if charge_id else None,
    )
    row = await repo.get(conn, refund_id)
    assert row is not None
    await enqueue(conn, user_id=user_id, kind=REFUND_KIND.key, payload={**refund_payload(row, number, "issued"),
                                                                       **(told or {})},
                  dedupe_key=f"refund:{refund_id}:issued", now=now, seen=seen)
    await loyalty.on_refund(conn, order_id=order_id, refund_id=refund_id, now=now)  # points back, in proportion
    return row


async def to_certificates(conn: AsyncConnection, *, order: OrderRow, amount_minor: int, reason: str,
                          dispute_id: int | None, now: datetime, until: datetime | None,
                          seen: bool = False) -> RefundRow:
    """Give `amount_minor` of a paid order back to the gift certificates that paid for it, inside
    the caller's unit of work: at once (their ledger), recorded as a completed refund and told
    (`until`: the date a certificate is renewed to, as the refund's preview found it)."""
    await credit_back(conn, order.user_id, order.number, amount_minor, now)
    preview = RefundPreview(amount_minor, order.currency, RefundDestination(RefundTo.certificate, CardState.unknown),
                            expected_at=now, fast=False, certificates_minor=amount_minor)
    return await issue(conn, order_id=order.id, number=order.number, user_id=order.user_id, reason=reason,
                       dispute_id=dispute_id, refund=preview, card=None, charge_id=None, now=now, seen=seen,
                       completed=True, told={"renewed_until": until.isoformat()} if until else None)


async def card_part(conn: AsyncConnection, order: OrderRow, amount_minor: int) -> int:
    """How much of a refund of `amount_minor` goes back to the card: what the card paid and has not
    had back, at most."""
    return max(0, min(amount_minor, order.card_minor - await repo.refunded_to_card(conn, order.id)))


def refund_payload(row: RefundRow, number: str, step: str) -> dict[str, Any]:
    return {
        "refund_id": row.id, "order_id": row.order_id, "number": number, "step": step,
        "amount_minor": row.amount_minor, "currency": row.currency, "reason": row.reason,
        "destination": row.destination, "card_state": row.card_state, "brand": row.card_brand,
        "last4": row.card_last4, "expected_at": row.expected_at.isoformat(),
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
    }


class Payout(StrEnum):
    """Where a pending refund's payout stands (the one place this is read from its columns)."""

    outside = "outside"  # no gateway charge: an operator pays it and says so (refund-done)
    operator = "operator"  # the gateway refused it, or could not pay it: an operator decides
    accepted = "accepted"  # the gateway accepted it and has not finished: asked again later
    queued = "queued"  # to be sent (again) to the gateway at `next_attempt_at`


def payout(row: RefundRow) -> Payout:
    if row.charge_id is None:
        return Payout.outside
    if row.next_attempt_at is None:
        return Payout.operator
    return Payout.accepted if row.gateway_refund_id is not None else Payout.queued


@dataclass(frozen=True, slots=True)
class PendingRefund:
    """A refund not completed yet, as the operator sees it (/ops and `main.py order refunds`)."""

    id: int
    number: str  # the order's
    amount_minor: int
    currency: str
    where: Payout
    attempts: int  # failed tries at the gateway so far
    last_error: str | None
    gateway_refund_id: str | None  # when the gateway accepted it
    next_attempt_at: datetime | None


class RefundNotRetriable(DomainError, msgid=N_("This refund can't be sent to the payment service again: it has no charge, or it is completed.")): ...


def retry_pause(attempts: int) -> timedelta:
    """The pause after the `attempts`-th temporary failure: 5 min, 10, 20… at most 6 h."""
    return doubling(RETRY_FIRST, RETRY_MOST, attempts - 1)


_REFUSED = (InvalidRequest, UnknownPayment, IdempotencyConflict)


class RefundService:
    """Paying refunds out through the gateway (the sweeper), and the shop side: an operator (or,
    later, the shop API) confirms a refund paid outside the gateway, or sends a stuck one again."""

    def __init__(self, db: Database, clock: Clock, gateway: PaymentGateway) -> None:
        self.db = db
        self.clock = clock
        self.gateway = gateway

    async def complete(self, refund_id: int, *, outside_only: bool = False) -> RefundRow:
        """The refund was paid out. `outside_only` (the shop API): only one of an order paid outside
        the gateway — the gateway pays its own, and says when it has."""
        now = self.clock.now()
        async with self.db.write() as conn:
            row = await repo.get(conn, refund_id)
            if row is None:
                raise RefundNotFound()
            if outside_only and row.charge_id is not None and row.state != "completed":
                raise GatewayPaysIt()
            if not await repo.complete(conn, refund_id, now):
                raise RefundAlreadyCompleted()
            return await self._completed(conn, refund_id, now)

    async def _completed(self, conn: AsyncConnection, refund_id: int, now: datetime) -> RefundRow:
        row = await repo.get(conn, refund_id)
        assert row is not None
        order = await orders_repo.get(conn, row.order_id)
        number = order.number if order else ""
        await enqueue(conn, user_id=row.user_id, kind=REFUND_KIND.key, payload=refund_payload(row, number, "completed"),
                      dedupe_key=f"refund:{refund_id}:completed", now=now)
        return row

    async def retry(self, refund_id: int) -> RefundRow:
        """Send a pending refund of a gateway charge to the gateway again at the next sweep."""
        now = self.clock.now()
        async with self.db.write() as conn:
            if await repo.get(conn, refund_id) is None:
                raise RefundNotFound()
            if not await repo.rearm(conn, refund_id, now):
                raise RefundNotRetriable()
            row = await repo.get(conn, refund_id)
        assert row is not None
        return row

    async def pending(self, limit: int = 100) -> list[PendingRefund]:
        """Refunds not completed yet, oldest first, with where each payout stands (the operator's list)."""
        async with self.db.read() as conn:
            rows = await repo.pending(conn, limit)
        return [PendingRefund(r.id, number, r.amount_minor, r.currency, payout(r), r.attempts, r.last_error,
                              r.gateway_refund_id, r.next_attempt_at) for r, number in rows]

    # -- the sweeper ------------------------------------------------------------------------------
    async def pay_out_due(self, now: datetime, batch: int = 50) -> int:
        """Send the due refunds to the gateway (or ask about the ones it accepted), one at a time
        and outside any transaction; each answer is written in its own. Returns how many refunds
        were completed. Idempotent: the gateway refunds a key once, a completed row stays so."""
        async with self.db.read() as conn:
            due = await repo.due(conn, now, batch)
        completed = 0
        for row in due:
            completed += await self._pay_out(row, now)
        return completed

    async def _pay_out(self, row: RefundRow, now: datetime) -> int:
        assert row.charge_id is not None
        try:
            if row.gateway_refund_id is None:
                answer = await self.gateway.refund(row.charge_id, row.amount_minor, row.currency,
                                                   idempotency_key=f"refund:{row.id}")
            else:
                answer = await self.gateway.get_refund(row.gateway_refund_id)
        except _REFUSED as exc:
            log.error("refund %s: the gateway refused it (%s); an operator has to look", row.id, type(exc).__name__)
            await self._failed(row, f"refused: {type(exc).__name__}", None)
            return 0
        except CardDeclined as exc:
            if exc.temporary:
                await self._failed(row, f"declined: {exc.reason.value}", now + retry_pause(row.attempts + 1))
            else:
                log.error("refund %s: declined (%s); an operator has to look", row.id, exc.reason.value)
                await self._failed(row, f"declined: {exc.reason.value}", None)
            return 0
        except Exception as exc:  # the gateway did not answer: the same key is safe to send again
            log.warning("refund %s: the gateway failed (%s); will retry", row.id, type(exc).__name__)
            await self._failed(row, f"error: {type(exc).__name__}", now + retry_pause(row.attempts + 1))
            return 0
        return await self._answered(row, answer, now)

    async def _failed(self, row: RefundRow, error: str, next_attempt_at: datetime | None) -> None:
        async with self.db.write() as conn:
            await repo.record_attempt(conn, row.id, gateway_refund_id=None, submitted_at=None,
                                      next_attempt_at=next_attempt_at, last_error=error[:120], failed=True)

    async def _answered(self, row: RefundRow, answer: GatewayRefund, now: datetime) -> int:
        submitted_at = row.submitted_at or now
        async with self.db.write() as conn:
            if answer.status is RefundStatus.succeeded:
                await repo.record_attempt(conn, row.id, gateway_refund_id=answer.id, submitted_at=submitted_at,
                                          next_attempt_at=None, last_error=None, failed=False)
                if not await repo.complete(conn, row.id, now):
                    return 0  # an operator completed it meanwhile
                await self._completed(conn, row.id, now)
                return 1
            if answer.status is RefundStatus.failed:
                log.error("refund %s: the gateway could not pay it out; an operator has to look", row.id)
                await repo.record_attempt(conn, row.id, gateway_refund_id=answer.id, submitted_at=submitted_at,
                                          next_attempt_at=None, last_error="failed at the gateway", failed=True)
                return 0
            await repo.record_attempt(conn, row.id, gateway_refund_id=answer.id, submitted_at=submitted_at,
                                      next_attempt_at=now + POLL_EVERY, last_error=None, failed=False)
            return 0
