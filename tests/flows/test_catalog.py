"""🛍 Shopping through the Dispatcher (issue 17, browsing): a product's deep link, options, My
wishes, the cart, Find similar, a store's page with its coupon and Follow, favourite stores,
search with pages and Back, Recently viewed with its filters and Clear all, a price drop pushed
with a button to the product, forged and foreign ids; English and Russian."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.fakebot import Player
from bot.services.coupons.terms import Scope, Terms, ValueKind
from tests.conftest import App
from tests.orderkit import ensure_user
from tests.pushkit import sim_delivery


@pytest.fixture
async def shop(app: App) -> dict[str, int]:
    catalog = app.services.catalog
    nova = await app.services.orders.ensure_store("Nova Electronics")
    zeta = await app.services.orders.ensure_store("Zeta Home")
    ids = {"nova": nova, "zeta": zeta}
    ids["earbuds"] = await catalog.upsert(nova, "Wireless earbuds", price_minor=2999, currency="USD", category="audio",
                                          title_ru="Беспроводные наушники", rating_x10=46, reviews_count=12,
                                          options={"colour": ["black", "white"]})
    ids["headphones"] = await catalog.upsert(nova, "Studio headphones", price_minor=4999, currency="USD",
                                             category="audio", title_ru="Студийные наушники")
    ids["lamp"] = await catalog.upsert(zeta, "Desk lamp", price_minor=2499, currency="USD", category="home",
                                       title_ru="Настольная лампа")
    return ids


async def open_link(player: Player, product_id: int) -> None:
    await player.send(f"/start p{product_id}")


async def search_for(player: Player, words: str) -> None:
    """From /start through Shopping and Search to the results of `words`, in the player's language."""
    ru = (player.user.language_code or "").startswith("ru")
    await player.send("/start")
    await player.press("🛍 Покупки" if ru else "🛍 Shopping")
    await player.press("🔎 Поиск" if ru else "🔎 Search")
    await player.send(words)


async def test_a_product_from_its_link_to_the_cart_and_my_wishes(app: App, alex: Player, shop: dict[str, int]) -> None:
    await open_link(alex, shop["earbuds"])
    assert alex.last_text == ("<b>Wireless earbuds</b>\nStore: Nova Electronics\n\n<b>$29.99</b>\n"
                              "★ 4.6 · 12 reviews\nCategory: Audio\nColour: <b>black</b>")
    labels = [t for t, _ in alex.buttons()]
    assert labels == ["✓ black", "white", "⚡ Buy now", "🛒 Add to cart", "♡ Add to My wishes", "🔁 Find similar", "🏬 Store",
                      "✉️ Message seller",
                      "‹ Back", "☰ Menu"]
    await alex.press("white")
    assert alex.last_text.endswith("Colour: <b>white</b>")
    await alex.press("🛒 Add to cart")
    assert alex.alerts()[-1] == "🛒 Added to cart"
    assert alex.last_text.endswith("🛒 1 in your cart")
    await alex.press("♡ Add to My wishes")
    assert alex.alerts()[-1] == "♥ Added to My wishes"
    assert "♥ In My wishes" in [t for t, _ in alex.buttons()]
    await alex.press("‹ Back")
    assert alex.last_text.startswith("<b>🛍 Shopping</b>")
    assert [t for t, _ in alex.buttons()][:3] == ["🔎 Search", "♡ My wishes · 1", "🛒 Cart · 1"]
    await alex.press("🛒 Cart · 1")
    assert alex.last_text == ("<b>🛒 Cart</b>\n\n<b>🏬 Nova Electronics</b>\n"
                              "1. Wireless earbuds × 1 (Colour: white) — $29.99\nTotal: <b>$29.99</b>")
    await alex.press("1. Wireless earbuds × 1")
    await alex.press("➕")
    assert "Quantity: 2" in alex.last_text and "$29.99 each · <b>$59.98</b>" in alex.last_text
    await alex.press("➖")
    await alex.press("➖")
    assert alex.alerts()[-1] == "Removed from cart"
    assert alex.last_text == "<b>🛒 Cart</b>\nYour cart is empty. Add products from their cards."


async def test_similar_store_coupon_follow_and_favourite_stores(app: App, alex: Player, shop: dict[str, int]) -> None:
    now = app.clock.now()
    await app.services.coupons.create_store_offer(Terms(
        Scope.store, ValueKind.amount, "USD", now - timedelta(days=1), now + timedelta(days=5), amount_minor=500,
        min_order_minor=3000, store_id=shop["nova"], store_name="Nova Electronics"))
    await open_link(alex, shop["earbuds"])
    await alex.press("🔁 Find similar")
    assert alex.last_text == "<b>🔁 Like “Wireless earbuds”</b>\n\n1. Studio headphones — <b>$49.99</b>"
    await alex.press("‹ Back")
    assert alex.last_text.startswith("<b>Wireless earbuds</b>")
    await alex.press("🏬 Store")
    assert alex.last_text.startswith("<b>🏬 Nova Electronics</b>\n2 products")
    await alex.press("🎟 Get coupon: $5.00 off from $30.00")
    assert alex.alerts()[-1] == "🎟 The coupon is in My coupons"
    await alex.press("🎟 Get coupon")
    assert alex.alerts()[-1] == "You have already collected this coupon."
    await alex.press("♥ Follow")
    assert "♥ You follow this store." in alex.last_text
    app.clock.advance(days=1)
    await app.services.catalog.upsert(shop["nova"], "Charger", price_minor=1500, currency="USD", category="power")
    await alex.send("/menu")
    await alex.press("🛍 Shopping")
    await alex.press("🏬 Favourite stores")
    assert alex.buttons()[0][0] == "Nova Electronics · 1 new product"
    await alex.press("Nova Electronics · 1 new product")
    assert "1 new product since your last visit" in alex.last_text
    await alex.press("💔 Unfollow")
    assert alex.alerts()[-1] == "Removed from Favourite stores"


async def test_a_store_page_shows_its_buyers_stars(app: App, masha: Player, shop: dict[str, int]) -> None:
    """The reviews of a store's orders' items are its rating, with how many there are (Russian plural)."""
    from bot.db import reviews as reviews_repo
    from tests.orderkit import CABLE, EARBUDS, make_order

    await masha.send("/start")
    order = await make_order(app.services, app.clock, masha.user.id, "completed", items=[EARBUDS, CABLE])
    async with app.services.db.read() as conn:
        items = [r.item_id for r in await reviews_repo.order_items(conn, masha.user.id, order.id)]
    await app.services.reviews.publish(masha.user.id, items[0], rating=5)
    await app.services.reviews.publish(masha.user.id, items[1], rating=4)
    await open_link(masha, shop["earbuds"])
    await masha.press("🏬 Магазин")
    assert masha.last_text.startswith("<b>🏬 Nova Electronics</b>\nРейтинг магазина: ★ 4,5 · 2 отзыва\n2 товара")


async def test_search_pages_and_back_to_the_results(app: App, masha: Player, shop: dict[str, int]) -> None:
    for n in range(10):
        await app.services.catalog.upsert(shop["nova"], f"Earbuds case {n}", price_minor=500 + n, currency="USD",
                                          title_ru=f"Чехол для наушников {n}", category="cases")
    await masha.send("/start")
    await masha.press("🛍 Покупки")
    await masha.press("🔎 Поиск")
    await masha.send("!!!")
    assert masha.last_text.startswith("⚠️ Напишите слово-два о том, что ищете.")
    await masha.send("наушн")
    assert masha.last_text.startswith("<b>🔎 «наушн»</b>\nНашлось 12 товаров\n\n1. ")
    assert [t for t, _ in masha.buttons()][8:11] == ["1/2", "›", "🔎 Новый поиск"]
    await masha.press("›")
    assert "9. " in masha.last_text and "Нашлось 12 товаров" in masha.last_text
    await masha.press("9. ")
    assert masha.last_text.startswith("<b>")
    await masha.press("‹ Назад")
    assert masha.last_text.startswith("<b>🔎 «наушн»</b>") and "9. " in masha.last_text  # the same page


async def test_the_search_question_explains_a_sticker_and_back_leaves_it(app: App, masha: Player,
                                                                       shop: dict[str, int]) -> None:
    """The search question is a step of the flow engine: a sticker is explained and the question
    asked again; Back goes to Shopping and a word typed after it is no search."""
    await masha.send("/start")
    await masha.press("🛍 Покупки")
    await masha.press("🔎 Поиск")
    await masha.send_sticker()
    assert masha.last_text.startswith("⚠️ Напишите слова текстом.\n<b>🔎 Поиск</b>")
    await masha.send("4111 1111 1111 1111")  # a card number is removed, not searched
    assert "Нашлось" not in masha.last_text and "<b>🔎 Поиск</b>" in masha.last_text
    await masha.press("‹ Назад")
    assert "🔎 Поиск" in [t for t, _ in masha.buttons()]  # Shopping again
    assert await app.services.db.fetch_one("SELECT state FROM fsm_states WHERE state IS NOT NULL", ()) is None
    await masha.send("наушн")
    assert "Нашлось" not in masha.last_text


async def test_a_question_asked_elsewhere_keeps_the_last_search_for_its_pages(app: App, alex: Player,
                                                                            shop: dict[str, int]) -> None:
    """Enter a code (a one-question flow) after a search: the search's words stay, so the
    results' pager still turns its pages."""
    for n in range(10):
        await app.services.catalog.upsert(shop["nova"], f"Earbuds case {n}", price_minor=500 + n, currency="USD",
                                          category="cases")
    await alex.send("/start")
    await alex.send("/start")  # two main menus: the older one stays in the chat
    await alex.press("🛍 Shopping")
    await alex.press("🔎 Search")
    await alex.send("earbuds")
    results = alex.last
    await alex.press("🎟 Coupons")  # on the older menu
    await alex.press("🔑 Enter a code")
    await alex.press_data(dict(alex.buttons(results))["›"], results)
    page = alex.log.messages[results.message_id].text or ""  # the results, edited in place
    assert "9. " in page and "Earbuds" in page  # page 2, not the search question again


async def test_a_search_with_more_matches_than_shown_says_so_best_rated_first(
        app: App, alex: Player, masha: Player, shop: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services.catalog import products

    monkeypatch.setattr(products, "RANKED", 8)  # the best 8 shown (200 in the bot)
    for n in range(10):
        await app.services.catalog.upsert(shop["nova"], f"Earbuds case {n}", price_minor=500 + n, currency="USD",
                                          title_ru=f"Чехол для наушников {n}", category="cases", rating_x10=n)
    await search_for(alex, "earbuds")
    assert alex.last_text.startswith("<b>🔎 “earbuds”</b>\nMore than 8 products found: the best 8 are shown. "
                                     "Add a word to narrow the search.\n\n1. Wireless earbuds")  # rated 4.6
    assert "2. Earbuds case 9" in alex.last_text and "8. Earbuds case 3" in alex.last_text
    assert "1/" not in " ".join(t for t, _ in alex.buttons())  # one page: no pager
    await search_for(masha, "наушн")
    assert masha.last_text.startswith("<b>🔎 «наушн»</b>\nНашлось больше 8 товаров: показаны 8 лучших. "
                                      "Добавьте слово, чтобы сузить поиск.\n\n1. Беспроводные наушники")
    await masha.press("🔎 Новый поиск")
    await masha.send("наушн чехол 9")  # another word: all of them fit
    assert masha.last_text.startswith("<b>🔎 «наушн чехол 9»</b>\nНашёлся 1 товар\n\n1. Чехол для наушников 9")


async def test_my_wishes_recently_viewed_and_clear(app: App, alex: Player, shop: dict[str, int]) -> None:
    for key in ("lamp", "earbuds", "headphones"):
        await open_link(alex, shop[key])
        app.clock.advance(minutes=1)
    await alex.press("♡ Add to My wishes")  # headphones
    await app.services.catalog.set_price(shop["headphones"], 3999)
    await alex.send("/menu")
    await alex.press("🛍 Shopping")
    await alex.press("♡ My wishes · 1")
    assert alex.last_text.startswith("<b>♡ My wishes</b>\n1 product\n\n1. Studio headphones — <b>$39.99</b> "
                                     "<s>$49.99</s> · 📉 was $49.99")
    await alex.press("1. Studio headphones")
    await alex.press("🛒 Move to cart")
    assert alex.alerts()[-1] == "🛒 Moved to cart"
    assert "Nothing here yet." in alex.last_text
    await alex.press("‹ Back")
    await alex.press("👁 Recently viewed")
    assert [t for t, _ in alex.buttons()][:3] == ["1. Studio headphones", "2. Wireless earbuds", "3. Desk lamp"]
    await alex.press("🏷 Discounted only")
    assert [t for t, _ in alex.buttons()][:1] == ["1. Studio headphones"]
    await alex.press("🏷 All")
    await alex.press("🗂 By category")
    await alex.press("Home and garden · 1")
    assert [t for t, _ in alex.buttons()][:1] == ["1. Desk lamp"]
    await alex.press("1. Desk lamp")
    await alex.press("✕ Remove from Recently viewed")
    assert [t for t, _ in alex.buttons()][:2] == ["1. Studio headphones", "2. Wireless earbuds"]
    await alex.press("🧹 Clear all")
    await alex.press("🧹 Yes, clear")
    assert alex.alerts()[-1] == "Recently viewed is cleared"
    assert "Nothing here yet" in alex.last_text


async def test_a_price_drop_reaches_keepers_with_the_product(app: App, masha: Player, shop: dict[str, int]) -> None:
    await open_link(masha, shop["lamp"])
    await masha.press("♡ В «Мои желания»")
    assert await app.services.catalog.set_price(shop["lamp"], 1999) == 1
    await sim_delivery(app)(app.clock.now())
    assert masha.last_text == "📉 <b>Настольная лампа</b>: цена снизилась — 19,99\xa0$ вместо 24,99\xa0$"
    await masha.press("Открыть товар")
    assert masha.last_text.startswith("<b>Настольная лампа</b>\nМагазин: Zeta Home\n\n<b>19,99\xa0$</b> <s>24,99\xa0$</s>")


async def test_forged_and_foreign_ids_show_nothing(app: App, alex: Player, masha: Player, shop: dict[str, int]) -> None:
    await ensure_user(app.services, masha.user.id, "ru")
    line = await app.services.kept.add_to_cart(masha.user.id, shop["lamp"])
    await alex.send("/start")
    for data, alert in ((f"sh:l:{line}:0:0", "This item is no longer in your cart."),
                        (f"sh:+:{line}:0:0", "This item is no longer in your cart."),
                        (f"sh:x:{line}:0:0", "This item is no longer in your cart."),
                        ("pr:o:999999::l:0", "This product is no longer available."),
                        ("sh:t:999999:0:0", "This store is no longer available.")):
        await alex.press_data(data)
        assert alex.alerts()[-1] == alert
    assert "Desk lamp" not in " ".join(m.text or "" for m in alex.bot_messages)
    assert (await app.services.kept.cart(masha.user.id)).pieces == 1
    await alex.send("/start p999999")
    assert alex.last_text == "This product is no longer available."


@pytest.mark.parametrize("lang", ["en"])
async def test_a_picture_is_uploaded_once_then_sent_by_its_file_id(app: App, alex: Player, shop: dict[str, int],
                                                                   lang: str) -> None:
    from aiogram.methods import SendPhoto
    from aiogram.types import BufferedInputFile

    speaker = await app.services.catalog.upsert(shop["nova"], "Pocket speaker", price_minor=1999, currency="USD",
                                                category="audio", image_path="gen:audio:2")
    await open_link(alex, speaker)
    first = app.session.calls_of(SendPhoto)
    assert len(first) == 1 and isinstance(first[0].photo, BufferedInputFile)
    assert first[0].photo.data.startswith(b"\x89PNG")
    assert alex.last_text.startswith("<b>Pocket speaker</b>")  # the card below the picture
    kept = (await app.services.catalog.product(alex.user.id, speaker, record=False)).product.image_file_id
    assert kept
    await alex.send("/menu")
    await alex.press("🛍 Shopping")
    await alex.press("👁 Recently viewed")
    await alex.press("1. Pocket speaker")
    again = app.session.calls_of(SendPhoto)
    assert len(again) == 2 and again[1].photo == kept  # by its file id: not uploaded again
    assert alex.last_text.startswith("<b>Pocket speaker</b>")
    await open_link(alex, shop["lamp"])  # no picture: the card alone
    assert len(app.session.calls_of(SendPhoto)) == 2
