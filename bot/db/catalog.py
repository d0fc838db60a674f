"""The catalog's reads and writes: products and stores as the product card shows them, search
(FTS5), similar products, and what a buyer keeps — the wishlist, the cart, recently viewed
products, followed stores."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.dialect import SQLITE, Sql
from bot.db.dialect import insert as upsert
from bot.db.engine import Database
from bot.db.tables import cart_items as ct
from bot.db.tables import order_items as it
from bot.db.tables import orders as ot
from bot.db.tables import products as pt
from bot.db.tables import store_follows as sf
from bot.db.tables import stores as st
from bot.db.tables import viewed_products as vt
from bot.db.tables import wishlist as wt
from bot.db.times import UTCDateTime

VIEWED_KEPT = 100


@dataclass(frozen=True, slots=True)
class ProductRow:
    id: int
    store_id: int
    store: str
    title: str
    title_ru: str
    category: str
    price_minor: int
    old_price_minor: int | None
    currency: str
    rating_x10: int
    reviews_count: int
    options: dict[str, list[str]]
    image_file_id: str | None
    image_path: str | None
    active: bool

    def title_in(self, locale: str) -> str:
        return self.title_ru if locale.startswith("ru") and self.title_ru else self.title

    @property
    def discounted(self) -> bool:
        return self.old_price_minor is not None and self.old_price_minor > self.price_minor


_PRODUCT = (pt.c.id, pt.c.store_id, st.c.name.label("store"), pt.c.title, pt.c.title_ru, pt.c.category, pt.c.price_minor,
            pt.c.old_price_minor, pt.c.currency, pt.c.rating_x10, pt.c.reviews_count, pt.c.options,
            pt.c.image_file_id, pt.c.image_path, pt.c.active)
_FROM = pt.join(st, st.c.id == pt.c.store_id)


def _options(raw: str | None) -> dict[str, list[str]]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): [str(v) for v in vs] for k, vs in value.items() if isinstance(vs, list) and vs}


async def product(conn: AsyncConnection, product_id: int) -> ProductRow | None:
    row = (await conn.execute(select(*_PRODUCT).select_from(_FROM).where(pt.c.id == product_id))).first()
    return _product_named(row._mapping) if row else None


async def of_store(conn: AsyncConnection, store_id: int, ids: set[int]) -> set[int]:
    """Which of these product ids are the store's."""
    return set((await conn.execute(select(pt.c.id).where(pt.c.id.in_(ids), pt.c.store_id == store_id))).scalars())


async def currencies(conn: AsyncConnection) -> list[str]:
    """The currencies products are priced in."""
    return sorted((await conn.execute(select(pt.c.currency).distinct())).scalars())


async def products(conn: AsyncConnection, ids: list[int]) -> dict[int, ProductRow]:
    if not ids:
        return {}
    rows = (await conn.execute(select(*_PRODUCT).select_from(_FROM).where(pt.c.id.in_(ids)))).all()
    return {int(r.id): _product_named(r._mapping) for r in rows}


# -- the hot reads (`Database.fetch_all`: the driver, no SQLAlchemy compile; by column name) --------
_P_COLUMNS = ("p.id, p.store_id, s.name AS store, p.title, p.title_ru, p.category, p.price_minor, p.old_price_minor, "
              "p.currency, p.rating_x10, p.reviews_count, p.options, p.image_file_id, p.image_path, p.active")
_P_FROM = "products p JOIN stores s ON s.id = p.store_id"


def _product_named(r: Any) -> ProductRow:
    old = r["old_price_minor"]
    return ProductRow(int(r["id"]), int(r["store_id"]), r["store"], r["title"], r["title_ru"] or "",
                      r["category"] or "", int(r["price_minor"]), None if old is None else int(old), r["currency"],
                      int(r["rating_x10"] or 0), int(r["reviews_count"] or 0), _options(r["options"]),
                      r["image_file_id"], r["image_path"], bool(r["active"]))


_CARD_SQL = (
    f"SELECT {_P_COLUMNS}, "
    "EXISTS (SELECT 1 FROM wishlist w WHERE w.user_id = ? AND w.product_id = p.id) AS wished, "
    "(SELECT coalesce(sum(c.quantity), 0) FROM cart_items c WHERE c.user_id = ? AND c.product_id = p.id) AS in_cart "
    f"FROM {_P_FROM} WHERE p.id = ?"
)


async def product_card(db: Database, user_id: int, product_id: int) -> tuple[ProductRow, bool, int] | None:
    """The product card's one read: the product, whether it is in the user's wishlist, and how
    many of it are in their cart."""
    row = await db.fetch_one(_CARD_SQL, (user_id, user_id, product_id))
    return (_product_named(row), bool(row["wished"]), int(row["in_cart"] or 0)) if row else None


_ONE_SQL = f"SELECT {_P_COLUMNS} FROM {_P_FROM} WHERE p.id = ?"


async def product_hot(db: Database, product_id: int) -> ProductRow | None:
    row = await db.fetch_one(_ONE_SQL, (product_id,))
    return _product_named(row) if row else None


async def products_hot(db: Database, ids: list[int]) -> dict[int, ProductRow]:
    if not ids:
        return {}
    sql = f"SELECT {_P_COLUMNS} FROM {_P_FROM} WHERE p.id IN ({', '.join('?' * len(ids))})"
    return {int(r["id"]): _product_named(r) for r in await db.fetch_all(sql, tuple(ids))}


async def upsert_product(conn: AsyncConnection, *, store_id: int, title: str, values: dict[str, Any],
                         now: datetime) -> tuple[int, tuple[int, str] | None]:
    """Create or update a product by (store, title); returns (id, the price and currency before, None
    if new). A new currency ends the struck-through price of the old one."""
    found = (await conn.execute(select(pt.c.id, pt.c.price_minor, pt.c.currency)
                                .where(pt.c.store_id == store_id, pt.c.title == title))).first()
    if found is None:
        result = await conn.execute(pt.insert().values(store_id=store_id, title=title, created_at=now, **values))
        return int(result.inserted_primary_key[0]), None  # type: ignore[index]
    if values.get("currency", found.currency) != found.currency:
        values = {**values, "old_price_minor": None}
    await conn.execute(update(pt).where(pt.c.id == found.id).values(updated_at=now, **values))
    return int(found.id), (int(found.price_minor), str(found.currency))


async def set_price(conn: AsyncConnection, product_id: int, price_minor: int, old_price_minor: int | None,
                    now: datetime) -> None:
    await conn.execute(update(pt).where(pt.c.id == product_id)
                       .values(price_minor=price_minor, old_price_minor=old_price_minor, updated_at=now))


async def rate(conn: AsyncConnection, item_id: int, *, was: int | None, now: int) -> None:
    """A buyer's stars for an order item move the rating of its store and, when the item is a
    catalog product, of the product: a new review (`was` None) counts one more, a changed one moves
    the average. A product's rating goes on from the one its shop gave it (its reviews elsewhere)."""
    found = (await conn.execute(select(it.c.product_id, ot.c.store_id).join(ot, ot.c.id == it.c.order_id)
                                .where(it.c.id == item_id))).first()
    if found is None or was == now:
        return
    if found.product_id is not None:
        await _move_rating(conn, pt, int(found.product_id), was, now)
    await _move_rating(conn, st, int(found.store_id), was, now)


async def _move_rating(conn: AsyncConnection, table: Any, row_id: int, was: int | None, now: int) -> None:
    """The exact sum of the stars moves (never rebuilt from the rounded rating: it would drift), and
    the rating is its average, half up, within 1–5 stars."""
    delta_count, delta_total = (1, now * 10) if was is None else (0, (now - was) * 10)
    await conn.execute(update(table).where(table.c.id == row_id).values(
        reviews_count=table.c.reviews_count + delta_count, stars_x10_total=table.c.stars_x10_total + delta_total))
    found = (await conn.execute(select(table.c.reviews_count, table.c.stars_x10_total)
                                .where(table.c.id == row_id))).first()
    if found is None:
        return
    count, total = int(found.reviews_count), int(found.stars_x10_total)
    await conn.execute(update(table).where(table.c.id == row_id).values(
        rating_x10=max(10, min(50, (2 * total + count) // (2 * count))) if count else 0))  # half up


async def restart_rating(conn: AsyncConnection, product_id: int) -> None:
    """The shop gave the product its rating and count: the reviews here go on from their product."""
    await conn.execute(update(pt).where(pt.c.id == product_id).values(
        stars_x10_total=pt.c.rating_x10 * pt.c.reviews_count))


async def set_image_file_id(conn: AsyncConnection, product_id: int, file_id: str) -> None:
    await conn.execute(update(pt).where(pt.c.id == product_id).values(image_file_id=file_id))


# -- search and similar ---------------------------------------------------------------------------
def match_expression(query: str, sql: Sql | None = None) -> str:
    """The search expression for what a person typed (SQLite's FTS5 MATCH, or PostgreSQL's
    tsquery): every word as a prefix, all required; quotes and operators can't be injected."""
    return (sql or Sql.of(SQLITE)).match_expression(query)


async def search_page(db: Database, query: str, *, offset: int, limit: int,
                      cap: int | None) -> tuple[int | None, list[ProductRow]]:
    """(how many match, counted up to `cap` — None when not counted; the products from `offset`,
    at most `limit`, in the rank order: the best rated, then the most reviewed, then the lowest
    id — bot/db/dialect.py) in one statement: walks of the index that stop at `cap` and at the
    page's end, however many match."""
    expression = db.sql.match_expression(query)
    if not expression:
        return 0, []
    if cap is None:
        params: tuple[object, ...] = (expression, max(limit, 1), offset)
    else:
        params = (expression, cap, expression, max(limit, 1), offset)
    rows = await db.fetch_all(db.sql.search_page_sql(_P_COLUMNS, counted=cap is not None), params)
    if cap is None:
        return None, [_product_named(r) for r in rows[:limit]]
    if not rows and offset:  # past the end: how many there are, for the last page
        found = await db.fetch_one(db.sql.search_count_sql(), (expression, cap))
        return int(found["total"]) if found else 0, []
    return (int(rows[0]["total"]) if rows else 0), [_product_named(r) for r in rows[:limit]]


_SIMILAR_SQL = (
    f"SELECT {_P_COLUMNS} FROM {_P_FROM} WHERE p.id IN ("
    "SELECT id FROM (SELECT id FROM products WHERE category = ? AND currency = ? AND id <> ? AND active = TRUE "
    "AND price_minor >= ? AND price_minor <= ? ORDER BY price_minor, id LIMIT ?) AS above "
    "UNION ALL "
    "SELECT id FROM (SELECT id FROM products WHERE category = ? AND currency = ? AND id <> ? AND active = TRUE "
    "AND price_minor < ? AND price_minor >= ? ORDER BY price_minor DESC, id LIMIT ?) AS below)"
)


async def similar(db: Database, of: ProductRow, *, limit: int) -> list[ProductRow]:
    """Same category and currency, the nearest prices first (within half to double), active.

    Two walks of `ix_products_category_price` from the product's price — up and down, `limit`
    rows each — in one statement with the rows themselves, merged by distance: a category of
    thousands is never sorted whole."""
    same = (of.category, of.currency, of.id)
    rows = await db.fetch_all(_SIMILAR_SQL, (*same, of.price_minor, of.price_minor * 2, limit,
                                             *same, of.price_minor, of.price_minor // 2, limit))
    nearest = sorted((_product_named(r) for r in rows), key=lambda p: (abs(p.price_minor - of.price_minor), p.id))
    return nearest[:limit]


async def store_products(conn: AsyncConnection, store_id: int, *, offset: int, limit: int,
                         since: datetime | None = None) -> tuple[int, list[int]]:
    where = and_(pt.c.store_id == store_id, pt.c.active.is_(True))
    if since is not None:
        where = and_(where, pt.c.created_at > since)
    total = (await conn.execute(select(func.count()).select_from(pt).where(where))).scalar() or 0
    rows = (await conn.execute(select(pt.c.id).where(where).order_by(pt.c.created_at.desc(), pt.c.id.desc())
                               .offset(offset).limit(limit))).scalars()
    return int(total), [int(i) for i in rows]


@dataclass(frozen=True, slots=True)
class StoreRow:
    id: int
    name: str
    rating_x10: int  # the buyers' stars of its orders' items, 0 before the first review
    reviews_count: int = 0


async def store_id_by_name(conn: AsyncConnection, name: str) -> int | None:
    found = (await conn.execute(select(st.c.id).where(st.c.name == name))).scalar()
    return None if found is None else int(found)


async def store(conn: AsyncConnection, store_id: int) -> StoreRow | None:
    row = (await conn.execute(select(st.c.id, st.c.name, st.c.rating_x10, st.c.reviews_count)
                              .where(st.c.id == store_id))).first()
    return StoreRow(int(row.id), row.name, int(row.rating_x10 or 0), int(row.reviews_count or 0)) if row else None


# -- wishlist -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KeptRow:
    product_id: int
    at: datetime
    price_then_minor: int | None  # the price when it was added (wishlist, cart)


async def wish(conn: AsyncConnection, user_id: int, product_id: int, price_minor: int, now: datetime) -> bool:
    result = await conn.execute(upsert(wt).values(user_id=user_id, product_id=product_id, added_at=now,
                                                         price_at_add_minor=price_minor).on_conflict_do_nothing())
    return bool(result.rowcount)


async def unwish(conn: AsyncConnection, user_id: int, product_id: int) -> bool:
    result = await conn.execute(delete(wt).where(wt.c.user_id == user_id, wt.c.product_id == product_id))
    return bool(result.rowcount)


async def wished(conn: AsyncConnection, user_id: int, product_id: int) -> bool:
    return (await conn.execute(select(wt.c.product_id).where(wt.c.user_id == user_id,
                                                             wt.c.product_id == product_id))).first() is not None


async def wishlist_page(conn: AsyncConnection, user_id: int, *, offset: int, limit: int) -> tuple[int, list[KeptRow]]:
    total = (await conn.execute(select(func.count()).select_from(wt).where(wt.c.user_id == user_id))).scalar() or 0
    rows = (await conn.execute(select(wt.c.product_id, wt.c.added_at, wt.c.price_at_add_minor)
                               .where(wt.c.user_id == user_id).order_by(wt.c.added_at.desc(), wt.c.product_id.desc())
                               .offset(offset).limit(limit))).all()
    return int(total), [KeptRow(int(r.product_id), r.added_at, int(r.price_at_add_minor)) for r in rows]


# -- cart -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CartLineRow:
    id: int
    product_id: int
    options: str
    quantity: int
    price_then_minor: int


async def cart_add(conn: AsyncConnection, user_id: int, product_id: int, options: str, quantity: int,
                   price_minor: int, now: datetime) -> int:
    """Add to the line of this product and options (made if new); returns the line's id."""
    await conn.execute(upsert(ct).values(
        user_id=user_id, product_id=product_id, options=options, quantity=quantity, added_at=now,
        price_at_add_minor=price_minor,
    ).on_conflict_do_update(index_elements=[ct.c.user_id, ct.c.product_id, ct.c.options],
                            set_={"quantity": ct.c.quantity + literal_column("excluded.quantity")}))
    return int((await conn.execute(select(ct.c.id).where(ct.c.user_id == user_id, ct.c.product_id == product_id,
                                                         ct.c.options == options))).scalar_one())


async def cart_line(conn: AsyncConnection, user_id: int, line_id: int) -> CartLineRow | None:
    row = (await conn.execute(select(ct.c.id, ct.c.product_id, ct.c.options, ct.c.quantity, ct.c.price_at_add_minor)
                              .where(ct.c.id == line_id, ct.c.user_id == user_id))).first()
    return _cart_line(row) if row else None


async def cart_lines(conn: AsyncConnection, user_id: int) -> list[CartLineRow]:
    rows = (await conn.execute(select(ct.c.id, ct.c.product_id, ct.c.options, ct.c.quantity, ct.c.price_at_add_minor)
                               .where(ct.c.user_id == user_id).order_by(ct.c.added_at, ct.c.id))).all()
    return [_cart_line(r) for r in rows]


def _cart_line(r: Any) -> CartLineRow:
    return CartLineRow(int(r.id), int(r.product_id), r.options, int(r.quantity), int(r.price_at_add_minor))


async def cart_set_quantity(conn: AsyncConnection, user_id: int, line_id: int, quantity: int) -> bool:
    if quantity <= 0:
        result = await conn.execute(delete(ct).where(ct.c.id == line_id, ct.c.user_id == user_id))
    else:
        result = await conn.execute(update(ct).where(ct.c.id == line_id, ct.c.user_id == user_id)
                                    .values(quantity=quantity))
    return bool(result.rowcount)


async def in_cart(conn: AsyncConnection, user_id: int, product_id: int) -> int:
    return int((await conn.execute(select(func.coalesce(func.sum(ct.c.quantity), 0))
                                   .where(ct.c.user_id == user_id, ct.c.product_id == product_id))).scalar() or 0)


async def cart_size(conn: AsyncConnection, user_id: int) -> int:
    return int((await conn.execute(select(func.coalesce(func.sum(ct.c.quantity), 0))
                                   .where(ct.c.user_id == user_id))).scalar() or 0)


# -- price drops ----------------------------------------------------------------------------------
async def keepers(conn: AsyncConnection, product_id: int) -> list[int]:
    """Users with the product in their wishlist or cart."""
    rows = (await conn.execute(
        select(wt.c.user_id).where(wt.c.product_id == product_id)
        .union(select(ct.c.user_id).where(ct.c.product_id == product_id))
    )).scalars()
    return sorted(int(u) for u in rows)


# -- recently viewed ------------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _viewed_upsert(sql: Sql) -> str:
    newest = sql.greatest("viewed_products.viewed_at", "excluded.viewed_at")
    return (
        "INSERT INTO viewed_products (user_id, product_id, viewed_at) "
        "SELECT CAST(:user_id AS BIGINT), CAST(:product_id AS INTEGER), CAST(:at AS VARCHAR(26)) "
        "WHERE EXISTS (SELECT 1 FROM products WHERE id = :product_id) "
        "AND EXISTS (SELECT 1 FROM users WHERE id = :user_id) "
        f"ON CONFLICT (user_id, product_id) DO UPDATE SET viewed_at = {newest}"
    )


async def viewed_many(conn: AsyncConnection, views: dict[tuple[int, int], datetime]) -> None:
    """Record views ((user, product) → when), newest view of a product kept; then each user's
    list is cut to the last VIEWED_KEPT. A product or user gone meanwhile is skipped."""
    await conn.execute(text(_viewed_upsert(Sql.of(conn.dialect.name))).bindparams(bindparam("at", type_=UTCDateTime())),
                       [{"user_id": u, "product_id": p, "at": at} for (u, p), at in views.items()])
    for user_id in sorted({u for u, _ in views}):
        cut = (select(vt.c.viewed_at).where(vt.c.user_id == user_id).order_by(vt.c.viewed_at.desc())
               .offset(VIEWED_KEPT).limit(1).scalar_subquery())
        await conn.execute(delete(vt).where(vt.c.user_id == user_id, vt.c.viewed_at <= cut))


async def viewed_page(conn: AsyncConnection, user_id: int, *, offset: int, limit: int, category: str | None = None,
                      discounted: bool = False) -> tuple[int, list[KeptRow]]:
    where = [vt.c.user_id == user_id]
    source: Any = vt
    if category is not None or discounted:
        source = vt.join(pt, pt.c.id == vt.c.product_id)
        if category is not None:
            where.append(pt.c.category == category)
        if discounted:
            where.append(and_(pt.c.old_price_minor.is_not(None), pt.c.old_price_minor > pt.c.price_minor))
    total = (await conn.execute(select(func.count()).select_from(source).where(*where))).scalar() or 0
    rows = (await conn.execute(select(vt.c.product_id, vt.c.viewed_at).select_from(source).where(*where)
                               .order_by(vt.c.viewed_at.desc(), vt.c.product_id.desc())
                               .offset(offset).limit(limit))).all()
    return int(total), [KeptRow(int(r.product_id), r.viewed_at, None) for r in rows]


async def viewed_categories(conn: AsyncConnection, user_id: int) -> list[tuple[str, int]]:
    rows = (await conn.execute(
        select(pt.c.category, func.count().label("n")).select_from(vt.join(pt, pt.c.id == vt.c.product_id))
        .where(vt.c.user_id == user_id, pt.c.category != "").group_by(pt.c.category).order_by(pt.c.category)
    )).all()
    return [(r.category, int(r.n)) for r in rows]


async def unview(conn: AsyncConnection, user_id: int, product_id: int | None = None) -> int:
    query = delete(vt).where(vt.c.user_id == user_id)
    if product_id is not None:
        query = query.where(vt.c.product_id == product_id)
    return int((await conn.execute(query)).rowcount or 0)


# -- followed stores ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FollowRow:
    store_id: int
    store: str
    rating_x10: int
    followed_at: datetime
    seen_at: datetime


async def follow(conn: AsyncConnection, user_id: int, store_id: int, now: datetime) -> bool:
    result = await conn.execute(upsert(sf).values(user_id=user_id, store_id=store_id, followed_at=now,
                                                         seen_at=now).on_conflict_do_nothing())
    return bool(result.rowcount)


async def unfollow(conn: AsyncConnection, user_id: int, store_id: int) -> bool:
    result = await conn.execute(delete(sf).where(sf.c.user_id == user_id, sf.c.store_id == store_id))
    return bool(result.rowcount)


async def following(conn: AsyncConnection, user_id: int, store_id: int) -> FollowRow | None:
    rows = await follows(conn, user_id, store_id=store_id)
    return rows[0] if rows else None


async def follows(conn: AsyncConnection, user_id: int, *, store_id: int | None = None) -> list[FollowRow]:
    query = (select(sf.c.store_id, st.c.name.label("store"), st.c.rating_x10, sf.c.followed_at, sf.c.seen_at)
             .select_from(sf.join(st, st.c.id == sf.c.store_id)).where(sf.c.user_id == user_id))
    if store_id is not None:
        query = query.where(sf.c.store_id == store_id)
    rows = (await conn.execute(query.order_by(st.c.name))).all()
    return [FollowRow(int(r.store_id), r.store, int(r.rating_x10 or 0), r.followed_at, r.seen_at) for r in rows]


async def seen_store(conn: AsyncConnection, user_id: int, store_id: int, now: datetime) -> None:
    await conn.execute(update(sf).where(sf.c.user_id == user_id, sf.c.store_id == store_id).values(seen_at=now))
