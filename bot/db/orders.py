"""Repository: stores, products, orders, their items, status history and tracking events.

The list screens read one page and the counts per status in two queries, over partial indexes
that leave deleted orders out (see tables/orders.py); a row carries its own summary (first title, number
of lines), so a page needs no per-row item query.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import pay as pay_repo
from bot.db.dialect import Sql
from bot.db.dialect import insert as upsert
from bot.db.engine import Database
from bot.db.rows import Decoder, columns, record
from bot.db.tables import order_items as it
from bot.db.tables import order_status_history as hist
from bot.db.tables import orders as t
from bot.db.tables import products as pt
from bot.db.tables import refunds as rt
from bot.db.tables import stores as st
from bot.db.tables import tracking_events as te


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: int
    number: str
    user_id: int
    store_id: int
    status: str
    currency: str
    items_minor: int
    shipping_minor: int
    total_minor: int
    usd_rate: str | None
    first_title: str
    item_lines: int
    shipping_address: str
    paid_card_id: int | None
    paid_card_brand: str | None
    paid_card_last4: str | None
    paid_card_exp_month: int | None
    paid_card_exp_year: int | None
    track_number: str | None
    carrier: str | None
    cancel_reason: str | None
    created_at: datetime
    pay_by: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    disputed_at: datetime | None
    closed_at: datetime | None
    protection_ends_at: datetime | None
    tracking_checked_at: datetime | None
    deleted_at: datetime | None
    purged_at: datetime | None
    address_id: int | None = None  # the address book entry it was placed with (NULL once deleted)
    paid_charge_id: str | None = None  # the gateway's charge: refunds go back through it
    pay_attempts: int = 0  # declined payments so far: the next one gets a fresh idempotency key
    discount_minor: int = 0  # the coupons used at checkout: total = items + shipping − discount
    certificate_minor: int = 0  # what gift certificates paid of the total at checkout

    @property
    def card_minor(self) -> int:
        """What a card pays (or paid): the total less what gift certificates paid."""
        return self.total_minor - self.certificate_minor


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One line of an order list."""

    id: int
    number: str
    status: str
    created_at: datetime
    total_minor: int
    currency: str
    first_title: str
    item_lines: int
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ItemRow:
    position: int
    product_id: int | None
    title: str
    options: tuple[tuple[str, str], ...]
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True, slots=True)
class HistoryRow:
    status: str
    actor: str
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class TrackingRow:
    id: int
    at: datetime
    code: str
    location: str
    description: str
    source: str


_ORDER = columns(t, OrderRow)
_SUMMARY = columns(t, SummaryRow)
_TRACKING = columns(te, TrackingRow)
VISIBLE = t.c.deleted_at.is_(None)  # literally the partial indexes' condition
IN_BIN = and_(t.c.deleted_at.is_not(None), t.c.purged_at.is_(None))


# -- stores and products ------------------------------------------------------------------------
async def store_id_by_name(conn: AsyncConnection, name: str) -> int | None:
    return (await conn.execute(select(st.c.id).where(st.c.name == name))).scalar()


async def insert_store(conn: AsyncConnection, name: str, seller_account: str | None, now: datetime) -> int:
    result = await conn.execute(st.insert().values(name=name, seller_account=seller_account, created_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def store_names(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, str]:
    rows = (await conn.execute(select(st.c.id, st.c.name).where(st.c.id.in_(list(ids))))).all()
    return {r.id: r.name for r in rows}


async def ensure_product(conn: AsyncConnection, *, store_id: int, title: str, category: str,
                         price_minor: int, currency: str, now: datetime) -> int:
    await conn.execute(
        upsert(pt).values(store_id=store_id, title=title, category=category, price_minor=price_minor,
                                 currency=currency, created_at=now)
        .on_conflict_do_nothing(index_elements=[pt.c.store_id, pt.c.title])
    )
    return int((await conn.execute(
        select(pt.c.id).where(pt.c.store_id == store_id, pt.c.title == title)
    )).scalar_one())


# -- orders ---------------------------------------------------------------------------------------
async def next_id(conn: AsyncConnection) -> int:
    """The id the next order gets. Only inside a write transaction (BEGIN IMMEDIATE holds the lock)."""
    return int((await conn.execute(select(func.coalesce(func.max(t.c.id), 0)))).scalar_one()) + 1


async def insert_order(conn: AsyncConnection, **values: Any) -> int:
    result = await conn.execute(t.insert().values(**values))
    order_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if "id" in values and conn.dialect.name == "postgresql":
        # the id was chosen here (next_id): move the column's sequence past it, so that an insert
        # leaving the id to PostgreSQL (a script, a future path) never collides with it
        await conn.execute(text("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))"))
    return order_id


async def insert_items(conn: AsyncConnection, order_id: int, items: Sequence[ItemRow]) -> None:
    await conn.execute(it.insert(), [
        {"order_id": order_id, "position": i.position, "product_id": i.product_id, "title": i.title,
         "options": json.dumps([list(o) for o in i.options], ensure_ascii=False), "quantity": i.quantity,
         "unit_price_minor": i.unit_price_minor}
        for i in items
    ])


async def get(conn: AsyncConnection, order_id: int, user_id: int | None = None, *,
              purged: bool = False) -> OrderRow | None:
    """An order that is not purged (`purged`: or is — the shop's financial record of an order its
    buyer deleted for good, address erased); through its owner when `user_id` is given."""
    query = select(*_ORDER).where(t.c.id == order_id)
    if not purged:
        query = query.where(t.c.purged_at.is_(None))
    if user_id is not None:
        query = query.where(t.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return record(OrderRow, row) if row else None


async def items(conn: AsyncConnection, order_id: int) -> list[ItemRow]:
    """An order's items in their order (the shop API's answer; screens read them with the card)."""
    rows = (await conn.execute(select(it.c.position, it.c.product_id, it.c.title, it.c.options, it.c.quantity,
                                      it.c.unit_price_minor).where(it.c.order_id == order_id)
                               .order_by(it.c.position))).mappings().all()
    return [_item(dict(r)) for r in rows]


async def many(conn: AsyncConnection, order_ids: Sequence[int]) -> dict[int, tuple[OrderRow, list[ItemRow]]]:
    """Orders with their items, by id: two statements for any number (the shop API's list). Purged
    ones too: the shop keeps the financial record of an order its buyer deleted for good (`get`)."""
    if not order_ids:
        return {}
    orders = {int(r.id): record(OrderRow, r) for r in (await conn.execute(
        select(*_ORDER).where(t.c.id.in_(order_ids)))).all()}
    found: dict[int, tuple[OrderRow, list[ItemRow]]] = {i: (o, []) for i, o in orders.items()}
    rows = (await conn.execute(select(it.c.order_id, it.c.position, it.c.product_id, it.c.title, it.c.options,
                                      it.c.quantity, it.c.unit_price_minor)
                               .where(it.c.order_id.in_(list(orders))).order_by(it.c.order_id, it.c.position))
            ).mappings().all()
    for r in rows:
        found[int(r["order_id"])][1].append(_item({k: v for k, v in r.items() if k != "order_id"}))
    return found


async def by_number(conn: AsyncConnection, number: str) -> OrderRow | None:
    row = (await conn.execute(select(*_ORDER).where(t.c.number == number, t.c.purged_at.is_(None)))).first()
    return record(OrderRow, row) if row else None


async def set_status(conn: AsyncConnection, order_id: int, user_id: int, *, expected: str, new: str,
                     values: dict[str, Any]) -> bool:
    """The conditional transition: changes the row only while it still has the expected status."""
    result = await conn.execute(
        update(t).where(t.c.id == order_id, t.c.user_id == user_id, t.c.status == expected,
                        t.c.purged_at.is_(None))
        .values(status=new, **values)
    )
    return bool(result.rowcount)


async def set_fields(conn: AsyncConnection, order_id: int, user_id: int, *, where: Any = None,
                     **values: Any) -> bool:
    query = update(t).where(t.c.id == order_id, t.c.user_id == user_id, t.c.purged_at.is_(None))
    if where is not None:
        query = query.where(where)
    result = await conn.execute(query.values(**values))
    return bool(result.rowcount)


async def add_history(conn: AsyncConnection, order_id: int, status: str, actor: str, note: str | None,
                      at: datetime) -> None:
    await conn.execute(hist.insert().values(order_id=order_id, status=status, actor=actor, note=note, at=at))


async def history(conn: AsyncConnection, order_id: int) -> list[HistoryRow]:
    rows = (await conn.execute(
        select(hist.c.status, hist.c.actor, hist.c.note, hist.c.at)
        .where(hist.c.order_id == order_id).order_by(hist.c.id)
    )).all()
    return [record(HistoryRow, r) for r in rows]


# -- lists --------------------------------------------------------------------------------------
DELETED = "deleted"  # the key of the Deleted orders count in `tab_page`


async def deleted_count(conn: AsyncConnection, user_id: int) -> int:
    return int((await conn.execute(
        select(func.count()).select_from(t).where(t.c.user_id == user_id, IN_BIN)
    )).scalar_one())


# -- the busy screens' readers: the list page and the order card, through the pool ------------------
# One reader per screen, used after a read and after a write alike (inside a unit of work
# `Database.fetch_all` runs on its connection, so the screen shows what was just written). Each is
# one statement (one snapshot, one round trip, no SQLAlchemy compile/cache-key/result-processing
# work: ~0.1 ms instead of ~1.5 ms for the list's two Core queries and ~3 ms for the card's five).
# Columns are named after the dataclasses' fields and decoded by name (bot/db/rows.py).
_SUMMARY_ROW = Decoder(SummaryRow, t)
_ORDER_ROW = Decoder(OrderRow, t)
_ITEM_COLUMNS = ("position", "product_id", "title", "options", "quantity", "unit_price_minor")
_DISPUTE_COLUMNS = ("id", "state", "seller_answer", "resolution")
_list_sql: dict[int, str] = {}


def _tab_sql(n_statuses: int) -> str:
    """The page (newest first) and the counts by status and of Deleted orders, in one statement.
    Count rows carry only `status` and `n`; page rows have `n` NULL. Each part runs over its own
    partial index (see tables/orders.py)."""
    sql = _list_sql.get(n_statuses)
    if sql is None:
        where = "user_id = ? AND deleted_at IS NULL"
        if n_statuses == 1:
            where += " AND status = ?"
        elif n_statuses:
            where += " AND status IN (" + ", ".join("?" * n_statuses) + ")"

        def counts(status: str) -> str:
            return ", ".join(status if name == "status" else "NULL" for name in _SUMMARY_ROW.names)

        sql = (
            f"SELECT *, CAST(NULL AS BIGINT) AS n FROM (SELECT {_SUMMARY_ROW.columns()} FROM orders WHERE {where}"
            " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?) AS page"
            f" UNION ALL SELECT {counts('status')}, count(*) FROM orders"
            " WHERE user_id = ? AND deleted_at IS NULL GROUP BY status"
            f" UNION ALL SELECT {counts(repr(DELETED))}, count(*) FROM orders"
            " WHERE user_id = ? AND deleted_at IS NOT NULL AND purged_at IS NULL"
        )
        _list_sql[n_statuses] = sql
    return sql


async def tab_page(db: Database, user_id: int, statuses: Sequence[str] | None, *, offset: int,
                   limit: int) -> tuple[dict[str, int], list[SummaryRow]]:
    """The order list's reader: (visible orders by status, and Deleted orders under DELETED;
    the page's rows, newest first)."""
    wanted = tuple(statuses or ())
    raw = await db.fetch_all(_tab_sql(len(wanted)), (user_id, *wanted, limit, offset, user_id, user_id))
    counts: dict[str, int] = {}
    rows = []
    for r in raw:
        if r["n"] is None:
            rows.append(_SUMMARY_ROW(r))
        elif r["n"]:
            counts[r["status"]] = int(r["n"])
    rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)  # a UNION keeps no order
    return counts, rows


@dataclass(frozen=True, slots=True)
class DisputeRead:
    id: int
    state: str
    seller_answer: str | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class CardRead:
    """What the order card needs, read in one statement."""

    order: OrderRow
    store: str
    items: list[ItemRow]
    has_refunds: bool  # read them then (refunds' own repository): most orders have none
    dispute: DisputeRead | None
    reviewed: int = 0  # items of the order with a review


@lru_cache(maxsize=2)
def _card_sql(sql: Sql) -> str:
    return (
        f"SELECT {_ORDER_ROW.columns('o')},"
        " (SELECT name FROM stores WHERE id = o.store_id) AS store_name,"
        f" (SELECT {sql.json_array(sql.json_object('', _ITEM_COLUMNS))} FROM order_items WHERE order_id = o.id)"
        " AS items_json,"
        " EXISTS (SELECT 1 FROM refunds WHERE order_id = o.id) AS has_refunds,"
        " (SELECT COUNT(*) FROM order_items i JOIN reviews r ON r.item_id = i.id WHERE i.order_id = o.id)"
        " AS reviewed,"
        f" (SELECT {sql.json_text(sql.json_object('', _DISPUTE_COLUMNS))} FROM disputes WHERE order_id = o.id) AS dispute_json"
        " FROM orders o WHERE o.id = ? AND o.purged_at IS NULL AND o.user_id = ?"
    )


def _item(i: dict[str, Any]) -> ItemRow:
    return ItemRow(i["position"], i["product_id"], i["title"], tuple(tuple(o) for o in json.loads(i["options"])),
                   i["quantity"], i["unit_price_minor"])


async def card_read(db: Database, order_id: int, user_id: int) -> CardRead | None:
    """The order card's reader: the order (not purged, through its owner), its store's name, its
    items, whether it has refunds, its dispute, and how many of its items have a review."""
    row = await db.fetch_one(_card_sql(db.sql), (order_id, user_id))
    if row is None:
        return None
    items = sorted((_item(i) for i in json.loads(row["items_json"] or "[]")), key=lambda i: i.position)
    dispute = DisputeRead(**json.loads(row["dispute_json"])) if row["dispute_json"] else None
    return CardRead(_ORDER_ROW(row), row["store_name"] or "", items, bool(row["has_refunds"]), dispute,
                    int(row["reviewed"] or 0))


def _search_where(user_id: int, words: Sequence[str]) -> Any:
    """Every word somewhere in the order's number or titles (`search_text` is casefolded)."""
    likes = []
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        likes.append(t.c.search_text.like(f"%{escaped}%", escape="\\"))
    return and_(t.c.user_id == user_id, VISIBLE, *likes)


async def search(conn: AsyncConnection, user_id: int, words: Sequence[str], *, offset: int,
                 limit: int) -> tuple[list[SummaryRow], int]:
    where = _search_where(user_id, words)
    total = int((await conn.execute(select(func.count()).select_from(t).where(where))).scalar_one())
    rows = (await conn.execute(
        select(*_SUMMARY).where(where).order_by(t.c.created_at.desc(), t.c.id.desc()).offset(offset).limit(limit)
    )).all()
    return [record(SummaryRow, r) for r in rows], total


async def deleted_page(conn: AsyncConnection, user_id: int, *, offset: int, limit: int) -> list[SummaryRow]:
    rows = (await conn.execute(
        select(*_SUMMARY).where(t.c.user_id == user_id, IN_BIN)
        .order_by(t.c.deleted_at.desc(), t.c.id.desc()).offset(offset).limit(limit)
    )).all()
    return [record(SummaryRow, r) for r in rows]


# -- due transitions ------------------------------------------------------------------------------
async def due_unpaid(conn: AsyncConnection, now: datetime, limit: int) -> list[tuple[int, int]]:
    rows = (await conn.execute(
        # an order whose payment is still being checked with the gateway waits for the check
        select(t.c.id, t.c.user_id).where(t.c.status == "awaiting_payment", t.c.pay_by <= now,
                                          ~pay_repo.unknown_outcome(t.c.id))
        .order_by(t.c.pay_by).limit(limit)
    )).all()
    return [(r.id, r.user_id) for r in rows]


async def due_protection(conn: AsyncConnection, now: datetime, limit: int) -> list[tuple[int, int]]:
    rows = (await conn.execute(
        select(t.c.id, t.c.user_id).where(t.c.status == "shipped", t.c.protection_ends_at <= now)
        .order_by(t.c.protection_ends_at).limit(limit)
    )).all()
    return [(r.id, r.user_id) for r in rows]


async def due_tracking(conn: AsyncConnection, checked_before: datetime, limit: int) -> list[tuple[int, int]]:
    """Parcels on their way never asked about, then those asked longest ago (two index searches:
    one `OR` would scan the whole index)."""
    shipped = and_(t.c.status == "shipped", t.c.track_number.is_not(None))
    never = (await conn.execute(
        select(t.c.id, t.c.user_id).where(shipped, t.c.tracking_checked_at.is_(None)).limit(limit)
    )).all()
    stale = (await conn.execute(
        select(t.c.id, t.c.user_id).where(shipped, t.c.tracking_checked_at < checked_before)
        .order_by(t.c.tracking_checked_at).limit(limit - len(never))
    )).all() if len(never) < limit else []
    return [(r.id, r.user_id) for r in [*never, *stale]]


# -- tracking -------------------------------------------------------------------------------------
async def tracking_events(conn: AsyncConnection, order_id: int) -> list[TrackingRow]:
    """Newest first."""
    rows = (await conn.execute(
        select(*_TRACKING).where(te.c.order_id == order_id).order_by(te.c.at.desc(), te.c.id.desc())
    )).all()
    return [record(TrackingRow, r) for r in rows]


async def add_tracking_event(conn: AsyncConnection, order_id: int, *, at: datetime, code: str, location: str,
                             description: str, source: str) -> int | None:
    """Insert an event unless the same (time, code) is known. Returns the new id, or None."""
    result = await conn.execute(
        upsert(te).values(order_id=order_id, at=at, code=code, location=location,
                                 description=description, source=source)
        .on_conflict_do_nothing(index_elements=[te.c.order_id, te.c.at, te.c.code])
    )
    return int(result.inserted_primary_key[0]) if result.rowcount else None  # type: ignore[index]


# -- links to the other sections (0008_links) ------------------------------------------------------
UNDELIVERED = ("awaiting_payment", "awaiting_shipment", "shipped")


async def open_with_address(conn: AsyncConnection, user_id: int, address_id: int) -> int:
    """Orders placed with an address that have not reached the buyer yet (ix_orders_address)."""
    return int((await conn.execute(
        select(func.count()).select_from(t).where(
            t.c.address_id == address_id, t.c.user_id == user_id, t.c.status.in_(UNDELIVERED),
            t.c.delivered_at.is_(None), t.c.purged_at.is_(None),
        )
    )).scalar_one())


async def card_usage(conn: AsyncConnection, user_id: int, card_id: int) -> tuple[int, int, int]:
    """Orders paid with a card that are not finished: (in delivery, in dispute, refund pending).
    Each order counts once: a dispute first, then delivery, then a refund still on its way."""
    pending = select(rt.c.order_id).where(rt.c.card_id == card_id, rt.c.user_id == user_id,
                                          rt.c.state == "pending")
    rows = (await conn.execute(
        select(t.c.status, t.c.id.in_(pending).label("refund")).where(
            t.c.paid_card_id == card_id, t.c.user_id == user_id, t.c.purged_at.is_(None),
        )
    )).all()
    delivery = sum(1 for r in rows if r.status in ("awaiting_shipment", "shipped"))
    dispute = sum(1 for r in rows if r.status == "in_dispute")
    refund = sum(1 for r in rows if r.refund and r.status not in ("awaiting_shipment", "shipped", "in_dispute"))
    return delivery, dispute, refund


async def record_declined_payment(conn: AsyncConnection, order_id: int, user_id: int, attempt: int) -> bool:
    """A declined payment: the next attempt gets a fresh idempotency key (only once per attempt)."""
    result = await conn.execute(
        update(t).where(t.c.id == order_id, t.c.user_id == user_id, t.c.status == "awaiting_payment",
                        t.c.pay_attempts == attempt)
        .values(pay_attempts=attempt + 1)
    )
    return bool(result.rowcount)
