"""Recently viewed, written behind: opening a product notes the view, and the notes go to the
database together, in one unit of work — every few seconds (a scheduler job), before anything reads
or changes the user's Recently viewed, and when the bot stops.

Why not in the product card's own unit of work: a write transaction on every opening of the
busiest screen of the catalog cost it more than everything else it does (bench/: a product card's
p99 was 7× the bare floor with it). What this gives up: views of the last few seconds before a
crash (not a stop) are not remembered — a list of what one looked at, not an order or a payment.
A view of a product or by a user gone meanwhile is skipped, not an error for the whole batch.

Where the notes wait (`PendingViews`): in this process (`LocalPendingViews`), or with REDIS_URL in
Redis (bot/db/viewed_redis.py), so that a view noted by one instance is written when another reads
the user's list, and any instance's flush writes every instance's notes. Either way a flush takes
the notes it writes (they are no longer pending for anyone else), and a failed write puts them
back, a newer view noted meanwhile winning."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from bot.db import catalog as repo
from bot.db.engine import Database, bookkeeping

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0  # how often the scheduler writes the notes down

Views = dict[tuple[int, int], datetime]  # (user, product) → the newest view


class PendingViews(Protocol):
    """Views noted and not yet written."""

    async def note(self, views: Views) -> None:
        """Keep these views (a newer one of the same product by the same user wins)."""

    async def take(self, user_id: int | None = None) -> Views:
        """The notes of one user (or everyone's), no longer pending once taken."""

    async def count(self) -> int:
        """How many (user, product) views are pending."""


class LocalPendingViews:
    """In this process: user → product → newest view."""

    def __init__(self) -> None:
        self._users: dict[int, dict[int, datetime]] = {}

    async def note(self, views: Views) -> None:
        for (user_id, product_id), at in views.items():
            products = self._users.setdefault(user_id, {})
            if product_id not in products or products[product_id] < at:
                products[product_id] = at

    async def take(self, user_id: int | None = None) -> Views:
        if user_id is None:
            users, self._users = self._users, {}
        else:
            products = self._users.pop(user_id, None)
            users = {user_id: products} if products else {}
        return {(u, p): at for u, products in users.items() for p, at in products.items()}

    async def count(self) -> int:
        return sum(len(products) for products in self._users.values())


class ViewedLog:
    def __init__(self, db: Database, pending: PendingViews | None = None) -> None:
        self.db = db
        self.notes: PendingViews = pending or LocalPendingViews()

    async def note(self, user_id: int, product_id: int, at: datetime) -> None:
        """A product opened: remembered now, written with the next flush (the newest view counts)."""
        await self.notes.note({(user_id, product_id): at})

    async def pending(self) -> int:
        return await self.notes.count()

    async def flush(self, _now: datetime | None = None, *, user_id: int | None = None) -> int:
        """Write the notes (all, or one user's before their list is read); returns how many.

        Inside a handler this is bookkeeping, not the update's own change: it does not record the
        update id (a redelivered update is still handled)."""
        batch = await self.notes.take(user_id)
        if not batch:
            return 0
        try:
            with bookkeeping():
                async with self.db.write() as conn:
                    await repo.viewed_many(conn, batch)
        except Exception:
            await self.notes.note(batch)  # kept for the next flush (a newer view wins)
            raise
        return len(batch)
