"""Dataset builders for the sections: stores, orders (items, status history), addresses, cards,
coupons and the outbox, after the users; `BUILDERS` lists them in order for `bench.dataset.build`.

Sizes at scale 1 for 100k users are the issue's: 1M orders, 300k addresses, 200k cards, 500k
coupons, 1M outbox rows; `scale` multiplies them. The bench user (`BENCH_USER`) always has 1000
orders, 5 addresses, 3 cards and 40 coupons, whatever the scale, so the screens measured on it are
the same in a smoke run and a full one. Rows respect the tables' constraints and partial unique
indexes: at most 5 addresses and exactly one default per user who has any, one default card, card
fingerprints unique in a wallet, unique order numbers and outbox dedupe keys.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from bot.db.times import to_db_time

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
FIRST_USER_ID = 10_000_000


def build_users(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    names = ["Alex", "Maria", "Иван", "Ольга", "Sam", "Дмитрий", "Anna", "Пётр"]
    zones = ["UTC", "Europe/Moscow", "Asia/Yekaterinburg", "Europe/Berlin", "America/New_York"]
    rows = (
        (FIRST_USER_ID + i, rng.choice(names), None if i % 3 else f"user{i}",
         "ru" if i % 2 else "en", rng.choice(zones),
         to_db_time(BASE_TIME + timedelta(minutes=i)))
        for i in range(users)
    )
    con.executemany(
        "INSERT INTO users (id, first_name, username, locale, time_zone, created_at) VALUES (?,?,?,?,?,?)",
        rows,
    )
    return users


BENCH_USER = FIRST_USER_ID + 1
BENCH_ORDERS = 1000
STORES = 500
NOW = BASE_TIME + timedelta(days=320)  # "now" of the dataset: 2026-11-17

_TITLES = ["Wireless earbuds", "Phone case", "Чехол для телефона", "USB-C cable 2 m", "Кроссовки",
           "LED desk lamp", "Рюкзак городской", "Smart watch band", "Термокружка 500 мл", "Keyboard",
           "Носки, 5 пар", "Power bank 20000 mAh", "Sunglasses", "Коврик для мыши", "Water bottle"]
_CITIES = [("RU", "Москва", "MOW", "101000"), ("RU", "Санкт-Петербург", "SPE", "190000"),
           ("RU", "Казань", "TA", "420000"), ("US", "Springfield", "IL", "62701"),
           ("DE", "Berlin", "", "10115"), ("KZ", "Алматы", "", "050000")]
_STATUSES = [  # (status, weight, history after awaiting_payment)
    ("completed", 55, ["awaiting_shipment", "shipped", "completed"]),
    ("shipped", 12, ["awaiting_shipment", "shipped"]),
    ("awaiting_shipment", 8, ["awaiting_shipment"]),
    ("awaiting_payment", 5, []),
    ("cancelled", 15, ["cancelled"]),
    ("closed", 5, ["awaiting_shipment", "shipped", "in_dispute", "closed"]),
]
_STATUS_WEIGHTS = [w for _s, w, _h in _STATUSES]


def _t(delta: timedelta) -> str:
    return to_db_time(BASE_TIME + delta)


def _spread(rng: random.Random, users: int, total: int, per_user_max: int) -> Iterator[tuple[int, int]]:
    """(user id, how many) for `total` rows over the users, at most `per_user_max` each; the bench
    user is left to its own builder."""
    left = total
    order = [*range(2, users), 0]  # everyone but the bench user (index 1)
    for i in order:
        if left <= 0:
            return
        n = min(left, rng.randint(1, per_user_max))
        left -= n
        yield FIRST_USER_ID + i, n


def build_stores(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    con.executemany(
        "INSERT INTO stores (id, name, seller_account, created_at) VALUES (?,?,?,?)",
        ((i, f"Store {i:04d}", None, _t(timedelta(days=-400 + i % 300))) for i in range(1, STORES + 1)),
    )
    return STORES


_WORDS = [("Wireless", "Беспроводные"), ("Smart", "Умная"), ("Compact", "Компактный"), ("Travel", "Дорожный"),
          ("Classic", "Классический"), ("Kids", "Детский"), ("Sport", "Спортивный"), ("Premium", "Премиум")]
_THINGS = [("earbuds", "наушники", "audio"), ("speaker", "колонка", "audio"), ("lamp", "лампа", "home"),
           ("kettle", "чайник", "home"), ("backpack", "рюкзак", "sports"), ("hoodie", "худи", "clothing"),
           ("phone case", "чехол", "phones"), ("charger", "зарядка", "power"), ("puzzle", "пазл", "toys"),
           ("face cream", "крем", "beauty")]
BENCH_PRODUCTS = 100_000  # at scale 1


def build_products(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    """The catalog: 100k products over the stores, English and Russian titles (the FTS5 index is
    filled by the migration's triggers), a tenth of them discounted."""
    total = max(2000, int(BENCH_PRODUCTS * scale))
    rows = []
    for i in range(1, total + 1):
        (word_en, word_ru), (thing_en, thing_ru, category) = rng.choice(_WORDS), rng.choice(_THINGS)
        price = rng.randrange(300, 20000)
        old = price * 10 // 8 if i % 10 == 0 else None
        rows.append((i, 1 + i % STORES, f"{word_en} {thing_en} {i}", f"{word_ru} {thing_ru} {i}", category, price, old,
                     "USD", rng.choice((0, 42, 47)), rng.randrange(0, 500), _t(timedelta(days=-300 + i % 300))))
        if len(rows) == 5000:
            _insert_products(con, rows)
    _insert_products(con, rows)
    return total


def _insert_products(con: sqlite3.Connection, rows: list[tuple]) -> None:
    con.executemany(
        "INSERT INTO products (id, store_id, title, title_ru, category, price_minor, old_price_minor, currency,"
        " rating_x10, reviews_count, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    rows.clear()


def build_orders(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    total = max(BENCH_ORDERS, int(1_000_000 * scale))
    owners: list[tuple[int, int]] = [(BENCH_USER, BENCH_ORDERS)]
    owners += list(_spread(rng, users, total - BENCH_ORDERS, 20))
    statuses = [s for s, _w, _h in _STATUSES]
    histories = {s: h for s, _w, h in _STATUSES}
    order_id = item_id = history_id = 0
    orders: list[tuple] = []
    items: list[tuple] = []
    history: list[tuple] = []

    def flush() -> None:
        con.executemany(
            "INSERT INTO orders (id, number, user_id, store_id, status, currency, items_minor, shipping_minor,"
            " total_minor, usd_rate, first_title, item_lines, search_text, shipping_address, paid_card_id,"
            " paid_card_brand, paid_card_last4, paid_card_exp_month, paid_card_exp_year, track_number, carrier,"
            " cancel_reason, created_at, pay_by, paid_at, shipped_at, delivered_at, completed_at, cancelled_at,"
            " closed_at, protection_ends_at, deleted_at) VALUES (" + ",".join("?" * 32) + ")", orders)
        con.executemany(
            "INSERT INTO order_items (id, order_id, position, product_id, title, options, quantity,"
            " unit_price_minor) VALUES (?,?,?,?,?,?,?,?)", items)
        con.executemany(
            "INSERT INTO order_status_history (id, order_id, status, actor, note, at) VALUES (?,?,?,?,?,?)",
            history)
        orders.clear()
        items.clear()
        history.clear()

    for user_id, count in owners:
        city = _CITIES[user_id % len(_CITIES)]
        address = json.dumps({"city": city[1], "country": city[0], "phone": "+79161234567",
                              "postcode": city[3], "recipient": "Buyer", "region": city[2],
                              "street": "Main st. 1"}, ensure_ascii=False, sort_keys=True)
        for _k in range(count):
            order_id += 1
            status = rng.choices(statuses, _STATUS_WEIGHTS)[0]
            created = timedelta(days=rng.uniform(0, 318))
            number = f"{(BASE_TIME + created):%y%m%d}{order_id:07d}"
            lines = rng.choice((1, 1, 1, 2, 2, 3))
            currency = "RUB" if city[0] in ("RU", "KZ") else "USD"
            titles = []
            items_minor = 0
            for pos in range(1, lines + 1):
                item_id += 1
                title = rng.choice(_TITLES)
                qty = rng.choice((1, 1, 1, 2, 3))
                price = rng.randrange(199, 49_999) * (100 if currency == "RUB" else 1)
                items_minor += qty * price
                titles.append(title)
                items.append((item_id, order_id, pos, None, title, "[]", qty, price))
            shipping = rng.choice((0, 0, 299, 499))
            at = created
            history_id += 1
            history.append((history_id, order_id, "awaiting_payment", "buyer", None, _t(at)))
            stamps: dict[str, str] = {}
            for step in histories[status]:
                at += timedelta(hours=rng.uniform(1, 72))
                history_id += 1
                actor = "buyer" if step in ("awaiting_shipment", "completed", "in_dispute") else "seller"
                history.append((history_id, order_id, step, actor, None, _t(at)))
                stamps[step] = _t(at)
            paid = "awaiting_shipment" in stamps
            shipped = "shipped" in stamps
            deleted = _t(at + timedelta(days=1)) if status in ("completed", "cancelled") and rng.random() < 0.03 else None
            orders.append((
                order_id, number, user_id, rng.randint(1, STORES), status, currency, items_minor, shipping,
                items_minor + shipping, "1" if currency == "USD" else "0.011", titles[0], lines,
                f"{number} {' '.join(titles)}".casefold(), address,
                None, "visa" if paid else None, f"{rng.randrange(10_000):04d}" if paid else None,
                12 if paid else None, 2029 if paid else None,
                f"LP{order_id:012d}CN" if shipped else None, "cainiao" if shipped else None,
                "changed_mind" if status == "cancelled" else None,
                _t(created), _t(created + timedelta(days=1)) if status == "awaiting_payment" else None,
                stamps.get("awaiting_shipment"), stamps.get("shipped"), stamps.get("completed"),
                stamps.get("completed"), stamps.get("cancelled"), stamps.get("closed"),
                _t(at + timedelta(days=60)) if status == "shipped" else None, deleted,
            ))
            if len(orders) >= 20_000:
                flush()
    flush()
    return order_id


def build_addresses(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    total = int(300_000 * scale)
    rows = []
    owners = [(BENCH_USER, 5), *_spread(rng, users, max(0, total - 5), 5)]
    for user_id, n in owners:
        for k in range(n):
            country, city, region, postcode = rng.choice(_CITIES)
            at = _t(timedelta(days=rng.uniform(0, 300), minutes=k))
            rows.append((user_id, country, rng.choice(("Алексей Смирнов", "Maria Ivanova", "John Doe")),
                         "+79161234567" if country == "RU" else "+12025550143", region, city,
                         f"{rng.choice(('Lenina', 'Main', 'Tverskaya'))} st. {rng.randint(1, 200)}",
                         str(rng.randint(1, 300)), postcode, 1 if k == 0 else 0, at, at))
    con.executemany(
        "INSERT INTO addresses (user_id, country, recipient, phone, region, city, street, apartment,"
        " postal_code, is_default, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    return len(rows)


def build_cards(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    total = int(200_000 * scale)
    rows = []
    owners = [(BENCH_USER, 3), *_spread(rng, users, max(0, total - 3), 4)]
    n = 0
    for user_id, count in owners:
        for k in range(count):
            n += 1
            at = _t(timedelta(days=rng.uniform(0, 300), minutes=k))
            rows.append((user_id, "sandbox", f"tok_sbx_ok_{n:012d}", f"fp{n:062d}",
                         rng.choice(("visa", "mastercard", "mir")), f"{rng.randrange(10_000):04d}",
                         rng.randint(1, 12), rng.randint(2026, 2031), "CARD HOLDER", 1 if k == 0 else 0, at))
    con.executemany(
        "INSERT INTO cards (user_id, gateway, token, fingerprint, brand, last4, exp_month, exp_year, holder,"
        " is_default, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    return len(rows)


def build_coupons(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    total = int(500_000 * scale)
    rows = []
    owners = [(BENCH_USER, 40), *_spread(rng, users, max(0, total - 40), 10)]
    for user_id, count in owners:
        for _k in range(count):
            start = timedelta(days=rng.uniform(200, 330))
            store = rng.random() < 0.6
            store_id = rng.randint(1, STORES) if store else None
            percent = rng.random() < 0.3
            used = rng.random() < 0.2
            rows.append((
                user_id, "store" if store else "platform", store_id, f"Store {store_id:04d}" if store else None,
                "percent" if percent else "amount", None if percent else rng.choice((100, 300, 500)) * 100,
                rng.choice((5, 10, 15)) if percent else None, 100_000 if percent else None, "RUB",
                rng.choice((0, 100_000, 300_000)), _t(start), _t(start + timedelta(days=rng.choice((7, 30, 90)))),
                "used" if used else "active", _t(start + timedelta(days=2)) if used else None,
                "grant", _t(start)))
    con.executemany(
        "INSERT INTO coupons (user_id, scope, store_id, store_name, value_kind, amount_minor, percent,"
        " cap_minor, currency, min_order_minor, valid_from, valid_to, status, used_at, source, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    return len(rows)


PENDING_SHARE = 0.02  # the pending tail of the outbox: due now or soon


def build_outbox(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    """Order pushes: mostly sent (the message centre's history), a pending tail (~2%) due around
    `NOW`, at most one pending row per user per order."""
    total = int(1_000_000 * scale)
    batch: list[tuple] = []
    for n in range(total):
        user_id = FIRST_USER_ID + rng.randrange(users)
        pending = rng.random() < PENDING_SHARE
        created = NOW - timedelta(minutes=rng.uniform(0, 60)) if pending else BASE_TIME + timedelta(
            days=rng.uniform(0, 318))
        payload = json.dumps({"order_id": n + 1, "number": f"B{n + 1:09d}", "status": "shipped",
                              "store": "Store 0001", "track_number": f"LP{n:012d}CN"})
        sent = None if pending else to_db_time(created + timedelta(seconds=rng.uniform(1, 30)))
        batch.append((user_id, "order_status", payload, f"bench:{n}", to_db_time(created),
                      "pending" if pending else "sent", 0 if pending else 1, to_db_time(created), sent))
        if len(batch) >= 50_000:
            _insert_outbox(con, batch)
    _insert_outbox(con, batch)
    return total


def _insert_outbox(con: sqlite3.Connection, batch: list[tuple]) -> None:
    con.executemany(
        "INSERT INTO outbox (user_id, kind, payload, dedupe_key, due_at, state, attempts, created_at, sent_at)"
        " VALUES (?,?,?,?,?,?,?,?,?)", batch)
    batch.clear()


# the builders, run in this order: (name, fn(con, rng, users, scale) -> rows written)
Builder = Callable[[sqlite3.Connection, random.Random, int, float], int]
BUILDERS: list[tuple[str, Builder]] = [
    ("users", build_users),
    ("stores", build_stores),
    ("products", build_products),
    ("orders", build_orders),
    ("addresses", build_addresses),
    ("cards", build_cards),
    ("coupons", build_coupons),
    ("outbox", build_outbox),
]
