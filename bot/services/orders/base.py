"""What every side of the order service shares: its wiring, looking an order up through its
buyer, assembling the card, cancelling inside a unit of work, asking the carrier."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as repo
from bot.db import refunds as refunds_repo
from bot.db.engine import Database
from bot.db.orders import DisputeRead, ItemRow, OrderRow
from bot.db.refunds import RefundRow
from bot.integrations.carrier import DELIVERED, Carrier, CarrierEvent, DemoCarrier, Shipment
from bot.services import loyalty, refunds, webhook_events
from bot.services.clock import Clock
from bot.services.coupons.checkout import renews
from bot.services.errors import DomainError
from bot.services.orders.data import AddressSnapshot, OrderCard, card_snapshot
from bot.services.orders.states import (
    DELETABLE,
    TRACKING_KIND,
    Actor,
    CancelReason,
    OrderInBin,
    OrderNotFound,
    OrderPolicy,
    Status,
    can_transition,
    check_can_dispute,
    dispute_deadline,
    transition,
)
from bot.services.outbox import enqueue
from bot.services.refunds import CardLookup, RefundPreview, SnapshotCardLookup

__all__ = [
    "OrderBase",
]


log = logging.getLogger(__name__)
LevelOf = Callable[[Any, int], Awaitable[int]]


class OrderBase:
    def __init__(self, db: Database, clock: Clock, policy: OrderPolicy | None = None, *,
                 cards: CardLookup | None = None, carrier: Carrier | None = None,
                 level_of: LevelOf | None = None) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy or OrderPolicy()
        self.cards: CardLookup = cards or SnapshotCardLookup()
        self.carrier: Carrier = carrier or DemoCarrier()
        self._level_of = level_of
        # Called inside the cancelling unit of work, with (conn, user_id, order_ref = the order
        # number), when an order is cancelled before shipment, paid or not (by the buyer, the seller,
        # deletion or the payment timeout): the coupons it used are given back; and when an unpaid
        # one is: what gift certificates paid is given back (a paid one's is refunded). Wired in
        # bot/app.py.
        self.on_cancelled: list[Callable[[AsyncConnection, int, str], Awaitable[object]]] = []
        self.on_unpaid_cancelled: list[Callable[[AsyncConnection, int, str], Awaitable[object]]] = []

    async def level(self, conn: AsyncConnection, user_id: int) -> int:
        # looked up at call time, so tests (and the loyalty section) can replace loyalty.level_of
        return await (self._level_of or loyalty.level_of)(conn, user_id)

    # -- reading ------------------------------------------------------------------------------------
    async def _owned(self, conn: AsyncConnection, user_id: int, order_id: int) -> OrderRow:
        order = await repo.get(conn, order_id, user_id)
        if order is None:
            raise OrderNotFound()
        return order

    async def _active(self, conn: AsyncConnection, user_id: int, order_id: int) -> OrderRow:
        order = await self._owned(conn, user_id, order_id)
        if order.deleted_at is not None:
            raise OrderInBin()
        return order

    async def card(self, user_id: int, order_id: int) -> OrderCard:
        """The card: one statement (the order, store, items, dispute), and the refunds when it has any.
        The one reader of the card, after a read and after a write (inside the unit of work it reads
        on the unit's connection, so it shows what was just written)."""
        read = await repo.card_read(self.db, order_id, user_id)
        if read is None:
            raise OrderNotFound()
        refund_rows: list[RefundRow] = []
        if read.has_refunds:
            async with self.db.read() as conn:
                refund_rows = await refunds_repo.for_order(conn, order_id)
        return self._assemble(read.order, read.store, read.items, refund_rows, read.dispute, read.reviewed)

    def _assemble(self, order: OrderRow, store: str, items: Sequence[ItemRow], refund_rows: Sequence[RefundRow],
                  dispute: DisputeRead | None, reviewed: int) -> OrderCard:
        now = self.clock.now()
        status = Status(order.status)
        active = order.deleted_at is None
        can_dispute = False
        if active and dispute is None:
            try:
                check_can_dispute(order, now, self.policy)
                can_dispute = True
            except DomainError:
                can_dispute = False
        return OrderCard(
            order=order, store=store, items=tuple(items), address=AddressSnapshot.from_json(order.shipping_address),
            card=card_snapshot(order), refunds=tuple(refund_rows),
            dispute=dispute,
            now=now,
            can_cancel=active and can_transition(status, Status.cancelled),
            can_confirm=active and can_transition(status, Status.completed),
            can_track=bool(order.track_number),
            can_dispute=can_dispute,
            dispute_until=dispute_deadline(order, self.policy) if can_dispute else None,
            deletable=active and status in DELETABLE,
            dispute_window_days=self.policy.dispute_window.days,
            reviewed_items=reviewed,
        )

    async def _refund_preview(self, conn: AsyncConnection, order: OrderRow, amount: int) -> RefundPreview:
        """Where a refund of `amount` of a paid order would go: the card first, up to what it paid
        and has not had back; the rest to the gift certificates that paid at checkout."""
        now = self.clock.now()
        to_certificates = amount - await refunds.card_part(conn, order, amount)
        return await refunds.preview(
            conn, lookup=self.cards, user_id=order.user_id, card=card_snapshot(order), amount_minor=amount,
            currency=order.currency, level=await self.level(conn, order.user_id),
            days=self.policy.refund_days, fast_days=self.policy.refund_days_fast, now=now,
            certificates_minor=to_certificates,
            certificates_until=await renews(conn, order.user_id, order.number, to_certificates, now),
        )

    async def _refund(self, conn: AsyncConnection, order: OrderRow, amount_minor: int, *, reason: str,
                      dispute_id: int | None, now: datetime, seen: bool = False) -> list[RefundRow]:
        """Give `amount_minor` of a paid order back where it came from, inside the caller's unit of
        work: the card first, up to what it paid and has not had back; the rest to the gift
        certificates that paid at checkout (at once). The refunds, the card's first."""
        preview = await self._refund_preview(conn, order, amount_minor)
        rows = []
        if preview.card_minor > 0:
            rows.append(await refunds.issue(
                conn, order_id=order.id, number=order.number, user_id=order.user_id, reason=reason,
                dispute_id=dispute_id, refund=replace(preview, amount_minor=preview.card_minor, certificates_minor=0),
                card=card_snapshot(order), charge_id=order.paid_charge_id, now=now, seen=seen))
        if preview.certificates_minor > 0:
            rows.append(await refunds.to_certificates(conn, order=order, amount_minor=preview.certificates_minor,
                                                      reason=reason, dispute_id=dispute_id, now=now,
                                                      until=preview.certificates_until, seen=seen))
        for row in rows:  # the shop's webhook, when it listens: one paid outside the gateway is the shop's to pay
            await webhook_events.order_event(conn, order.id, webhook_events.REFUND_CREATED,
                                             {"refund": webhook_events.refund_data(row)}, now)
        return rows

    async def _cancel(self, user_id: int, order_id: int, reason: CancelReason, actor: Actor) -> OrderCard:
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._active(conn, user_id, order_id)
            await self._cancel_in(conn, order, reason, actor, now)
            return await self.card(user_id, order_id)

    async def _cancel_in(self, conn: AsyncConnection, order: OrderRow, reason: CancelReason, actor: Actor,
                         now: datetime) -> OrderRow:
        paid = order.paid_at is not None
        left = order.total_minor - await refunds_repo.refunded_total(conn, order.id) if paid else 0
        fresh = await transition(conn, order, Status.cancelled, actor=actor, now=now, note=reason.value,
                                 values={"cancel_reason": reason.value},
                                 push={"reason": reason.value, "refund_minor": max(left, 0)})
        if left > 0:
            await self._refund(conn, order, left, reason="cancel", dispute_id=None, now=now,
                               seen=actor == Actor.buyer)
        for hook in self.on_cancelled:
            await hook(conn, order.user_id, order.number)
        if not paid:
            for hook in self.on_unpaid_cancelled:
                await hook(conn, order.user_id, order.number)
        return fresh

    async def _poll(self, order: OrderRow, now: datetime) -> int | None:
        """Ask the carrier (outside any transaction) and store what is new. None: no answer."""
        assert order.track_number
        address = AddressSnapshot.from_json(order.shipping_address)
        shipment = Shipment(order.track_number, order.carrier or "", order.shipped_at or order.created_at,
                            address.city, address.country)
        try:
            found = await self.carrier.events(shipment, now)
        except Exception:  # a carrier's outage must not break the order card or the sweeper
            log.warning("carrier %s failed for order %s", order.carrier, order.id, exc_info=True)
            return None
        async with self.db.write() as conn:
            fresh = await repo.get(conn, order.id)
            if fresh is None or fresh.track_number != order.track_number:
                return 0
            new = await self._store_events(conn, fresh, found, "carrier", now)
            await repo.set_fields(conn, order.id, order.user_id, tracking_checked_at=now)
        return new

    async def _store_events(self, conn: AsyncConnection, order: OrderRow, events: Sequence[CarrierEvent],
                            source: str, now: datetime) -> int:
        new = 0
        delivered_at = None
        for event in events:
            event_id = await repo.add_tracking_event(
                conn, order.id, at=event.at, code=event.code, location=event.location[:128],
                description=event.description[:255], source=source,
            )
            if event_id is None:
                continue
            new += 1
            if event.code == DELIVERED:
                delivered_at = event.at
            await enqueue(conn, user_id=order.user_id, kind=TRACKING_KIND.key, payload={
                "order_id": order.id, "number": order.number, "event_id": event_id, "code": event.code,
                "location": event.location, "description": event.description, "at": event.at.isoformat(),
                "track_number": order.track_number, "carrier": order.carrier,
            }, dedupe_key=f"order:{order.id}:track:{event_id}", now=now)
        if delivered_at is not None and order.delivered_at is None:
            await repo.set_fields(conn, order.id, order.user_id, delivered_at=delivered_at)
        return new
