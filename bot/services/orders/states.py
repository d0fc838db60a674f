"""The order's state machine and policy: statuses and tabs, which transitions are allowed and
why not, the errors, the dispute window, and `transition`, the one conditional move (history row,
status push, points and review reminders in the caller's unit of work) the disputes service
shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as repo
from bot.db.orders import OrderRow
from bot.services import loyalty, reviews, seller_news, webhook_events
from bot.services import reminders as reminders_rules
from bot.services.errors import N_, DomainError, NotFound
from bot.services.notifications import Category, declare
from bot.services.outbox import enqueue
from bot.services.seller_news import News

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "BUYER_CANCEL_REASONS",
    "DELETABLE",
    "PROTECTION_KIND",
    "STAMP",
    "STATUS_KIND",
    "TRACKING_KIND",
    "TRANSITIONS",
    "Actor",
    "AlreadyDone",
    "CancelReason",
    "CannotDelete",
    "DisputeWindowClosed",
    "ForbiddenTransition",
    "NoTracking",
    "NotInBin",
    "OrderInBin",
    "OrderNotFound",
    "OrderPolicy",
    "OrderTab",
    "Status",
    "check_can_delete",
    "check_can_dispute",
    "check_transition",
    "push_status",
    "transition",
]


STATUS_KIND = declare("order_status", N_("Order status changes"), order=10)
TRACKING_KIND = declare("order_tracking", N_("Parcel tracking updates"), order=11)


class Status(StrEnum):
    awaiting_payment = "awaiting_payment"
    awaiting_shipment = "awaiting_shipment"
    shipped = "shipped"
    completed = "completed"
    cancelled = "cancelled"
    in_dispute = "in_dispute"
    closed = "closed"


class Actor(StrEnum):
    buyer = "buyer"
    seller = "seller"
    system = "system"
    platform = "platform"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.awaiting_payment: frozenset({Status.awaiting_shipment, Status.cancelled}),
    Status.awaiting_shipment: frozenset({Status.shipped, Status.cancelled}),
    Status.shipped: frozenset({Status.completed, Status.in_dispute}),
    Status.completed: frozenset({Status.in_dispute}),
    Status.in_dispute: frozenset({Status.closed}),
    Status.cancelled: frozenset(),
    Status.closed: frozenset(),
}

# the column stamped when an order enters a status
STAMP: dict[Status, str] = {
    Status.awaiting_payment: "created_at",
    Status.awaiting_shipment: "paid_at",
    Status.shipped: "shipped_at",
    Status.completed: "completed_at",
    Status.cancelled: "cancelled_at",
    Status.in_dispute: "disputed_at",
    Status.closed: "closed_at",
}

DELETABLE = frozenset({Status.awaiting_payment, Status.cancelled, Status.completed, Status.closed})


class OrderTab(StrEnum):
    all = "all"
    unpaid = "unpaid"
    to_ship = "to_ship"
    shipped = "shipped"
    in_dispute = "in_dispute"
    completed = "completed"
    cancelled = "cancelled"


TAB_STATUSES: dict[OrderTab, tuple[Status, ...] | None] = {
    OrderTab.all: None,
    OrderTab.unpaid: (Status.awaiting_payment,),
    OrderTab.to_ship: (Status.awaiting_shipment,),
    OrderTab.shipped: (Status.shipped,),
    OrderTab.in_dispute: (Status.in_dispute,),
    OrderTab.completed: (Status.completed, Status.closed),
    OrderTab.cancelled: (Status.cancelled,),
}


class CancelReason(StrEnum):
    # the buyer's choices
    changed_mind = "changed_mind"
    found_cheaper = "found_cheaper"
    wrong_details = "wrong_details"
    too_long = "too_long"
    seller_asked = "seller_asked"
    other = "other"
    # the shop's and the clock's
    out_of_stock = "out_of_stock"
    payment_timeout = "payment_timeout"
    deleted = "deleted"  # an unpaid order the buyer deleted


BUYER_CANCEL_REASONS: tuple[CancelReason, ...] = (
    CancelReason.changed_mind, CancelReason.found_cheaper, CancelReason.wrong_details,
    CancelReason.too_long, CancelReason.seller_asked, CancelReason.other,
)


# -- errors ---------------------------------------------------------------------------------------
class OrderNotFound(NotFound, msgid=N_("This order is no longer available.")): ...


class ForbiddenTransition(DomainError, msgid=N_("This can't be done with the order in its current state.")): ...


class AlreadyDone(ForbiddenTransition):
    """The order is already where the action would take it (a double tap, a race)."""


class DisputeWindowClosed(ForbiddenTransition, msgid=N_("A dispute can be opened within {days} days after the order is completed; that time has passed.")): ...


class CannotDelete(DomainError, msgid=N_("This order can't be deleted.")): ...


class OrderInBin(DomainError, msgid=N_("This order is in Deleted orders. Restore it first.")): ...


class NotInBin(ForbiddenTransition, msgid=N_("Only an order in Deleted orders can be deleted for good.")): ...


class NoTracking(DomainError, msgid=N_("This order has no track number yet: it appears once the seller ships the order.")): ...


_ALREADY: dict[Status, str] = {
    Status.awaiting_shipment: N_("This order is already paid."),
    Status.shipped: N_("This order has already been shipped."),
    Status.completed: N_("You have already confirmed receipt of this order."),
    Status.cancelled: N_("This order is already cancelled."),
    Status.in_dispute: N_("A dispute is already open on this order."),
    Status.closed: N_("The dispute on this order is already closed."),
}

_NO_RECEIPT_YET = N_("This order hasn't been shipped yet, so there is no receipt to confirm.")
_DISPUTE_AFTER_SHIPPING = N_("A dispute can be opened once the order has been shipped. Until then you can cancel it.")

# (target, current) → why not; otherwise the target's default below
_FORBIDDEN: dict[tuple[Status, Status], str] = {
    (Status.cancelled, Status.shipped): N_("This order has already been shipped and can't be cancelled. If something goes wrong, you can open a dispute."),
    (Status.cancelled, Status.in_dispute): N_("This order has an open dispute and can't be cancelled."),
    (Status.completed, Status.awaiting_payment): _NO_RECEIPT_YET,
    (Status.completed, Status.awaiting_shipment): _NO_RECEIPT_YET,
    (Status.completed, Status.in_dispute): N_("This order has an open dispute; it is completed by the dispute's decision."),
    (Status.in_dispute, Status.awaiting_payment): _DISPUTE_AFTER_SHIPPING,
    (Status.in_dispute, Status.awaiting_shipment): _DISPUTE_AFTER_SHIPPING,
    (Status.in_dispute, Status.cancelled): N_("This order was cancelled; there is nothing to dispute."),
    (Status.in_dispute, Status.closed): _ALREADY[Status.closed],
    (Status.awaiting_shipment, Status.cancelled): N_("This order was cancelled and can no longer be paid."),
    (Status.shipped, Status.awaiting_payment): N_("This order isn't paid yet, so it can't be shipped."),
}
_FORBIDDEN_TO: dict[Status, str] = {
    Status.cancelled: N_("This order is finished and can no longer be cancelled."),
    Status.completed: N_("Only an order on its way can be confirmed as received."),
    Status.in_dispute: N_("A dispute can't be opened for this order."),
    Status.awaiting_shipment: N_("This order is not awaiting payment."),
    Status.shipped: N_("Only a paid order waiting for shipment can be shipped."),
    Status.closed: N_("There is no open dispute on this order."),
}


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: Status, target: Status) -> None:
    """Raise the error a person should see when `current → target` is not allowed."""
    if target in TRANSITIONS[current]:
        return
    if current == target and target in _ALREADY:
        raise AlreadyDone(_ALREADY[target])
    raise ForbiddenTransition(_FORBIDDEN.get((target, current)) or _FORBIDDEN_TO.get(target))


# -- policy ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderPolicy:
    unpaid_ttl: timedelta = timedelta(hours=24)
    protection: timedelta = timedelta(days=60)
    dispute_window: timedelta = timedelta(days=15)
    refund_days: int = 10
    refund_days_fast: int = 3
    decision_days: int = 10
    decision_days_priority: int = 5
    return_send_days: int = 10  # a return: the buyer sends the item back within these
    return_receive_days: int = 15  # … and the store confirms it came back within these, or it is refunded
    tracking_poll: timedelta = timedelta(hours=6)
    # USD per unit of another currency, for an order placed without its own rate (USD_RATES)
    usd_rates: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderPolicy:
        return cls(
            unpaid_ttl=timedelta(hours=settings.unpaid_order_ttl_hours),
            protection=timedelta(days=settings.buyer_protection_days),
            dispute_window=timedelta(days=settings.dispute_window_days),
            refund_days=settings.refund_days,
            refund_days_fast=settings.refund_days_fast,
            decision_days=settings.dispute_decision_days,
            decision_days_priority=settings.dispute_decision_days_priority,
            return_send_days=settings.return_send_days,
            return_receive_days=settings.return_receive_days,
            tracking_poll=timedelta(hours=settings.tracking_poll_hours),
            usd_rates=dict(settings.usd_rates),
        )


def dispute_deadline(order: OrderRow, policy: OrderPolicy) -> datetime | None:
    """Until when a dispute can be opened: while shipped, until buyer protection ends; once
    completed, within the dispute window."""
    if order.status == Status.shipped:
        return order.protection_ends_at
    if order.status == Status.completed and order.completed_at is not None:
        return order.completed_at + policy.dispute_window
    return None


def check_can_dispute(order: OrderRow, now: datetime, policy: OrderPolicy) -> None:
    check_transition(Status(order.status), Status.in_dispute)
    if order.status == Status.completed:
        deadline = dispute_deadline(order, policy)
        if deadline is None or now >= deadline:
            raise DisputeWindowClosed(days=policy.dispute_window.days)


def check_can_delete(order: OrderRow) -> None:
    if order.deleted_at is not None:
        raise AlreadyDone(N_("This order is already in Deleted orders."))
    status = Status(order.status)
    if status in DELETABLE:
        return
    if status == Status.awaiting_shipment:
        raise CannotDelete(N_("This order is paid and waiting to be shipped, so it can't be deleted. You can cancel it instead."))
    if status == Status.shipped:
        raise CannotDelete(N_("This order is on its way and can't be deleted. Once it is completed, you can delete it."))
    raise CannotDelete(N_("This order has an open dispute and can't be deleted until the dispute is closed."))


# -- transitions shared with the disputes service ---------------------------------------------------
def status_payload(order: OrderRow, previous: str, actor: Actor, store: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order.id, "number": order.number, "store": store, "status": order.status,
        "previous": previous, "actor": actor.value, "total_minor": order.total_minor,
        "currency": order.currency, **extra,
    }


# what a buyer's move tells the shop (disputes say it themselves, with the dispute)
_BUYER_EVENTS = {Status.cancelled: webhook_events.ORDER_CANCELLED, Status.completed: webhook_events.RECEIPT_CONFIRMED}


async def push_status(conn: AsyncConnection, order: OrderRow, previous: str, actor: Actor, now: datetime, *,
                      seen: bool, **extra: Any) -> None:
    """The buyer's "order_status" push of the order's status now (once per order and status);
    `seen`: kept for the message centre only (the buyer did it, or is told another way)."""
    store = (await repo.store_names(conn, [order.store_id])).get(order.store_id, "")
    await enqueue(conn, user_id=order.user_id, kind=STATUS_KIND.key,
                  payload=status_payload(order, previous, actor, store, at=now.isoformat(), **extra),
                  dedupe_key=f"order:{order.id}:status:{order.status}", now=now, seen=seen)


async def transition(conn: AsyncConnection, order: OrderRow, target: Status, *, actor: Actor, now: datetime,
                     note: str | None = None, values: dict[str, Any] | None = None,
                     push: dict[str, Any] | None = None, told: bool = False) -> OrderRow:
    """Move `order` to `target` inside the caller's unit of work: the conditional update, a history
    row and the status push. `told`: the caller's own push tells the buyer (a dispute's close): the
    status push is kept for the message centre only. Raises AlreadyDone / ForbiddenTransition when
    it is not possible."""
    check_transition(Status(order.status), target)
    changed = await repo.set_status(
        conn, order.id, order.user_id, expected=order.status, new=target.value,
        values={STAMP[target]: now, **(values or {})},
    )
    if not changed:  # someone else moved it first: say where it is now
        fresh = await repo.get(conn, order.id)
        if fresh is None:
            raise OrderNotFound()
        check_transition(Status(fresh.status), target)
        raise ForbiddenTransition()
    await repo.add_history(conn, order.id, target.value, actor.value, note, now)
    if order.status == Status.shipped:  # it left "shipped": no more "protection ends soon"
        await reminders_rules.cancel(conn, user_id=order.user_id, prefix=protection_prefix(order.id), now=now)
    fresh = await repo.get(conn, order.id)
    assert fresh is not None
    await push_status(conn, fresh, order.status, actor, now, seen=actor == Actor.buyer or told,  # the buyer's
                      **(push or {}))  # own step, or told by the caller
    if actor == Actor.buyer and target in _BUYER_EVENTS:  # the shop's webhook, when it listens
        await webhook_events.emit(conn, store_id=order.store_id, event=_BUYER_EVENTS[target],
                                  data={"order": await webhook_events.order_data(conn, fresh), "reason": note},
                                  now=now)
    if target == Status.completed:  # points and review reminders, in the same unit of work
        await loyalty.on_order_completed(conn, fresh, now)
        await reviews.on_order_completed(conn, fresh, now)
    elif target == Status.awaiting_shipment:  # paid: the first paid order of the day earns points
        await loyalty.on_order_paid(conn, fresh, now)
        await seller_news.tell(conn, store_id=order.store_id, buyer_id=order.user_id, news=News.paid,  # to ship
                               item_id=order.id, number=order.number, now=now, total_minor=order.total_minor,
                               currency=order.currency)
    return fresh


# a reminder 3 days before buyer protection ends
PROTECTION_KIND = declare("protection_ending", N_("Buyer protection ending"), category=Category.reminder, order=14)
PROTECTION_NOTICE = timedelta(days=3)


def protection_prefix(order_id: int) -> str:
    return f"order:{order_id}:protection:"
