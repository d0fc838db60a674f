"""The catalog's domain (issue 17): product cards and Recently viewed, search (FTS5, both
languages, prefixes, no injection), similar products, store pages with coupons and following,
the wishlist, the cart grouped by store, and price-drop alerts (one per product and price)."""

from __future__ import annotations

import pytest

from bot.db import catalog as repo
from bot.db import outbox as outbox_repo
from bot.db.dialect import POSTGRESQL
from bot.db.times import to_db_time
from bot.services.catalog.alerts import PRICE_DROP_KIND
from bot.services.catalog.kept import (
    CART_LINES_MAX,
    LINE_MAX,
    BadOption,
    CartFull,
    CartLineNotFound,
    QuantityTooLarge,
)
from bot.services.catalog.products import (
    BadPrice,
    EmptySearch,
    NotSold,
    ProductNotFound,
    StoreNotFound,
)
from tests.conftest import App
from tests.orderkit import ensure_user

BUYER, OTHER = 701, 702


async def store(app: App, name: str = "Nova Electronics") -> int:
    return await app.services.orders.ensure_store(name)


async def product(app: App, store_id: int, title: str, price: int, **kw: object) -> int:
    kw.setdefault("currency", "USD")
    return await app.services.catalog.upsert(store_id, title, price_minor=price, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def shop(app: App) -> dict[str, int]:
    await ensure_user(app.services, BUYER)
    await ensure_user(app.services, OTHER)
    nova, zeta = await store(app), await store(app, "Zeta Home")
    return {
        "nova": nova, "zeta": zeta,
        "earbuds": await product(app, nova, "Wireless earbuds", 2999, title_ru="Беспроводные наушники",
                                 category="audio", options={"colour": ["black", "white"]}, rating_x10=46),
        "headphones": await product(app, nova, "Studio headphones", 4999, title_ru="Студийные наушники",
                                    category="audio", rating_x10=48),
        "speaker": await product(app, nova, "Pocket speaker", 1999, title_ru="Карманная колонка", category="audio"),
        "lamp": await product(app, zeta, "Desk lamp", 2499, title_ru="Настольная лампа", category="home"),
        "old": await product(app, zeta, "Old earbuds", 999, category="audio", active=False),
    }


async def test_a_product_card_records_the_view(app: App, shop: dict[str, int]) -> None:
    card = await app.services.catalog.product(BUYER, shop["earbuds"])
    assert (card.product.title, card.product.title_in("ru"), card.product.store) == (
        "Wireless earbuds", "Беспроводные наушники", "Nova Electronics")
    assert card.product.options == {"colour": ["black", "white"]} and not card.wished and card.in_cart == 0
    app.clock.advance(minutes=1)
    await app.services.catalog.product(BUYER, shop["lamp"])
    viewed = await app.services.kept.viewed(BUYER)
    assert [k.product.id for k in viewed.rows] == [shop["lamp"], shop["earbuds"]]  # newest first
    assert (await app.services.kept.viewed(OTHER)).total == 0
    with pytest.raises(ProductNotFound):
        await app.services.catalog.product(BUYER, 999_999)


async def test_recently_viewed_keeps_the_last_hundred_filters_and_clears(app: App, shop: dict[str, int]) -> None:
    nova = shop["nova"]
    ids = [await product(app, nova, f"Cable {n}", 100 + n, category="cables") for n in range(105)]
    for product_id in ids:
        await app.services.catalog.product(BUYER, product_id)
        app.clock.advance(seconds=1)
    viewed = await app.services.kept.viewed(BUYER)
    assert viewed.total == repo.VIEWED_KEPT and viewed.rows[0].product.id == ids[-1]
    await app.services.catalog.product(BUYER, shop["lamp"])
    assert (await app.services.kept.viewed(BUYER, category="home")).total == 1
    await app.services.catalog.set_price(ids[-1], 50)
    assert [k.product.id for k in (await app.services.kept.viewed(BUYER, discounted=True)).rows] == [ids[-1]]
    assert dict(await app.services.kept.viewed_categories(BUYER)) == {"cables": 99, "home": 1}
    assert await app.services.kept.forget_viewed(BUYER, shop["lamp"]) == 1
    assert await app.services.kept.forget_viewed(BUYER) == 99
    assert (await app.services.kept.viewed(BUYER)).total == 0


async def test_search_both_languages_prefixes_ranked_and_safe(app: App, shop: dict[str, int]) -> None:
    found = await app.services.catalog.search("наушн")
    assert {p.id for p in found.rows} == {shop["earbuds"], shop["headphones"]}  # not the inactive one
    assert [p.id for p in (await app.services.catalog.search("wireless EAR")).rows] == [shop["earbuds"]]
    # a word of more than ten letters is searched by its first ten: another ending still finds it
    assert [p.id for p in (await app.services.catalog.search("беспроводными")).rows] == [shop["earbuds"]]
    assert (await app.services.catalog.search("lamp desk")).rows[0].id == shop["lamp"]
    assert (await app.services.catalog.search("nothing like it")).total == 0
    for hostile in ('" OR 1=1 --', "title:*", "NEAR(a b)", "earbuds) OR (x"):
        await app.services.catalog.search(hostile)  # quoted words: never an FTS syntax error
    with pytest.raises(EmptySearch):
        await app.services.catalog.search("  !!! ")
    nova = shop["nova"]
    for n in range(20):
        await product(app, nova, f"Phone case model {n}", 500 + n, title_ru=f"Чехол {n}", category="cases")
    first, last = await app.services.catalog.search("case"), await app.services.catalog.search("case", page=9)
    assert (first.total, first.pages, len(first.rows), last.page, len(last.rows)) == (20, 3, 8, 2, 4)
    renamed = await product(app, nova, "Phone case model 0", 500, title_ru="Футляр", category="cases")
    assert renamed in {p.id for p in (await app.services.catalog.search("футляр")).rows}  # the index follows


async def test_similar_same_category_nearby_prices(app: App, shop: dict[str, int]) -> None:
    of, similar = await app.services.catalog.similar(shop["earbuds"])
    assert of.id == shop["earbuds"]
    assert [p.id for p in similar.rows] == [shop["speaker"], shop["headphones"]]  # nearest first; lamp: other category
    with pytest.raises(ProductNotFound):
        await app.services.catalog.similar(404_404)


async def test_a_store_page_with_coupons_following_and_whats_new(app: App, shop: dict[str, int]) -> None:
    page = await app.services.catalog.store(BUYER, shop["nova"])
    assert page.store.name == "Nova Electronics" and page.products.total == 3 and not page.following
    assert await app.services.catalog.follow(BUYER, shop["nova"]) is True
    assert await app.services.catalog.follow(BUYER, shop["nova"]) is False  # repeating changes nothing
    app.clock.advance(days=1)
    await product(app, shop["nova"], "Charger", 1500, category="power")
    followed = await app.services.catalog.followed(BUYER)
    assert [(f.store.store, f.new_products) for f in followed] == [("Nova Electronics", 1)]
    page = await app.services.catalog.store(BUYER, shop["nova"])
    assert page.following and page.new_products == 1 and page.products.rows[0].title == "Charger"
    assert [f.new_products for f in await app.services.catalog.followed(BUYER)] == [0]  # seen now
    await app.services.catalog.follow(BUYER, shop["nova"], on=False)
    assert await app.services.catalog.followed(BUYER) == []
    with pytest.raises(StoreNotFound):
        await app.services.catalog.store(BUYER, 999)


async def test_the_wishlist(app: App, shop: dict[str, int]) -> None:
    assert await app.services.kept.wish(BUYER, shop["earbuds"]) is True
    app.clock.advance(minutes=1)
    await app.services.kept.wish(BUYER, shop["lamp"])
    assert await app.services.kept.wish(BUYER, shop["lamp"]) is False
    page = await app.services.kept.wishlist(BUYER)
    assert [k.product.id for k in page.rows] == [shop["lamp"], shop["earbuds"]]
    assert (await app.services.catalog.product(BUYER, shop["lamp"])).wished
    await app.services.catalog.set_price(shop["earbuds"], 2499)
    earbuds = (await app.services.kept.wishlist(BUYER)).rows[1]
    assert earbuds.cheaper_now and earbuds.price_then_minor == 2999 and earbuds.product.old_price_minor == 2999
    line = await app.services.kept.move_to_cart(BUYER, shop["earbuds"])
    assert [k.product.id for k in (await app.services.kept.wishlist(BUYER)).rows] == [shop["lamp"]]
    cart = await app.services.kept.cart(BUYER)
    assert [(ln.id, ln.options, ln.quantity) for s in cart.stores for ln in s.lines] == [(line, {"colour": "black"}, 1)]
    with pytest.raises(ProductNotFound):
        await app.services.kept.move_to_cart(OTHER, shop["lamp"])  # not in their wishlist
    await app.services.kept.wish(BUYER, shop["lamp"], on=False)
    assert (await app.services.kept.wishlist(BUYER)).total == 0


async def test_the_cart_grouped_by_store_with_limits(app: App, shop: dict[str, int]) -> None:
    kept = app.services.kept
    black = await kept.add_to_cart(BUYER, shop["earbuds"], {"colour": "black"})
    white = await kept.add_to_cart(BUYER, shop["earbuds"], {"colour": "white"}, 2)
    assert await kept.add_to_cart(BUYER, shop["earbuds"], {"colour": "black"}) == black  # the same line
    await kept.add_to_cart(BUYER, shop["lamp"])
    with pytest.raises(BadOption):
        await kept.add_to_cart(BUYER, shop["earbuds"], {"colour": "pink"})
    with pytest.raises(BadOption):
        await kept.add_to_cart(BUYER, shop["lamp"], {"size": "XL"})
    with pytest.raises(NotSold):
        await kept.add_to_cart(BUYER, shop["old"])
    with pytest.raises(QuantityTooLarge):
        await kept.add_to_cart(BUYER, shop["lamp"], quantity=LINE_MAX)
    cart = await kept.cart(BUYER)
    assert [(s.store, s.currency_totals) for s in cart.stores] == [
        ("Nova Electronics", (("USD", 2999 * 4),)), ("Zeta Home", (("USD", 2499),))]
    assert cart.pieces == 5 and await kept.cart_size(BUYER) == 5
    assert await kept.change_quantity(BUYER, white, -1) == 1
    assert await kept.change_quantity(BUYER, white, -1) == 0
    with pytest.raises(CartLineNotFound):
        await kept.change_quantity(BUYER, white, +1)  # gone at zero
    with pytest.raises(CartLineNotFound):
        await kept.change_quantity(OTHER, black, +1)  # someone else's line
    with pytest.raises(CartLineNotFound):
        await kept.remove_from_cart(OTHER, black)
    await kept.remove_from_cart(BUYER, black)
    assert [s.store for s in (await kept.cart(BUYER)).stores] == ["Zeta Home"]
    # a product no longer sold stays in the cart, marked, out of the totals
    await app.services.catalog.upsert(shop["zeta"], "Desk lamp", price_minor=2499, currency="USD", active=False)
    zeta = (await kept.cart(BUYER)).stores[0]
    assert not zeta.lines[0].product.active and zeta.currency_totals == ()
    for n in range(CART_LINES_MAX - 1):
        await kept.add_to_cart(BUYER, await product(app, shop["nova"], f"Sticker {n}", 100))
    with pytest.raises(CartFull):
        await kept.add_to_cart(BUYER, shop["speaker"])


async def test_a_price_drop_alerts_keepers_once_per_product_and_price(app: App, shop: dict[str, int]) -> None:
    await app.services.kept.wish(BUYER, shop["earbuds"])
    await app.services.kept.add_to_cart(OTHER, shop["earbuds"])
    await app.services.kept.wish(OTHER, shop["earbuds"])  # in both: still one push
    assert await app.services.catalog.set_price(shop["earbuds"], 3499) == 0  # up: nobody
    assert await app.services.catalog.set_price(shop["earbuds"], 2499) == 2
    assert await app.services.catalog.set_price(shop["earbuds"], 2499) == 0  # no change
    assert await app.services.catalog.set_price(shop["earbuds"], 3499) == 0
    assert await app.services.catalog.set_price(shop["earbuds"], 2499) == 0  # the same drop again: deduplicated
    assert await app.services.catalog.set_price(shop["earbuds"], 1999) == 2
    async with app.services.db.read() as conn:
        rows = await outbox_repo.for_user(conn, BUYER, PRICE_DROP_KIND.key)
    assert [(r.payload["old_minor"], r.payload["new_minor"]) for r in rows] == [(3499, 2499), (2499, 1999)]
    assert rows[0].payload["title_ru"] == "Беспроводные наушники" and rows[0].payload["store"] == "Nova Electronics"
    card = (await app.services.catalog.product(BUYER, shop["earbuds"])).product
    assert (card.price_minor, card.old_price_minor, card.discounted) == (1999, 3499, True)
    # through the shop's upsert too
    await app.services.catalog.upsert(shop["nova"], "Wireless earbuds", price_minor=1499, currency="USD")
    async with app.services.db.read() as conn:
        assert len(await outbox_repo.for_user(conn, BUYER, PRICE_DROP_KIND.key)) == 3
    # another currency's smaller number is no drop: no push, and no struck-through price of the old one
    await app.services.catalog.upsert(shop["nova"], "Wireless earbuds", price_minor=1400, currency="EUR")
    async with app.services.db.read() as conn:
        assert len(await outbox_repo.for_user(conn, BUYER, PRICE_DROP_KIND.key)) == 3
    card = (await app.services.catalog.product(BUYER, shop["earbuds"])).product
    assert (card.price_minor, card.currency, card.old_price_minor, card.discounted) == (1400, "EUR", None, False)
    with pytest.raises(BadPrice):
        await app.services.catalog.set_price(shop["earbuds"], 0)
    with pytest.raises(ProductNotFound):
        await app.services.catalog.set_price(123_456, 100)


async def test_the_demo_catalog_is_there_once(app: App) -> None:
    from bot.demo.catalog import STORES, seed_catalog

    await ensure_user(app.services, BUYER)
    await ensure_user(app.services, OTHER, "ru")
    await seed_catalog(app.services, BUYER)
    await seed_catalog(app.services, OTHER)  # a second demo buyer: the same catalog, lists of their own
    async with app.services.db.read() as conn:
        counts = [(await repo.store_products(conn, await repo.store_id_by_name(conn, name) or 0,
                                             offset=0, limit=0))[0] for name, *_ in STORES]
        drops = await outbox_repo.for_user(conn, BUYER, PRICE_DROP_KIND.key)
    assert len(STORES) == 8 and counts == [25] * 8
    assert drops == []  # seeding again alerts nobody
    assert (await app.services.catalog.search("наушники")).total >= 10
    assert (await app.services.catalog.search("headphones")).total == 5
    for user, currency, store in ((BUYER, "USD", "PixelPeak Electronics"), (OTHER, "RUB", "Красота и Уход")):
        viewed = await app.services.kept.viewed(user)
        assert viewed.total == 12
        wished = await app.services.kept.wishlist(user)
        assert wished.total == 5
        cart = await app.services.kept.cart(user)
        assert cart.pieces == 3
        # what each keeps is in the currency they pay in: the Russian buyer's coupons apply to it
        kept = [*viewed.rows, *wished.rows]
        assert {k.product.currency for k in kept} | {c for g in cart.stores for c, _ in g.currency_totals} == {
            currency}
        assert [f.store.store for f in await app.services.catalog.followed(user)] == [store]
    async with app.services.db.read() as conn:
        every = await repo.products(conn, list(range(1, 201)))
    assert 20 <= sum(p.discounted for p in every.values()) <= 30  # some discounted (30 drawn, repeats skipped)
    assert {p.currency for p in every.values()} == {"USD", "RUB"}


async def test_recently_viewed_is_written_behind_in_one_batch(app: App, shop: dict[str, int]) -> None:
    """Opening a product is a read; the view is noted and written with the next flush (the
    scheduler's job, a read of the list, or the stop), newest view kept, gone products skipped."""
    viewed = app.services.viewed

    def rows() -> list[tuple[int, int]]:
        return sorted(app.sqlite("SELECT user_id, product_id FROM viewed_products"))

    await app.services.catalog.product(BUYER, shop["earbuds"])
    await app.services.catalog.product(OTHER, shop["lamp"])
    app.clock.advance(seconds=5)
    await app.services.catalog.product(BUYER, shop["earbuds"])  # again: one row, the newer time
    assert rows() == [] and await viewed.pending() == 2
    await app.services.kept.viewed(OTHER)  # a user's list: their notes first, the others' wait
    assert rows() == [(OTHER, shop["lamp"])] and await viewed.pending() == 1
    gone = await product(app, shop["nova"], "Withdrawn", 100)
    await app.services.catalog.product(BUYER, gone)
    app.sqlite("DELETE FROM products WHERE id = ?", (gone,))
    assert await viewed.flush() == 2 and await viewed.pending() == 0
    assert rows() == [(BUYER, shop["earbuds"]), (OTHER, shop["lamp"])]  # the deleted product skipped
    at = app.sqlite("SELECT viewed_at FROM viewed_products WHERE user_id = ?", (BUYER,))[0][0]
    assert at == to_db_time(app.clock.now())  # the newer view
    assert await viewed.flush() == 0


async def test_a_search_shows_the_best_matches_and_reads_every_page_fresh(app: App, shop: dict[str, int],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A search shows its best RANKED matches and says when there are more; every page is read
    fresh (nothing kept between pages), so a price, a withdrawal or a product added by another
    process shows at once."""
    from bot.services.catalog import products as module

    monkeypatch.setattr(module, "RANKED", 16)  # two pages shown of the 20 that match
    nova = shop["nova"]
    ids = [await product(app, nova, f"Phone case model {n}", 500 + n, category="cases",
                         rating_x10=n) for n in range(20)]
    best_first = ids[::-1]  # the rating decides
    catalog = app.services.catalog
    pages_ = [await catalog.search("case", page=n) for n in range(3)]
    assert [p.id for page in pages_[:2] for p in page.rows] == best_first[:16]
    assert pages_[2] == pages_[1] and (pages_[2].page, pages_[2].pages) == (1, 2)  # past the end: the last
    assert all(page.more and page.total == 16 for page in pages_)
    app.sqlite("UPDATE products SET price_minor = 1 WHERE id = ?", (best_first[1],))
    assert [p.price_minor for p in (await catalog.search("case")).rows][1] == 1  # the price read fresh
    app.sqlite("UPDATE products SET active = FALSE WHERE id = ?", (best_first[1],))
    assert best_first[1] not in {p.id for p in (await catalog.search("case")).rows}  # withdrawn: gone at once
    app.sqlite("INSERT INTO products (store_id, title, price_minor, currency, category, rating_x10, created_at)"
               " VALUES (?, 'Phone case model X', 700, 'USD', 'cases', 99, '2026-01-01 00:00:00.000000')", (nova,))
    assert (await catalog.search("case")).rows[0].title == "Phone case model X"  # another process's: at once
    app.sqlite("DELETE FROM products WHERE rating_x10 < 12 AND title LIKE 'Phone case model%'")
    last = await catalog.search("case", page=1)  # 8 left and 1 withdrawn: the page offered is gone
    assert (last.page, last.pages, last.total, last.more) == (0, 1, 8, False) and len(last.rows) == 8


async def test_the_pages_of_a_search_keep_what_it_found_when_typed(app: App, shop: dict[str, int],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The handler keeps (shown, more) from the typed search in the flow's data and passes it to
    every page: a page is not counted again, its rows are read fresh; a page offered that has gone
    since (fewer matches now) is counted anew and the last one shown."""
    from bot.services.catalog import products as module

    monkeypatch.setattr(module, "RANKED", 16)
    nova = shop["nova"]
    ids = [await product(app, nova, f"Phone case model {n}", 500 + n, category="cases", rating_x10=n)
           for n in range(20)]
    catalog = app.services.catalog
    typed = await catalog.search("case")
    assert (typed.total, typed.more, typed.pages) == (16, True, 2)
    app.sqlite("UPDATE products SET price_minor = 7 WHERE id = ?", (ids[10],))
    app.sqlite("DELETE FROM products WHERE title LIKE 'Phone case model%' AND rating_x10 < 6")  # 14 left
    second = await catalog.search("case", page=1, found=(typed.total, typed.more))
    assert (second.page, second.pages, second.total, second.more) == (1, 2, 16, True)  # as found when typed
    assert [p.id for p in second.rows] == ids[::-1][8:14] and second.rows[1].price_minor == 7  # rows: fresh
    assert (await catalog.search("case", page=1)).total == 14  # counted: what matches now
    app.sqlite("DELETE FROM products WHERE title LIKE 'Phone case model%' AND rating_x10 < 15")
    gone = await catalog.search("case", page=1, found=(typed.total, typed.more))  # 5 left: page 2 has gone
    assert (gone.page, gone.pages, gone.total, gone.more, len(gone.rows)) == (0, 1, 5, False, 5)


async def test_search_order_is_rating_then_reviews_then_age_and_follows_changes(app: App,
                                                                                shop: dict[str, int]) -> None:
    """The static rank order kept in the index (migration 0023): a better rating first, then more
    reviews, then the older product; a rating, a review count, a title or a withdrawal changed by
    anyone (the triggers) moves the product in the index."""
    nova = shop["nova"]
    a = await product(app, nova, "Desk fan alpha", 900, category="home", rating_x10=45)
    b = await product(app, nova, "Desk fan beta", 900, category="home", rating_x10=45)
    c = await product(app, nova, "Desk fan gamma", 900, category="home", rating_x10=47)
    catalog = app.services.catalog

    async def order() -> list[int]:
        return [p.id for p in (await catalog.search("desk fan")).rows]

    assert await order() == [c, a, b]
    app.sqlite("UPDATE products SET reviews_count = 3 WHERE id = ?", (b,))
    assert await order() == [c, b, a]
    app.sqlite("UPDATE products SET rating_x10 = 40 WHERE id = ?", (c,))
    assert await order() == [b, a, c]
    app.sqlite("UPDATE products SET title = 'Floor fan beta' WHERE id = ?", (b,))
    assert await order() == [a, c]
    app.sqlite("UPDATE products SET active = FALSE WHERE id = ?", (a,))
    assert await order() == [c]
    app.sqlite("UPDATE products SET active = TRUE WHERE id = ?", (a,))
    app.sqlite("DELETE FROM products WHERE id = ?", (c,))
    assert await order() == [a]
    if app.services.db.dialect != POSTGRESQL:  # SQLite's index holds what is sold, once each
        assert app.sqlite("SELECT count(*) FROM products_search")[0][0] == app.sqlite(
            "SELECT count(*) FROM products WHERE active")[0][0]
