"""Due transitions, run by the sweeper: unpaid orders expire, protected orders complete, parcels
are asked about."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as repo
from bot.db.orders import OrderRow
from bot.services.orders.base import OrderBase
from bot.services.orders.states import Actor, CancelReason, Status, transition

__all__ = [
    "SweeperJobs",
]

log = logging.getLogger(__name__)


# (conn, now, batch) → the (order id, user id) pairs due; what to do with one of them
DueQuery = Callable[[AsyncConnection, datetime, int], Awaitable[Sequence[tuple[int, int]]]]
Move = Callable[[AsyncConnection, OrderRow], Awaitable[None]]


class SweeperJobs(OrderBase):
    async def expire_unpaid(self, now: datetime, batch: int = 200) -> int:
        """Cancel orders not paid in time. Idempotent: a paid or cancelled order is left alone."""

        async def cancel(conn: AsyncConnection, order: OrderRow) -> None:
            await self._cancel_in(conn, order, CancelReason.payment_timeout, Actor.system, now)

        return await self._move_due(repo.due_unpaid, Status.awaiting_payment, cancel, now, batch)

    async def auto_complete(self, now: datetime, batch: int = 200) -> int:
        """Complete shipped orders whose buyer protection has ended. An order in dispute is not
        `shipped`, so it is never touched."""

        async def complete(conn: AsyncConnection, order: OrderRow) -> None:
            await transition(conn, order, Status.completed, actor=Actor.system, now=now,
                             note="protection_ended")

        return await self._move_due(repo.due_protection, Status.shipped, complete, now, batch)

    async def _move_due(self, due_query: DueQuery, expected: Status, move: Move, now: datetime,
                        batch: int) -> int:
        """`move` each order `due_query` finds that is still in `expected`, a batch a unit of work,
        until a batch comes back short. Returns how many were moved. An order that can't move (its
        data broken) must not hold back the others: when a batch fails, its orders move one by one;
        one that fails is logged and passed over for the rest of this run (the next run tries it
        again). The database failing (`OperationalError`: locked, gone) is not an order's fault: it
        is raised, for the sweeper to report and run again."""
        done = 0
        broken: set[int] = set()
        while True:
            due: list[tuple[int, int]] = []
            broken_before = len(broken)
            try:
                async with self.db.write() as conn:
                    found = list(await due_query(conn, now, batch + len(broken)))
                    due = [d for d in found if d[0] not in broken][:batch]
                    moved = await self._move_each(conn, due, expected, move)
            except OperationalError:
                raise
            except Exception:
                if not due:  # the query itself: nothing was tried
                    raise
                log.error("%d due orders could not move together: moving them one by one", len(due))
                moved = 0
                for one in due:
                    try:
                        async with self.db.write() as conn:
                            moved += await self._move_each(conn, [one], expected, move)
                    except OperationalError:
                        raise
                    except Exception:
                        log.exception("order id %d can't move to its next status; left as it is", one[0])
                        broken.add(one[0])
            done += moved
            if len(due) < batch or not (moved or len(broken) > broken_before):  # all there was, or stuck
                return done

    @staticmethod
    async def _move_each(conn: AsyncConnection, due: list[tuple[int, int]], expected: Status, move: Move) -> int:
        moved = 0
        for order_id, user_id in due:
            order = await repo.get(conn, order_id, user_id)
            if order is None or order.status != expected:
                continue
            await move(conn, order)
            moved += 1
        return moved

    async def poll_tracking(self, now: datetime, batch: int = 50) -> int:
        """Ask the carrier about parcels not checked for a while. Returns how many new events."""
        async with self.db.read() as conn:
            due = await repo.due_tracking(conn, now - self.policy.tracking_poll, batch)
        new = 0
        for order_id, user_id in due:
            async with self.db.read() as conn:
                order = await repo.get(conn, order_id, user_id)
            if order is None or not order.track_number:
                continue
            found = await self._poll(order, now)
            if found is None:  # the carrier is down: try this parcel again in half an hour
                retry = now - self.policy.tracking_poll + timedelta(minutes=30)
                async with self.db.write() as conn:
                    await repo.set_fields(conn, order.id, user_id, tracking_checked_at=retry)
            new += found or 0
        return new
