"""What a store's sellers are told as it happens: a dispute opened on the store's order (with the
day it must be decided by), escalated to the platform, or closed by the buyer's acceptance or the
platform's decision (or a day that passed); a returned item sent back (to confirm it came back); an
order paid (to ship); a new review (to answer). One push per seller
of the store, of kind `seller_news`, in the unit of work of the event — never to the buyer, should
they also sell for that store. An "order" category kind without a Settings toggle: it is the
store's work, not a suggestion, and is not held by quiet hours.

Payloads hold what the push says and the item's id for its button (seller mode's screen of it):

    {"news": "dispute" | "escalated" | "dispute_closed" | "sent_back" | "paid" | "review",
     "id": <dispute, order or review id>,
     "number": "<order number>", "store": "<store name>", …}
      dispute: "decide_by" (ISO), "amount_minor", "currency", "outcome" (a return: "return_refund")
      escalated: nothing more
      dispute_closed: "by" ("buyer" | "platform" | "overdue" | "unconfirmed" | "not_sent"),
               "refund_minor", "currency", "decide_by"
      sent_back: "track", "refunded" (the buyer's level refunded it at once), "receive_by" (ISO; null in news
               of before 2026-12-07, when a fast refund closed the return)
      paid:    "total_minor", "currency"
      review:  "title", "rating"
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as orders_repo
from bot.db import relay as relay_repo
from bot.services.notifications import Category, declare
from bot.services.outbox import enqueue

SELLER_NEWS_KIND = declare("seller_news", category=Category.order, order=45)


class News(StrEnum):
    dispute = "dispute"  # id: the dispute
    escalated = "escalated"  # the buyer asked the platform to decide the store's answer (id: the dispute)
    dispute_closed = "dispute_closed"  # the buyer accepted the store's answer, or the platform decided
    sent_back = "sent_back"  # the buyer sent a returned item back (id: the dispute)
    paid = "paid"  # id: the order
    review = "review"  # id: the review


async def tell(conn: AsyncConnection, *, store_id: int, buyer_id: int, news: News, item_id: int, number: str,
               now: datetime, **said: Any) -> int:
    """Tell the store's sellers; returns how many pushes were written (a repeat writes none)."""
    sellers = [s for s in await relay_repo.seller_ids(conn, store_id) if s != buyer_id]
    if not sellers:
        return 0
    store = (await orders_repo.store_names(conn, [store_id])).get(store_id, "")
    payload = {"news": news.value, "id": item_id, "number": number, "store": store, **said}
    written = 0
    for seller in sellers:
        written += await enqueue(conn, user_id=seller, kind=SELLER_NEWS_KIND.key, payload=payload,
                                 dedupe_key=f"seller:{news.value}:{item_id}:{seller}", now=now)
    return written
