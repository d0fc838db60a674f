"""Seller mode: what a store's seller (a Telegram user linked by `seller invite`, see
bot/services/relay/sellers.py) has waiting — reviews to answer, disputes to answer, paid orders to
ship — and their answers, through the same services as the operator commands
(`ReviewService.seller_reply`, `DisputeService.seller_answer`, `OrderService.ship`), each of which
checks again, inside its own unit of work, that the store is the seller's.

A seller sees only their own stores' data: every id is looked up through the seller (a review,
dispute or order of another store is "no longer available", the same as a forged id), and an
account that sells for no store is told so. Nothing returned names the buyer: no name, username,
Telegram id or account phone; an order to ship carries its shipping address as the order's
snapshot has it (recipient and phone included: the parcel's label and the courier need them).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.db import seller as repo
from bot.db.engine import Database

# a list's lines and an order's items are the repository's rows: one class each
from bot.db.seller import ReviewLine, SellerDisputeLine, SellerDisputeRow, SellerReviewRow, ShipItem, ShipLine
from bot.integrations.carrier import CARRIERS
from bot.services.clock import Clock
from bot.services.disputes import (
    DisputeService,
    DisputeState,
    Outcome,
    SellerAnswer,
    check_offer,
    clean_reason,
    receive_by,
    unanswered_after_its_day,
)
from bot.services.disputes import (
    OfferTooLarge as OfferTooLarge,  # the disputes' rule, for seller mode's steps
)
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.orders import AddressSnapshot, OrderService, Status
from bot.services.reviews import ReviewService
from bot.services.track_numbers import check_track

PAGE_SIZE = 5
ITEMS_SHOWN = 10  # an order to ship lists this many item lines, then "and N more" (the screen fits Telegram)


class NotASeller(DomainError, msgid=N_("You are not a seller of any store.")): ...


class OrderShippedAlready(DomainError, msgid=N_("This order is no longer waiting to be shipped.")): ...


class UnknownCarrier(InvalidInput, msgid=N_("Please choose the carrier with a button.")): ...


# -- checks of what a seller types (pure) -----------------------------------------------------------
def check_carrier(code: str | None) -> str:
    if code not in CARRIERS:
        raise UnknownCarrier()
    return str(code)


# -- plain data out ---------------------------------------------------------------------------------
T = TypeVar("T")


def _copy(cls: type[T], row: Any, **more: Any) -> T:
    """A repository row as this service's own data (views never see a db row type)."""
    return cls(**{f.name: more[f.name] if f.name in more else getattr(row, f.name)  # type: ignore[call-arg]
                  for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class SellerHome:
    stores: tuple[str, ...]
    reviews: int  # without a reply
    disputes: int  # waiting for the seller
    orders: int  # paid, to ship


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: tuple[T, ...]
    total: int
    page: int
    pages: int

    @property
    def first(self) -> int:
        """The number of the page's first row in the whole list (from 1)."""
        return self.page * PAGE_SIZE + 1


# A review and a dispute are the repository's rows (one list of fields each), with what the seller
# may do with them.
@dataclass(frozen=True, slots=True)
class ReviewToAnswer(SellerReviewRow):
    @property
    def answered(self) -> bool:
        return self.reply_text is not None


@dataclass(frozen=True, slots=True)
class DisputeToAnswer(SellerDisputeRow):
    overdue: bool = False  # the day to answer has passed: the platform decides it for the buyer
    receive_by: datetime | None = None  # a return sent back: confirm it came back by then
    now: datetime | None = None

    @property
    def can_answer(self) -> bool:
        return self.state == DisputeState.open and not self.overdue

    @property
    def is_return(self) -> bool:
        """The buyer asked to send the item back: accepting asks where to."""
        return self.outcome == Outcome.return_refund

    @property
    def can_confirm_return(self) -> bool:
        """A return accepted: the store says the item came back (the buyer is refunded)."""
        return self.state == DisputeState.returning

    @property
    def can_report_problem(self) -> bool:
        """A return sent back, within the store's days to confirm: the store may say it did not
        come back as sent (the platform decides)."""
        return (self.state == DisputeState.returning and self.returned_at is not None
                and self.receive_by is not None and self.now is not None and self.now < self.receive_by)

    @property
    def accept_minor(self) -> int:
        """What accepting (or confirming a return came back) refunds: what the buyer asked for, less
        what the dispute refunded already (a fast refund when the return was sent), at most what is
        left of the order to refund (a refund before the dispute, a goodwill one, took the rest)."""
        return max(0, min(self.amount_minor - self.dispute_refunded_minor,
                          self.order_total_minor - self.order_refunded_minor))

    @property
    def can_offer(self) -> bool:
        """A partial refund needs room below what accepting refunds (at least one minor unit)."""
        return self.can_answer and self.accept_minor > 1


@dataclass(frozen=True, slots=True)
class OrderToShip:
    id: int
    number: str
    store: str
    status: str
    address: AddressSnapshot
    paid_at: datetime | None
    item_lines: int
    items: tuple[ShipItem, ...]  # the first ITEMS_SHOWN
    track_number: str | None = None
    carrier: str | None = None
    buyer_level: int = 1  # the buyer's loyalty level: all the store sees of them

    @property
    def can_ship(self) -> bool:
        return self.status == Status.awaiting_shipment


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _page(page: int, total: int) -> int:
    return min(max(page, 0), _pages(total) - 1)


class SellerModeService:
    def __init__(self, db: Database, clock: Clock, orders: OrderService, reviews: ReviewService,
                 disputes: DisputeService) -> None:
        self.db = db
        self.clock = clock
        self._orders = orders
        self._reviews = reviews
        self._disputes = disputes

    async def _check(self, conn: Any, user_id: int) -> list[tuple[int, str]]:
        stores = await repo.stores(conn, user_id)
        if not stores:
            raise NotASeller()
        return stores

    # -- the menu -------------------------------------------------------------------------------
    async def home(self, user_id: int) -> SellerHome:
        async with self.db.read() as conn:
            stores = await self._check(conn, user_id)
            reviews, disputes, orders = await repo.counts(conn, user_id)
        return SellerHome(tuple(name for _, name in stores), reviews, disputes, orders)

    # -- reviews ----------------------------------------------------------------------------------
    async def reviews(self, user_id: int, page: int = 0) -> Page[ReviewLine]:
        async with self.db.read() as conn:
            await self._check(conn, user_id)
            rows, total = await repo.review_page(conn, user_id, offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE)
            if not rows and total:  # past the end: the last page
                rows, total = await repo.review_page(conn, user_id, offset=_page(page, total) * PAGE_SIZE,
                                                     limit=PAGE_SIZE)
        return Page(tuple(rows), total, _page(page, total), _pages(total))

    async def review(self, user_id: int, review_id: int) -> ReviewToAnswer:
        async with self.db.read() as conn:
            await self._check(conn, user_id)
            row = await repo.review(conn, user_id, review_id)
        if row is None:
            raise NotFound()
        return _copy(ReviewToAnswer, row)

    async def answer_review(self, user_id: int, review_id: int, text: str) -> ReviewToAnswer:
        await self.review(user_id, review_id)  # a seller, and their store's review
        await self._reviews.seller_reply(review_id, text, seller_id=user_id, first=True)
        return await self.review(user_id, review_id)

    # -- disputes ---------------------------------------------------------------------------------
    async def disputes(self, user_id: int, page: int = 0) -> Page[SellerDisputeLine]:
        async with self.db.read() as conn:
            await self._check(conn, user_id)
            rows, total = await repo.dispute_page(conn, user_id, offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE)
            if not rows and total:
                rows, total = await repo.dispute_page(conn, user_id, offset=_page(page, total) * PAGE_SIZE,
                                                      limit=PAGE_SIZE)
        return Page(tuple(rows), total, _page(page, total), _pages(total))

    async def dispute(self, user_id: int, dispute_id: int) -> DisputeToAnswer:
        async with self.db.read() as conn:
            await self._check(conn, user_id)
            row = await repo.dispute(conn, user_id, dispute_id)
        if row is None:
            raise NotFound()
        return _copy(DisputeToAnswer, row, overdue=unanswered_after_its_day(row.state, row.decide_by, self.clock.now()),
                     receive_by=receive_by(row.returned_at, self._disputes.policy.return_receive_days),
                     now=self.clock.now())

    async def answer_dispute(self, user_id: int, dispute_id: int, answer: SellerAnswer | str, *,
                             offer_minor: int | None = None, note: str | None = None) -> DisputeToAnswer:
        """Accept (the buyer is refunded what they asked for, at most what is left to refund; a return:
        `note` is where the item goes back to, and the refund waits for it), reject with a reason, or
        offer a partial refund (more than zero, less than accepting would refund)."""
        answer = SellerAnswer(answer)
        dispute = await self.dispute(user_id, dispute_id)
        if answer == SellerAnswer.reject:
            note = clean_reason(note)
        if answer == SellerAnswer.offer:
            offer_minor = check_offer(offer_minor or 0, dispute.accept_minor)
        await self._disputes.seller_answer(dispute_id, answer, offer_minor=offer_minor, note=note, seller_id=user_id)
        return await self.dispute(user_id, dispute_id)

    async def return_problem(self, user_id: int, dispute_id: int, note: str) -> DisputeToAnswer:
        """The returned item did not come back as sent: the store's reason, and the platform decides."""
        await self.dispute(user_id, dispute_id)  # NotFound for another store's
        await self._disputes.return_problem(dispute_id, note, seller_id=user_id)
        return await self.dispute(user_id, dispute_id)

    async def return_received(self, user_id: int, dispute_id: int) -> DisputeToAnswer:
        """The returned item came back to the store: the buyer is refunded what they asked for."""
        await self.dispute(user_id, dispute_id)  # NotFound for another store's
        await self._disputes.return_received(dispute_id, seller_id=user_id)
        return await self.dispute(user_id, dispute_id)

    # -- orders to ship -----------------------------------------------------------------------------
    async def orders(self, user_id: int, page: int = 0) -> Page[ShipLine]:
        async with self.db.read() as conn:
            await self._check(conn, user_id)
            rows, total = await repo.ship_page(conn, user_id, offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE)
            if not rows and total:
                rows, total = await repo.ship_page(conn, user_id, offset=_page(page, total) * PAGE_SIZE,
                                                   limit=PAGE_SIZE)
        return Page(tuple(rows), total, _page(page, total), _pages(total))

    async def order(self, user_id: int, order_id: int) -> OrderToShip:
        async with self.db.read() as conn:
            await self._check(conn, user_id)
            row = await repo.ship_order(conn, user_id, order_id, items=ITEMS_SHOWN)
        if row is None:
            raise NotFound()
        return self._to_ship(row)

    @staticmethod
    def _to_ship(row: repo.ShipOrderRow, status: str | None = None, track: str | None = None,
                 carrier: str | None = None) -> OrderToShip:
        return OrderToShip(row.id, row.number, row.store, status or row.status,
                           AddressSnapshot.from_json(row.shipping_address),
                           row.paid_at, row.item_lines, row.items,
                           track or row.track_number, carrier or row.carrier, row.buyer_level)

    async def check_can_ship(self, user_id: int, order_id: int) -> OrderToShip:
        """The "Mark shipped" button: the seller's order, still to ship."""
        order = await self.order(user_id, order_id)
        if not order.can_ship:
            raise OrderShippedAlready()
        return order

    async def ship(self, user_id: int, order_id: int, track_number: str, carrier: str) -> OrderToShip:
        """Mark the order shipped (the buyer gets the usual push), as the operator's `order ship` does."""
        track = check_track(track_number)
        carrier = check_carrier(carrier)
        async with self.db.read() as conn:
            await self._check(conn, user_id)
            row = await repo.ship_order(conn, user_id, order_id, items=ITEMS_SHOWN)
        if row is None:
            raise NotFound()
        if row.status != Status.awaiting_shipment:
            raise OrderShippedAlready()
        shipped = await self._orders.ship(row.user_id, row.id, track, carrier, seller_id=user_id)
        return self._to_ship(row, shipped.status, shipped.track_number, shipped.carrier)
