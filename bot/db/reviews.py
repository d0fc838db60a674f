"""Repository: reviews of order items, and the items a buyer may review."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.rows import record
from bot.db.tables import order_items as it
from bot.db.tables import orders as ot
from bot.db.tables import reviews as t
from bot.db.tables import stores as st


@dataclass(frozen=True, slots=True)
class ItemRef:
    """An order item as a review needs it, with its order's owner and completion."""

    item_id: int
    order_id: int
    user_id: int
    number: str
    store_id: int
    store: str
    title: str
    options: str  # JSON
    completed_at: datetime | None
    review_id: int | None


@dataclass(frozen=True, slots=True)
class ReviewRow:
    id: int
    user_id: int
    order_id: int
    item_id: int
    rating: int
    text: str
    photos: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    extra_text: str | None
    extra_photos: tuple[str, ...]
    extra_at: datetime | None
    reply_text: str | None
    reply_at: datetime | None
    extra_rating: int | None = None  # the additional review changed the stars to these
    # joined
    title: str = ""
    number: str = ""
    store: str = ""
    completed_at: datetime | None = None


_REVIEW = tuple(t.c[f.name] for f in fields(ReviewRow) if f.name in t.c)
_JOINED = (*_REVIEW, it.c.title, ot.c.number, st.c.name.label("store"), ot.c.completed_at)
_FROM = t.join(it, it.c.id == t.c.item_id).join(ot, ot.c.id == t.c.order_id).join(st, st.c.id == ot.c.store_id)


def _review(row: Any) -> ReviewRow:
    values = dict(row._mapping)
    for photos in ("photos", "extra_photos"):
        values[photos] = tuple(json.loads(values[photos] or "[]"))
    return ReviewRow(**values)


_ITEM = (it.c.id.label("item_id"), it.c.order_id, ot.c.user_id, ot.c.number, ot.c.store_id, st.c.name.label("store"),
         it.c.title, it.c.options, ot.c.completed_at, t.c.id.label("review_id"))
_ITEM_FROM = (it.join(ot, ot.c.id == it.c.order_id).join(st, st.c.id == ot.c.store_id)
              .outerjoin(t, t.c.item_id == it.c.id))


async def item(conn: AsyncConnection, user_id: int, item_id: int) -> ItemRef | None:
    """An item of one of the user's orders (never someone else's), not purged."""
    row = (await conn.execute(
        select(*_ITEM).select_from(_ITEM_FROM)
        .where(it.c.id == item_id, ot.c.user_id == user_id, ot.c.purged_at.is_(None))
    )).first()
    return record(ItemRef, row) if row else None


async def order_items(conn: AsyncConnection, user_id: int, order_id: int) -> list[ItemRef]:
    rows = (await conn.execute(
        select(*_ITEM).select_from(_ITEM_FROM)
        .where(it.c.order_id == order_id, ot.c.user_id == user_id, ot.c.purged_at.is_(None))
        .order_by(it.c.position)
    )).all()
    return [record(ItemRef, r) for r in rows]


def _awaiting(user_id: int, since: datetime):  # type: ignore[no-untyped-def]
    return and_(ot.c.user_id == user_id, ot.c.completed_at.isnot(None), ot.c.completed_at > since,
                ot.c.purged_at.is_(None), t.c.id.is_(None))


async def awaiting(conn: AsyncConnection, user_id: int, since: datetime, *, offset: int,
                   limit: int) -> tuple[list[ItemRef], int]:
    """Items of orders completed after `since` without a review, soonest deadline first."""
    total = int((await conn.execute(
        select(func.count()).select_from(_ITEM_FROM).where(_awaiting(user_id, since))
    )).scalar_one())
    rows = (await conn.execute(
        select(*_ITEM).select_from(_ITEM_FROM).where(_awaiting(user_id, since))
        .order_by(ot.c.completed_at, it.c.order_id, it.c.position).offset(offset).limit(limit)
    )).all() if total and limit else []
    return [record(ItemRef, r) for r in rows], total


async def get(conn: AsyncConnection, review_id: int, user_id: int | None = None) -> ReviewRow | None:
    query = select(*_JOINED).select_from(_FROM).where(t.c.id == review_id)
    if user_id is not None:
        query = query.where(t.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return _review(row) if row else None


async def by_item(conn: AsyncConnection, item_id: int) -> ReviewRow | None:
    row = (await conn.execute(select(*_JOINED).select_from(_FROM).where(t.c.item_id == item_id))).first()
    return _review(row) if row else None


async def count(conn: AsyncConnection, user_id: int) -> int:
    return int((await conn.execute(select(func.count()).select_from(t).where(t.c.user_id == user_id))).scalar_one())


async def page(conn: AsyncConnection, user_id: int, *, offset: int, limit: int) -> tuple[list[ReviewRow], int]:
    total = await count(conn, user_id)
    rows = (await conn.execute(
        select(*_JOINED).select_from(_FROM).where(t.c.user_id == user_id)
        .order_by(t.c.created_at.desc(), t.c.id.desc()).offset(offset).limit(limit)
    )).all() if total else []
    return [_review(r) for r in rows], total


async def insert(conn: AsyncConnection, *, user_id: int, order_id: int, item_id: int, rating: int, text: str,
                 photos: tuple[str, ...], now: datetime) -> int:
    result = await conn.execute(t.insert().values(
        user_id=user_id, order_id=order_id, item_id=item_id, rating=rating, text=text,
        photos=json.dumps(list(photos)), created_at=now, updated_at=now,
    ))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def edit(conn: AsyncConnection, review_id: int, user_id: int, *, rating: int, text: str,
               photos: tuple[str, ...], now: datetime) -> bool:
    result = await conn.execute(update(t).where(t.c.id == review_id, t.c.user_id == user_id).values(
        rating=rating, text=text, photos=json.dumps(list(photos)), updated_at=now))
    return bool(result.rowcount)


async def add_extra(conn: AsyncConnection, review_id: int, user_id: int, *, text: str, photos: tuple[str, ...],
                    now: datetime, rating: int | None = None) -> bool:
    """The additional review, once: only while there is none. `rating`: new stars, when changed."""
    result = await conn.execute(
        update(t).where(t.c.id == review_id, t.c.user_id == user_id, t.c.extra_at.is_(None))
        .values(extra_text=text, extra_photos=json.dumps(list(photos)), extra_at=now, extra_rating=rating))
    return bool(result.rowcount)


async def set_reply(conn: AsyncConnection, review_id: int, text: str, now: datetime, *, first: bool = False) -> bool:
    """The store's reply; `first`: only when there is none yet. False: nothing was written."""
    query = update(t).where(t.c.id == review_id)
    if first:
        query = query.where(t.c.reply_text.is_(None))
    result = await conn.execute(query.values(reply_text=text, reply_at=now))
    return bool(result.rowcount)
