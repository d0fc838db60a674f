"""Conversations between a buyer and a store's sellers, one per (order, store).

- The buyer opens one on their own order (`open_for_order`); the sellers see the buyer only as
  "Buyer #<alias>", a random alias of the conversation — never a name, username, phone or id.
- `send` stores a message (text and captions masked by `guard`), and queues it in the outbox for
  the other side: the store's sellers, or the buyer — and a seller's answer also for the store's
  other sellers, marked as their store's answer, so that they don't answer it again. A store without a seller keeps the buyer's
  messages `pending` until one is linked (`SellerService.redeem`).
- Limits: 20 messages a minute from one sender to one conversation (counted in the database, inside
  the unit of work), text up to 3,500 characters and captions up to 900 (room for the header), an
  album up to 10 items. Either side can block the other in a conversation.
- Telegram copies (the sender's original and every relayed copy, by chat and message id) are
  stored, so a native reply to either finds its conversation (`conversation_for_reply`).

Every conversation id — from a button, a reply — is checked against the user: the buyer, or a
seller of the conversation's store. Anything else is `ConversationNotFound`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as orders_repo
from bot.db import relay as repo
from bot.db.engine import Database
from bot.db.relay import PENDING, QUEUED, TO_BUYER, TO_SELLER, ConversationLine, ConversationRow, MessageRow
from bot.services import webhook_events
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.orders import OrderNotFound
from bot.services.relay import pushes
from bot.services.relay.guard import Masked, guard
from bot.services.seller import NotASeller

RATE_LIMIT = 20  # messages …
RATE_WINDOW = timedelta(minutes=1)  # … in this window, from one sender to one conversation
TEXT_MAX = 3500  # Telegram allows 4,096 characters; the header takes the rest
CAPTION_MAX = 900  # of 1,024
ALBUM_MAX = 10
CONVERSATIONS_PAGE = 8
HISTORY_PAGE = 10


class Kind(StrEnum):
    text = "text"
    photo = "photo"
    document = "document"
    voice = "voice"
    album = "album"


class Role(StrEnum):
    buyer = "buyer"
    seller = "seller"


class ConversationNotFound(NotFound, msgid=N_("This conversation is no longer available.")): ...


class NotARelayedMessage(DomainError, msgid=N_("That message is not from a conversation. Open Conversations to answer someone.")): ...


class OwnStore(DomainError, msgid=N_("This is your own store.")): ...


class SenderBlocked(DomainError, msgid=N_("Your message was not delivered: you have been blocked in this conversation.")): ...


class YouBlocked(DomainError, msgid=N_("This conversation is blocked on your side. Unblock it to write.")): ...


class TooFast(DomainError, msgid=N_("Too many messages in a minute. Please wait a little and send again.")): ...


class MessageTooLong(InvalidInput, msgid=N_("A message can be at most {max} characters long; yours has {length}.")): ...


class EmptyMessage(InvalidInput, msgid=N_("Send text, a photo, a document or a voice message.")): ...


class AlbumTooLarge(InvalidInput, msgid=N_("An album can have at most {max} items.")): ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message as the handler received it. `media`: (type, file id) per item — one for a photo,
    document or voice, several for an album (type: photo, video, document, audio)."""

    kind: Kind
    source_chat_id: int
    source_message_ids: tuple[int, ...]
    text: str = ""  # the text, or the caption (an album's first caption)
    media: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation as the given user sees it. For a seller, the buyer is only `alias`."""

    id: int
    order_id: int | None  # None: a question before any order (from a product or store page)
    order_number: str  # "" before any order
    store_id: int
    store: str
    alias: str
    role: Role  # the viewer's side
    blocked_by_me: bool
    blocked_by_other: bool
    last_at: datetime | None

    @property
    def buyer_label(self) -> str:
        return f"#{self.alias}"


@dataclass(frozen=True, slots=True)
class Message:
    """A stored message as a participant sees it: nothing about who sent it but the side."""

    id: int
    mine: bool  # written by the viewer's side
    kind: Kind
    text: str  # masked; escape it when rendering
    masked: frozenset[Masked]
    media: tuple[tuple[str, str], ...]
    created_at: datetime
    read: bool  # read by the side it was written to
    by_viewer: bool = False  # written by the viewer themself (on the seller side: not a colleague)


def _message(row: MessageRow, role: Role, viewer_id: int) -> Message:
    return Message(row.id, row.direction == (TO_SELLER if role == Role.buyer else TO_BUYER), Kind(row.kind),
                   row.text, frozenset(Masked(k) for k in row.masked), row.media, row.created_at,
                   row.read_at is not None, row.sender_id == viewer_id)


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    pending: bool  # the store has no seller yet: kept, delivered once one is linked
    recipients: int  # outbox rows written
    masked: frozenset[Masked]
    reasons: tuple[str, ...]  # msgids telling the sender what was hidden and why


@dataclass(frozen=True, slots=True)
class ConversationPage:
    rows: tuple[ConversationLine, ...]
    total: int
    page: int
    pages: int
    unread: int  # over all of the user's conversations on this side


@dataclass(frozen=True, slots=True)
class HistoryPage:
    conversation: Conversation
    rows: tuple[Message, ...]  # newest first
    total: int
    page: int
    pages: int


def _pages(total: int, size: int, page: int) -> tuple[int, int]:
    pages = max(1, -(-total // size))
    return min(max(page, 0), pages - 1), pages


def new_alias() -> str:
    """Random: nothing about the buyer can be read from it or brute-forced back to them."""
    return secrets.token_hex(2).upper()


def check_message(message: Outgoing) -> None:
    kind = Kind(message.kind)
    text = message.text or ""
    if kind == Kind.text:
        if not text.strip():
            raise EmptyMessage()
        if len(text) > TEXT_MAX:
            raise MessageTooLong(max=TEXT_MAX, length=len(text))
        return
    if not message.media:
        raise EmptyMessage()
    if kind != Kind.album and len(message.media) != 1:
        raise InvalidInput()
    if len(message.media) > ALBUM_MAX:
        raise AlbumTooLarge(max=ALBUM_MAX)
    if len(text) > CAPTION_MAX:
        raise MessageTooLong(max=CAPTION_MAX, length=len(text))


class RelayService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # -- finding a conversation through the user ----------------------------------------------
    async def _seen_by(self, conn: AsyncConnection, user_id: int, conversation_id: int,
                       as_seller: bool | None = None) -> tuple[ConversationRow, Role]:
        """The conversation and the user's side in it; `as_seller` None: whichever side they are on
        (the buyer's first). Anyone else: ConversationNotFound."""
        row = await repo.conversation(conn, conversation_id)
        if row is not None:
            if row.buyer_id == user_id and as_seller is not True:
                return row, Role.buyer
            if as_seller is not False and await repo.is_seller(conn, row.store_id, user_id):
                return row, Role.seller
        raise ConversationNotFound()

    @staticmethod
    def _view(row: ConversationRow, role: Role) -> Conversation:
        mine, other = ((row.buyer_blocked_at, row.seller_blocked_at) if role == Role.buyer
                       else (row.seller_blocked_at, row.buyer_blocked_at))
        return Conversation(row.id, row.order_id, row.order_number, row.store_id, row.store, row.alias, role,
                            mine is not None, other is not None, row.last_at)

    async def open_for_order(self, buyer_id: int, order_id: int) -> Conversation:
        """The buyer's conversation with the order's store, made on first use. Someone else's order
        (or a forged id) is OrderNotFound, like everywhere."""
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await orders_repo.get(conn, order_id, buyer_id)
            if order is None:
                raise OrderNotFound()
            if await repo.is_seller(conn, order.store_id, buyer_id):
                raise OwnStore()
            conversation_id = await repo.conversation_for(conn, order.id, order.store_id)
            if conversation_id is None:
                conversation_id = await repo.add_conversation(conn, order_id=order.id, store_id=order.store_id,
                                                              buyer_id=buyer_id, alias=new_alias(), now=now)
            row, role = await self._seen_by(conn, buyer_id, conversation_id, as_seller=False)
        return self._view(row, role)

    async def open_for_store(self, buyer_id: int, store_id: int) -> Conversation:
        """The buyer's conversation with a store before any order (a question from a product or
        store page), made on first use. A store they sell for is OwnStore."""
        now = self.clock.now()
        async with self.db.write() as conn:
            if await repo.store(conn, store_id=store_id) is None:
                raise ConversationNotFound()
            if await repo.is_seller(conn, store_id, buyer_id):
                raise OwnStore()
            conversation_id = await repo.store_conversation_for(conn, buyer_id, store_id)
            if conversation_id is None:
                conversation_id = await repo.add_conversation(conn, order_id=None, store_id=store_id,
                                                              buyer_id=buyer_id, alias=new_alias(), now=now)
            row, role = await self._seen_by(conn, buyer_id, conversation_id, as_seller=False)
        return self._view(row, role)

    async def conversation(self, user_id: int, conversation_id: int, *, as_seller: bool | None = None) -> Conversation:
        async with self.db.read() as conn:
            return self._view(*await self._seen_by(conn, user_id, conversation_id, as_seller))

    async def conversation_for_reply(self, user_id: int, chat_id: int, message_id: int) -> Conversation:
        """The conversation a native reply goes to: the replied-to message must be a relayed copy or
        an original in this user's chat, of a conversation the user is in. Else NotARelayedMessage."""
        async with self.db.read() as conn:
            found = await repo.by_telegram_message(conn, chat_id, message_id)
            if found is None:
                raise NotARelayedMessage()
            try:
                return self._view(*await self._seen_by(conn, user_id, found[1]))
            except ConversationNotFound:
                raise NotARelayedMessage() from None

    # -- writing ----------------------------------------------------------------------------------
    async def send(self, user_id: int, conversation_id: int, message: Outgoing, *,
                   as_seller: bool | None = None) -> Sent:
        check_message(message)
        now = self.clock.now()
        guarded = guard(message.text or "")
        async with self.db.write() as conn:
            row, role = await self._seen_by(conn, user_id, conversation_id, as_seller)
            mine, other = ((row.buyer_blocked_at, row.seller_blocked_at) if role == Role.buyer
                           else (row.seller_blocked_at, row.buyer_blocked_at))
            if other is not None:
                raise SenderBlocked()
            if mine is not None:
                raise YouBlocked()
            if await repo.sent_since(conn, row.id, user_id, now - RATE_WINDOW) >= RATE_LIMIT:
                raise TooFast()
            sellers = await repo.seller_ids(conn, row.store_id)
            recipients = [row.buyer_id] if role == Role.seller else [s for s in sellers if s != row.buyer_id]
            # a seller's answer is copied to the store's other sellers: nobody answers twice
            colleagues = [s for s in sellers if s not in (user_id, row.buyer_id)] if role == Role.seller else []
            stored = await repo.add_message(
                conn, conversation_id=row.id, direction=TO_SELLER if role == Role.buyer else TO_BUYER,
                sender_id=user_id, kind=Kind(message.kind).value, text=guarded.text,
                masked=tuple(k.value for k in Masked if k in guarded.masked), media=tuple(message.media),
                source_chat_id=message.source_chat_id, source_message_ids=tuple(message.source_message_ids),
                state=QUEUED if recipients else PENDING, now=now,
            )
            written = await pushes.queue(conn, stored, row, recipients, now, colleagues)
            if role == Role.buyer:  # the shop's webhook hears the buyer (as masked; media by kind)
                await webhook_events.emit(conn, store_id=row.store_id, event=webhook_events.MESSAGE_SENT, data={
                    "conversation_id": row.id, "buyer": row.alias, "order_number": row.order_number or None,
                    "kind": Kind(message.kind).value, "text": guarded.text}, now=now)
            # whoever writes has seen what the other side wrote before
            await repo.mark_read(conn, row.id, TO_BUYER if role == Role.buyer else TO_SELLER, now)
        return Sent(_message(stored, role, user_id), not recipients, written, guarded.masked, tuple(guarded.reasons))

    async def set_blocked(self, user_id: int, conversation_id: int, blocked: bool, *,
                          as_seller: bool | None = None) -> Conversation:
        """Block (or unblock) the other side of a conversation; repeating it changes nothing."""
        now = self.clock.now()
        async with self.db.write() as conn:
            row, role = await self._seen_by(conn, user_id, conversation_id, as_seller)
            column = "buyer_blocked_at" if role == Role.buyer else "seller_blocked_at"
            current = getattr(row, column)
            if blocked != (current is not None):
                await repo.set_conversation(conn, row.id, **{column: now if blocked else None})
            row, role = await self._seen_by(conn, user_id, conversation_id, as_seller)
        return self._view(row, role)

    async def block(self, user_id: int, conversation_id: int, *, as_seller: bool | None = None) -> Conversation:
        return await self.set_blocked(user_id, conversation_id, True, as_seller=as_seller)

    async def unblock(self, user_id: int, conversation_id: int, *, as_seller: bool | None = None) -> Conversation:
        return await self.set_blocked(user_id, conversation_id, False, as_seller=as_seller)

    async def mark_read(self, user_id: int, conversation_id: int, *, as_seller: bool | None = None) -> int:
        """What the other side wrote is read now (the history was shown); returns how many."""
        now = self.clock.now()
        async with self.db.write() as conn:
            row, role = await self._seen_by(conn, user_id, conversation_id, as_seller)
            return await repo.mark_read(conn, row.id, TO_BUYER if role == Role.buyer else TO_SELLER, now)

    # -- reading ----------------------------------------------------------------------------------
    async def conversations(self, user_id: int, *, as_seller: bool = False, page: int = 0) -> ConversationPage:
        """The user's conversations with something written, by last activity: as a buyer, or (as a
        seller) those of their stores."""
        async with self.db.read() as conn:
            if as_seller and not await repo.stores_of(conn, user_id):
                raise NotASeller()
            total = await repo.count_conversations(conn, user_id, as_seller)
            page, pages = _pages(total, CONVERSATIONS_PAGE, page)
            rows = await repo.page_conversations(conn, user_id, as_seller, offset=page * CONVERSATIONS_PAGE,
                                                 limit=CONVERSATIONS_PAGE) if total else []
            unread = await repo.unread_total(conn, user_id, as_seller) if total else 0
        return ConversationPage(tuple(rows), total, page, pages, unread)

    async def unread(self, user_id: int, *, as_seller: bool = False) -> int:
        async with self.db.read() as conn:
            return await repo.unread_total(conn, user_id, as_seller)

    async def history(self, user_id: int, conversation_id: int, *, page: int = 0,
                      as_seller: bool | None = None) -> HistoryPage:
        """A page of the conversation's messages, newest first, from the stored (masked) copies."""
        async with self.db.read() as conn:
            row, role = await self._seen_by(conn, user_id, conversation_id, as_seller)
            total = await repo.count_messages(conn, row.id)
            page, pages = _pages(total, HISTORY_PAGE, page)
            rows = await repo.page_messages(conn, row.id, offset=page * HISTORY_PAGE, limit=HISTORY_PAGE)
        return HistoryPage(self._view(row, role), tuple(_message(r, role, user_id) for r in rows), total, page, pages)
