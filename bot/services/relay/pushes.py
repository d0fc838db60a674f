"""A relayed message leaves through the outbox as a push of kind `relay`, one row per recipient,
written in the same unit of work as the message. Category "message": never held by quiet hours or
merged into the reminder digest (`NotificationKind.held`), and without a Settings toggle (a label
of ""), so a user can't mute a conversation into silently losing messages.

The payload holds everything delivery needs, as JSON primitives, and nothing about the buyer but
the conversation's alias:

    {"message_id": 12,              # relay_messages.id: delivery reports the copies to it
     "conversation_id": 5, "order_id": 42, "order_number": "7000042",
     "to": "seller" | "buyer" | "colleague",  # who receives it: the header differs ("colleague":
                                    # another seller of the store, told what was answered)
     "store": "Nova Electronics",   # the header for the buyer: "<store> about order №…"
     "alias": "A7F3",               # the header for the seller: "Buyer #A7F3 · order №…"
     "kind": "text" | "photo" | "document" | "voice" | "album",
     "text": "…masked…",            # the text or caption, already masked; escaped when rendered
     "media": [["photo", "<file_id>"], …]}

No chat or message id of the sender is in it: the row belongs to the recipient, and the message
centre or a log may show a payload. Media go out by their file ids (sendPhoto / sendDocument /
sendVoice / sendMediaGroup, with the masked caption) — a copy without a "forwarded" header, like
copyMessage, but without the sender's chat id, and with the caption masked (copyMessages can't
replace an album's captions).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import relay as repo
from bot.db.relay import TO_SELLER, ConversationRow, MessageRow
from bot.services.notifications import Category, declare
from bot.services.outbox import enqueue


async def _record_copies(conn: AsyncConnection, row: Any, chat_id: int, message_ids: Sequence[int]) -> None:
    """Telegram accepted a relayed message: where its copies are, so a native reply to one of them
    (or to its header) finds the conversation. In the unit of work that marks the row sent."""
    relay_message_id = int((row.payload or {}).get("message_id") or 0)
    if relay_message_id:
        await repo.add_copies(conn, relay_message_id, chat_id, list(message_ids))


RELAY_KIND = declare("relay", category=Category.message, order=40, on_sent=_record_copies)


def payload(message: MessageRow, conversation: ConversationRow) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "conversation_id": conversation.id,
        "order_id": conversation.order_id,
        "order_number": conversation.order_number,
        "to": "seller" if message.direction == TO_SELLER else "buyer",
        "store": conversation.store,
        "alias": conversation.alias,
        "kind": message.kind,
        "text": message.text,
        "media": [list(p) for p in message.media],
    }


async def queue(conn: AsyncConnection, message: MessageRow, conversation: ConversationRow,
                recipients: list[int], now: datetime, colleagues: Sequence[int] = ()) -> int:
    """One outbox row per recipient; returns how many were written (a repeat writes none).
    `colleagues`: the store's other sellers, when a seller answered — each gets a copy of the
    answer, so that nobody answers the buyer twice (not counted in what is returned)."""
    written = 0
    body = payload(message, conversation)
    for user_id in recipients:
        written += await enqueue(conn, user_id=user_id, kind=RELAY_KIND.key, payload=body,
                                 dedupe_key=f"relay:{message.id}:{user_id}", now=now)
    for user_id in colleagues:
        await enqueue(conn, user_id=user_id, kind=RELAY_KIND.key, payload={**body, "to": "colleague"},
                      dedupe_key=f"relay:{message.id}:{user_id}", now=now)
    return written
