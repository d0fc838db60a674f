"""The address book (`AddressService`): at most `MAX_ADDRESSES` a user, exactly one default while
there is any, and whether an undelivered order was placed with an address (`AddressUsage`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.db import addresses as repo
from bot.db.addresses import AddressRow
from bot.db.engine import Database
from bot.services.addresses.drafts import AddressDraft, validate_draft
from bot.services.addresses.fields import MAX_ADDRESSES, AddressLimitReached, AddressNotFound
from bot.services.clock import Clock

__all__ = [
    "Address", "AddressService",
]


Address = AddressRow  # what the service returns: a plain frozen dataclass


class AddressUsage(Protocol):
    """How many of a user's orders that are not delivered yet were placed with an address.

    Orders keep their own copy of the address, so editing or deleting one never changes an order;
    this only decides whether the bot says so. The orders section provides the real
    implementation (pass it to AddressService); until then `NoAddressUsage` answers 0."""

    async def open_orders(self, user_id: int, address_id: int) -> int: ...


class NoAddressUsage:
    async def open_orders(self, user_id: int, address_id: int) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class DefaultChange:
    address: Address
    changed: bool  # False: it already was the default (a second tap)


@dataclass(frozen=True, slots=True)
class Deletion:
    deleted: Address
    new_default: Address | None  # set when the default was deleted and another one took over


class AddressService:
    def __init__(self, db: Database, clock: Clock, usage: AddressUsage | None = None,
                 limit: int = MAX_ADDRESSES) -> None:
        self.db = db
        self.clock = clock
        self.usage: AddressUsage = usage or NoAddressUsage()
        self.limit = limit

    # -- reads (checkout uses `default` and `list`) --------------------------------------------
    async def list(self, user_id: int) -> list[Address]:
        """The user's addresses, oldest first (one read through the driver: the list screen)."""
        return await repo.list_hot(self.db, user_id)

    async def default(self, user_id: int) -> Address | None:
        async with self.db.read() as conn:
            return await repo.get_default(conn, user_id)

    async def get(self, user_id: int, address_id: int) -> Address:
        async with self.db.read() as conn:
            address = await repo.get(conn, user_id, address_id)
        if address is None:
            raise AddressNotFound()
        return address

    async def has_room(self, user_id: int) -> bool:
        async with self.db.read() as conn:
            return await repo.count(conn, user_id) < self.limit

    async def ensure_room(self, user_id: int) -> None:
        """Raise AddressLimitReached when the book is full (checked again when saving)."""
        async with self.db.read() as conn:
            if await repo.count(conn, user_id) >= self.limit:
                raise AddressLimitReached(self.limit)

    async def open_orders(self, user_id: int, address_id: int) -> int:
        return await self.usage.open_orders(user_id, address_id)

    # -- changes ---------------------------------------------------------------------------------
    async def add(self, user_id: int, draft: AddressDraft, *, flow_id: str | None = None) -> Address:
        """Check and store a new address; the first one becomes the default. The count is taken
        inside the write transaction (BEGIN IMMEDIATE), so the limit holds under double taps.
        `flow_id`: the form's own id; a second add with it returns the address the first one made
        (a Save repeated after a crash between the commit and the end of the flow in Redis)."""
        checked = validate_draft(draft)
        now = self.clock.now()
        async with self.db.write() as conn:
            if flow_id is not None:
                done = await repo.added_by_flow(conn, user_id, flow_id)
                if done is not None:
                    return done
            existing = await repo.count(conn, user_id)
            if existing >= self.limit:
                raise AddressLimitReached(self.limit)
            new_id = await repo.insert(
                conn, user_id, checked.as_dict(), is_default=existing == 0, now=now, flow_id=flow_id
            )
            address = await repo.get(conn, user_id, new_id)
        assert address is not None
        return address

    async def update(self, user_id: int, address_id: int, draft: AddressDraft) -> Address:
        checked = validate_draft(draft)
        now = self.clock.now()
        async with self.db.write() as conn:
            if not await repo.update_fields(conn, user_id, address_id, checked.as_dict(), now):
                raise AddressNotFound()
            address = await repo.get(conn, user_id, address_id)
        assert address is not None
        return address

    async def set_default(self, user_id: int, address_id: int) -> DefaultChange:
        async with self.db.write() as conn:
            changed = await repo.make_default(conn, user_id, address_id, self.clock.now())
            address = await repo.get(conn, user_id, address_id)
        if address is None:
            raise AddressNotFound()
        return DefaultChange(address, changed)

    async def delete(self, user_id: int, address_id: int) -> Deletion:
        """Delete an address; when it was the default, the most recently added remaining one
        becomes the default."""
        async with self.db.write() as conn:
            address = await repo.get(conn, user_id, address_id)
            if address is None or not await repo.remove(conn, user_id, address_id):
                raise AddressNotFound()
            new_default = None
            if address.is_default:
                heir = await repo.newest(conn, user_id)
                if heir is not None:
                    await repo.make_default(conn, user_id, heir.id, self.clock.now())
                    new_default = await repo.get(conn, user_id, heir.id)
        return Deletion(address, new_default)
