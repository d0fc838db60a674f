"""Products and stores as a buyer browses them: the product card (and its being recently viewed),
search, similar products, a store's page with its coupons, following stores; and the shop's side —
adding and updating products, changing a price (a lower one alerts the buyers who keep it).

Rules:
- A product no longer sold (`active` off) still opens (a wishlist or an old link), marked so, and
  can't be bought or added to the cart; search and similar never show it.
- Search: every word typed is a prefix, all must match, in the English or the Russian title; the
  best rated first, then the most reviewed (a static rank order kept in the index itself, so a
  page reads only the matches up to it: README "Search"); eight a page, the best 200 (25 pages)
  at most — with more matches the screen says so and asks for another word. Every page is read
  fresh, in one statement: nothing is kept between pages, so prices, withdrawals and new products
  show at once, on every instance.
- Similar: the same category and currency, the nearest prices within half to double.
- Opening a product records it in Recently viewed (the last 100 are kept), written behind
  (`viewed.py`): the card itself is a read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import catalog as repo
from bot.db import coupons as coupons_repo
from bot.db.catalog import FollowRow, ProductRow, StoreRow
from bot.db.coupons import Offer
from bot.db.engine import Database
from bot.services.catalog import alerts
from bot.services.catalog.viewed import ViewedLog
from bot.services.clock import Clock
from bot.services.errors import N_, InvalidInput, NotFound
from bot.services.money import check_currency

PAGE = 8
SIMILAR = 8
TITLE_MAX = 255
RANKED = 25 * PAGE  # a search shows the best 200 matches at most (and says when there are more)


class ProductNotFound(NotFound, msgid=N_("This product is no longer available.")): ...


class StoreNotFound(NotFound, msgid=N_("This store is no longer available.")): ...


class NotSold(InvalidInput, msgid=N_("This product is no longer sold.")): ...


class BadPrice(InvalidInput, msgid=N_("A price is a positive amount, for example 12.99.")): ...


class EmptySearch(InvalidInput, msgid=N_("Type a word or two of what you are looking for.")): ...


@dataclass(frozen=True, slots=True)
class ProductCard:
    product: ProductRow
    wished: bool
    in_cart: int  # pieces in the user's cart, all options


@dataclass(frozen=True, slots=True)
class ProductPage:
    rows: tuple[ProductRow, ...]
    total: int
    page: int
    pages: int
    more: bool = False  # a search matched more than the `total` it shows (RANKED)


@dataclass(frozen=True, slots=True)
class StorePage:
    store: StoreRow
    products: ProductPage
    offers: tuple[Offer, ...]
    following: bool
    new_products: int  # since the user's last visit, when they follow the store


@dataclass(frozen=True, slots=True)
class FollowedStore:
    store: FollowRow
    new_products: int
    new_offers: int


def pages(total: int, size: int, page: int) -> tuple[int, int]:
    count = max(1, -(-total // size))
    return min(max(page, 0), count - 1), count


def option_key(chosen: dict[str, str]) -> str:
    """A cart line's options in one canonical string: "colour=black;size=M"."""
    return ";".join(f"{k}={v}" for k, v in sorted(chosen.items()))


def parse_option_key(key: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in key.split(";") if "=" in part)


class CatalogService:
    def __init__(self, db: Database, clock: Clock, viewed: ViewedLog | None = None) -> None:
        self.db = db
        self.clock = clock
        self.viewed = viewed or ViewedLog(db)

    async def currencies(self) -> list[str]:
        """The currencies products are priced in (the start-up check of USD_RATES)."""
        async with self.db.read() as conn:
            return await repo.currencies(conn)

    # -- browsing -------------------------------------------------------------------------------
    async def product(self, user_id: int, product_id: int, *, record: bool = True) -> ProductCard:
        """The product card; opening it records it in Recently viewed (`record`, written behind)."""
        found = await repo.product_card(self.db, user_id, product_id)
        if found is None:
            raise ProductNotFound()
        if record:
            await self.viewed.note(user_id, product_id, self.clock.now())
        return ProductCard(*found)

    async def search(self, query: str, page: int = 0, *, found: tuple[int, bool] | None = None) -> ProductPage:
        """A page of a search: the best RANKED matches at most (`more` says there are others); a
        page past the end is the last one. One statement, read fresh each time (nothing kept).
        `found`: what the search found when it was typed (shown, more), so that its pages are
        not counted again; counted anyway when the page offered has gone (fewer matches now)."""
        if not repo.match_expression(query, self.db.sql):
            raise EmptySearch()
        page = max(page, 0)
        if found is not None and 0 < found[0] <= RANKED:
            shown, more = found
            last, count = pages(shown, PAGE, page)
            _, rows = await repo.search_page(self.db, query, offset=last * PAGE, limit=PAGE, cap=None)
            if rows:
                return ProductPage(tuple(rows[:shown - last * PAGE]), shown, last, count, more=more)
        counted, rows = await repo.search_page(self.db, query, offset=page * PAGE, limit=PAGE, cap=RANKED + 1)
        shown, more = min(counted or 0, RANKED), (counted or 0) > RANKED
        last, count = pages(shown, PAGE, page)
        if last != page:  # past the end (fewer matches than when the page was offered): the last page
            return await self.search(query, last, found=(shown, more))
        return ProductPage(tuple(rows[:shown - last * PAGE]), shown, last, count, more=more)

    async def similar(self, product_id: int) -> tuple[ProductRow, ProductPage]:
        of = await repo.product_hot(self.db, product_id)
        if of is None:
            raise ProductNotFound()
        rows = tuple(await repo.similar(self.db, of, limit=SIMILAR))
        return of, ProductPage(rows, len(rows), 0, 1)

    async def store(self, user_id: int, store_id: int, page: int = 0) -> StorePage:
        """A store's page: its products (newest first), its coupons to collect, whether the user
        follows it and what is new since their last visit — which this visit is now."""
        now = self.clock.now()
        async with self.db.write() as conn:
            found = await repo.store(conn, store_id)
            if found is None:
                raise StoreNotFound()
            total, _ = await repo.store_products(conn, store_id, offset=0, limit=0)
            page, count = pages(total, PAGE, page)
            _, ids = await repo.store_products(conn, store_id, offset=page * PAGE, limit=PAGE)
            products = await repo.products(conn, ids)
            offers = await coupons_repo.store_offers(conn, store_id, now)
            follow = await repo.following(conn, user_id, store_id)
            new = 0
            if follow is not None:
                new, _ = await repo.store_products(conn, store_id, offset=0, limit=0, since=follow.seen_at)
                await repo.seen_store(conn, user_id, store_id, now)
        return StorePage(found, ProductPage(tuple(products[i] for i in ids if i in products), total, page, count),
                         tuple(offers), follow is not None, new)

    async def follow(self, user_id: int, store_id: int, on: bool = True) -> bool:
        """Follow (or unfollow) a store; repeating it changes nothing. Returns whether it changed."""
        async with self.db.write() as conn:
            if await repo.store(conn, store_id) is None:
                raise StoreNotFound()
            if on:
                return await repo.follow(conn, user_id, store_id, self.clock.now())
            return await repo.unfollow(conn, user_id, store_id)

    async def followed(self, user_id: int) -> list[FollowedStore]:
        """Favourite stores, with what is new in each since the last visit of its page."""
        now = self.clock.now()
        async with self.db.read() as conn:
            result = []
            for row in await repo.follows(conn, user_id):
                new, _ = await repo.store_products(conn, row.store_id, offset=0, limit=0, since=row.seen_at)
                offers = await coupons_repo.store_offers(conn, row.store_id, now, since=row.seen_at)
                result.append(FollowedStore(row, new, len(offers)))
        return result

    # -- the shop's side ------------------------------------------------------------------------
    async def upsert(self, store_id: int, title: str, *, price_minor: int, currency: str, category: str = "",
                     title_ru: str = "", options: dict[str, Sequence[str]] | None = None,
                     rating_x10: int | None = None, reviews_count: int | None = None,
                     image_path: str | None = None, active: bool = True) -> int:
        """Add a product, or update it (by store and title). A lower price alerts its keepers."""
        title = title.strip()
        if not title or len(title) > TITLE_MAX:
            raise InvalidInput(N_("A product needs a title of at most 255 characters."))
        if price_minor <= 0:
            raise BadPrice()
        values: dict[str, object] = {"price_minor": price_minor, "currency": check_currency(currency),
                                     "category": category,
                                     "title_ru": title_ru.strip(), "active": active,
                                     "options": json.dumps({k: list(v) for k, v in (options or {}).items()},
                                                           ensure_ascii=False)}
        if rating_x10 is not None:
            values["rating_x10"] = rating_x10
        if reviews_count is not None:
            values["reviews_count"] = reviews_count
        if image_path is not None:
            values["image_path"] = image_path
        now = self.clock.now()
        async with self.db.write() as conn:
            if await repo.store(conn, store_id) is None:
                raise StoreNotFound()
            product_id, before = await repo.upsert_product(conn, store_id=store_id, title=title, values=values, now=now)
            if rating_x10 is not None or reviews_count is not None:  # the shop's rating: the sum it averages
                await repo.restart_rating(conn, product_id)
            # a drop is a lower price in the same currency (another currency's number is not one)
            if before is not None and before[1] == values["currency"] and price_minor < before[0]:
                await repo.set_price(conn, product_id, price_minor, before[0], now)
                await self._alert(conn, product_id, before[0], now)
        return product_id

    async def set_price(self, product_id: int, price_minor: int) -> int:
        """A new price. Lower than now: the old one is shown struck through and everyone with the
        product in their wishlist or cart gets one push (one per product and price). Higher: the
        discount is over. Returns how many were alerted."""
        if price_minor <= 0:
            raise BadPrice()
        now = self.clock.now()
        async with self.db.write() as conn:
            found = await repo.product(conn, product_id)
            if found is None:
                raise ProductNotFound()
            if price_minor == found.price_minor:
                return 0
            dropped = price_minor < found.price_minor
            old = (found.old_price_minor if found.discounted and (found.old_price_minor or 0) > price_minor
                   else found.price_minor) if dropped else None
            await repo.set_price(conn, product_id, price_minor, old, now)
            return await self._alert(conn, product_id, found.price_minor, now) if dropped else 0

    @staticmethod
    async def _alert(conn: AsyncConnection, product_id: int, before: int, now: datetime) -> int:
        found = await repo.product(conn, product_id)
        assert found is not None
        return await alerts.price_dropped(conn, found, before, await repo.keepers(conn, product_id), now)

    async def remember_image(self, product_id: int, file_id: str) -> None:
        """Telegram's id of the product's picture, once uploaded: sent by it from then on."""
        async with self.db.write() as conn:
            await repo.set_image_file_id(conn, product_id, file_id)
