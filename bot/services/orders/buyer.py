"""The buyer's side: the tabs, search and the bin, the card, cancelling, confirming receipt,
tracking, deleting and restoring."""

from __future__ import annotations

from datetime import timedelta

from bot.db import orders as repo
from bot.db import outbox as outbox_repo
from bot.db.orders import OrderRow
from bot.services.errors import N_, InvalidInput
from bot.services.orders.base import OrderBase
from bot.services.orders.data import (
    PAGE_SIZE,
    CancelPreview,
    OrderCard,
    OrderPage,
    Tracking,
    clamp_page,
    page_count,
    search_words,
)
from bot.services.orders.states import (
    BUYER_CANCEL_REASONS,
    DELETABLE,
    TAB_STATUSES,
    Actor,
    AlreadyDone,
    CancelReason,
    CannotDelete,
    NotInBin,
    NoTracking,
    OrderInBin,
    OrderTab,
    Status,
    check_can_delete,
    check_transition,
    transition,
)

__all__ = [
    "BuyerActions",
]


REFRESH_AT_MOST_EVERY = timedelta(seconds=30)  # the Refresh button does not hammer the carrier


class BuyerActions(OrderBase):
    async def page(self, user_id: int, tab: OrderTab = OrderTab.all, page: int = 0) -> OrderPage:
        """One page of a tab and the counts of every tab (and of Deleted orders): one statement,
        whatever the page."""
        statuses = TAB_STATUSES[tab]
        page = max(page, 0)
        while True:  # one statement; a second only for a page past the end (then the last page)
            by_status, rows = await repo.tab_page(self.db, user_id, statuses, offset=page * PAGE_SIZE,
                                                  limit=PAGE_SIZE)
            deleted = by_status.pop(repo.DELETED, 0)
            counts = {
                t: sum(n for s, n in by_status.items() if sts is None or s in sts)
                for t, sts in TAB_STATUSES.items()
            }
            total = counts[tab]
            last = clamp_page(page, total)
            if last >= page:
                break
            page = last
        return OrderPage("tab", tab, tuple(rows), total, page, page_count(total), counts, deleted)

    async def search(self, user_id: int, text: str, page: int = 0) -> OrderPage:
        words = search_words(text)
        async with self.db.read() as conn:
            rows, total = await repo.search(conn, user_id, words, offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE)
            if not rows and total:  # a page past the end: show the last one
                page = clamp_page(page, total)
                rows, total = await repo.search(conn, user_id, words, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        return OrderPage("search", None, tuple(rows), total, clamp_page(page, total), page_count(total), query=text.strip())

    async def deleted(self, user_id: int, page: int = 0) -> OrderPage:
        async with self.db.read() as conn:
            total = await repo.deleted_count(conn, user_id)
            page = clamp_page(page, total)
            rows = await repo.deleted_page(conn, user_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE) if total else []
        return OrderPage("deleted", None, tuple(rows), total, page, page_count(total), deleted_count=total)

    # -- the buyer's actions ----------------------------------------------------------------------
    async def cancel_preview(self, user_id: int, order_id: int) -> CancelPreview:
        """What cancelling would do: raises if it is not possible; tells where a refund would go."""
        async with self.db.read() as conn:
            order = await self._active(conn, user_id, order_id)
            check_transition(Status(order.status), Status.cancelled)
            refund = await self._refund_preview(conn, order, order.total_minor) if order.paid_at else None
        return CancelPreview(order, refund)

    # the checks a confirmation screen asks before it is shown (issue 16, item 2: out of the handler)
    async def confirm_preview(self, user_id: int, order_id: int) -> OrderCard:
        """The card before "Confirm receipt?", when receipt can be confirmed; otherwise the reason
        at once (in Deleted orders, not shipped yet, already confirmed …)."""
        card = await self.card(user_id, order_id)
        if not card.can_confirm:
            if card.in_bin:
                raise OrderInBin()
            check_transition(card.status, Status.completed)
        return card

    async def purge_preview(self, user_id: int, order_id: int) -> OrderCard:
        """The card before "Delete for good?": only an order in Deleted orders can be."""
        card = await self.card(user_id, order_id)
        if not card.in_bin:
            raise NotInBin()
        return card

    async def cancel(self, user_id: int, order_id: int, reason: CancelReason | str) -> OrderCard:
        try:
            reason = CancelReason(reason)
        except ValueError:
            raise InvalidInput() from None
        if reason not in BUYER_CANCEL_REASONS:
            raise InvalidInput()
        return await self._cancel(user_id, order_id, reason, Actor.buyer)

    async def confirm_receipt(self, user_id: int, order_id: int) -> OrderCard:
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._active(conn, user_id, order_id)
            await transition(conn, order, Status.completed, actor=Actor.buyer, now=now, note="receipt_confirmed")
            return await self.card(user_id, order_id)

    async def tracking(self, user_id: int, order_id: int, *, refresh: bool = False) -> Tracking:
        """The parcel's events, newest first. Asks the carrier when told to (the Refresh button)
        or when nothing is known yet; the carrier is called outside any transaction."""
        async with self.db.read() as conn:
            order = await self._owned(conn, user_id, order_id)
            if not order.track_number:
                raise NoTracking()
            events = await repo.tracking_events(conn, order.id)
        new: int | None = 0
        now = self.clock.now()
        checked = order.tracking_checked_at
        if (refresh or not events) and (checked is None or now - checked >= REFRESH_AT_MOST_EVERY):
            new = await self._poll(order, now)
            async with self.db.read() as conn:
                order = await self._owned(conn, user_id, order_id)
                events = await repo.tracking_events(conn, order.id)
        return Tracking(order, order.carrier or "", tuple(events), new or 0, order.tracking_checked_at,
                        carrier_failed=new is None)

    # -- deleted orders ---------------------------------------------------------------------------
    async def delete(self, user_id: int, order_id: int) -> OrderRow:
        """Move an order to Deleted orders. An unpaid order is cancelled on the way (nobody should
        pay for an order they threw away); orders in delivery or dispute can't be deleted."""
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            check_can_delete(order)
            if order.status == Status.awaiting_payment:
                order = await self._cancel_in(conn, order, CancelReason.deleted, Actor.buyer, now)
            done = await repo.set_fields(
                conn, order.id, user_id, deleted_at=now,
                where=repo.t.c.deleted_at.is_(None) & repo.t.c.status.in_([s.value for s in DELETABLE]),
            )
            if not done:  # pragma: no cover - impossible inside BEGIN IMMEDIATE after the checks
                raise CannotDelete()
            fresh = await repo.get(conn, order.id)
        assert fresh is not None
        return fresh

    async def restore(self, user_id: int, order_id: int) -> OrderRow:
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if order.deleted_at is None:
                raise AlreadyDone(N_("This order is already back in your orders."))
            await repo.set_fields(conn, order.id, user_id, deleted_at=None)
            fresh = await repo.get(conn, order.id)
        assert fresh is not None
        return fresh

    async def purge(self, user_id: int, order_id: int) -> None:
        """Delete for good: the order disappears for the buyer everywhere, the message centre
        included (its pushes are deleted, sent or not). The shop keeps the financial record; the
        buyer's address snapshot and search text are erased."""
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if order.deleted_at is None:
                raise NotInBin()
            await repo.set_fields(conn, order.id, user_id, purged_at=now, shipping_address="{}", search_text="")
            # its notifications leave the message centre too, and nothing more is sent about it
            await outbox_repo.forget_order(conn, user_id, order.id, order.number)
