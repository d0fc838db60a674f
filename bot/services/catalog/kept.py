"""What a buyer keeps of the catalog: the wishlist ("My wishes"), the cart, recently viewed products.

Rules:
- Wishlist: a product once; the price when it was added is kept to show what changed; paged,
  newest first; "move to cart" adds it (first options preselected) and takes it off the list.
- Cart: one line per product and chosen options; + and − (at zero the line goes), at most 99 of a
  line and 50 lines; grouped by store with a total per store (each store checks out on its own);
  a product no longer sold stays visible, marked, and is left out of the totals.
- Recently viewed: newest first, the last 100; by category, "discounted only"; remove one; clear.
Every id is looked up through the user: another user's line is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import catalog as repo
from bot.db.catalog import CartLineRow, KeptRow, ProductRow
from bot.db.engine import Database
from bot.services.catalog.products import (
    NotSold,
    ProductNotFound,
    option_key,
    pages,
    parse_option_key,
)
from bot.services.catalog.viewed import ViewedLog
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound

PAGE = 8
LINE_MAX = 99
CART_LINES_MAX = 50


class CartLineNotFound(NotFound, msgid=N_("This item is no longer in your cart.")): ...


class CartFull(DomainError, msgid=N_("Your cart holds at most {max} different items. Check out or remove some first.")): ...


class QuantityTooLarge(InvalidInput, msgid=N_("At most {max} of one item.")): ...


class BadOption(InvalidInput, msgid=N_("Choose one of the offered options.")): ...


@dataclass(frozen=True, slots=True)
class KeptProduct:
    product: ProductRow
    at: datetime  # added, or viewed
    price_then_minor: int | None

    @property
    def cheaper_now(self) -> bool:
        return self.price_then_minor is not None and self.product.price_minor < self.price_then_minor


@dataclass(frozen=True, slots=True)
class KeptPage:
    rows: tuple[KeptProduct, ...]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class CartLine:
    id: int
    product: ProductRow
    options: dict[str, str]
    quantity: int
    price_then_minor: int

    @property
    def total_minor(self) -> int:
        return self.product.price_minor * self.quantity if self.product.active else 0


@dataclass(frozen=True, slots=True)
class StoreCart:
    store_id: int
    store: str
    lines: tuple[CartLine, ...]
    currency_totals: tuple[tuple[str, int], ...]  # (currency, minor) of the lines still sold


@dataclass(frozen=True, slots=True)
class Cart:
    stores: tuple[StoreCart, ...]

    @property
    def pieces(self) -> int:
        return sum(line.quantity for group in self.stores for line in group.lines)


def _kept(rows: list[KeptRow], products: dict[int, ProductRow]) -> tuple[KeptProduct, ...]:
    return tuple(KeptProduct(products[r.product_id], r.at, r.price_then_minor) for r in rows
                 if r.product_id in products)


def check_options(product: ProductRow, chosen: dict[str, str]) -> dict[str, str]:
    """The options as the product offers them: every one of its options chosen (the first by
    default), nothing it does not offer."""
    result = {}
    for name, values in product.options.items():
        value = chosen.get(name, values[0])
        if value not in values:
            raise BadOption()
        result[name] = value
    if set(chosen) - set(product.options):
        raise BadOption()
    return result


class KeptService:
    def __init__(self, db: Database, clock: Clock, viewed: ViewedLog | None = None) -> None:
        self.db = db
        self.clock = clock
        self.viewed_log = viewed or ViewedLog(db)  # Recently viewed notes not written yet

    # -- wishlist -------------------------------------------------------------------------------
    async def wish(self, user_id: int, product_id: int, on: bool = True) -> bool:
        """Add to (or remove from) the wishlist; repeating it changes nothing."""
        async with self.db.write() as conn:
            found = await repo.product(conn, product_id)
            if found is None:
                raise ProductNotFound()
            if on:
                return await repo.wish(conn, user_id, product_id, found.price_minor, self.clock.now())
            return await repo.unwish(conn, user_id, product_id)

    async def wishlist(self, user_id: int, page: int = 0) -> KeptPage:
        async with self.db.read() as conn:
            total, _ = await repo.wishlist_page(conn, user_id, offset=0, limit=0)
            page, count = pages(total, PAGE, page)
            _, rows = await repo.wishlist_page(conn, user_id, offset=page * PAGE, limit=PAGE)
            products = await repo.products(conn, [r.product_id for r in rows])
        return KeptPage(_kept(rows, products), total, page, count)

    async def move_to_cart(self, user_id: int, product_id: int) -> int:
        """From the wishlist into the cart (its first options); returns the cart line."""
        async with self.db.write() as conn:
            if not await repo.wished(conn, user_id, product_id):
                raise ProductNotFound()
            line = await self._add(conn, user_id, product_id, {}, 1)
            await repo.unwish(conn, user_id, product_id)
        return line

    # -- cart -----------------------------------------------------------------------------------
    async def add_to_cart(self, user_id: int, product_id: int, options: dict[str, str] | None = None,
                          quantity: int = 1) -> int:
        async with self.db.write() as conn:
            return await self._add(conn, user_id, product_id, options or {}, quantity)

    async def _add(self, conn: AsyncConnection, user_id: int, product_id: int, options: dict[str, str], quantity: int) -> int:
        found = await repo.product(conn, product_id)
        if found is None:
            raise ProductNotFound()
        if not found.active:
            raise NotSold()
        if not 1 <= quantity <= LINE_MAX:
            raise QuantityTooLarge(max=LINE_MAX)
        key = option_key(check_options(found, options))
        lines = await repo.cart_lines(conn, user_id)
        same = next((line for line in lines if line.product_id == product_id and line.options == key), None)
        if same is None and len(lines) >= CART_LINES_MAX:
            raise CartFull(max=CART_LINES_MAX)
        if same is not None and same.quantity + quantity > LINE_MAX:
            raise QuantityTooLarge(max=LINE_MAX)
        return await repo.cart_add(conn, user_id, product_id, key, quantity, found.price_minor, self.clock.now())

    async def change_quantity(self, user_id: int, line_id: int, by: int) -> int:
        """+1 / −1 on a line; at zero the line goes. Returns the new quantity."""
        async with self.db.write() as conn:
            line = await repo.cart_line(conn, user_id, line_id)
            if line is None:
                raise CartLineNotFound()
            quantity = line.quantity + by
            if quantity > LINE_MAX:
                raise QuantityTooLarge(max=LINE_MAX)
            await repo.cart_set_quantity(conn, user_id, line_id, max(quantity, 0))
        return max(quantity, 0)

    async def remove_from_cart(self, user_id: int, line_id: int) -> None:
        async with self.db.write() as conn:
            if not await repo.cart_set_quantity(conn, user_id, line_id, 0):
                raise CartLineNotFound()

    async def cart(self, user_id: int) -> Cart:
        async with self.db.read() as conn:
            lines = await repo.cart_lines(conn, user_id)
            products = await repo.products(conn, sorted({line.product_id for line in lines}))
        return group_cart(lines, products)

    async def cart_size(self, user_id: int) -> int:
        async with self.db.read() as conn:
            return await repo.cart_size(conn, user_id)

    # -- recently viewed ------------------------------------------------------------------------
    async def viewed(self, user_id: int, page: int = 0, *, category: str | None = None,
                     discounted: bool = False) -> KeptPage:
        await self.viewed_log.flush(user_id=user_id)  # what was opened a moment ago is on the list
        async with self.db.read() as conn:
            total, _ = await repo.viewed_page(conn, user_id, offset=0, limit=0, category=category,
                                              discounted=discounted)
            page, count = pages(total, PAGE, page)
            _, rows = await repo.viewed_page(conn, user_id, offset=page * PAGE, limit=PAGE, category=category,
                                             discounted=discounted)
            products = await repo.products(conn, [r.product_id for r in rows])
        return KeptPage(_kept(rows, products), total, page, count)

    async def viewed_categories(self, user_id: int) -> list[tuple[str, int]]:
        await self.viewed_log.flush(user_id=user_id)
        async with self.db.read() as conn:
            return await repo.viewed_categories(conn, user_id)

    async def forget_viewed(self, user_id: int, product_id: int | None = None) -> int:
        """Remove one product from Recently viewed, or (None) clear it. Returns how many went."""
        await self.viewed_log.flush(user_id=user_id)
        async with self.db.write() as conn:
            return await repo.unview(conn, user_id, product_id)


def group_cart(lines: list[CartLineRow], products: dict[int, ProductRow]) -> Cart:
    groups: dict[int, list[CartLine]] = {}
    for line in lines:
        product = products.get(line.product_id)
        if product is None:
            continue
        groups.setdefault(product.store_id, []).append(
            CartLine(line.id, product, parse_option_key(line.options), line.quantity, line.price_then_minor))
    stores = []
    for store_id, store_lines in groups.items():
        totals: dict[str, int] = {}
        for line in store_lines:
            if line.product.active:
                totals[line.product.currency] = totals.get(line.product.currency, 0) + line.total_minor
        stores.append(StoreCart(store_id, store_lines[0].product.store, tuple(store_lines),
                                tuple(sorted(totals.items()))))
    stores.sort(key=lambda s: s.store)
    return Cart(tuple(stores))
