"""Repository: stores' sellers and invites, conversations, relayed messages and their Telegram copies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.dialect import insert as upsert
from bot.db.rows import columns, record
from bot.db.tables import conversations as c
from bot.db.tables import orders as ot
from bot.db.tables import relay_copies as rc
from bot.db.tables import relay_messages as m
from bot.db.tables import seller_invites as inv
from bot.db.tables import store_sellers as ss
from bot.db.tables import stores as st

TO_SELLER, TO_BUYER = "to_seller", "to_buyer"
PENDING, QUEUED = "pending", "queued"


# -- sellers and invites --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InviteRow:
    id: int
    store_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None


@dataclass(frozen=True, slots=True)
class SellerRow:
    store_id: int
    store: str
    user_id: int
    linked_at: datetime


async def store(conn: AsyncConnection, *, store_id: int | None = None, name: str | None = None) -> tuple[int, str] | None:
    query = select(st.c.id, st.c.name)
    query = query.where(st.c.id == store_id) if store_id is not None else query.where(st.c.name == name)
    row = (await conn.execute(query)).first()
    return (int(row.id), row.name) if row else None


async def add_invite(conn: AsyncConnection, *, store_id: int, token_hash: str, now: datetime,
                     expires_at: datetime) -> int:
    result = await conn.execute(inv.insert().values(store_id=store_id, token_hash=token_hash, created_at=now,
                                                    expires_at=expires_at))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def invite_by_hash(conn: AsyncConnection, token_hash: str) -> InviteRow | None:
    row = (await conn.execute(
        select(inv.c.id, inv.c.store_id, inv.c.created_at, inv.c.expires_at, inv.c.used_at, inv.c.used_by)
        .where(inv.c.token_hash == token_hash)
    )).first()
    return record(InviteRow, row) if row else None


async def use_invite(conn: AsyncConnection, invite_id: int, user_id: int, now: datetime) -> bool:
    """Single use: only an unused invite is taken."""
    result = await conn.execute(update(inv).where(inv.c.id == invite_id, inv.c.used_at.is_(None))
                                .values(used_at=now, used_by=user_id))
    return bool(result.rowcount)


async def link_seller(conn: AsyncConnection, store_id: int, user_id: int, now: datetime) -> bool:
    result = await conn.execute(upsert(ss).values(store_id=store_id, user_id=user_id, linked_at=now)
                                .on_conflict_do_nothing())
    return bool(result.rowcount)


async def unlink_seller(conn: AsyncConnection, store_id: int, user_id: int) -> bool:
    result = await conn.execute(delete(ss).where(ss.c.store_id == store_id, ss.c.user_id == user_id))
    return bool(result.rowcount)


async def sellers(conn: AsyncConnection, store_id: int | None = None) -> list[SellerRow]:
    query = (select(ss.c.store_id, st.c.name.label("store"), ss.c.user_id, ss.c.linked_at)
             .select_from(ss.join(st, st.c.id == ss.c.store_id)))
    if store_id is not None:
        query = query.where(ss.c.store_id == store_id)
    rows = (await conn.execute(query.order_by(st.c.name, ss.c.linked_at, ss.c.user_id))).all()
    return [record(SellerRow, r) for r in rows]


async def seller_ids(conn: AsyncConnection, store_id: int) -> list[int]:
    rows = await conn.execute(select(ss.c.user_id).where(ss.c.store_id == store_id).order_by(ss.c.linked_at))
    return [int(r) for r in rows.scalars()]


async def of_store(conn: AsyncConnection, store_id: int, conversation_ids: set[int]) -> set[int]:
    """Those of these conversations that are the store's."""
    if not conversation_ids:
        return set()
    rows = (await conn.execute(select(c.c.id).where(c.c.id.in_(sorted(conversation_ids)), c.c.store_id == store_id)))
    return {int(i) for i in rows.scalars()}


async def stores_of(conn: AsyncConnection, user_id: int) -> list[int]:
    return [int(r) for r in (await conn.execute(select(ss.c.store_id).where(ss.c.user_id == user_id))).scalars()]


async def is_seller(conn: AsyncConnection, store_id: int, user_id: int) -> bool:
    row = (await conn.execute(select(ss.c.user_id).where(ss.c.store_id == store_id, ss.c.user_id == user_id))).first()
    return row is not None


# -- conversations --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ConversationRow:
    id: int
    order_id: int | None  # None: a question before any order (from a product or store page)
    store_id: int
    buyer_id: int
    alias: str
    created_at: datetime
    last_at: datetime | None
    buyer_blocked_at: datetime | None
    seller_blocked_at: datetime | None
    order_number: str
    store: str


_CONV = (c.c.id, c.c.order_id, c.c.store_id, c.c.buyer_id, c.c.alias, c.c.created_at, c.c.last_at,
         c.c.buyer_blocked_at, c.c.seller_blocked_at, func.coalesce(ot.c.number, "").label("order_number"),
         st.c.name.label("store"))
# a conversation before any order has no order: an outer join (its purged_at is NULL, so it passes)
_CONV_FROM = c.outerjoin(ot, ot.c.id == c.c.order_id).join(st, st.c.id == c.c.store_id)


async def conversation(conn: AsyncConnection, conversation_id: int) -> ConversationRow | None:
    row = (await conn.execute(select(*_CONV).select_from(_CONV_FROM)
                              .where(c.c.id == conversation_id, ot.c.purged_at.is_(None)))).first()
    return record(ConversationRow, row) if row else None


async def conversation_for(conn: AsyncConnection, order_id: int, store_id: int) -> int | None:
    return (await conn.execute(select(c.c.id).where(c.c.order_id == order_id, c.c.store_id == store_id))).scalar()


async def store_conversation_for(conn: AsyncConnection, buyer_id: int, store_id: int) -> int | None:
    """The buyer's conversation with the store before any order."""
    return (await conn.execute(select(c.c.id).where(c.c.buyer_id == buyer_id, c.c.store_id == store_id,
                                                    c.c.order_id.is_(None)))).scalar()


async def add_conversation(conn: AsyncConnection, *, order_id: int | None, store_id: int, buyer_id: int, alias: str,
                           now: datetime) -> int:
    await conn.execute(upsert(c).values(order_id=order_id, store_id=store_id, buyer_id=buyer_id,
                                               alias=alias, created_at=now).on_conflict_do_nothing())
    found = (await conversation_for(conn, order_id, store_id) if order_id is not None
             else await store_conversation_for(conn, buyer_id, store_id))
    assert found is not None
    return int(found)


async def set_conversation(conn: AsyncConnection, conversation_id: int, **values: Any) -> None:
    await conn.execute(update(c).where(c.c.id == conversation_id).values(**values))


@dataclass(frozen=True, slots=True)
class ConversationLine:
    id: int
    order_id: int | None
    order_number: str  # "" before any order
    store: str
    alias: str
    last_at: datetime
    unread: int
    last_kind: str
    last_text: str
    last_direction: str


def _visible(user_id: int, as_seller: bool) -> Any:
    if as_seller:
        return and_(c.c.store_id.in_(select(ss.c.store_id).where(ss.c.user_id == user_id)), c.c.last_at.is_not(None))
    return and_(c.c.buyer_id == user_id, c.c.last_at.is_not(None))


async def count_conversations(conn: AsyncConnection, user_id: int, as_seller: bool) -> int:
    return int((await conn.execute(
        select(func.count()).select_from(_CONV_FROM).where(_visible(user_id, as_seller), ot.c.purged_at.is_(None))
    )).scalar() or 0)


async def page_conversations(conn: AsyncConnection, user_id: int, as_seller: bool, *, offset: int,
                             limit: int) -> list[ConversationLine]:
    incoming = TO_SELLER if as_seller else TO_BUYER
    unread = (select(func.count()).select_from(m)
              .where(m.c.conversation_id == c.c.id, m.c.direction == incoming, m.c.read_at.is_(None))
              .scalar_subquery())
    last_id = (select(func.max(m.c.id)).where(m.c.conversation_id == c.c.id).scalar_subquery())
    last = m.alias("last")
    rows = (await conn.execute(
        select(c.c.id, c.c.order_id, func.coalesce(ot.c.number, "").label("order_number"), st.c.name.label("store"),
               c.c.alias, c.c.last_at, unread.label("unread"), last.c.kind.label("last_kind"),
               func.substr(last.c.text, 1, 100).label("last_text"), last.c.direction.label("last_direction"))
        .select_from(_CONV_FROM.join(last, last.c.id == last_id))
        .where(_visible(user_id, as_seller), ot.c.purged_at.is_(None))
        .order_by(c.c.last_at.desc(), c.c.id.desc()).offset(offset).limit(limit)
    )).all()
    return [record(ConversationLine, r) for r in rows]


async def unread_total(conn: AsyncConnection, user_id: int, as_seller: bool) -> int:
    incoming = TO_SELLER if as_seller else TO_BUYER
    return int((await conn.execute(
        select(func.count()).select_from(m.join(c, c.c.id == m.c.conversation_id).outerjoin(ot, ot.c.id == c.c.order_id))
        .where(_visible(user_id, as_seller), m.c.direction == incoming, m.c.read_at.is_(None),
               ot.c.purged_at.is_(None))
    )).scalar() or 0)


# -- messages -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    conversation_id: int
    direction: str
    sender_id: int
    kind: str
    text: str
    masked: tuple[str, ...]
    media: tuple[tuple[str, str], ...]
    source_chat_id: int
    source_message_ids: tuple[int, ...]
    state: str
    created_at: datetime
    read_at: datetime | None


_MSG = columns(m, MessageRow)


def _message(r: Any) -> MessageRow:
    return record(MessageRow, r, masked=tuple(x for x in r.masked.split(",") if x),
                  media=tuple((kind, file_id) for kind, file_id in json.loads(r.media)),
                  source_message_ids=tuple(int(x) for x in json.loads(r.source_message_ids)))


async def add_message(conn: AsyncConnection, *, conversation_id: int, direction: str, sender_id: int, kind: str,
                      text: str, masked: tuple[str, ...], media: tuple[tuple[str, str], ...],
                      source_chat_id: int, source_message_ids: tuple[int, ...], state: str,
                      now: datetime) -> MessageRow:
    result = await conn.execute(m.insert().values(
        conversation_id=conversation_id, direction=direction, sender_id=sender_id, kind=kind, text=text,
        masked=",".join(masked), media=json.dumps([list(p) for p in media]), source_chat_id=source_chat_id,
        source_message_ids=json.dumps(list(source_message_ids)), state=state, created_at=now,
    ))
    message_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if source_message_ids:
        await conn.execute(upsert(rc).values(
            [{"chat_id": source_chat_id, "message_id": i, "relay_message_id": message_id, "original": "1"}
             for i in source_message_ids]
        ).on_conflict_do_nothing())
    await conn.execute(update(c).where(c.c.id == conversation_id).values(last_at=now))
    row = await message(conn, message_id)
    assert row is not None
    return row


async def message(conn: AsyncConnection, message_id: int) -> MessageRow | None:
    row = (await conn.execute(select(*_MSG).where(m.c.id == message_id))).first()
    return _message(row) if row else None


async def sent_since(conn: AsyncConnection, conversation_id: int, sender_id: int, since: datetime) -> int:
    return int((await conn.execute(
        select(func.count()).select_from(m)
        .where(m.c.conversation_id == conversation_id, m.c.created_at > since, m.c.sender_id == sender_id)
    )).scalar() or 0)


async def pending_for_store(conn: AsyncConnection, store_id: int) -> list[tuple[MessageRow, ConversationRow]]:
    rows = (await conn.execute(
        select(*_MSG, *(column.label(f"conv_{column.name}") for column in _CONV))
        .select_from(_CONV_FROM.join(m, m.c.conversation_id == c.c.id))
        .where(c.c.store_id == store_id, m.c.state == PENDING, ot.c.purged_at.is_(None))
        .order_by(m.c.id)
    )).all()
    return [(_message(r), record(ConversationRow, r, prefix="conv_")) for r in rows]


async def mark_queued(conn: AsyncConnection, ids: list[int]) -> int:
    if not ids:
        return 0
    result = await conn.execute(update(m).where(m.c.id.in_(ids), m.c.state == PENDING).values(state=QUEUED))
    return int(result.rowcount)


async def count_messages(conn: AsyncConnection, conversation_id: int) -> int:
    return int((await conn.execute(
        select(func.count()).select_from(m).where(m.c.conversation_id == conversation_id)
    )).scalar() or 0)


async def page_messages(conn: AsyncConnection, conversation_id: int, *, offset: int, limit: int) -> list[MessageRow]:
    """Newest first."""
    rows = (await conn.execute(select(*_MSG).where(m.c.conversation_id == conversation_id)
                               .order_by(m.c.created_at.desc(), m.c.id.desc()).offset(offset).limit(limit))).all()
    return [_message(r) for r in rows]


async def mark_read(conn: AsyncConnection, conversation_id: int, direction: str, now: datetime) -> int:
    result = await conn.execute(update(m).where(m.c.conversation_id == conversation_id, m.c.direction == direction,
                                                m.c.read_at.is_(None)).values(read_at=now))
    return int(result.rowcount)


# -- Telegram copies ------------------------------------------------------------------------------
async def add_copies(conn: AsyncConnection, relay_message_id: int, chat_id: int, message_ids: list[int]) -> None:
    if message_ids:
        await conn.execute(upsert(rc).values(
            [{"chat_id": chat_id, "message_id": i, "relay_message_id": relay_message_id, "original": "0"}
             for i in message_ids]
        ).on_conflict_do_nothing())


async def by_telegram_message(conn: AsyncConnection, chat_id: int, message_id: int) -> tuple[int, int, bool] | None:
    """(relay message id, conversation id, whether it is the sender's original) of a Telegram message."""
    row = (await conn.execute(
        select(rc.c.relay_message_id, m.c.conversation_id, rc.c.original)
        .select_from(rc.join(m, m.c.id == rc.c.relay_message_id))
        .where(rc.c.chat_id == chat_id, rc.c.message_id == message_id)
    )).first()
    return (int(row.relay_message_id), int(row.conversation_id), row.original == "1") if row else None
