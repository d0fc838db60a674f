"""A shop (a client of the HTTP API): its key, the stores it owns, and the answers kept for its
idempotency keys.

The key is random (256 bits), shown once by `main.py shop add`, and only its SHA-256 is stored: a
key is looked up by its hash. A store belongs to at most one shop; a shop reaches only its own
stores' data (everything else is "not found")."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db import orders as orders_repo
from bot.db import shops as repo
from bot.db.engine import Database
from bot.db.shops import ShopRow, StoredAnswer
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.orders import OrderService

KEY_PREFIX = "kbs_"  # so a leaked key is recognisable in a scan
KEY_BYTES = 32
ANSWERS_KEPT = timedelta(hours=24)  # how long the same Idempotency-Key gets the same answer


class ShopExists(DomainError, msgid=N_("There is already a shop with this name.")): ...


class StoreTaken(DomainError, msgid=N_("This store belongs to another shop.")): ...


class StoreNotOwned(NotFound, msgid=N_("There is no such store.")): ...


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewShop:
    shop: ShopRow
    key: str  # shown once; never stored
    stores: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class ShopListing:
    shop: ShopRow
    stores: tuple[tuple[int, str], ...]


class ShopService:
    def __init__(self, db: Database, clock: Clock, orders: OrderService) -> None:
        self.db = db
        self.clock = clock
        self.orders = orders

    # -- operators --------------------------------------------------------------------------------
    async def add(self, name: str, store_ids: tuple[int, ...] = ()) -> NewShop:
        """A new shop with a fresh key; `store_ids`: existing stores it takes over (none may have a shop)."""
        name = name.strip()
        if not name or len(name) > 128:
            raise InvalidInput(N_("A shop needs a name of at most 128 characters."))
        key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        now = self.clock.now()
        async with self.db.write() as conn:
            if await repo.shop_by_name(conn, name) is not None:
                raise ShopExists()
            shop_id = await repo.insert_shop(conn, name, key_hash(key), now)
            names = await orders_repo.store_names(conn, list(store_ids))
            for store_id in dict.fromkeys(store_ids):
                if store_id not in names:
                    raise StoreNotOwned()
                if await repo.store_owner(conn, store_id) is not None:
                    raise StoreTaken()
                await repo.own_store(conn, shop_id, store_id)
            shop = await repo.shop_by_name(conn, name)
        assert shop is not None
        return NewShop(shop, key, tuple((s, names[s]) for s in dict.fromkeys(store_ids)))

    async def new_key(self, name: str) -> NewShop:
        """A new key for the shop (a key leaked or lost): the old one stops working at once. Its
        stores, customers, orders and webhooks stay."""
        key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        async with self.db.write() as conn:
            shop = await repo.shop_by_name(conn, name.strip())
            if shop is None:
                raise NotFound(N_("No such shop."))
            await repo.set_key(conn, shop.id, key_hash(key))
        return NewShop(shop, key, ())

    async def listing(self) -> list[ShopListing]:
        async with self.db.read() as conn:
            return [ShopListing(shop, tuple(stores)) for shop, stores in await repo.all_shops(conn)]

    async def any(self) -> bool:
        async with self.db.read() as conn:
            return await repo.any_shop(conn)

    # -- the API ----------------------------------------------------------------------------------
    async def authenticate(self, key: str) -> ShopRow | None:
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        async with self.db.read() as conn:
            return await repo.shop_by_key(conn, key_hash(key))

    async def upsert_store(self, shop_id: int, name: str) -> tuple[int, str, bool]:
        """The shop's store of this name, made when new (by the order service, as `main.py order
        create` makes one). Returns (id, name, created). A name another shop's store (or a store of no
        shop) has is StoreTaken."""
        name = name.strip()
        async with self.db.write() as conn:
            store_id = await orders_repo.store_id_by_name(conn, name) if name else None
            if store_id is not None:
                if await repo.store_owner(conn, store_id) != shop_id:
                    raise StoreTaken()
                return store_id, name, False
            store_id = await self.orders.ensure_store(name)  # joins this unit of work
            await repo.own_store(conn, shop_id, store_id)
        return store_id, name, True

    async def store(self, shop_id: int, store_id: int) -> tuple[int, str]:
        """The shop's own store, else StoreNotOwned (another shop's store is not found either)."""
        async with self.db.read() as conn:
            found = await repo.store_of_shop(conn, shop_id, store_id)
        if found is None:
            raise StoreNotOwned()
        return found

    async def owns_review(self, shop_id: int, review_id: int) -> bool:
        async with self.db.read() as conn:
            return await repo.review_of_shop(conn, shop_id, review_id)

    async def owns_refund(self, shop_id: int, refund_id: int) -> bool:
        async with self.db.read() as conn:
            return await repo.refund_of_shop(conn, shop_id, refund_id)

    # -- idempotency (called inside the request's unit of work) -----------------------------------
    async def stored_answer(self, shop_id: int, key: str) -> StoredAnswer | None:
        async with self.db.read() as conn:
            return await repo.stored_answer(conn, shop_id, key)

    async def keep_answer(self, shop_id: int, key: str, fingerprint: str, status: int, body: str) -> None:
        async with self.db.write() as conn:
            await repo.store_answer(conn, shop_id, key, fingerprint, status, body, self.clock.now())

    async def prune_answers(self, now: datetime) -> int:
        """The sweeper: answers older than a day are forgotten (the key may then act again)."""
        async with self.db.write() as conn:
            return await repo.prune_answers(conn, now - ANSWERS_KEPT)
