"""Orders: the state machine and what a buyer, a shop and the clock may do with an order.

    awaiting_payment → awaiting_shipment → shipped → completed
    awaiting_payment, awaiting_shipment → cancelled        (a paid order is refunded)
    shipped → in_dispute;  completed → in_dispute          (within the dispute window)
    in_dispute → closed                                     (refunded in full or part, or rejected)

Every transition is a conditional update (`… WHERE status = :expected`) inside one unit of work with
its history row and its push, so a double tap or a race with the sweeper changes state once; the
loser is told what happened ("already cancelled") rather than shown an error.

Nothing here imports aiogram or formats text: errors carry msgids, results are plain data.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import addresses as addresses_repo
from bot.db import disputes as disputes_repo
from bot.db import orders as repo
from bot.db import outbox as outbox_repo
from bot.db import refunds as refunds_repo
from bot.db import users as users_repo
from bot.db.addresses import AddressRow
from bot.db.engine import Database
from bot.db.orders import ItemRow, OrderRow, SummaryRow, TrackingRow
from bot.db.refunds import RefundRow
from bot.integrations.carrier import DELIVERED, Carrier, CarrierEvent, DemoCarrier, Shipment, carrier_name
from bot.services import loyalty, refunds, reviews
from bot.services import reminders as reminders_rules
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.notifications import Category, declare
from bot.services.outbox import enqueue
from bot.services.refunds import CardLookup, CardSnapshot, RefundPreview, SnapshotCardLookup

if TYPE_CHECKING:
    from bot.config import Settings

STATUS_KIND = declare("order_status", N_("Order status changes"), order=10)
TRACKING_KIND = declare("order_tracking", N_("Parcel tracking updates"), order=11)

PAGE_SIZE = 5
_NUMBER_RE = re.compile(r"^[A-Z0-9-]{1,24}$")
REFRESH_AT_MOST_EVERY = timedelta(seconds=30)  # the Refresh button does not hammer the carrier
log = logging.getLogger(__name__)
LevelOf = Callable[[Any, int], Awaitable[int]]


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
    completed = "completed"
    cancelled = "cancelled"


TAB_STATUSES: dict[OrderTab, tuple[Status, ...] | None] = {
    OrderTab.all: None,
    OrderTab.unpaid: (Status.awaiting_payment,),
    OrderTab.to_ship: (Status.awaiting_shipment,),
    OrderTab.shipped: (Status.shipped,),
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
class OrderNotFound(NotFound):
    msgid = N_("This order is no longer available.")


class ForbiddenTransition(DomainError):
    msgid = N_("This can't be done with the order in its current state.")


class AlreadyDone(ForbiddenTransition):
    """The order is already where the action would take it (a double tap, a race)."""


class DisputeWindowClosed(ForbiddenTransition):
    msgid = N_("A dispute can be opened within {days} days after the order is completed; that time has passed.")


class CannotDelete(DomainError):
    msgid = N_("This order can't be deleted.")


class OrderInBin(DomainError):
    msgid = N_("This order is in Deleted orders. Restore it first.")


class NotInBin(ForbiddenTransition):
    msgid = N_("Only an order in Deleted orders can be deleted for good.")


class NoTracking(DomainError):
    msgid = N_("This order has no track number yet: it appears once the seller ships the order.")


_ALREADY: dict[Status, str] = {
    Status.awaiting_shipment: N_("This order is already paid."),
    Status.shipped: N_("This order has already been shipped."),
    Status.completed: N_("You have already confirmed receipt of this order."),
    Status.cancelled: N_("This order is already cancelled."),
    Status.in_dispute: N_("A dispute is already open on this order."),
    Status.closed: N_("The dispute on this order is already closed."),
}

# (target, current) → why not; otherwise the target's default below
_FORBIDDEN: dict[tuple[Status, Status], str] = {
    (Status.cancelled, Status.shipped): N_("This order has already been shipped and can't be cancelled. If something goes wrong, you can open a dispute."),
    (Status.cancelled, Status.in_dispute): N_("This order has an open dispute and can't be cancelled."),
    (Status.completed, Status.awaiting_payment): N_("This order hasn't been shipped yet, so there is no receipt to confirm."),
    (Status.completed, Status.awaiting_shipment): N_("This order hasn't been shipped yet, so there is no receipt to confirm."),
    (Status.completed, Status.in_dispute): N_("This order has an open dispute; it is completed by the dispute's decision."),
    (Status.in_dispute, Status.awaiting_payment): N_("A dispute can be opened once the order has been shipped. Until then you can cancel it."),
    (Status.in_dispute, Status.awaiting_shipment): N_("A dispute can be opened once the order has been shipped. Until then you can cancel it."),
    (Status.in_dispute, Status.cancelled): N_("This order was cancelled; there is nothing to dispute."),
    (Status.in_dispute, Status.closed): N_("The dispute on this order is already closed."),
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
    tracking_poll: timedelta = timedelta(hours=6)

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
            tracking_poll=timedelta(hours=settings.tracking_poll_hours),
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


# -- plain data out -------------------------------------------------------------------------------
_STORED_AS = {"postal_code": "postcode"}  # an attribute → its key in the orders' JSON snapshots
_READ_AS = {stored: name for name, stored in _STORED_AS.items()}


@dataclass(frozen=True, slots=True)
class AddressSnapshot:
    """The shipping address as it was when the order was placed."""

    recipient: str = ""
    phone: str = ""
    street: str = ""
    city: str = ""
    region: str = ""  # as the address book stores it: the library's key ("Москва", "NY") or free text
    postal_code: str = ""  # stored as "postcode" (_STORED_AS), the key rows have always had
    country: str = ""  # ISO 3166-1 alpha-2
    apartment: str = ""  # kept apart from the street, so the layout can say "кв. 12" / "Apt 12"

    @classmethod
    def of_address(cls, address: AddressRow) -> AddressSnapshot:
        """An address book entry as an order keeps it."""
        return cls(recipient=address.recipient, phone=address.phone, street=address.street, city=address.city,
                   region=address.region, postal_code=address.postal_code, country=address.country,
                   apartment=address.apartment)

    def to_json(self) -> str:
        stored = {_STORED_AS.get(k, k): v for k, v in asdict(self).items()}
        return json.dumps(stored, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> AddressSnapshot:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        named = {_READ_AS.get(k, k): v for k, v in data.items()}
        known = {k: str(v) for k, v in named.items() if k in cls.__dataclass_fields__ and v is not None}
        return cls(**known)

    @property
    def empty(self) -> bool:
        return not any(asdict(self).values())


@dataclass(frozen=True, slots=True)
class NewItem:
    title: str
    quantity: int
    unit_price_minor: int
    options: tuple[tuple[str, str], ...] = ()
    product_id: int | None = None


@dataclass(frozen=True, slots=True)
class OrderPage:
    kind: str  # "tab", "search" or "deleted"
    tab: OrderTab | None
    rows: tuple[SummaryRow, ...]
    total: int  # rows in this list
    page: int  # 0-based, clamped to the last page
    pages: int
    counts: dict[OrderTab, int] = field(default_factory=dict)
    deleted_count: int = 0
    query: str = ""

    @property
    def offset(self) -> int:
        return self.page * PAGE_SIZE


@dataclass(frozen=True, slots=True)
class DisputeBrief:
    id: int
    state: str
    seller_answer: str | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class OrderCard:
    order: OrderRow
    store: str
    items: tuple[ItemRow, ...]
    address: AddressSnapshot
    card: CardSnapshot | None
    refunds: tuple[RefundRow, ...]
    dispute: DisputeBrief | None
    now: datetime
    # what the buyer may do now
    can_cancel: bool
    can_confirm: bool
    can_track: bool
    can_dispute: bool
    dispute_until: datetime | None
    deletable: bool
    dispute_window_days: int = 15

    @property
    def in_bin(self) -> bool:
        return self.order.deleted_at is not None

    @property
    def status(self) -> Status:
        return Status(self.order.status)

    @property
    def protection_days_left(self) -> int | None:
        ends = self.order.protection_ends_at
        if self.order.status != Status.shipped or ends is None:
            return None
        return max(0, -(-(ends - self.now) // timedelta(days=1)))  # whole days, rounded up

    @property
    def refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds)


@dataclass(frozen=True, slots=True)
class CancelPreview:
    order: OrderRow
    refund: RefundPreview | None


@dataclass(frozen=True, slots=True)
class Tracking:
    order: OrderRow
    carrier: str
    events: tuple[TrackingRow, ...]
    new_events: int
    checked_at: datetime | None
    carrier_failed: bool = False  # the carrier did not answer: what we knew is shown


def card_snapshot(order: OrderRow) -> CardSnapshot | None:
    if not order.paid_card_last4:
        return None
    return CardSnapshot(order.paid_card_id, order.paid_card_brand or "", order.paid_card_last4,
                        order.paid_card_exp_month, order.paid_card_exp_year)


def search_words(text: str) -> list[str]:
    """What a person typed → the words `search_text` must all contain. An order number may be typed
    with spaces or a leading #/№."""
    raw = " ".join((text or "").split()).casefold().lstrip("#№ ")
    if raw.replace(" ", "").isdigit():
        raw = raw.replace(" ", "")
    if len(raw) < 2:
        raise InvalidInput(N_("Type at least 2 characters: an order number or a word from a product title."))
    if len(raw) > 64:
        raise InvalidInput(N_("That is too long to search for: type an order number or one word from a product title."))
    words = list(dict.fromkeys(raw.split()))[:5]
    return [w for w in words if len(w) > 1] or words


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _clamp(page: int, total: int) -> int:
    return min(max(page, 0), _pages(total) - 1)


# -- transitions shared with the disputes service ---------------------------------------------------
def status_payload(order: OrderRow, previous: str, actor: Actor, store: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order.id, "number": order.number, "store": store, "status": order.status,
        "previous": previous, "actor": actor.value, "total_minor": order.total_minor,
        "currency": order.currency, **extra,
    }


async def transition(conn: AsyncConnection, order: OrderRow, target: Status, *, actor: Actor, now: datetime,
                     note: str | None = None, values: dict[str, Any] | None = None,
                     push: dict[str, Any] | None = None) -> OrderRow:
    """Move `order` to `target` inside the caller's unit of work: the conditional update, a history
    row and the status push. Raises AlreadyDone / ForbiddenTransition when it is not possible."""
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
    store = (await repo.store_names(conn, [order.store_id])).get(order.store_id, "")
    await enqueue(conn, user_id=order.user_id, kind=STATUS_KIND.key,
                  payload=status_payload(fresh, order.status, actor, store, at=now.isoformat(), **(push or {})),
                  dedupe_key=f"order:{order.id}:status:{target.value}", now=now, seen=actor == Actor.buyer)
    if target == Status.completed:  # points and review reminders, in the same unit of work
        await loyalty.on_order_completed(conn, fresh, now)
        await reviews.on_order_completed(conn, fresh, now)
    elif target == Status.awaiting_shipment:  # paid: the first paid order of the day earns points
        await loyalty.on_order_paid(conn, fresh, now)
    return fresh


# a reminder 3 days before buyer protection ends
PROTECTION_KIND = declare("protection_ending", N_("Buyer protection ending"), category=Category.reminder, order=14)
PROTECTION_NOTICE = timedelta(days=3)


def protection_prefix(order_id: int) -> str:
    return f"order:{order_id}:protection:"


class OrderService:
    def __init__(self, db: Database, clock: Clock, policy: OrderPolicy | None = None, *,
                 cards: CardLookup | None = None, carrier: Carrier | None = None,
                 level_of: LevelOf | None = None) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy or OrderPolicy()
        self.cards: CardLookup = cards or SnapshotCardLookup()
        self.carrier: Carrier = carrier or DemoCarrier()
        self._level_of = level_of
        # Called inside the cancelling unit of work when an unpaid order is cancelled (by the buyer,
        # by deletion or by the payment timeout), with (conn, user_id, order_ref = the order number):
        # the coupons it used are given back (wired in bot/app.py).
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

    async def page(self, user_id: int, tab: OrderTab = OrderTab.all, page: int = 0) -> OrderPage:
        """One page of a tab and the counts of every tab (and of Deleted orders): one statement,
        whatever the page."""
        statuses = TAB_STATUSES[tab]
        page = max(page, 0)
        while True:  # one statement; a second only for a page past the end (then the last page)
            by_status, rows = await repo.tab_page(self.db, user_id, statuses, offset=page * PAGE_SIZE,
                                                  limit=PAGE_SIZE)
            deleted = by_status.pop(repo.DELETED, 0)
            counts = {
                t: sum(n for s, n in by_status.items() if sts is None or s in sts)
                for t, sts in TAB_STATUSES.items()
            }
            total = counts[tab]
            last = _clamp(page, total)
            if last >= page:
                break
            page = last
        return OrderPage("tab", tab, tuple(rows), total, page, _pages(total), counts, deleted)

    async def search(self, user_id: int, text: str, page: int = 0) -> OrderPage:
        words = search_words(text)
        async with self.db.read() as conn:
            rows, total = await repo.search(conn, user_id, words, offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE)
            if not rows and total:  # a page past the end: show the last one
                page = _clamp(page, total)
                rows, total = await repo.search(conn, user_id, words, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        return OrderPage("search", None, tuple(rows), total, _clamp(page, total), _pages(total), query=text.strip())

    async def deleted(self, user_id: int, page: int = 0) -> OrderPage:
        async with self.db.read() as conn:
            total = await repo.deleted_count(conn, user_id)
            page = _clamp(page, total)
            rows = await repo.deleted_page(conn, user_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE) if total else []
        return OrderPage("deleted", None, tuple(rows), total, page, _pages(total), deleted_count=total)

    async def card(self, user_id: int, order_id: int) -> OrderCard:
        """The card: one statement (the order, store, items, dispute), and the refunds when it has any."""
        read = await repo.card_read(self.db, order_id, user_id)
        if read is None:
            raise OrderNotFound()
        refund_rows: list[RefundRow] = []
        if read.has_refunds:
            async with self.db.read() as conn:
                refund_rows = await refunds_repo.for_order(conn, order_id)
        dispute = DisputeBrief(*read.dispute) if read.dispute else None
        return self._assemble(read.order, read.store, read.items, refund_rows, dispute)

    async def _card(self, conn: AsyncConnection, order: OrderRow) -> OrderCard:
        store = (await repo.store_names(conn, [order.store_id])).get(order.store_id, "")
        items = await repo.items(conn, order.id)
        refund_rows = await refunds_repo.for_order(conn, order.id)
        dispute = await disputes_repo.for_order(conn, order.id)
        brief = DisputeBrief(dispute.id, dispute.state, dispute.seller_answer, dispute.resolution) if dispute else None
        return self._assemble(order, store, items, refund_rows, brief)

    def _assemble(self, order: OrderRow, store: str, items: Sequence[ItemRow], refund_rows: Sequence[RefundRow],
                  dispute: DisputeBrief | None) -> OrderCard:
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
        )

    async def by_number(self, number: str) -> OrderRow:
        """For the shop side (operator commands, later the shop API): an order by its number."""
        async with self.db.read() as conn:
            order = await repo.by_number(conn, number.strip().lstrip("#№"))
        if order is None:
            raise OrderNotFound()
        return order

    # -- the buyer's actions ----------------------------------------------------------------------
    async def cancel_preview(self, user_id: int, order_id: int) -> CancelPreview:
        """What cancelling would do: raises if it is not possible; tells where a refund would go."""
        async with self.db.read() as conn:
            order = await self._active(conn, user_id, order_id)
            check_transition(Status(order.status), Status.cancelled)
            refund = await self._refund_preview(conn, order, order.total_minor) if order.paid_at else None
        return CancelPreview(order, refund)

    async def _refund_preview(self, conn: AsyncConnection, order: OrderRow, amount: int) -> RefundPreview:
        return await refunds.preview(
            conn, lookup=self.cards, user_id=order.user_id, card=card_snapshot(order), amount_minor=amount,
            currency=order.currency, level=await self.level(conn, order.user_id),
            days=self.policy.refund_days, fast_days=self.policy.refund_days_fast, now=self.clock.now(),
        )

    # the checks a confirmation screen asks before it is shown (issue 16, item 2: out of the handler)
    async def confirm_preview(self, user_id: int, order_id: int) -> OrderCard:
        """The card before "Confirm receipt?", when receipt can be confirmed; otherwise the reason
        at once (in Deleted orders, not shipped yet, already confirmed …)."""
        card = await self.card(user_id, order_id)
        if not card.can_confirm:
            if card.in_bin:
                raise OrderInBin()
            check_transition(card.status, Status.completed)
        return card

    async def purge_preview(self, user_id: int, order_id: int) -> OrderCard:
        """The card before "Delete for good?": only an order in Deleted orders can be."""
        card = await self.card(user_id, order_id)
        if not card.in_bin:
            raise NotInBin()
        return card

    async def cancel(self, user_id: int, order_id: int, reason: CancelReason | str) -> OrderCard:
        try:
            reason = CancelReason(reason)
        except ValueError:
            raise InvalidInput() from None
        if reason not in BUYER_CANCEL_REASONS:
            raise InvalidInput()
        return await self._cancel(user_id, order_id, reason, Actor.buyer)

    async def cancel_by_seller(self, user_id: int, order_id: int,
                               reason: CancelReason = CancelReason.out_of_stock) -> OrderCard:
        return await self._cancel(user_id, order_id, CancelReason(reason), Actor.seller)

    async def _cancel(self, user_id: int, order_id: int, reason: CancelReason, actor: Actor) -> OrderCard:
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._active(conn, user_id, order_id)
            await self._cancel_in(conn, order, reason, actor, now)
            return await self._card(conn, (await self._owned(conn, user_id, order_id)))

    async def _cancel_in(self, conn: AsyncConnection, order: OrderRow, reason: CancelReason, actor: Actor,
                         now: datetime) -> OrderRow:
        paid = order.paid_at is not None
        refund = None
        if paid:
            already = await refunds_repo.refunded_total(conn, order.id)
            if order.total_minor - already > 0:
                refund = await self._refund_preview(conn, order, order.total_minor - already)
        fresh = await transition(conn, order, Status.cancelled, actor=actor, now=now, note=reason.value,
                                 values={"cancel_reason": reason.value},
                                 push={"reason": reason.value, "refund_minor": refund.amount_minor if refund else 0})
        if refund is not None:
            await refunds.issue(conn, order_id=order.id, number=order.number, user_id=order.user_id,
                                reason="cancel", dispute_id=None, refund=refund, card=card_snapshot(order),
                                charge_id=order.paid_charge_id, now=now, seen=actor == Actor.buyer)
        if not paid:
            for hook in self.on_unpaid_cancelled:
                await hook(conn, order.user_id, order.number)
        return fresh

    async def confirm_receipt(self, user_id: int, order_id: int) -> OrderCard:
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._active(conn, user_id, order_id)
            fresh = await transition(conn, order, Status.completed, actor=Actor.buyer, now=now,
                                     note="receipt_confirmed")
            return await self._card(conn, fresh)

    async def tracking(self, user_id: int, order_id: int, *, refresh: bool = False) -> Tracking:
        """The parcel's events, newest first. Asks the carrier when told to (the Refresh button)
        or when nothing is known yet; the carrier is called outside any transaction."""
        async with self.db.read() as conn:
            order = await self._owned(conn, user_id, order_id)
            if not order.track_number:
                raise NoTracking()
            events = await repo.tracking_events(conn, order.id)
        new: int | None = 0
        now = self.clock.now()
        checked = order.tracking_checked_at
        if (refresh or not events) and (checked is None or now - checked >= REFRESH_AT_MOST_EVERY):
            new = await self._poll(order, now)
            async with self.db.read() as conn:
                order = await self._owned(conn, user_id, order_id)
                events = await repo.tracking_events(conn, order.id)
        return Tracking(order, carrier_name(order.carrier), tuple(events), new or 0, order.tracking_checked_at,
                        carrier_failed=new is None)

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

    # -- deleted orders ---------------------------------------------------------------------------
    async def delete(self, user_id: int, order_id: int) -> OrderRow:
        """Move an order to Deleted orders. An unpaid order is cancelled on the way (nobody should
        pay for an order they threw away); orders in delivery or dispute can't be deleted."""
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            check_can_delete(order)
            if order.status == Status.awaiting_payment:
                order = await self._cancel_in(conn, order, CancelReason.deleted, Actor.buyer, now)
            done = await repo.set_fields(
                conn, order.id, user_id, deleted_at=now,
                where=repo.t.c.deleted_at.is_(None) & repo.t.c.status.in_([s.value for s in DELETABLE]),
            )
            if not done:  # pragma: no cover - impossible inside BEGIN IMMEDIATE after the checks
                raise CannotDelete()
            fresh = await repo.get(conn, order.id)
        assert fresh is not None
        return fresh

    async def restore(self, user_id: int, order_id: int) -> OrderRow:
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if order.deleted_at is None:
                raise AlreadyDone(N_("This order is already back in your orders."))
            await repo.set_fields(conn, order.id, user_id, deleted_at=None)
            fresh = await repo.get(conn, order.id)
        assert fresh is not None
        return fresh

    async def purge(self, user_id: int, order_id: int) -> None:
        """Delete for good: the order disappears for the buyer everywhere, the message centre
        included (its pushes are deleted, sent or not). The shop keeps the financial record; the
        buyer's address snapshot and search text are erased."""
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if order.deleted_at is None:
                raise NotInBin()
            await repo.set_fields(conn, order.id, user_id, purged_at=now, shipping_address="{}", search_text="")
            # its notifications leave the message centre too, and nothing more is sent about it
            await outbox_repo.forget_order(conn, user_id, order.id, order.number)

    # -- the shop's side (operator commands, later the shop API and checkout) ------------------------
    async def ensure_store(self, name: str, seller_account: str | None = None) -> int:
        name = name.strip()
        if not name:
            raise InvalidInput(N_("A store needs a name."))
        async with self.db.write() as conn:
            store_id = await repo.store_id_by_name(conn, name)
            if store_id is None:
                store_id = await repo.insert_store(conn, name, seller_account, self.clock.now())
        return store_id

    async def ensure_product(self, store_id: int, title: str, price_minor: int, currency: str,
                             category: str = "") -> int:
        async with self.db.write() as conn:
            return await repo.ensure_product(conn, store_id=store_id, title=title, category=category,
                                             price_minor=price_minor, currency=currency, now=self.clock.now())

    async def create(self, *, user_id: int, store_id: int, items: Sequence[NewItem], currency: str,
                     shipping_minor: int = 0, address: AddressSnapshot | None = None,
                     usd_rate: Decimal | str | None = None, number: str | None = None,
                     address_id: int | None = None) -> OrderRow:
        """Place an order (awaiting payment). The checkout section and the shop API call this.
        `address_id`: the address book entry it ships to (looked up through the user): the order
        keeps a snapshot of it (taken here, in place of `address`), and deleting that address warns
        about this order."""
        currency = currency.strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise InvalidInput(N_("A currency is a three-letter ISO 4217 code such as USD."))
        if not items:
            raise InvalidInput(N_("An order needs at least one item."))
        for item in items:
            if item.quantity <= 0 or item.unit_price_minor < 0 or not item.title.strip():
                raise InvalidInput(N_("Each item needs a title, a quantity of at least 1 and a price."))
        if shipping_minor < 0:
            raise InvalidInput(N_("Shipping can't cost less than zero."))
        if currency == "USD" and usd_rate is None:
            usd_rate = Decimal(1)
        items_minor = sum(i.quantity * i.unit_price_minor for i in items)
        now = self.clock.now()
        async with self.db.write() as conn:
            if await users_repo.get(conn, user_id) is None:
                raise NotFound(N_("There is no such user: they must start the bot first."))
            if address_id is not None:  # the book's entry as it is now: one source for the snapshot
                book = await addresses_repo.get(conn, user_id, address_id)
                if book is None:
                    raise NotFound(N_("This address is no longer available."))
                address = AddressSnapshot.of_address(book)
            order_id = await repo.next_id(conn)
            number = (number or f"{now:%y%m%d}{order_id:06d}").strip().upper()
            if not _NUMBER_RE.match(number):
                raise InvalidInput(N_("An order number is 1–24 letters, digits or dashes."))
            titles = " ".join(i.title for i in items)
            try:
                await repo.insert_order(
                    conn, id=order_id, number=number, user_id=user_id, store_id=store_id,
                    status=Status.awaiting_payment.value, currency=currency, items_minor=items_minor,
                    shipping_minor=shipping_minor, total_minor=items_minor + shipping_minor,
                    usd_rate=str(usd_rate) if usd_rate is not None else None,
                    first_title=items[0].title.strip()[:255], item_lines=len(items),
                    search_text=f"{number} {titles}".casefold(),
                    shipping_address=(address or AddressSnapshot()).to_json(),
                    created_at=now, pay_by=now + self.policy.unpaid_ttl, address_id=address_id,
                )
            except IntegrityError:
                raise InvalidInput(N_("An order with this number already exists, or the store is unknown.")) from None
            await repo.insert_items(conn, order_id, [
                ItemRow(i, item.product_id, item.title.strip()[:255], item.options, item.quantity,
                        item.unit_price_minor)
                for i, item in enumerate(items, 1)
            ])
            await repo.add_history(conn, order_id, Status.awaiting_payment.value, Actor.buyer.value, None, now)
            order = await repo.get(conn, order_id)
        assert order is not None
        return order

    async def mark_paid(self, user_id: int, order_id: int, card_snapshot: CardSnapshot,
                        now: datetime | None = None, *, charge_id: str | None = None) -> OrderRow:
        """awaiting_payment → awaiting_shipment, remembering the paying card (and the gateway's
        charge). For the Pay button (bot/services/pay.py) and the operator's `order pay`."""
        now = now or self.clock.now()
        async with self.db.write() as conn:
            order = await self._active(conn, user_id, order_id)
            return await transition(conn, order, Status.awaiting_shipment, actor=Actor.buyer, now=now, values={
                "paid_card_id": card_snapshot.card_id, "paid_card_brand": card_snapshot.brand,
                "paid_card_last4": card_snapshot.last4, "paid_card_exp_month": card_snapshot.exp_month,
                "paid_card_exp_year": card_snapshot.exp_year, "pay_by": None, "paid_charge_id": charge_id,
            }, push={"brand": card_snapshot.brand, "last4": card_snapshot.last4})

    async def ship(self, user_id: int, order_id: int, track_number: str, carrier: str = "cainiao") -> OrderRow:
        track_number = track_number.strip().upper()
        if not track_number or len(track_number) > 64:
            raise InvalidInput(N_("A track number is needed to ship an order."))
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            ends = now + self.policy.protection
            shipped = await transition(conn, order, Status.shipped, actor=Actor.seller, now=now, values={
                "track_number": track_number, "carrier": carrier, "protection_ends_at": ends,
                "tracking_checked_at": None,  # never asked: the sweeper asks the carrier on its next run
            }, push={"track_number": track_number, "carrier": carrier,
                     "protection_ends_at": ends.isoformat()})
            # "buyer protection ends in 3 days" while the order is on its way; dropped when it leaves
            # "shipped" (see transition())
            due = ends - PROTECTION_NOTICE
            await reminders_rules.replan(conn, user_id=order.user_id, prefix=protection_prefix(order.id), reminders=[
                reminders_rules.Reminder(PROTECTION_KIND.key, f"{protection_prefix(order.id)}3d", due_at=due,
                                         expires_at=ends, payload={"order_id": order.id, "number": order.number,
                                                                   "ends_at": ends.isoformat()}),
            ] if due > now else [], now=now)
            return shipped

    async def add_tracking_event(self, user_id: int, order_id: int, event: CarrierEvent,
                                 source: str = "operator") -> int:
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if not order.track_number:
                raise NoTracking()
            return await self._store_events(conn, order, [event], source, now)

    async def deliver(self, user_id: int, order_id: int, location: str = "") -> int:
        """The parcel reached the buyer (or their pickup point): a "delivered" tracking event."""
        async with self.db.read() as conn:
            order = await self._owned(conn, user_id, order_id)
        if order.status != Status.shipped:
            raise ForbiddenTransition(N_("Only an order on its way can be delivered."))
        city = location or AddressSnapshot.from_json(order.shipping_address).city
        return await self.add_tracking_event(user_id, order_id,
                                             CarrierEvent(self.clock.now(), DELIVERED, city), "operator")

    async def refund(self, user_id: int, order_id: int, amount_minor: int | None = None) -> RefundRow:
        """A refund outside a dispute or a cancellation (the seller's goodwill): up to what was paid
        and not refunded yet. The order's status does not change."""
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if order.paid_at is None:
                raise ForbiddenTransition(N_("This order isn't paid, so there is nothing to refund."))
            left = order.total_minor - await refunds_repo.refunded_total(conn, order.id)
            amount = left if amount_minor is None else amount_minor
            if left <= 0:
                raise ForbiddenTransition(N_("This order has already been refunded in full."))
            if not 0 < amount <= left:
                raise InvalidInput(N_("The refund must be more than zero and at most what is left to refund."))
            preview = await self._refund_preview(conn, order, amount)
            return await refunds.issue(conn, order_id=order.id, number=order.number, user_id=user_id,
                                       reason="seller", dispute_id=None, refund=preview,
                                       card=card_snapshot(order), charge_id=order.paid_charge_id, now=now)

    # -- due transitions (the sweeper) ---------------------------------------------------------------
    async def expire_unpaid(self, now: datetime, batch: int = 200) -> int:
        """Cancel orders not paid in time. Idempotent: a paid or cancelled order is left alone."""
        done = 0
        while True:
            async with self.db.write() as conn:
                due = await repo.due_unpaid(conn, now, batch)
                for order_id, user_id in due:
                    order = await repo.get(conn, order_id, user_id)
                    if order is None or order.status != Status.awaiting_payment:
                        continue
                    await self._cancel_in(conn, order, CancelReason.payment_timeout, Actor.system, now)
                    done += 1
            if len(due) < batch:
                return done

    async def auto_complete(self, now: datetime, batch: int = 200) -> int:
        """Complete shipped orders whose buyer protection has ended. An order in dispute is not
        `shipped`, so it is never touched."""
        done = 0
        while True:
            async with self.db.write() as conn:
                due = await repo.due_protection(conn, now, batch)
                for order_id, user_id in due:
                    order = await repo.get(conn, order_id, user_id)
                    if order is None or order.status != Status.shipped:
                        continue
                    await transition(conn, order, Status.completed, actor=Actor.system, now=now,
                                     note="protection_ended")
                    done += 1
            if len(due) < batch:
                return done

    async def poll_tracking(self, now: datetime, batch: int = 50) -> int:
        """Ask the carrier about parcels not checked for a while. Returns how many new events."""
        async with self.db.read() as conn:
            due = await repo.due_tracking(conn, now - self.policy.tracking_poll, batch)
        new = 0
        for order_id, user_id in due:
            async with self.db.read() as conn:
                order = await repo.get(conn, order_id, user_id)
            if order is None or not order.track_number:
                continue
            found = await self._poll(order, now)
            if found is None:  # the carrier is down: try this parcel again in half an hour
                retry = now - self.policy.tracking_poll + timedelta(minutes=30)
                async with self.db.write() as conn:
                    await repo.set_fields(conn, order.id, user_id, tracking_checked_at=retry)
            new += found or 0
        return new

