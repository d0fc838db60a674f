"""The events a shop's webhook hears of, queued in the unit of work of the act (`emit`) — the
buyer's, a refund or a dispute's close whoever made it, or its sellers' in seller mode:
sent if and only if the action happened. Delivery, signing and the operators' side are
`services/shops/webhooks.py`; this module imports only the database layer, so the order state
machine, disputes, reviews and the relay can call it without importing the shops package."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as orders_repo
from bot.db import shops as shops_repo
from bot.db import webhooks as repo

ORDER_CANCELLED = "order.cancelled"
RECEIPT_CONFIRMED = "order.receipt_confirmed"
DISPUTE_OPENED = "dispute.opened"
RETURN_SENT = "dispute.return_sent"
REVIEW_WRITTEN = "review.written"
MESSAGE_SENT = "message.sent"
REFUND_CREATED = "refund.created"  # whoever made it: a cancellation, a dispute, the shop's goodwill
DISPUTE_CLOSED = "dispute.closed"
# what the store's sellers did in the bot (seller mode): the shop did not do it through the API
ORDER_SHIPPED = "order.shipped"
DISPUTE_ANSWERED = "dispute.answered"
REVIEW_REPLIED = "review.replied"
EVENTS = (ORDER_CANCELLED, RECEIPT_CONFIRMED, DISPUTE_OPENED, RETURN_SENT, REVIEW_WRITTEN, MESSAGE_SENT,
          REFUND_CREATED, DISPUTE_CLOSED, ORDER_SHIPPED, DISPUTE_ANSWERED, REVIEW_REPLIED)


async def emit(conn: AsyncConnection, *, store_id: int, event: str, data: dict[str, Any], now: datetime) -> bool:
    """Queue `event` for the shop that owns the store, when it listens. Returns whether it does."""
    assert event in EVENTS, event
    shop_id = await repo.listening_shop(conn, store_id)
    if shop_id is None:
        return False
    event_id = f"evt_{secrets.token_hex(12)}"
    body = json.dumps({"id": event_id, "type": event, "created_at": now.isoformat(), "data": data},
                      ensure_ascii=False, separators=(",", ":"), default=str)
    await repo.add(conn, shop_id=shop_id, event_id=event_id, event=event, body=body, now=now)
    return True


async def order_event(conn: AsyncConnection, order_id: int, event: str, data: dict[str, Any], now: datetime) -> bool:
    """`emit` for an event about an order (a review, a dispute): the order named as `order_data`."""
    order = await orders_repo.get(conn, order_id)
    if order is None:
        return False
    return await emit(conn, store_id=order.store_id, event=event, data={"order": await order_data(conn, order), **data},
                      now=now)


async def order_data(conn: AsyncConnection, order: Any) -> dict[str, Any]:
    """How an order is named to its shop: the number (the shop's own for an order it created) and
    the shop's customer id when the order came through the API."""
    return {"id": order.id, "number": order.number, "store_id": order.store_id, "status": order.status,
            "customer_id": await shops_repo.customer_of_order(conn, order.id)}


def pay_out(row: Any) -> str:
    """Who pays a refund back: "shop" — the order was paid outside the payment gateway, so the shop
    pays it and confirms (`POST /refunds/{id}/done`); "gateway" — the gateway, to the card;
    "certificates" — it went back to the buyer's gift certificates, at once."""
    if row.destination == "certificate":
        return "certificates"
    return "shop" if row.charge_id is None else "gateway"


def refund_data(row: Any) -> dict[str, Any]:
    """A refund as its shop is told of it."""
    return {"id": row.id, "amount_minor": row.amount_minor, "currency": row.currency, "reason": row.reason,
            "dispute_id": row.dispute_id, "state": row.state, "pay_out": pay_out(row)}
