"""DisputeService: the buyer's, the store's and the platform's actions, and the sweeper's job;
each call one unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import disputes as repo
from bot.db import orders as orders_repo
from bot.db import refunds as refunds_repo
from bot.db import reminders as reminders_repo
from bot.db import seller as seller_repo
from bot.db.disputes import DisputeRow, EscalatedLine
from bot.db.engine import Database
from bot.db.orders import OrderRow
from bot.services import loyalty, seller_news, webhook_events
from bot.services.clock import Clock, day_end
from bot.services.disputes.data import (
    DisputeCard,
    DisputePage,
    DisputeStart,
)
from bot.services.disputes.rules import (
    DISPUTE_KIND,
    MAX_PHOTOS,
    RETURN_KIND,
    AnswerTooLate,
    Closing,
    DisputeDraft,
    DisputeMovedOn,
    DisputeNotFound,
    DisputeReason,
    DisputeState,
    NotSentBackYet,
    Outcome,
    ProblemTooLate,
    Resolution,
    SellerAnswer,
    SendBackTooLate,
    SentBackAlready,
    check_amount,
    check_offer,
    check_outcome,
    check_return_address,
    clean_description,
    clean_reason,
    decision_deadline,
    receive_by,
    requested_amount,
    return_closing,
    unanswered_after_its_day,
)
from bot.services.errors import N_
from bot.services.orders import (
    PAGE_SIZE,
    Actor,
    AlreadyDone,
    OrderInBin,
    OrderNotFound,
    OrderService,
    Status,
    check_can_dispute,
    transition,
)
from bot.services.outbox import enqueue
from bot.services.seller_news import News
from bot.services.track_numbers import check_track

__all__ = [
    "DisputeService",
]


class DisputeService:
    def __init__(self, db: Database, clock: Clock, orders: OrderService) -> None:
        self.db = db
        self.clock = clock
        self.orders = orders
        self.policy = orders.policy

    async def _order(self, conn: AsyncConnection, user_id: int, order_id: int) -> OrderRow:
        order = await orders_repo.get(conn, order_id, user_id)
        if order is None:
            raise OrderNotFound()
        if order.deleted_at is not None:
            raise OrderInBin()
        return order

    async def _dispute(self, conn: AsyncConnection, dispute_id: int, user_id: int | None) -> tuple[DisputeRow, OrderRow]:
        dispute = await repo.get(conn, dispute_id, user_id)
        order = await orders_repo.get(conn, dispute.order_id, dispute.user_id) if dispute else None
        if dispute is None or order is None:
            raise DisputeNotFound()
        return dispute, order

    async def _start(self, conn: AsyncConnection, order: OrderRow, now: datetime) -> DisputeStart:
        existing = await repo.for_order(conn, order.id)
        if existing is not None:
            raise AlreadyDone(N_("A dispute is already open on this order.") if existing.state != DisputeState.closed
                              else N_("The dispute on this order is already closed."))
        check_can_dispute(order, now, self.policy)
        left = order.total_minor - await refunds_repo.refunded_total(conn, order.id)
        if left <= 0:
            raise AlreadyDone(N_("This order has already been refunded in full."))
        level = await self.orders.level(conn, order.user_id)
        decide_by, priority = decision_deadline(now, level, self.policy.decision_days,
                                                self.policy.decision_days_priority)
        return DisputeStart(order.id, order.number, order.currency, left, priority, decide_by,
                            self.policy.return_send_days, loyalty.fast_refunds(level))

    # -- the buyer ------------------------------------------------------------------------------
    async def start(self, user_id: int, order_id: int) -> DisputeStart:
        """Whether a dispute can be opened on this order, and what the flow needs. Raises why not."""
        async with self.db.read() as conn:
            order = await self._order(conn, user_id, order_id)
            return await self._start(conn, order, self.clock.now())

    async def open(self, user_id: int, order_id: int, draft: DisputeDraft) -> DisputeRow:
        now = self.clock.now()
        description = clean_description(draft.description)
        check_outcome(draft.reason, draft.outcome)
        photos = list(dict.fromkeys(draft.photos))[:MAX_PHOTOS]
        async with self.db.write() as conn:
            order = await self._order(conn, user_id, order_id)
            start = await self._start(conn, order, now)
            amount = requested_amount(draft, start.max_refund_minor)
            dispute_id = await repo.insert(
                conn, order_id=order.id, user_id=user_id, reason=DisputeReason(draft.reason).value,
                description=description, outcome=Outcome(draft.outcome).value, amount_minor=amount,
                currency=order.currency, photos=photos, state=DisputeState.open.value,
                priority=int(start.priority), decide_by=start.decide_by, opened_at=now,
            )
            await transition(conn, order, Status.in_dispute, actor=Actor.buyer, now=now, note=draft.reason,
                             push={"dispute_id": dispute_id})
            dispute = await repo.get(conn, dispute_id)
            assert dispute is not None
            await self._push(conn, dispute, order, "opened", now, seen=True)
            await seller_news.tell(conn, store_id=order.store_id, buyer_id=order.user_id, news=News.dispute,
                                   item_id=dispute_id, number=order.number, now=now,
                                   decide_by=start.decide_by.isoformat(), amount_minor=amount, currency=order.currency,
                                   outcome=Outcome(draft.outcome).value)
            await webhook_events.order_event(conn, order.id, webhook_events.DISPUTE_OPENED, {"dispute": {
                "id": dispute_id, "reason": dispute.reason, "outcome": dispute.outcome, "amount_minor": amount,
                "currency": order.currency, "description": description, "photos": len(photos)}}, now)
        return dispute

    async def page(self, user_id: int, page: int = 0) -> DisputePage:
        async with self.db.read() as conn:
            current, total = await repo.count(conn, user_id)
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(max(page, 0), pages - 1)
            rows = await repo.page(conn, user_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE) if total else []
        return DisputePage(tuple(rows), total, current, page, pages)

    async def card(self, user_id: int, dispute_id: int) -> DisputeCard:
        async with self.db.read() as conn:
            return await self._card_now(conn, dispute_id, user_id)

    async def _card_now(self, conn: AsyncConnection, dispute_id: int, user_id: int) -> DisputeCard:
        """The buyer's card of the dispute as it stands in this unit of work."""
        dispute, order = await self._dispute(conn, dispute_id, user_id)
        return await self._card(conn, dispute, order)

    async def _card(self, conn: AsyncConnection, dispute: DisputeRow, order: OrderRow) -> DisputeCard:
        store = (await orders_repo.store_names(conn, [order.store_id])).get(order.store_id, "")
        refund_rows = [r for r in await refunds_repo.for_order(conn, order.id) if r.dispute_id == dispute.id]
        offer = None
        if dispute.state == DisputeState.answered and dispute.seller_answer == SellerAnswer.offer and dispute.offer_minor:
            offer = await self.orders._refund_preview(conn, order, dispute.offer_minor)
        returning = dispute.state == DisputeState.returning
        fast = returning and loyalty.fast_refunds(await self.orders.level(conn, dispute.user_id))
        return DisputeCard(dispute, order.number, store, order.status, tuple(refund_rows), self.clock.now(), offer,
                           receive_by=self.receive_by(dispute), fast_refund=fast)

    def receive_by(self, dispute: DisputeRow) -> datetime | None:
        return receive_by(dispute.returned_at, self.policy.return_receive_days)

    async def send_back(self, user_id: int, dispute_id: int, track: str) -> DisputeCard:
        """The buyer sent a returned item back, with this track number. From the fast-refund level
        the refund is made now and the dispute closes; else the store confirms the item came back
        (`return_received`), or the sweeper refunds once its days to confirm have passed."""
        now = self.clock.now()
        async with self._acting(dispute_id, DisputeState.returning, user_id=user_id) as (conn, dispute, order):
            if dispute.returned_at is not None:
                raise SentBackAlready()
            if dispute.return_by is not None and now >= dispute.return_by:
                raise SendBackTooLate()
            track = check_track(track)  # after what no track number can change
            await repo.set_state(conn, dispute.id, expected=(DisputeState.returning.value,),
                                 new=DisputeState.returning.value, return_track=track, returned_at=now)
            dispute, order = await self._dispute(conn, dispute_id, user_id)
            fast = loyalty.fast_refunds(await self.orders.level(conn, user_id))
            confirm_by = now + timedelta(days=self.policy.return_receive_days)
            await seller_news.tell(conn, store_id=order.store_id, buyer_id=order.user_id, news=News.sent_back,
                                   item_id=dispute.id, number=order.number, now=now, track=track, refunded=fast,
                                   receive_by=confirm_by.isoformat())
            await webhook_events.order_event(conn, order.id, webhook_events.RETURN_SENT, {"dispute": {
                "id": dispute.id, "track": track, "refunded": fast}}, now)
            if fast:  # refunded now; the return stays open: the store confirms it came back, or says it did not
                amount = min(dispute.amount_minor, order.total_minor - await refunds_repo.refunded_total(conn, order.id))
                if amount > 0:
                    await self.orders._refund(conn, order, amount, reason="dispute", dispute_id=dispute.id, now=now,
                                              seen=True)
            return await self._card_now(conn, dispute_id, user_id)

    async def accept_answer(self, user_id: int, dispute_id: int) -> DisputeCard:
        """The buyer accepts the seller's offer (refunded) or rejection (closed without a refund)."""
        now = self.clock.now()
        async with self._acting(dispute_id, DisputeState.answered, user_id=user_id) as (conn, dispute, order):
            offered = dispute.offer_minor if dispute.seller_answer == SellerAnswer.offer else None
            await self._close(conn, dispute, order, offered or 0, Actor.buyer, now)
            return await self._card_now(conn, dispute_id, user_id)

    async def escalate(self, user_id: int, dispute_id: int) -> DisputeCard:
        now = self.clock.now()
        async with self._acting(dispute_id, DisputeState.answered, user_id=user_id) as (conn, dispute, order):
            await repo.set_state(conn, dispute.id, expected=(DisputeState.answered.value,),
                                 new=DisputeState.escalated.value, escalated_at=now)
            dispute, order = await self._dispute(conn, dispute_id, user_id)
            await self._push(conn, dispute, order, "escalated", now, seen=True)
            await seller_news.tell(conn, store_id=order.store_id, buyer_id=order.user_id, news=News.escalated,
                                   item_id=dispute.id, number=order.number, now=now)
            return await self._card(conn, dispute, order)

    # -- the seller and the platform (operator commands, later the shop API) -----------------------
    async def for_order_number(self, number: str) -> DisputeRow:
        order = await self.orders.by_number(number)
        async with self.db.read() as conn:
            dispute = await repo.for_order(conn, order.id)
        if dispute is None:
            raise DisputeNotFound()
        return dispute

    async def seller_answer(self, dispute_id: int, answer: SellerAnswer | str, *, offer_minor: int | None = None,
                            note: str | None = None, seller_id: int | None = None) -> DisputeRow:
        """The seller's answer. `seller_id`: a seller in seller mode — only a dispute on an order of a
        store they sell for (else DisputeNotFound); the operator command passes none."""
        answer = SellerAnswer(answer)
        now = self.clock.now()
        given, note = note, (note or "").strip()[:1000] or None
        if answer == SellerAnswer.reject:  # the buyer reads why: seller mode, operators and the shop API alike
            note = clean_reason(given)
        async with self._acting(dispute_id, DisputeState.open, seller_id=seller_id) as (conn, dispute, order):
            if unanswered_after_its_day(dispute.state, dispute.decide_by, now):
                raise AnswerTooLate()
            if answer == SellerAnswer.accept and dispute.outcome == Outcome.return_refund:
                await repo.set_state(conn, dispute.id, expected=(DisputeState.open.value,),
                                     new=DisputeState.returning.value, seller_answer=answer.value,
                                     seller_note=check_return_address(given),
                                     answered_at=now, return_by=day_end(now + timedelta(days=self.policy.return_send_days),
                                                                        await loyalty.user_zone(conn, dispute.user_id)))
                dispute, order = await self._dispute(conn, dispute_id, None)
                await self._push(conn, dispute, order, "return_accepted", now, kind=RETURN_KIND.key)
                if seller_id is not None:
                    await _answered_in_seller_mode(conn, dispute, answer.value, now)
            elif answer == SellerAnswer.accept:
                await repo.set_state(conn, dispute.id, expected=(DisputeState.open.value,),
                                     new=DisputeState.open.value, seller_answer=answer.value, seller_note=note,
                                     answered_at=now)
                dispute, order = await self._dispute(conn, dispute_id, None)  # the buyer hears of it from the
                # close below ("closed, refunded in full"): a push of its own, made while the dispute is
                # still open, read "waiting for the seller's answer" just after the seller answered
                if seller_id is not None:  # told before the refund and the close it leads to
                    await _answered_in_seller_mode(conn, dispute, answer.value, now)
                await self._close(conn, dispute, order, dispute.amount_minor, Actor.seller, now)
            else:
                values: dict[str, Any] = {"seller_answer": answer.value, "seller_note": note, "answered_at": now}
                if answer == SellerAnswer.offer:  # the same rule for seller mode, operators and the shop API
                    left = order.total_minor - await refunds_repo.refunded_total(conn, order.id)
                    values["offer_minor"] = check_offer(offer_minor or 0, min(dispute.amount_minor, left))
                await repo.set_state(conn, dispute.id, expected=(DisputeState.open.value,),
                                     new=DisputeState.answered.value, **values)
                dispute, order = await self._dispute(conn, dispute_id, None)
                step = "seller_rejected" if answer == SellerAnswer.reject else "seller_offered"
                await self._push(conn, dispute, order, step, now)
                if seller_id is not None:
                    await _answered_in_seller_mode(conn, dispute, answer.value, now)
            dispute, _ = await self._dispute(conn, dispute_id, None)
        return dispute

    async def return_received(self, dispute_id: int, *, seller_id: int | None = None) -> DisputeRow:
        """The store has the returned item back: the buyer is refunded what they asked for and the
        dispute closes. `seller_id` as in `seller_answer`."""
        now = self.clock.now()
        async with self._acting(dispute_id, DisputeState.returning, seller_id=seller_id) as (conn, dispute, order):
            await self._close(conn, dispute, order, dispute.amount_minor, Actor.seller, now)
            dispute, _ = await self._dispute(conn, dispute_id, None)
        return dispute

    async def return_problem(self, dispute_id: int, note: str, *, seller_id: int | None = None) -> DisputeRow:
        """The store says the returned item did not come back as it was sent (no parcel by that
        track, or not the item): the platform decides, and the sweeper no longer refunds it by
        itself. `seller_id` as in `seller_answer`."""
        note = clean_reason(note)
        now = self.clock.now()
        async with self._acting(dispute_id, DisputeState.returning, seller_id=seller_id) as (conn, dispute, order):
            if dispute.returned_at is None:
                raise NotSentBackYet()
            if return_closing(dispute.state, dispute.return_by, dispute.returned_at, now,
                              self.policy.return_receive_days) is not None:
                raise ProblemTooLate()  # its days to confirm are over: the buyer is refunded, as promised
            level = await self.orders.level(conn, dispute.user_id)  # the platform's day, from now
            decide_by, priority = decision_deadline(now, level, self.policy.decision_days,
                                                    self.policy.decision_days_priority)
            await repo.set_state(conn, dispute.id, expected=(DisputeState.returning.value,),
                                 new=DisputeState.escalated.value, escalated_at=now, return_problem=note,
                                 decide_by=decide_by, priority=int(priority))
            dispute, order = await self._dispute(conn, dispute_id, None)
            await self._push(conn, dispute, order, "return_problem", now)
            if seller_id is not None:
                await _answered_in_seller_mode(conn, dispute, "return_problem", now)
        return dispute

    async def decide(self, dispute_id: int, refund_minor: int) -> DisputeRow:
        """The platform's decision: a refund (0 rejects the dispute). Possible at any point before
        the dispute is closed."""
        now = self.clock.now()
        async with self.db.write() as conn:
            dispute, order = await self._dispute(conn, dispute_id, None)
            if dispute.state == DisputeState.closed:
                raise AlreadyDone(N_("This dispute is already closed."))
            already = await refunds_repo.refunded_for_dispute(conn, dispute.id)  # a fast refund: kept
            if refund_minor > already:
                left = order.total_minor - await refunds_repo.refunded_total(conn, order.id)
                check_amount(refund_minor - already, left)
            await self._close(conn, dispute, order, refund_minor, Actor.platform, now)
            dispute, _ = await self._dispute(conn, dispute_id, None)
        return dispute

    async def escalated(self, limit: int) -> tuple[int, list[EscalatedLine]]:
        """The disputes waiting for the platform's decision (/ops): how many, and the first `limit`,
        priority ones first, then the soonest decision day."""
        async with self.db.read() as conn:
            return await repo.escalated(conn, limit)

    async def close_overdue(self, now: datetime, batch: int = 100) -> int:
        """The sweeper's `disputes_overdue`: a dispute whose store did not answer by its decision day
        is decided for the buyer — refunded as asked (what is left of the order at most), as the
        platform. This is what makes a decision day, and level 4's shorter one, hold. A dispute the
        store answered waits for the buyer; an escalated one for an operator (/ops lists it). A
        return past its day closes too (`return_closing`): not sent back, without a refund; sent
        back and not confirmed by the store, refunded. One unit of work a dispute. Returns how many
        were closed."""
        done = 0
        receive = timedelta(days=self.policy.return_receive_days)
        while True:
            async with self.db.read() as conn:
                unanswered = await repo.overdue(conn, now, batch)
                returns = await repo.returns_due(conn, now, now - receive, batch)
            for dispute_id in unanswered + returns:
                async with self.db.write() as conn:
                    dispute, order = await self._dispute(conn, dispute_id, None)
                    closing = (Closing.overdue if unanswered_after_its_day(dispute.state, dispute.decide_by, now)
                               else return_closing(dispute.state, dispute.return_by, dispute.returned_at, now,
                                                   self.policy.return_receive_days))
                    if closing is None:
                        continue  # moved on meanwhile
                    refund = 0 if closing == Closing.not_sent else dispute.amount_minor
                    await self._close(conn, dispute, order, refund, Actor.platform, now, closing=closing)
                    done += 1
            if len(unanswered) < batch and len(returns) < batch:
                return done

    # -- internals --------------------------------------------------------------------------------
    @asynccontextmanager
    async def _acting(self, dispute_id: int, state: DisputeState, *, user_id: int | None = None,
                      seller_id: int | None = None) -> AsyncIterator[tuple[AsyncConnection, DisputeRow, OrderRow]]:
        """One unit of work on a dispute in `state`: the buyer's own (`user_id`), one of a seller's
        stores' (`seller_id`), or any (an operator, the shop API). DisputeNotFound for another's;
        DisputeMovedOn, or AlreadyDone when closed, for another state."""
        async with self.db.write() as conn:
            dispute, order = await self._dispute(conn, dispute_id, user_id)
            if seller_id is not None and not await seller_repo.owns_order(conn, seller_id, order.id):
                raise DisputeNotFound()
            self._require(dispute, state)
            yield conn, dispute, order

    @staticmethod
    def _require(dispute: DisputeRow, state: DisputeState) -> None:
        if dispute.state == state:
            return
        if dispute.state == DisputeState.closed:
            raise AlreadyDone(N_("This dispute is already closed."))
        raise DisputeMovedOn(state=dispute.state, needed=state.value)  # (the shop API says which)

    async def _close(self, conn: AsyncConnection, dispute: DisputeRow, order: OrderRow, refund_minor: int,
                     actor: Actor, now: datetime, *, closing: Closing = Closing.plain) -> None:
        """Close the dispute with this refund. `closing`: why, when it is not the plain answer or
        decision (the pushes and the order's history say so). `refund_minor` is the dispute's refund
        in all: what it paid already (a fast refund, when the return was sent back) counts, and is
        never taken back."""
        already = await refunds_repo.refunded_for_dispute(conn, dispute.id)
        left = order.total_minor - await refunds_repo.refunded_total(conn, order.id)
        asked, pay = refund_minor, min(max(refund_minor - already, 0), left)
        given = already + pay
        if closing == Closing.not_sent:
            resolution = Resolution.not_returned
        elif given <= 0:  # nothing paid: a rejection, unless a refund (goodwill) took it all
            resolution = Resolution.refunded_full if asked > 0 and left <= 0 else Resolution.rejected
        elif pay >= left:  # nothing of the order is left to refund
            resolution = Resolution.refunded_full
        else:
            resolution = Resolution.refunded_partial
        refund_minor = given
        changed = await repo.set_state(
            conn, dispute.id, expected=(dispute.state,), new=DisputeState.closed.value,
            resolution=resolution.value, refund_minor=refund_minor, closed_at=now,
        )
        if not changed:  # pragma: no cover - inside BEGIN IMMEDIATE after the state check
            raise DisputeMovedOn()
        # the dispute's push tells the close — unless the buyer silenced dispute news: then the
        # order's status push does (as it did before the dispute's said it too)
        told = DISPUTE_KIND.key not in (await reminders_repo.mutes_for(conn, [order.user_id])).get(order.user_id, ())
        await transition(conn, order, Status.closed, actor=actor, now=now, told=told,
                         note=resolution.value if closing == Closing.plain else f"{resolution.value}, {closing.value}",
                         push={"dispute_id": dispute.id, "resolution": resolution.value,
                               "refund_minor": refund_minor})
        if pay > 0:  # after the order closed: the shop's webhooks name it as it is now
            await self.orders._refund(conn, order, pay, reason="dispute", dispute_id=dispute.id, now=now,
                                      seen=actor == Actor.buyer)
        await webhook_events.order_event(conn, order.id, webhook_events.DISPUTE_CLOSED, {"dispute": {
            "id": dispute.id, "resolution": resolution.value, "refund_minor": refund_minor,
            "closing": closing.value}}, now)
        closed = await repo.get(conn, dispute.id)
        assert closed is not None
        if closing in (Closing.overdue, Closing.unconfirmed) and pay <= 0:
            closing = Closing.plain  # refunded before (goodwill, a fast refund): nothing was decided for anyone
        step = {Closing.overdue: "overdue", Closing.unconfirmed: "return_unconfirmed"}.get(closing, "closed")
        await self._push(conn, closed, order, step, now, seen=actor == Actor.buyer)
        if actor != Actor.seller:
            # the buyer accepted the store's answer, or the platform decided (a day passed)
            by = actor.value if closing == Closing.plain else closing.value
            await seller_news.tell(conn, store_id=order.store_id, buyer_id=order.user_id, news=News.dispute_closed,
                                   item_id=dispute.id, number=order.number, now=now,
                                   by=by, refund_minor=refund_minor,
                                   currency=order.currency, decide_by=dispute.decide_by.isoformat())

    @staticmethod
    async def _push(conn: AsyncConnection, dispute: DisputeRow, order: OrderRow, step: str, now: datetime,
                    *, seen: bool = False, kind: str = DISPUTE_KIND.key) -> None:
        """A dispute push; `seen` when it is the buyer's own step (kept for the message centre only)."""
        await enqueue(conn, user_id=dispute.user_id, kind=kind, payload={
            "dispute_id": dispute.id, "order_id": order.id, "number": order.number, "step": step,
            "state": dispute.state, "reason": dispute.reason, "outcome": dispute.outcome,
            "amount_minor": dispute.amount_minor, "currency": dispute.currency,
            "seller_answer": dispute.seller_answer, "offer_minor": dispute.offer_minor,
            "resolution": dispute.resolution, "refund_minor": dispute.refund_minor,
            "priority": dispute.priority, "decide_by": dispute.decide_by.isoformat(),
            "return_by": dispute.return_by.isoformat() if dispute.return_by else None,
            "seller_note": dispute.seller_note, "return_problem": dispute.return_problem,
        }, dedupe_key=f"dispute:{dispute.id}:{step}", now=now, seen=seen)


async def _answered_in_seller_mode(conn: AsyncConnection, dispute: DisputeRow, answer: str, now: datetime) -> None:
    """A seller answered in the bot, not the shop through the API: the shop hears of it (an accept
    that refunds at once also sends `refund.created` and `dispute.closed`)."""
    await webhook_events.order_event(conn, dispute.order_id, webhook_events.DISPUTE_ANSWERED, {"dispute": {
        "id": dispute.id, "answer": answer, "offer_minor": dispute.offer_minor,
        "note": dispute.return_problem if answer == "return_problem" else dispute.seller_note}}, now)
