"""The shop's side (operator commands, later the shop API and checkout): stores and products,
placing an order, payment, shipping, tracking events, delivery, cancelling and refunds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import addresses as addresses_repo
from bot.db import catalog as catalog_repo
from bot.db import orders as repo
from bot.db import refunds as refunds_repo
from bot.db import seller as seller_repo
from bot.db import shops as shops_repo
from bot.db import users as users_repo
from bot.db.orders import ItemRow, OrderRow
from bot.db.refunds import RefundRow
from bot.integrations.carrier import DELIVERED, CarrierEvent
from bot.services import reminders as reminders_rules
from bot.services import webhook_events
from bot.services.clock import zone
from bot.services.errors import N_, InvalidInput, NotFound
from bot.services.money import check_currency
from bot.services.orders.base import OrderBase
from bot.services.orders.data import AddressSnapshot, NewItem, OrderCard
from bot.services.orders.states import (
    PROTECTION_KIND,
    PROTECTION_NOTICE,
    Actor,
    CancelReason,
    ForbiddenTransition,
    NoTracking,
    OrderNotFound,
    Status,
    protection_prefix,
    push_status,
    transition,
)
from bot.services.refunds import CardSnapshot

__all__ = [
    "ShopSide",
    "check_new_order",
]


_NUMBER_RE = re.compile(r"^[A-Z0-9-]{1,24}$")
# what one order may cost, in minor units: the largest amount the shop API takes (bot/api/models.py
# `Minor`), far inside the 64-bit integer every amount column is (a quantity times a price is not)
MAX_TOTAL_MINOR = 10**15


def check_new_order(currency: str, items: Sequence[NewItem], shipping_minor: int, discount_minor: int = 0,
                    usd_rate: Decimal | str | None = None) -> str:
    """What an order must be to be placed (`ShopSide.create`; the shop API checks an order that waits
    for its customer with it too). Returns the currency code, upper case."""
    currency = check_currency(currency)
    if not items:
        raise InvalidInput(N_("An order needs at least one item."))
    for item in items:
        if item.quantity <= 0 or item.unit_price_minor < 0 or not item.title.strip():
            raise InvalidInput(N_("Each item needs a title, a quantity of at least 1 and a price."))
    if shipping_minor < 0:
        raise InvalidInput(N_("Shipping can't cost less than zero."))
    costs = sum(i.quantity * i.unit_price_minor for i in items) + shipping_minor
    if costs > MAX_TOTAL_MINOR:
        raise InvalidInput(N_("An order can't cost that much: the items and shipping add up to more than any order may."))
    if costs == 0:  # a card can't be charged 0
        raise InvalidInput(N_("An order must cost something: its items and shipping add up to 0."))
    if usd_rate is not None:
        check_usd_rate(currency, usd_rate)
    if not 0 <= discount_minor <= costs:
        raise InvalidInput(N_("A discount can't be more than the order costs."))
    return currency


# USD per one unit of a currency: the most any real one is worth is a few dollars (the Kuwaiti dinar's
# about 3.3); a rate above this is a mistake, and would give points (and levels) no purchase earned
MAX_USD_RATE = Decimal(10)


def check_usd_rate(currency: str, usd_rate: Decimal | str) -> Decimal:
    """An order's own rate to US dollars (its points are counted with it): more than 0 and at most
    MAX_USD_RATE, kept to 12 decimal places (a rate a shop computed as a float has 18: rounded, not
    refused); a US-dollar order's is 1. Returns it as it is stored."""
    try:
        rate = Decimal(str(usd_rate).strip())
    except InvalidOperation:
        rate = Decimal(0)
    if rate.is_finite() and 0 < rate <= MAX_USD_RATE:
        rate = rate.quantize(Decimal("1e-12"), rounding=ROUND_HALF_EVEN)
    if not rate.is_finite() or not 0 < rate <= MAX_USD_RATE:
        raise InvalidInput(N_("usd_rate must be more than 0 and at most 10 US dollars per unit, "
                              "with at most 12 decimal places."))
    if currency == "USD" and rate != 1:
        raise InvalidInput(N_("A US-dollar order's usd_rate is 1."))
    return rate


def _rate_text(rate: Decimal | str) -> str:
    """A rate as the order keeps it: fixed-point, no trailing zeros ("10", "0.000000000001", "3.26")."""
    text = format(Decimal(str(rate)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class UnknownProduct(InvalidInput, msgid=N_("An item's product_id is not a product of the order's store.")): ...


async def check_products(conn: AsyncConnection, store_id: int, items: Sequence[NewItem]) -> None:
    """An item that names a product names one of the order's store (never another shop's)."""
    ids = {i.product_id for i in items if i.product_id is not None}
    if ids and await catalog_repo.of_store(conn, store_id, ids) != ids:
        raise UnknownProduct()


class ShopSide(OrderBase):
    async def by_number(self, number: str) -> OrderRow:
        """For the shop side (operator commands, later the shop API): an order by its number."""
        async with self.db.read() as conn:
            order = await repo.by_number(conn, number.strip().lstrip("#№"))
        if order is None:
            raise OrderNotFound()
        return order

    async def cancel_by_seller(self, user_id: int, order_id: int,
                               reason: CancelReason = CancelReason.out_of_stock) -> OrderCard:
        return await self._cancel(user_id, order_id, CancelReason(reason), Actor.seller)

    async def ensure_store(self, name: str, seller_account: str | None = None) -> int:
        name = name.strip()
        if not name:
            raise InvalidInput(N_("A store needs a name."))
        async with self.db.write() as conn:
            store_id = await repo.store_id_by_name(conn, name)
            if store_id is None:
                store_id = await repo.insert_store(conn, name, seller_account, self.clock.now())
        return store_id

    async def ensure_product(self, store_id: int, title: str, price_minor: int, currency: str,
                             category: str = "") -> int:
        async with self.db.write() as conn:
            return await repo.ensure_product(conn, store_id=store_id, title=title, category=category,
                                             price_minor=price_minor, currency=currency, now=self.clock.now())

    async def create(self, *, user_id: int, store_id: int, items: Sequence[NewItem], currency: str,
                     shipping_minor: int = 0, address: AddressSnapshot | None = None,
                     usd_rate: Decimal | str | None = None, number: str | None = None,
                     address_id: int | None = None, discount_minor: int = 0,
                     certificate_minor: int = 0, by: Actor = Actor.buyer, told: bool = False) -> OrderRow:
        """Place an order (awaiting payment). The checkout section and the shop API call this.
        `address_id`: the address book entry it ships to (looked up through the user): the order
        keeps a snapshot of it (taken here, in place of `address`), and deleting that address warns
        about this order. `discount_minor`: what the coupons used at checkout take off (the caller
        marks them used in the same unit of work, with the order's number as their reference).
        `certificate_minor`: what gift certificates pay of the total (the caller spends them in the
        same unit of work); the card pays the rest. `by`: who placed it — not the buyer (the shop
        through the API, an operator): the buyer is told of it, to pay (`told`: they know already,
        the push is kept for the message centre only)."""
        currency = check_new_order(currency, items, shipping_minor, discount_minor)
        if usd_rate is not None:  # checked once, and kept as it returns it: "1E+1" is 10, 18 places are 12
            usd_rate = check_usd_rate(currency, usd_rate)
        total_minor = sum(i.quantity * i.unit_price_minor for i in items) + shipping_minor - discount_minor
        if not 0 <= certificate_minor <= total_minor:
            raise InvalidInput(N_("Gift certificates can't pay more than the order costs."))
        if usd_rate is None:  # the order's own rate first (the shop's), else the configured one
            usd_rate = Decimal(1) if currency == "USD" else self.policy.usd_rates.get(currency)
        items_minor = sum(i.quantity * i.unit_price_minor for i in items)
        now = self.clock.now()
        async with self.db.write() as conn:
            buyer = await users_repo.get(conn, user_id)
            if buyer is None:
                raise NotFound(N_("There is no such user: they must start the bot first."))
            if address_id is not None:  # the book's entry as it is now: one source for the snapshot
                book = await addresses_repo.get(conn, user_id, address_id)
                if book is None:
                    raise NotFound(N_("This address is no longer available."))
                address = AddressSnapshot.of(book)
            await check_products(conn, store_id, items)
            order_id = await repo.next_id(conn)
            if number is None:  # Kabinet's own: the buyer's date and the id; one a shop chose already is skipped
                day = now.astimezone(zone(buyer.time_zone))
                while await shops_repo.number_taken(conn, number := f"{day:%y%m%d}{order_id:06d}"):
                    order_id += 1
            number = number.strip().upper()
            if not _NUMBER_RE.match(number):
                raise InvalidInput(N_("An order number is 1–24 letters, digits or dashes."))
            titles = " ".join(i.title for i in items)
            try:
                await repo.insert_order(
                    conn, id=order_id, number=number, user_id=user_id, store_id=store_id,
                    status=Status.awaiting_payment.value, currency=currency, items_minor=items_minor,
                    shipping_minor=shipping_minor, total_minor=items_minor + shipping_minor - discount_minor,
                    discount_minor=discount_minor, certificate_minor=certificate_minor,
                    usd_rate=_rate_text(usd_rate) if usd_rate is not None else None,
                    first_title=items[0].title.strip()[:255], item_lines=len(items),
                    search_text=f"{number} {titles}".casefold(),
                    shipping_address=(address or AddressSnapshot()).to_json(),
                    created_at=now, pay_by=now + self.policy.unpaid_ttl, address_id=address_id,
                )
            except IntegrityError:
                raise InvalidInput(N_("An order with this number already exists, or the store is unknown.")) from None
            await repo.insert_items(conn, order_id, [
                ItemRow(i, item.product_id, item.title.strip()[:255], item.options, item.quantity,
                        item.unit_price_minor)
                for i, item in enumerate(items, 1)
            ])
            await repo.add_history(conn, order_id, Status.awaiting_payment.value, by.value, None, now)
            order = await repo.get(conn, order_id)
            assert order is not None
            if by != Actor.buyer:
                await push_status(conn, order, "", by, now, seen=told,
                                  pay_by=order.pay_by.isoformat() if order.pay_by else None)
        return order

    async def mark_paid(self, user_id: int, order_id: int, card_snapshot: CardSnapshot | None,
                        now: datetime | None = None, *, charge_id: str | None = None, by: Actor = Actor.buyer,
                        told: bool = False) -> OrderRow:
        """awaiting_payment → awaiting_shipment, remembering the paying card (and the gateway's
        charge). For the Pay button (bot/services/pay.py) and the operator's `order pay`. No card:
        gift certificates paid the whole total at checkout (nothing is left for a card). `by`: who
        says it is paid — not the buyer in the bot (the shop through the API, an operator): the buyer
        is told (`told`: they know already)."""
        now = now or self.clock.now()
        async with self.db.write() as conn:
            order = await self._active(conn, user_id, order_id)
            if card_snapshot is None:
                if order.card_minor > 0:
                    raise ForbiddenTransition(N_("This order still has an amount to pay by card."))
                return await transition(conn, order, Status.awaiting_shipment, actor=by, now=now, told=told,
                                        values={"pay_by": None}, push={"certificate": True})
            return await transition(conn, order, Status.awaiting_shipment, actor=by, now=now, told=told, values={
                "paid_card_id": card_snapshot.card_id, "paid_card_brand": card_snapshot.brand,
                "paid_card_last4": card_snapshot.last4, "paid_card_exp_month": card_snapshot.exp_month,
                "paid_card_exp_year": card_snapshot.exp_year, "pay_by": None, "paid_charge_id": charge_id,
            }, push={"brand": card_snapshot.brand, "last4": card_snapshot.last4})

    async def ship(self, user_id: int, order_id: int, track_number: str, carrier: str = "cainiao", *,
                   seller_id: int | None = None) -> OrderRow:
        """The order leaves the store. `seller_id`: a seller in seller mode — only an order of a
        store they sell for (else OrderNotFound); the operator command passes none."""
        track_number = track_number.strip().upper()
        if not track_number or len(track_number) > 64:
            raise InvalidInput(N_("A track number is needed to ship an order."))
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if seller_id is not None and not await seller_repo.owns_order(conn, seller_id, order.id):
                raise OrderNotFound()
            ends = now + self.policy.protection
            shipped = await transition(conn, order, Status.shipped, actor=Actor.seller, now=now, values={
                "track_number": track_number, "carrier": carrier, "protection_ends_at": ends,
                "tracking_checked_at": None,  # never asked: the sweeper asks the carrier on its next run
            }, push={"track_number": track_number, "carrier": carrier,
                     "protection_ends_at": ends.isoformat()})
            # "buyer protection ends in 3 days" while the order is on its way; dropped when it leaves
            # "shipped" (see transition())
            due = ends - PROTECTION_NOTICE
            await reminders_rules.replan(conn, user_id=order.user_id, prefix=protection_prefix(order.id), reminders=[
                reminders_rules.Reminder(PROTECTION_KIND.key, f"{protection_prefix(order.id)}3d", due_at=due,
                                         expires_at=ends, payload={"order_id": order.id, "number": order.number,
                                                                   "ends_at": ends.isoformat()}),
            ] if due > now else [], now=now)
            if seller_id is not None:  # shipped in seller mode: the shop's records must not drift from it
                await webhook_events.emit(conn, store_id=order.store_id, event=webhook_events.ORDER_SHIPPED, data={
                    "order": await webhook_events.order_data(conn, shipped), "track_number": track_number,
                    "carrier": carrier}, now=now)
            return shipped

    async def add_tracking_event(self, user_id: int, order_id: int, event: CarrierEvent,
                                 source: str = "operator") -> int:
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if not order.track_number:
                raise NoTracking()
            if event.code == DELIVERED and order.delivered_at is not None:  # said again (at another time): one
                return 0  # delivery, one event, one push — checked in the unit of work that would write it
            return await self._store_events(conn, order, [event], source, now)

    async def deliver(self, user_id: int, order_id: int, location: str = "") -> int:
        """The parcel reached the buyer (or their pickup point): a "delivered" tracking event. Said
        again, it adds nothing (0): one event and one push, however often a shop's system repeats it."""
        async with self.db.read() as conn:
            order = await self._owned(conn, user_id, order_id)
        if order.status != Status.shipped:
            raise ForbiddenTransition(N_("Only an order on its way can be delivered."))
        city = location or AddressSnapshot.from_json(order.shipping_address).city
        return await self.add_tracking_event(user_id, order_id,
                                             CarrierEvent(self.clock.now(), DELIVERED, city), "operator")

    async def refund(self, user_id: int, order_id: int, amount_minor: int | None = None) -> RefundRow:
        """A refund outside a dispute or a cancellation (the seller's goodwill): up to what was paid
        and not refunded yet. The order's status does not change."""
        now = self.clock.now()
        async with self.db.write() as conn:
            order = await self._owned(conn, user_id, order_id)
            if order.paid_at is None:
                raise ForbiddenTransition(N_("This order isn't paid, so there is nothing to refund."))
            left = order.total_minor - await refunds_repo.refunded_total(conn, order.id)
            amount = left if amount_minor is None else amount_minor
            if left <= 0:
                raise ForbiddenTransition(N_("This order has already been refunded in full."))
            if not 0 < amount <= left:
                raise InvalidInput(N_("The refund must be more than zero and at most what is left to refund."))
            return (await self._refund(conn, order, amount, reason="seller", dispute_id=None, now=now))[0]
