"""The demo catalog: 8 stores × 25 products in several categories, titles in English and Russian,
prices in dollars (six stores) and roubles (two), some discounted, some with options and
ratings, and each store a coupon to collect. The demo buyer's My wishes, cart, Recently viewed
and a favourite store. Deterministic: the same catalog every time (products are upserted by
store and title, so seeding twice changes nothing)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.db import catalog as catalog_repo
from bot.db.coupons import Scope, Terms, ValueKind
from bot.services.catalog.pictures import GENERATED

if TYPE_CHECKING:
    from bot.app import Services

VARIANTS = (("Lite", "Лайт"), ("Pro", "Про"), ("Max", "Макс"), ("Mini", "Мини"), ("Plus", "Плюс"))

# store, currency, category, [(title en, title ru, price in minor units, options)]
Item = tuple[str, str, int, dict[str, list[str]]]
STORES: tuple[tuple[str, str, str, tuple[Item, ...]], ...] = (
    ("PixelPeak Electronics", "USD", "audio", (
        ("Wireless earbuds", "Беспроводные наушники", 2599, {"colour": ["black", "white"]}),
        ("Studio headphones", "Студийные наушники", 5999, {"colour": ["black", "silver"]}),
        ("Bluetooth speaker", "Bluetooth-колонка", 3499, {}),
        ("Sport earphones", "Спортивные наушники", 1899, {"colour": ["red", "black"]}),
        ("Soundbar", "Саундбар", 8999, {}),
    )),
    ("Lumen Home & Light", "USD", "home", (
        ("LED desk lamp", "Настольная LED-лампа", 3400, {"colour": ["white", "black"]}),
        ("Fairy lights", "Гирлянда", 840, {}),
        ("Smart bulb", "Умная лампочка", 999, {}),
        ("Night light", "Ночник", 1299, {}),
        ("Floor lamp", "Торшер", 7900, {}),
    )),
    ("Northwind Outdoor", "USD", "sports", (
        ("Trekking poles", "Треккинговые палки", 2700, {}),
        ("Waterproof backpack", "Водонепроницаемый рюкзак", 3990, {"colour": ["green", "black"]}),
        ("Camping headlamp", "Налобный фонарь", 1230, {}),
        ("Sleeping bag", "Спальный мешок", 5490, {}),
        ("Water bottle", "Бутылка для воды", 890, {"colour": ["blue", "green"]}),
    )),
    ("Velvet Wardrobe", "USD", "clothing", (
        ("Oversized hoodie", "Худи оверсайз", 2490, {"size": ["S", "M", "L", "XL"], "colour": ["grey", "black"]}),
        ("Linen shirt", "Льняная рубашка", 1980, {"size": ["S", "M", "L"]}),
        ("Wool socks", "Шерстяные носки", 1100, {"size": ["36–39", "39–42", "42–45"]}),
        ("Rain jacket", "Дождевик", 4590, {"size": ["M", "L"]}),
        ("Knitted scarf", "Вязаный шарф", 1490, {}),
    )),
    ("Tiny Tots Toys", "USD", "toys", (
        ("Magnetic building blocks", "Магнитный конструктор", 3150, {}),
        ("Plush fox", "Плюшевая лиса", 1420, {}),
        ("Wooden puzzle", "Деревянный пазл", 960, {}),
        ("Toy train set", "Игрушечная железная дорога", 4290, {}),
        ("Bath toys", "Игрушки для ванной", 790, {}),
    )),
    ("KitchenCraft Co.", "USD", "home", (
        ("Silicone baking mats", "Силиконовые коврики для выпечки", 1370, {}),
        ("Ceramic knife", "Керамический нож", 1640, {}),
        ("Pour-over coffee kettle", "Чайник для пуровера", 2880, {}),
        ("Cast iron pan", "Чугунная сковорода", 3590, {}),
        ("Spice jars", "Баночки для специй", 1190, {}),
    )),
    ("Мобильный Мир", "RUB", "phones", (
        ("Phone case", "Чехол для телефона", 59000, {"colour": ["clear", "black"]}),
        ("Screen protector", "Защитное стекло", 39000, {}),
        ("USB-C cable", "Кабель USB-C", 49000, {}),
        ("Fast charger", "Быстрая зарядка", 149000, {}),
        ("Power bank", "Внешний аккумулятор", 249000, {}),
    )),
    ("Красота и Уход", "RUB", "beauty", (
        ("Face cream", "Крем для лица", 89000, {}),
        ("Hair dryer", "Фен", 349000, {}),
        ("Makeup brushes", "Кисти для макияжа", 129000, {}),
        ("Nail kit", "Маникюрный набор", 99000, {}),
        ("Bath salt", "Соль для ванны", 45000, {}),
    )),
)


async def seed_catalog(services: Services, user_id: int) -> None:
    rng = random.Random(17)
    catalog = services.catalog
    store_ids: dict[str, int] = {}
    product_ids: list[int] = []
    now = services.clock.now()
    async with services.db.read() as conn:
        first = await catalog_repo.store_id_by_name(conn, STORES[0][0])
        seeded = first is not None and (await catalog_repo.store_products(conn, first, offset=0, limit=1))[0] >= 25
    if seeded:  # another demo buyer seeded it: only this buyer's lists
        async with services.db.read() as conn:
            for store, *_ in STORES:
                store_ids[store] = await catalog_repo.store_id_by_name(conn, store) or 0
                product_ids += (await catalog_repo.store_products(conn, store_ids[store], offset=0, limit=25))[1]
        await _buyer(services, user_id, sorted(product_ids), store_ids, rng)
        return
    for store, currency, category, items in STORES:
        store_id = store_ids[store] = await services.orders.ensure_store(store)
        for en, ru, price, options in items:
            for n, (variant_en, variant_ru) in enumerate(VARIANTS):
                scale = 0.8 + 0.15 * n
                minor = int(price * scale) // 10 * 10 + (9 if currency == "USD" else 0)
                product_ids.append(await catalog.upsert(
                    store_id, f"{en} {variant_en}", title_ru=f"{ru} {variant_ru}", price_minor=minor,
                    currency=currency, category=category, options=options, rating_x10=rng.choice((0, 38, 42, 45, 47, 49)),
                    reviews_count=rng.randrange(0, 400),
                    image_path=f"{GENERATED}{category}:{n}" if n in (0, 2) else None))
        offer = Terms(Scope.store, ValueKind.amount, currency, now - timedelta(days=1), now + timedelta(days=30),
                      amount_minor=300 if currency == "USD" else 30000,
                      min_order_minor=3000 if currency == "USD" else 300000, store_id=store_id, store_name=store)
        await services.coupons.create_store_offer(offer)
    # some discounts (a price drop of 10–30 %), then the demo buyer's lists
    for product_id in rng.sample(product_ids, 30):
        card = await catalog.product(user_id, product_id, record=False)
        if not card.product.discounted:
            await catalog.set_price(product_id, card.product.price_minor * rng.choice((7, 8, 9)) // 10)
    await _buyer(services, user_id, product_ids, store_ids, rng)


async def _buyer(services: Services, user_id: int, products: list[int], stores: dict[str, int],
                 rng: random.Random) -> None:
    """The buyer's lists, of products in their currency (the Russian buyer pays in roubles: what they
    keep and follow is priced in them, so their coupons and certificates apply)."""
    if (await services.kept.viewed(user_id)).total:
        return  # already seeded for this buyer
    user = await services.users.get(user_id)
    currency = "RUB" if user is not None and user.locale == "ru" else "USD"
    theirs = sorted(store for store, money, *_ in STORES if money == currency)
    rows = await catalog_repo.products_hot(services.db, products)
    products = [p for p in products if rows[p].currency == currency]
    for product_id in rng.sample(products, 12):
        await services.catalog.product(user_id, product_id)  # Recently viewed
    for product_id in rng.sample(products, 5):
        await services.kept.wish(user_id, product_id)
    for product_id in rng.sample(products, 3):
        card = await services.catalog.product(user_id, product_id, record=False)
        await services.kept.add_to_cart(user_id, product_id, {k: v[-1] for k, v in card.product.options.items()})
    await services.catalog.follow(user_id, stores["PixelPeak Electronics" if currency == "USD" else theirs[0]])
