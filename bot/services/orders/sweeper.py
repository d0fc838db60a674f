"""Due transitions, run by the sweeper: unpaid orders expire, protected orders complete, parcels
are asked about."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db import orders as repo
from bot.services.orders.base import OrderBase
from bot.services.orders.states import Actor, CancelReason, Status, transition


class SweeperJobs(OrderBase):
    async def expire_unpaid(self, now: datetime, batch: int = 200) -> int:
        """Cancel orders not paid in time. Idempotent: a paid or cancelled order is left alone."""
        done = 0
        while True:
            async with self.db.write() as conn:
                due = await repo.due_unpaid(conn, now, batch)
                for order_id, user_id in due:
                    order = await repo.get(conn, order_id, user_id)
                    if order is None or order.status != Status.awaiting_payment:
                        continue
                    await self._cancel_in(conn, order, CancelReason.payment_timeout, Actor.system, now)
                    done += 1
            if len(due) < batch:
                return done

    async def auto_complete(self, now: datetime, batch: int = 200) -> int:
        """Complete shipped orders whose buyer protection has ended. An order in dispute is not
        `shipped`, so it is never touched."""
        done = 0
        while True:
            async with self.db.write() as conn:
                due = await repo.due_protection(conn, now, batch)
                for order_id, user_id in due:
                    order = await repo.get(conn, order_id, user_id)
                    if order is None or order.status != Status.shipped:
                        continue
                    await transition(conn, order, Status.completed, actor=Actor.system, now=now,
                                     note="protection_ended")
                    done += 1
            if len(due) < batch:
                return done

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
