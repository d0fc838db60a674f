"""Refunds return where the money came from: to the card that paid. When that card has expired or
was deleted, the bank credits the account the card belonged to — the buyer is told so.

The card's state comes through a `CardLookup` (the cards section plugs in the real one, which knows
deleted cards); the default one only knows what the order's snapshot says (its expiry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as orders_repo
from bot.db import refunds as repo
from bot.db.engine import Database
from bot.db.refunds import RefundRow
from bot.services import loyalty
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, NotFound
from bot.services.outbox import enqueue


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
        year, month = (self.exp_year + 1, 1) if self.exp_month == 12 else (self.exp_year, self.exp_month + 1)
        return now >= datetime(year, month, 1, tzinfo=UTC)


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
    destination: RefundDestination
    expected_at: datetime
    fast: bool


class RefundNotFound(NotFound):
    msgid = N_("This refund is no longer available.")


class RefundAlreadyCompleted(DomainError):
    msgid = N_("This refund has already been completed.")


async def preview(conn: AsyncConnection, *, lookup: CardLookup, user_id: int, card: CardSnapshot | None,
                  amount_minor: int, currency: str, level: int, days: int, fast_days: int,
                  now: datetime) -> RefundPreview:
    state = await lookup.card_state(conn, user_id, card, now) if card is not None else CardState.unknown
    return RefundPreview(
        amount_minor=amount_minor, currency=currency, destination=refund_destination(card, state),
        expected_at=refund_eta(now, level, days, fast_days), fast=loyalty.fast_refunds(level),
    )


async def issue(conn: AsyncConnection, *, order_id: int, number: str, user_id: int, reason: str,
                dispute_id: int | None, refund: RefundPreview, card: CardSnapshot | None,
                now: datetime) -> RefundRow:
    """Record a refund and its push, inside the caller's unit of work."""
    dest = refund.destination
    refund_id = await repo.insert(
        conn, order_id=order_id, user_id=user_id, dispute_id=dispute_id,
        amount_minor=refund.amount_minor, currency=refund.currency, reason=reason,
        destination=dest.to.value, card_state=dest.card_state.value,
        card_id=card.card_id if card else None, card_brand=dest.brand, card_last4=dest.last4,
        state="pending", created_at=now, expected_at=refund.expected_at,
    )
    row = await repo.get(conn, refund_id)
    assert row is not None
    await enqueue(conn, user_id=user_id, kind="refund", payload=refund_payload(row, number, "issued"),
                  dedupe_key=f"refund:{refund_id}:issued", now=now)
    await loyalty.on_refund(conn, order_id=order_id, refund_id=refund_id, now=now)  # points back, in proportion
    return row


def refund_payload(row: RefundRow, number: str, step: str) -> dict[str, Any]:
    return {
        "refund_id": row.id, "order_id": row.order_id, "number": number, "step": step,
        "amount_minor": row.amount_minor, "currency": row.currency, "reason": row.reason,
        "destination": row.destination, "card_state": row.card_state, "brand": row.card_brand,
        "last4": row.card_last4, "expected_at": row.expected_at.isoformat(),
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
    }


class RefundService:
    """The shop side: the payment gateway (or an operator) confirms a refund went through."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def complete(self, refund_id: int) -> RefundRow:
        now = self.clock.now()
        async with self.db.write() as conn:
            row = await repo.get(conn, refund_id)
            if row is None:
                raise RefundNotFound()
            if not await repo.complete(conn, refund_id, now):
                raise RefundAlreadyCompleted()
            row = await repo.get(conn, refund_id)
            assert row is not None
            order = await orders_repo.get(conn, row.order_id)
            number = order.number if order else ""
            await enqueue(conn, user_id=row.user_id, kind="refund",
                          payload=refund_payload(row, number, "completed"),
                          dedupe_key=f"refund:{refund_id}:completed", now=now)
        return row
