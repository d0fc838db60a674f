"""Stores' sellers: an operator invites (`invite` → a one-time token for a deep link
`t.me/<bot>?start=s_<token>`), the Telegram account that opens it becomes the store's seller
(`redeem`), and what buyers wrote while the store had no seller goes out to them.

The token is random (144 bits), only its SHA-256 is stored, it is good for one use and 24 hours."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bot.db import outbox as outbox_repo
from bot.db import relay as repo
from bot.db.engine import Database
from bot.db.relay import SellerRow
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, NotFound
from bot.services.relay import pushes

T = TypeVar("T")

INVITE_TTL = timedelta(hours=24)
TOKEN_BYTES = 18  # 144 bits; 24 URL-safe characters ("s_" + token fits a deep link's 64)
START_PREFIX = "s_"  # /start s_<token>
SELLER_REMOVED = "seller_removed"  # why a removed seller's waiting messages were dropped


class NoSuchStore(NotFound, msgid=N_("There is no such store.")): ...


class InviteUnknown(DomainError, msgid=N_("This seller invitation is not valid. Ask for a new link.")): ...


class InviteUsed(DomainError, msgid=N_("This seller invitation has already been used. Ask for a new link.")): ...


class InviteExpired(DomainError, msgid=N_("This seller invitation has expired. Ask for a new link.")): ...


class SellerNotFound(NotFound, msgid=N_("This account is not a seller of that store.")): ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unprefixed(text: str, prefix: str) -> list[str]:
    """What a token typed or opened as `text` may be: the deep link's start parameter
    (`prefix` + token) or the bare token, which may itself begin with the prefix's characters
    (it is random URL-safe text): both are looked up (144 random bits never collide)."""
    text = text.strip()
    return [t for t in dict.fromkeys((text.removeprefix(prefix), text)) if t]


async def by_token(text: str, prefix: str, find: Callable[[str], Awaitable[T | None]]) -> T | None:
    """What a one-time link's token names (`find` looks it up by the token's hash), however it came:
    opened as the deep link or typed bare (`unprefixed`)."""
    for candidate in unprefixed(text, prefix):
        found = await find(token_hash(candidate))
        if found is not None:
            return found
    return None


def start_parameter(token: str, prefix: str = START_PREFIX) -> str:
    return prefix + token


def deep_link(bot_username: str, token: str, prefix: str = START_PREFIX) -> str:
    """`https://t.me/<bot>?start=<prefix><token>`: a seller's invite, or (prefix `l_`) a shop
    customer's link (`bot/services/shops/customers.py`)."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={start_parameter(token, prefix)}"


@dataclass(frozen=True, slots=True)
class Invite:
    token: str  # shown once, to the operator; never stored
    store_id: int
    store: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Redeemed:
    store_id: int
    store: str
    delivered: int  # messages buyers wrote while the store had no seller, now queued for delivery
    already: bool = False  # their own invitation, opened again: nothing changed


class SellerService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def store(self, ref: str | int) -> tuple[int, str]:
        """A store by its id (digits) or its exact name."""
        async with self.db.read() as conn:
            found = None
            if isinstance(ref, int) or ref.strip().isdigit():
                found = await repo.store(conn, store_id=int(ref))
            if found is None and isinstance(ref, str):
                found = await repo.store(conn, name=ref.strip())
        if found is None:
            raise NoSuchStore()
        return found

    async def invite(self, store_id: int) -> Invite:
        now = self.clock.now()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        async with self.db.write() as conn:
            found = await repo.store(conn, store_id=store_id)
            if found is None:
                raise NoSuchStore()
            await repo.add_invite(conn, store_id=store_id, token_hash=token_hash(token), now=now,
                                  expires_at=now + INVITE_TTL)
        return Invite(token, found[0], found[1], now + INVITE_TTL)

    async def redeem(self, token: str, user_id: int) -> Redeemed:
        """The account `user_id` (a user of the bot) becomes the store's seller; what buyers wrote to
        the store while it had no seller is queued for them."""
        now = self.clock.now()
        async with self.db.write() as conn:
            invite = await by_token(token, START_PREFIX, lambda hashed: repo.invite_by_hash(conn, hashed))
            if invite is None:
                raise InviteUnknown()
            if invite.used_by == user_id and await repo.is_seller(conn, invite.store_id, user_id):
                store = await repo.store(conn, store_id=invite.store_id)  # their own link, opened again
                assert store is not None
                return Redeemed(store[0], store[1], 0, already=True)
            if invite.used_at is not None:
                raise InviteUsed()
            if now >= invite.expires_at:
                raise InviteExpired()
            if not await repo.use_invite(conn, invite.id, user_id, now):
                raise InviteUsed()
            await repo.link_seller(conn, invite.store_id, user_id, now)
            store = await repo.store(conn, store_id=invite.store_id)
            assert store is not None
            delivered = 0
            pending = await repo.pending_for_store(conn, invite.store_id)
            for message, conversation in pending:
                if conversation.buyer_id == user_id:
                    continue  # the new seller's own messages as a buyer of this store stay theirs
                await pushes.queue(conn, message, conversation, [user_id], now)
                delivered += 1
            await repo.mark_queued(conn, [m.id for m, c in pending if c.buyer_id != user_id])
        return Redeemed(store[0], store[1], delivered)

    async def list_sellers(self, store_id: int | None = None) -> list[SellerRow]:
        async with self.db.read() as conn:
            return await repo.sellers(conn, store_id)

    async def remove_seller(self, store_id: int, user_id: int) -> int:
        """Unlink the seller; the store's messages still waiting to be sent to them are dropped
        (they are no longer theirs to read). Returns how many."""
        async with self.db.write() as conn:
            if not await repo.unlink_seller(conn, store_id, user_id):
                raise SellerNotFound()
            waiting = [r for r in await outbox_repo.for_user(conn, user_id, pushes.RELAY_KIND.key)
                       if r.state == outbox_repo.PENDING]
            ours = await repo.of_store(conn, store_id, {int(r.payload.get("conversation_id") or 0) for r in waiting})
            return await outbox_repo.drop(
                conn, [r.id for r in waiting if int(r.payload.get("conversation_id") or 0) in ours], SELLER_REMOVED)

    async def stores_of(self, user_id: int) -> list[int]:
        """The stores this account sells for (empty: not a seller)."""
        async with self.db.read() as conn:
            return await repo.stores_of(conn, user_id)
