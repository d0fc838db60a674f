"""Returns & disputes: a buyer opens a dispute on a shipped order (or a completed one within the
dispute window); the seller answers (accept / reject / offer); the buyer accepts the answer or
escalates; the platform decides; the dispute closes refunded (in full or part) or rejected.

    open ──seller accepts──────────────────────────────→ closed (refund as asked)
    open ──seller rejects / offers──→ answered ──buyer accepts──→ closed
                                      answered ──buyer escalates──→ escalated ──platform──→ closed
    (the platform may decide at any point before closed)

The order is `in_dispute` while the dispute is open and `closed` after. The store answers by the
decision day; one that does not loses it: the sweeper decides the dispute for the buyer then
(`close_overdue`). Buyers from loyalty level 4 get priority: a shorter decision day, so a store that
ignores them has their money back to them sooner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import disputes as repo
from bot.db import orders as orders_repo
from bot.db import refunds as refunds_repo
from bot.db import seller as seller_repo
from bot.db.disputes import DisputeLine, DisputeRow, EscalatedLine
from bot.db.engine import Database
from bot.db.orders import OrderRow
from bot.db.refunds import RefundRow
from bot.services import loyalty, refunds, seller_news, webhook_events
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.notifications import declare
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

DISPUTE_KIND = declare("dispute", N_("Disputes and returns"), order=12)
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 1000
MAX_PHOTOS = 3


class DisputeReason(StrEnum):
    not_received = "not_received"
    not_as_described = "not_as_described"
    damaged = "damaged"
    wrong_item = "wrong_item"
    other = "other"


class Outcome(StrEnum):
    full_refund = "full_refund"
    partial_refund = "partial_refund"
    return_refund = "return_refund"  # send the item back, get the money back


class DisputeState(StrEnum):
    open = "open"  # waiting for the seller
    answered = "answered"  # the seller rejected or offered: the buyer's turn
    escalated = "escalated"  # the platform decides
    closed = "closed"


class SellerAnswer(StrEnum):
    accept = "accept"
    reject = "reject"
    offer = "offer"


class Resolution(StrEnum):
    refunded_full = "refunded_full"
    refunded_partial = "refunded_partial"
    rejected = "rejected"


class DisputeNotFound(NotFound, msgid=N_("This dispute is no longer available.")): ...


class AnswerTooLate(AlreadyDone, msgid=N_("The day to answer this dispute has passed: the platform decides it "
                                           "for the buyer.")): ...


class DisputeMovedOn(DomainError, msgid=N_("The dispute has moved on since; here is where it stands now.")): ...


# -- validation of the buyer's draft (pure) ---------------------------------------------------------
def clean_description(text: str | None) -> str:
    cleaned = "\n".join(line.rstrip() for line in (text or "").strip().splitlines()).strip()
    if len(cleaned) < DESCRIPTION_MIN:
        raise InvalidInput(N_("Please describe the problem in at least {min} characters."), min=DESCRIPTION_MIN)
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidInput(N_("Please keep the description under {max} characters (now {length})."),
                           max=DESCRIPTION_MAX, length=len(cleaned))
    return cleaned


class OfferTooLarge(InvalidInput, msgid=N_("A partial refund must be less than what accepting the dispute would refund; to refund that much, accept the dispute.")): ...


def check_offer(amount_minor: int, accept_minor: int) -> int:
    """A partial refund offered: more than zero and less than what accepting would refund (what
    the buyer asked for, at most what is left of the order to refund)."""
    if amount_minor <= 0:
        raise InvalidInput(N_("The amount must be more than zero."))
    if amount_minor >= accept_minor:
        raise OfferTooLarge()
    return amount_minor


def check_amount(amount_minor: int, max_minor: int) -> int:
    if amount_minor <= 0:
        raise InvalidInput(N_("The amount must be more than zero."))
    if amount_minor > max_minor:
        raise InvalidInput(N_("The amount can't be more than you paid and was not refunded yet."))
    return amount_minor


@dataclass(frozen=True, slots=True)
class DisputeDraft:
    reason: DisputeReason
    description: str
    outcome: Outcome
    amount_minor: int | None = None  # a partial refund's amount
    photos: tuple[str, ...] = ()


def requested_amount(draft: DisputeDraft, max_minor: int) -> int:
    if draft.outcome == Outcome.partial_refund:
        return check_amount(draft.amount_minor or 0, max_minor)
    return max_minor


def unanswered_after_its_day(state: str, decide_by: datetime, now: datetime) -> bool:
    """The store has not answered and its decision day has passed: it can't answer any more, and
    the sweeper decides the dispute for the buyer (`repo.overdue` finds these by the same rule)."""
    return state == DisputeState.open and now >= decide_by


def decision_deadline(now: datetime, level: int, days: int, priority_days: int) -> tuple[datetime, bool]:
    priority = loyalty.priority_disputes(level)
    return now + timedelta(days=priority_days if priority else days), priority


# -- plain data out ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DisputeStart:
    """What the "open a dispute" flow needs to know about the order."""

    order_id: int
    number: str
    currency: str
    max_refund_minor: int  # paid and not refunded yet
    priority: bool
    decide_by: datetime


@dataclass(frozen=True, slots=True)
class DisputeCard:
    dispute: DisputeRow
    number: str
    store: str
    order_status: str
    refunds: tuple[RefundRow, ...]
    now: datetime
    offer_refund: refunds.RefundPreview | None = None  # where the seller's offer would be paid to

    @property
    def state(self) -> DisputeState:
        return DisputeState(self.dispute.state)

    @property
    def can_answer(self) -> bool:
        """The buyer's turn: accept the seller's answer or escalate."""
        return self.state == DisputeState.answered


@dataclass(frozen=True, slots=True)
class DisputePage:
    rows: tuple[DisputeLine, ...]
    total: int
    current: int
    page: int
    pages: int


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
        return DisputeStart(order.id, order.number, order.currency, left, priority, decide_by)

    # -- the buyer ------------------------------------------------------------------------------
    async def start(self, user_id: int, order_id: int) -> DisputeStart:
        """Whether a dispute can be opened on this order, and what the flow needs. Raises why not."""
        async with self.db.read() as conn:
            order = await self._order(conn, user_id, order_id)
            return await self._start(conn, order, self.clock.now())

    async def open(self, user_id: int, order_id: int, draft: DisputeDraft) -> DisputeRow:
        now = self.clock.now()
        description = clean_description(draft.description)
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
                                   decide_by=start.decide_by.isoformat(), amount_minor=amount, currency=order.currency)
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
            dispute, order = await self._dispute(conn, dispute_id, user_id)
            return await self._card(conn, dispute, order)

    async def _card(self, conn: AsyncConnection, dispute: DisputeRow, order: OrderRow) -> DisputeCard:
        store = (await orders_repo.store_names(conn, [order.store_id])).get(order.store_id, "")
        refund_rows = [r for r in await refunds_repo.for_order(conn, order.id) if r.dispute_id == dispute.id]
        offer = None
        if dispute.state == DisputeState.answered and dispute.seller_answer == SellerAnswer.offer and dispute.offer_minor:
            offer = await self.orders._refund_preview(conn, order, dispute.offer_minor)
        return DisputeCard(dispute, order.number, store, order.status, tuple(refund_rows), self.clock.now(), offer)

    async def accept_answer(self, user_id: int, dispute_id: int) -> DisputeCard:
        """The buyer accepts the seller's offer (refunded) or rejection (closed without a refund)."""
        now = self.clock.now()
        async with self.db.write() as conn:
            dispute, order = await self._dispute(conn, dispute_id, user_id)
            self._require(dispute, DisputeState.answered)
            if dispute.seller_answer == SellerAnswer.offer and dispute.offer_minor:
                await self._close(conn, dispute, order, dispute.offer_minor, Actor.buyer, now)
            else:
                await self._close(conn, dispute, order, 0, Actor.buyer, now)
            dispute, order = await self._dispute(conn, dispute_id, user_id)
            return await self._card(conn, dispute, order)

    async def escalate(self, user_id: int, dispute_id: int) -> DisputeCard:
        now = self.clock.now()
        async with self.db.write() as conn:
            dispute, order = await self._dispute(conn, dispute_id, user_id)
            self._require(dispute, DisputeState.answered)
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
        note = (note or "").strip()[:1000] or None
        async with self.db.write() as conn:
            dispute, order = await self._dispute(conn, dispute_id, None)
            if seller_id is not None and not await seller_repo.owns_order(conn, seller_id, order.id):
                raise DisputeNotFound()
            self._require(dispute, DisputeState.open)
            if unanswered_after_its_day(dispute.state, dispute.decide_by, now):
                raise AnswerTooLate()
            if answer == SellerAnswer.accept:
                await repo.set_state(conn, dispute.id, expected=(DisputeState.open.value,),
                                     new=DisputeState.open.value, seller_answer=answer.value, seller_note=note,
                                     answered_at=now)
                dispute, order = await self._dispute(conn, dispute_id, None)
                await self._push(conn, dispute, order, "seller_accepted", now)
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
            dispute, _ = await self._dispute(conn, dispute_id, None)
        return dispute

    async def decide(self, dispute_id: int, refund_minor: int) -> DisputeRow:
        """The platform's decision: a refund (0 rejects the dispute). Possible at any point before
        the dispute is closed."""
        now = self.clock.now()
        async with self.db.write() as conn:
            dispute, order = await self._dispute(conn, dispute_id, None)
            if dispute.state == DisputeState.closed:
                raise AlreadyDone(N_("This dispute is already closed."))
            if refund_minor:
                left = order.total_minor - await refunds_repo.refunded_total(conn, order.id)
                check_amount(refund_minor, left)
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
        store answered waits for the buyer; an escalated one for an operator (/ops lists it). One
        unit of work a dispute. Returns how many were closed."""
        done = 0
        while True:
            async with self.db.read() as conn:
                due = await repo.overdue(conn, now, batch)
            for dispute_id in due:
                async with self.db.write() as conn:
                    dispute, order = await self._dispute(conn, dispute_id, None)
                    if not unanswered_after_its_day(dispute.state, dispute.decide_by, now):
                        continue  # answered meanwhile
                    await self._close(conn, dispute, order, dispute.amount_minor, Actor.platform, now, overdue=True)
                    done += 1
            if len(due) < batch:
                return done

    # -- internals --------------------------------------------------------------------------------
    @staticmethod
    def _require(dispute: DisputeRow, state: DisputeState) -> None:
        if dispute.state == state:
            return
        if dispute.state == DisputeState.closed:
            raise AlreadyDone(N_("This dispute is already closed."))
        raise DisputeMovedOn()

    async def _close(self, conn: AsyncConnection, dispute: DisputeRow, order: OrderRow, refund_minor: int,
                     actor: Actor, now: datetime, *, overdue: bool = False) -> None:
        """Close the dispute with this refund. `overdue`: the store did not answer by the decision
        day, and the platform decides for the buyer (the pushes say so)."""
        left = order.total_minor - await refunds_repo.refunded_total(conn, order.id)
        refund_minor = min(max(refund_minor, 0), left)
        if refund_minor <= 0:
            resolution = Resolution.rejected
        elif refund_minor >= left:
            resolution = Resolution.refunded_full
        else:
            resolution = Resolution.refunded_partial
        changed = await repo.set_state(
            conn, dispute.id, expected=(dispute.state,), new=DisputeState.closed.value,
            resolution=resolution.value, refund_minor=refund_minor, closed_at=now,
        )
        if not changed:  # pragma: no cover - inside BEGIN IMMEDIATE after the state check
            raise DisputeMovedOn()
        if refund_minor > 0:
            await self.orders._refund(conn, order, refund_minor, reason="dispute", dispute_id=dispute.id, now=now,
                                      seen=actor == Actor.buyer)
        await transition(conn, order, Status.closed, actor=actor, now=now,
                         note=f"{resolution.value}, not answered in time" if overdue else resolution.value,
                         push={"dispute_id": dispute.id, "resolution": resolution.value,
                               "refund_minor": refund_minor})
        closed = await repo.get(conn, dispute.id)
        assert closed is not None
        overdue = overdue and refund_minor > 0  # refunded in full before: nothing was decided for anyone
        await self._push(conn, closed, order, "overdue" if overdue else "closed", now, seen=actor == Actor.buyer)
        if actor != Actor.seller:  # the buyer accepted the store's answer, or the platform decided
            await seller_news.tell(conn, store_id=order.store_id, buyer_id=order.user_id, news=News.dispute_closed,
                                   item_id=dispute.id, number=order.number, now=now,
                                   by="overdue" if overdue else actor.value, refund_minor=refund_minor,
                                   currency=order.currency, decide_by=dispute.decide_by.isoformat())

    @staticmethod
    async def _push(conn: AsyncConnection, dispute: DisputeRow, order: OrderRow, step: str, now: datetime,
                    *, seen: bool = False) -> None:
        """A dispute push; `seen` when it is the buyer's own step (kept for the message centre only)."""
        await enqueue(conn, user_id=dispute.user_id, kind=DISPUTE_KIND.key, payload={
            "dispute_id": dispute.id, "order_id": order.id, "number": order.number, "step": step,
            "state": dispute.state, "reason": dispute.reason, "outcome": dispute.outcome,
            "amount_minor": dispute.amount_minor, "currency": dispute.currency,
            "seller_answer": dispute.seller_answer, "offer_minor": dispute.offer_minor,
            "resolution": dispute.resolution, "refund_minor": dispute.refund_minor,
            "priority": dispute.priority, "decide_by": dispute.decide_by.isoformat(),
        }, dedupe_key=f"dispute:{dispute.id}:{step}", now=now, seen=seen)
