"""Price-drop alerts — the privilege every level has (the privilege centre promises it): when a
product's price falls, each user with it in their wishlist or cart gets one push, in the unit of
work that changed the price. One per product and price: the same drop twice (or down, up and
down to the same price again) writes nothing more. A reminder-category kind: it waits for the end
of quiet hours and joins the day's digest; Settings can turn it off like every kind.

Payload: {"product_id", "title", "title_ru", "store", "old_minor", "new_minor", "currency"}."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.catalog import ProductRow
from bot.services.errors import N_
from bot.services.notifications import Category, declare
from bot.services.outbox import enqueue

PRICE_DROP_KIND = declare("price_drop", N_("Price drops in My wishes and the cart"), category=Category.reminder,
                          order=60)


async def price_dropped(conn: AsyncConnection, product: ProductRow, before_minor: int, users: list[int],
                        now: datetime) -> int:
    payload = {"product_id": product.id, "title": product.title, "title_ru": product.title_ru,
               "store": product.store, "old_minor": before_minor, "new_minor": product.price_minor,
               "currency": product.currency}
    written = 0
    for user_id in users:
        written += await enqueue(conn, user_id=user_id, kind=PRICE_DROP_KIND.key, payload=payload, now=now,
                                 dedupe_key=f"price:{product.id}:{product.price_minor}:{user_id}")
    return written
