"""Repository: seller mode — what a seller's stores have waiting for them (reviews without a reply,
disputes waiting for the seller, paid orders to ship) and each of them, always through the seller:
every query names the seller, and a row of a store they do not sell for is never returned.

A seller's stores are `store_sellers` rows (ix_store_sellers_user); a store's orders are found by
`ix_orders_store_status` (store, status, paid date), its unanswered reviews by `ix_reviews_unanswered`
(0017_seller_mode)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import refunds as refunds_repo
from bot.db.disputes import DisputeTerms
from bot.db.rows import record
from bot.db.tables import disputes as d
from bot.db.tables import loyalty_levels as ll
from bot.db.tables import order_items as it
from bot.db.tables import orders as o
from bot.db.tables import reviews as r
from bot.db.tables import store_sellers as ss
from bot.db.tables import stores as st

AWAITING_SHIPMENT = "awaiting_shipment"  # paid, not shipped (bot/services/orders/states.py: Status)
IN_DISPUTE = "in_dispute"  # the order of an open dispute
# waiting for the store: its answer, or a returned item to come back (services/disputes.py: DisputeState)
DISPUTE_STORES_TURN = ("open", "returning")


def _stores(seller_id: int) -> Select[Any]:
    return select(ss.c.store_id).where(ss.c.user_id == seller_id).scalar_subquery()  # type: ignore[return-value]


def _unanswered(seller_id: int) -> Any:
    return (o.c.store_id.in_(_stores(seller_id)), r.c.reply_text.is_(None), o.c.purged_at.is_(None))


def _waiting_disputes(seller_id: int) -> Any:
    return (o.c.store_id.in_(_stores(seller_id)), o.c.status == IN_DISPUTE, d.c.state.in_(DISPUTE_STORES_TURN))


def _to_ship(seller_id: int) -> Any:
    return (o.c.store_id.in_(_stores(seller_id)), o.c.status == AWAITING_SHIPMENT, o.c.purged_at.is_(None))


_REVIEWS = r.join(o, o.c.id == r.c.order_id)
_DISPUTES = d.join(o, o.c.id == d.c.order_id)


# -- the seller and their stores --------------------------------------------------------------------
async def stores(conn: AsyncConnection, seller_id: int) -> list[tuple[int, str]]:
    rows = (await conn.execute(
        select(st.c.id, st.c.name).select_from(ss.join(st, st.c.id == ss.c.store_id))
        .where(ss.c.user_id == seller_id).order_by(st.c.name)
    )).all()
    return [(int(row.id), row.name) for row in rows]


async def counts(conn: AsyncConnection, seller_id: int) -> tuple[int, int, int]:
    """(reviews without a reply, disputes waiting for the seller, orders to ship), in one statement."""
    reviews = select(func.count()).select_from(_REVIEWS).where(*_unanswered(seller_id)).scalar_subquery()
    disputes = select(func.count()).select_from(_DISPUTES).where(*_waiting_disputes(seller_id)).scalar_subquery()
    orders = select(func.count()).select_from(o).where(*_to_ship(seller_id)).scalar_subquery()
    row = (await conn.execute(select(reviews.label("reviews"), disputes.label("disputes"),
                                     orders.label("orders")))).one()
    return int(row.reviews), int(row.disputes), int(row.orders)


async def owns_order(conn: AsyncConnection, seller_id: int, order_id: int) -> bool:
    """Whether the order is of a store this account sells for."""
    row = (await conn.execute(
        select(o.c.id).where(o.c.id == order_id, o.c.store_id.in_(_stores(seller_id)))
    )).first()
    return row is not None


# -- reviews ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReviewLine:
    id: int
    title: str
    rating: int
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SellerReviewRow:
    """A review as its store sees it: no buyer in it."""

    id: int
    order_id: int
    number: str
    store: str
    title: str
    options: tuple[tuple[str, str], ...]
    rating: int
    text: str
    photos: int
    created_at: datetime
    extra_text: str | None
    extra_photos: int
    extra_at: datetime | None
    reply_text: str | None
    reply_at: datetime | None
    buyer_level: int
    extra_rating: int | None  # the additional review changed the stars to these


def _buyer_level() -> Any:
    """The order's buyer's loyalty level (1 before their first points) — all a store sees of the
    buyer: whether a conscientious customer is on the other side."""
    return func.coalesce(select(ll.c.level).where(ll.c.user_id == o.c.user_id).scalar_subquery(), 1) \
        .label("buyer_level")


async def review_page(conn: AsyncConnection, seller_id: int, *, offset: int, limit: int) -> tuple[list[ReviewLine], int]:
    """Reviews of the seller's stores without a reply, newest first."""
    total = int((await conn.execute(
        select(func.count()).select_from(_REVIEWS).where(*_unanswered(seller_id)))).scalar_one())
    rows = (await conn.execute(
        select(r.c.id, it.c.title, func.coalesce(r.c.extra_rating, r.c.rating).label("rating"), r.c.text,
               r.c.created_at)
        .select_from(_REVIEWS.join(it, it.c.id == r.c.item_id))
        .where(*_unanswered(seller_id))
        .order_by(r.c.created_at.desc(), r.c.id.desc()).offset(offset).limit(limit)
    )).all() if total and limit else []
    return [record(ReviewLine, row) for row in rows], total


async def review(conn: AsyncConnection, seller_id: int, review_id: int) -> SellerReviewRow | None:
    row = (await conn.execute(
        select(r.c.id, r.c.order_id, o.c.number, st.c.name, it.c.title, it.c.options, r.c.rating, r.c.text,
               r.c.photos, r.c.created_at, r.c.extra_text, r.c.extra_photos, r.c.extra_at, r.c.reply_text,
               r.c.reply_at, _buyer_level(), r.c.extra_rating)
        .select_from(_REVIEWS.join(it, it.c.id == r.c.item_id).join(st, st.c.id == o.c.store_id))
        .where(r.c.id == review_id, o.c.store_id.in_(_stores(seller_id)), o.c.purged_at.is_(None))
    )).first()
    if row is None:
        return None
    values = dict(row._mapping)
    values["store"] = values.pop("name")
    values["options"] = tuple(tuple(pair) for pair in json.loads(values["options"] or "[]"))
    values["photos"] = len(json.loads(values["photos"] or "[]"))
    values["extra_photos"] = len(json.loads(values["extra_photos"] or "[]"))
    return SellerReviewRow(**values)


# -- disputes ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SellerDisputeLine:
    id: int
    number: str
    reason: str
    amount_minor: int
    currency: str
    decide_by: datetime
    state: str  # open (to answer) or returning (a returned item to come back)
    returned_at: datetime | None  # a return the buyer sent back


@dataclass(frozen=True, slots=True, kw_only=True)
class SellerDisputeRow(DisputeTerms):
    """A dispute as its store sees it: the buyer's request, never the buyer."""

    number: str
    store: str
    photos: int  # the buyer's evidence
    order_total_minor: int
    order_refunded_minor: int  # refunded of the order so far (a goodwill refund before the dispute…)
    buyer_level: int
    dispute_refunded_minor: int = 0  # refunded by the dispute already (a fast refund, when sent back)


async def dispute_page(conn: AsyncConnection, seller_id: int, *, offset: int,
                       limit: int) -> tuple[list[SellerDisputeLine], int]:
    """Disputes of the seller's stores waiting for the seller, the soonest decision first."""
    total = int((await conn.execute(
        select(func.count()).select_from(_DISPUTES).where(*_waiting_disputes(seller_id)))).scalar_one())
    rows = (await conn.execute(
        select(d.c.id, o.c.number, d.c.reason, d.c.amount_minor, d.c.currency, d.c.decide_by, d.c.state,
               d.c.returned_at)
        .select_from(_DISPUTES).where(*_waiting_disputes(seller_id))
        .order_by(d.c.decide_by, d.c.id).offset(offset).limit(limit)
    )).all() if total and limit else []
    return [record(SellerDisputeLine, row) for row in rows], total


async def dispute(conn: AsyncConnection, seller_id: int, dispute_id: int) -> SellerDisputeRow | None:
    row = (await conn.execute(
        select(d.c.id, d.c.order_id, o.c.number, st.c.name, d.c.reason, d.c.description, d.c.outcome,
               d.c.amount_minor, d.c.currency, d.c.photos, d.c.state, d.c.seller_answer, d.c.offer_minor,
               d.c.seller_note, d.c.resolution, d.c.refund_minor, d.c.decide_by, d.c.opened_at, o.c.total_minor,
               refunds_repo.refunded_of(o.c.id).label("order_refunded_minor"), d.c.return_by, d.c.return_track,
               d.c.returned_at, d.c.return_problem, _buyer_level(),
               refunds_repo.refunded_by(d.c.id).label("dispute_refunded_minor"))
        .select_from(_DISPUTES.join(st, st.c.id == o.c.store_id))
        .where(d.c.id == dispute_id, o.c.store_id.in_(_stores(seller_id)), o.c.purged_at.is_(None))
    )).first()
    if row is None:
        return None
    values = dict(row._mapping)
    values["store"] = values.pop("name")
    values["photos"] = len(json.loads(values["photos"] or "[]"))
    values["order_total_minor"] = values.pop("total_minor")
    values["order_refunded_minor"] = int(values["order_refunded_minor"])
    values["dispute_refunded_minor"] = int(values["dispute_refunded_minor"])
    return SellerDisputeRow(**values)


# -- orders to ship ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ShipLine:
    id: int
    number: str
    first_title: str
    item_lines: int
    paid_at: datetime | None


@dataclass(frozen=True, slots=True)
class ShipItem:
    title: str
    options: tuple[tuple[str, str], ...]
    quantity: int


@dataclass(frozen=True, slots=True)
class ShipOrderRow:
    """An order as its store ships it: what to pack and where to send it (the order's address
    snapshot), never the buyer's account."""

    id: int
    user_id: int  # the buyer: for the order service's own lookup, never shown
    number: str
    store: str
    status: str
    shipping_address: str  # JSON snapshot
    paid_at: datetime | None
    item_lines: int
    items: tuple[ShipItem, ...]
    track_number: str | None
    carrier: str | None
    buyer_level: int


async def ship_page(conn: AsyncConnection, seller_id: int, *, offset: int, limit: int) -> tuple[list[ShipLine], int]:
    """Paid orders of the seller's stores not shipped yet, the oldest paid first."""
    total = int((await conn.execute(select(func.count()).select_from(o).where(*_to_ship(seller_id)))).scalar_one())
    rows = (await conn.execute(
        select(o.c.id, o.c.number, o.c.first_title, o.c.item_lines, o.c.paid_at)
        .where(*_to_ship(seller_id)).order_by(o.c.paid_at, o.c.id).offset(offset).limit(limit)
    )).all() if total and limit else []
    return [record(ShipLine, row) for row in rows], total


async def ship_order(conn: AsyncConnection, seller_id: int, order_id: int, *, items: int) -> ShipOrderRow | None:
    """The order with its first `items` items, once it is paid and while it is not cancelled (shipped
    or later: the screen says it is no longer to ship). An unpaid or cancelled order is none of the
    seller's business — its address least of all: None."""
    row = (await conn.execute(
        select(o.c.id, o.c.user_id, o.c.number, st.c.name, o.c.status, o.c.shipping_address, o.c.paid_at,
               o.c.item_lines, o.c.track_number, o.c.carrier, _buyer_level())
        .select_from(o.join(st, st.c.id == o.c.store_id))
        .where(o.c.id == order_id, o.c.store_id.in_(_stores(seller_id)), o.c.purged_at.is_(None),
               o.c.paid_at.is_not(None), o.c.status != "cancelled")
    )).first()
    if row is None:
        return None
    lines = (await conn.execute(
        select(it.c.title, it.c.options, it.c.quantity).where(it.c.order_id == order_id)
        .order_by(it.c.position).limit(items)
    )).all()
    shipped = tuple(ShipItem(line.title, tuple(tuple(p) for p in json.loads(line.options or "[]")), line.quantity)
                    for line in lines)
    return ShipOrderRow(row.id, row.user_id, row.number, row.name, row.status, row.shipping_address, row.paid_at,
                        row.item_lines, shipped, row.track_number, row.carrier, row.buyer_level)
