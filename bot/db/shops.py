"""Repository: shops (API clients), the stores they own, their customers and link tokens, the orders
placed for customers, and the answers kept for idempotency keys. Every read a shop makes names the
shop: another shop's store, customer or order is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.dialect import insert as upsert
from bot.db.rows import columns, record
from bot.db.tables import api_idempotency as idem
from bot.db.tables import customer_links as links
from bot.db.tables import customer_orders as co
from bot.db.tables import customers as cu
from bot.db.tables import orders as ot
from bot.db.tables import refunds as rf
from bot.db.tables import reviews as rv
from bot.db.tables import shop_stores as ss
from bot.db.tables import shops as sh
from bot.db.tables import stores as st

WAITING, PLACED, CANCELLED = "waiting", "placed", "cancelled"


@dataclass(frozen=True, slots=True)
class ShopRow:
    id: int
    name: str
    created_at: datetime
    webhook_url: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerRow:
    id: int
    shop_id: int
    external_id: str
    user_id: int | None
    created_at: datetime
    linked_at: datetime | None


@dataclass(frozen=True, slots=True)
class LinkRow:
    id: int
    customer_id: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class CustomerOrderRow:
    id: int
    customer_id: int
    store_id: int
    number: str
    order_id: int | None
    state: str
    request: str
    paid: str | None
    created_at: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    fingerprint: str
    status: int
    body: str


# -- shops and their stores -------------------------------------------------------------------------
async def insert_shop(conn: AsyncConnection, name: str, key_hash: str, now: datetime) -> int:
    result = await conn.execute(sh.insert().values(name=name, key_hash=key_hash, created_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def set_key(conn: AsyncConnection, shop_id: int, key_hash: str) -> None:
    await conn.execute(sh.update().where(sh.c.id == shop_id).values(key_hash=key_hash))


async def shop_by_key(conn: AsyncConnection, key_hash: str) -> ShopRow | None:
    row = (await conn.execute(select(sh.c.id, sh.c.name, sh.c.created_at, sh.c.webhook_url)
                              .where(sh.c.key_hash == key_hash))).first()
    return record(ShopRow, row) if row else None


async def shop_by_name(conn: AsyncConnection, name: str) -> ShopRow | None:
    row = (await conn.execute(select(sh.c.id, sh.c.name, sh.c.created_at, sh.c.webhook_url)
                              .where(sh.c.name == name))).first()
    return record(ShopRow, row) if row else None


async def all_shops(conn: AsyncConnection) -> list[tuple[ShopRow, list[tuple[int, str]]]]:
    rows = (await conn.execute(select(sh.c.id, sh.c.name, sh.c.created_at, sh.c.webhook_url).order_by(sh.c.id))).all()
    owned = (await conn.execute(select(ss.c.shop_id, st.c.id, st.c.name).join(st, st.c.id == ss.c.store_id)
                                .order_by(st.c.id))).all()
    return [(record(ShopRow, r), [(int(o.id), o.name) for o in owned if o.shop_id == r.id]) for r in rows]


async def any_shop(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(sh.c.id).limit(1))).first() is not None


async def store_owner(conn: AsyncConnection, store_id: int) -> int | None:
    return (await conn.execute(select(ss.c.shop_id).where(ss.c.store_id == store_id))).scalar()


async def own_store(conn: AsyncConnection, shop_id: int, store_id: int) -> None:
    await conn.execute(ss.insert().values(store_id=store_id, shop_id=shop_id))


async def store_of_shop(conn: AsyncConnection, shop_id: int, store_id: int) -> tuple[int, str] | None:
    row = (await conn.execute(select(st.c.id, st.c.name).join(ss, ss.c.store_id == st.c.id)
                              .where(st.c.id == store_id, ss.c.shop_id == shop_id))).first()
    return (int(row.id), row.name) if row else None


async def order_of_shop(conn: AsyncConnection, shop_id: int, number: str) -> int | None:
    """The id of the order with this number when it is in one of the shop's stores."""
    return (await conn.execute(select(ot.c.id).join(ss, ss.c.store_id == ot.c.store_id)
                               .where(ot.c.number == number, ss.c.shop_id == shop_id))).scalar()


async def review_of_shop(conn: AsyncConnection, shop_id: int, review_id: int) -> bool:
    return (await conn.execute(select(rv.c.id).join(ot, ot.c.id == rv.c.order_id)
                               .join(ss, ss.c.store_id == ot.c.store_id)
                               .where(rv.c.id == review_id, ss.c.shop_id == shop_id))).first() is not None


async def refund_of_shop(conn: AsyncConnection, shop_id: int, refund_id: int) -> bool:
    return (await conn.execute(select(rf.c.id).join(ot, ot.c.id == rf.c.order_id)
                               .join(ss, ss.c.store_id == ot.c.store_id)
                               .where(rf.c.id == refund_id, ss.c.shop_id == shop_id))).first() is not None


async def shop_name(conn: AsyncConnection, shop_id: int) -> str:
    return str((await conn.execute(select(sh.c.name).where(sh.c.id == shop_id))).scalar_one())


# -- customers and links ----------------------------------------------------------------------------
_CUSTOMER = columns(cu, CustomerRow)


async def customer(conn: AsyncConnection, shop_id: int, external_id: str) -> CustomerRow | None:
    row = (await conn.execute(select(*_CUSTOMER).where(cu.c.shop_id == shop_id,
                                                       cu.c.external_id == external_id))).first()
    return record(CustomerRow, row) if row else None


async def customer_by_id(conn: AsyncConnection, customer_id: int) -> CustomerRow | None:
    row = (await conn.execute(select(*_CUSTOMER).where(cu.c.id == customer_id))).first()
    return record(CustomerRow, row) if row else None


async def ensure_customer(conn: AsyncConnection, shop_id: int, external_id: str, now: datetime) -> CustomerRow:
    await conn.execute(upsert(cu).values(shop_id=shop_id, external_id=external_id, created_at=now)
                       .on_conflict_do_nothing())
    found = await customer(conn, shop_id, external_id)
    assert found is not None
    return found


async def add_link(conn: AsyncConnection, customer_id: int, token_hash: str, now: datetime,
                   expires_at: datetime) -> None:
    await conn.execute(links.insert().values(customer_id=customer_id, token_hash=token_hash, created_at=now,
                                             expires_at=expires_at))


async def link_by_hash(conn: AsyncConnection, token_hash: str) -> LinkRow | None:
    row = (await conn.execute(select(links.c.id, links.c.customer_id, links.c.expires_at, links.c.used_at)
                              .where(links.c.token_hash == token_hash))).first()
    return record(LinkRow, row) if row else None


async def use_link(conn: AsyncConnection, link_id: int, user_id: int, now: datetime) -> bool:
    result = await conn.execute(update(links).where(links.c.id == link_id, links.c.used_at.is_(None))
                                .values(used_at=now, used_by=user_id))
    return result.rowcount == 1


async def set_customer_user(conn: AsyncConnection, customer_id: int, user_id: int, now: datetime) -> None:
    await conn.execute(update(cu).where(cu.c.id == customer_id).values(user_id=user_id, linked_at=now))


# -- orders placed for customers --------------------------------------------------------------------
_CO = columns(co, CustomerOrderRow)


async def add_customer_order(conn: AsyncConnection, *, customer_id: int, store_id: int, number: str,
                             order_id: int | None, request: str, now: datetime) -> int:
    result = await conn.execute(co.insert().values(
        customer_id=customer_id, store_id=store_id, number=number, order_id=order_id,
        state=PLACED if order_id is not None else WAITING, request="{}" if order_id is not None else request,
        created_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def next_customer_order_id(conn: AsyncConnection) -> int:
    """The id the next row will get (the writer is serialised): a waiting order's default number."""
    return int((await conn.execute(select(func.coalesce(func.max(co.c.id), 0) + 1))).scalar_one())


async def customer_of_order(conn: AsyncConnection, order_id: int) -> str | None:
    """The shop's id for the customer an order was placed for through the API (None: placed otherwise)."""
    return (await conn.execute(select(cu.c.external_id).join(co, co.c.customer_id == cu.c.id)
                               .where(co.c.order_id == order_id))).scalar()


async def number_taken(conn: AsyncConnection, number: str) -> bool:
    in_orders = (await conn.execute(select(ot.c.id).where(ot.c.number == number))).first()
    return in_orders is not None or (await conn.execute(select(co.c.id).where(co.c.number == number))).first() is not None


async def waiting_of_shop(conn: AsyncConnection, shop_id: int, number: str) -> CustomerOrderRow | None:
    """An order that waits for its customer (or was cancelled while waiting), through the shop."""
    row = (await conn.execute(select(*_CO).join(cu, cu.c.id == co.c.customer_id)
                              .where(co.c.number == number, cu.c.shop_id == shop_id, co.c.state != PLACED))).first()
    return record(CustomerOrderRow, row) if row else None


async def customer_order_id(conn: AsyncConnection, customer_id: int, number: str) -> int | None:
    """The row of the customer's order with that number (placed or waiting)."""
    found = (await conn.execute(select(co.c.id).where(co.c.customer_id == customer_id, co.c.number == number))).scalar()
    return None if found is None else int(found)


async def customer_orders(conn: AsyncConnection, customer_id: int, *, waiting_only: bool = False,
                          limit: int = 100, before_id: int | None = None) -> list[CustomerOrderRow]:
    query = select(*_CO).where(co.c.customer_id == customer_id)
    if waiting_only:
        query = query.where(co.c.state == WAITING)
    if before_id is not None:
        query = query.where(co.c.id < before_id)
    order = co.c.id.asc() if waiting_only else co.c.id.desc()
    return [record(CustomerOrderRow, r) for r in (await conn.execute(query.order_by(order).limit(limit))).all()]


async def mark_waiting(conn: AsyncConnection, row_id: int, *, paid: str | None = None,
                       cancelled_at: datetime | None = None) -> bool:
    """A waiting order marked paid (`paid`: the card snapshot), or cancelled at `cancelled_at`."""
    values: dict[str, object] = {"state": CANCELLED, "cancelled_at": cancelled_at} if cancelled_at else {"paid": paid}
    result = await conn.execute(update(co).where(co.c.id == row_id, co.c.state == WAITING).values(**values))
    return result.rowcount == 1


async def placed(conn: AsyncConnection, row_id: int, order_id: int) -> None:
    await conn.execute(update(co).where(co.c.id == row_id).values(order_id=order_id, state=PLACED, request="{}"))


# -- idempotency -------------------------------------------------------------------------------------
async def stored_answer(conn: AsyncConnection, shop_id: int, key: str) -> StoredAnswer | None:
    row = (await conn.execute(select(idem.c.fingerprint, idem.c.status, idem.c.body)
                              .where(and_(idem.c.shop_id == shop_id, idem.c.key == key)))).first()
    return StoredAnswer(row.fingerprint, int(row.status), row.body) if row else None


async def store_answer(conn: AsyncConnection, shop_id: int, key: str, fingerprint: str, status: int, body: str,
                       now: datetime) -> None:
    await conn.execute(idem.insert().values(shop_id=shop_id, key=key, fingerprint=fingerprint, status=status,
                                            body=body, created_at=now))


async def prune_answers(conn: AsyncConnection, before: datetime) -> int:
    result = await conn.execute(delete(idem).where(idem.c.created_at < before))
    return result.rowcount or 0
