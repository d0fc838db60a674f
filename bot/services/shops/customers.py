"""A shop's customers: the one-time link that ties a customer to a Telegram user (`link` → a token
for `t.me/<bot>?start=l_<token>`, `redeem` when it is opened), and the orders a shop places for its
customers.

An order for a customer who is linked is placed at once through the order service (the same
`OrderService.create` the checkout and `main.py order create` use). For a customer who is not linked
yet, the order waits in `customer_orders` with its number reserved and what to place kept as JSON;
opening the link places every waiting order, oldest first, in the same unit of work that links the
customer, so the buyer finds them in My orders at once (the unpaid-order clock starts then). While
an order waits the shop may mark it paid (applied when it is placed) or cancel it; anything else is
NotLinked. The link token is random (144 bits), stored as its SHA-256, single use, 24 hours."""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from bot.db import catalog as catalog_repo
from bot.db import orders as orders_repo
from bot.db import refunds as refunds_repo
from bot.db import shops as repo
from bot.db.engine import Database
from bot.db.orders import ItemRow, OrderRow
from bot.db.refunds import RefundRow
from bot.db.shops import WAITING, CustomerOrderRow, CustomerRow
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.orders import Actor, AddressSnapshot, ForbiddenTransition, NewItem, OrderService
from bot.services.orders.shop import check_new_order, check_products
from bot.services.refunds import CardSnapshot
from bot.services.relay.sellers import by_token, token_hash

LINK_TTL = timedelta(hours=24)
TOKEN_BYTES = 18  # 144 bits, 24 URL-safe characters: "l_" + token fits a deep link's 64
LINK_PREFIX = "l_"  # /start l_<token>
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")
WAITING_STATUS = "waiting_for_customer"  # how the API names an order that waits for its customer

log = logging.getLogger(__name__)


class CustomerNotFound(NotFound, msgid=N_("There is no such customer.")): ...


class LinkUnknown(DomainError, msgid=N_("This link is not valid. Ask the shop for a new one.")): ...


class LinkUsed(DomainError, msgid=N_("This link has already been used. Ask the shop for a new one.")): ...


class LinkExpired(DomainError, msgid=N_("This link has expired. Ask the shop for a new one.")): ...


class AlreadyLinked(DomainError, msgid=N_("This shop account is already linked to another Telegram account.")): ...


class CustomerNotLinked(DomainError, msgid=N_("The customer has not opened their link yet.")): ...


ORDER_WAITS = N_("The customer has not opened their link yet: until then the order can only be paid or cancelled.")


class NumberTaken(DomainError, msgid=N_("An order with this number already exists.")): ...


@dataclass(frozen=True, slots=True)
class Link:
    token: str  # shown once, to the shop; never stored
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Linked:
    shop: str
    placed: int  # orders that waited for the link and are now the buyer's


@dataclass(frozen=True, slots=True)
class NewOrder:
    store_id: int
    items: tuple[NewItem, ...]
    currency: str
    shipping_minor: int = 0
    address: AddressSnapshot = field(default_factory=AddressSnapshot)
    usd_rate: Decimal | None = None
    number: str | None = None

    def to_json(self) -> str:
        return json.dumps({
            "store_id": self.store_id, "currency": self.currency, "shipping_minor": self.shipping_minor,
            "address": self.address.to_json(), "usd_rate": str(self.usd_rate) if self.usd_rate is not None else None,
            "items": [{**asdict(i), "options": [list(o) for o in i.options]} for i in self.items],
        }, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, number: str) -> NewOrder:
        data = json.loads(text)
        items = tuple(NewItem(i["title"], i["quantity"], i["unit_price_minor"],
                              tuple((str(a), str(b)) for a, b in i["options"]), i.get("product_id"))
                      for i in data["items"])
        rate = data.get("usd_rate")
        return cls(data["store_id"], items, data["currency"], data["shipping_minor"],
                   AddressSnapshot.from_json(data["address"]), Decimal(rate) if rate is not None else None, number)


@dataclass(frozen=True, slots=True)
class ShopOrder:
    """An order as the shop sees it: placed (`order` and its items), or waiting for the customer."""

    number: str
    store_id: int
    customer: str | None  # the shop's id for the customer, when placed for one
    status: str
    created_at: datetime
    order: OrderRow | None = None
    items: tuple[ItemRow, ...] = ()
    waiting: NewOrder | None = None
    paid_while_waiting: bool = False
    refunds: tuple[RefundRow, ...] = ()  # of a placed order, the oldest first
    cancelled_at: datetime | None = None  # of a waiting order cancelled before it was placed

    @classmethod
    def waiting_for(cls, row: CustomerOrderRow, customer: str) -> ShopOrder:
        """An order that waits for its customer (or was cancelled while it waited)."""
        return cls(row.number, row.store_id, customer, WAITING_STATUS if row.state == WAITING else "cancelled",
                   row.created_at, waiting=NewOrder.from_json(row.request, row.number),
                   paid_while_waiting=row.paid is not None, cancelled_at=row.cancelled_at)


def check_external_id(external_id: str) -> str:
    if not EXTERNAL_ID.match(external_id or ""):
        raise InvalidInput(N_("A customer id is 1–64 Latin letters, digits or . _ : @ -"))
    return external_id


class CustomerService:
    def __init__(self, db: Database, clock: Clock, orders: OrderService) -> None:
        self.db = db
        self.clock = clock
        self.orders = orders

    async def _customer(self, shop_id: int, external_id: str, *, create: bool) -> CustomerRow:
        check_external_id(external_id)
        async with self.db.write() if create else self.db.read() as conn:
            if create:
                return await repo.ensure_customer(conn, shop_id, external_id, self.clock.now())
            found = await repo.customer(conn, shop_id, external_id)
        if found is None:
            raise CustomerNotFound()
        return found

    async def customer(self, shop_id: int, external_id: str) -> CustomerRow:
        return await self._customer(shop_id, external_id, create=False)

    # -- the link ---------------------------------------------------------------------------------
    async def link(self, shop_id: int, external_id: str) -> Link:
        """A one-time token for the customer's deep link (the customer is made when new)."""
        now = self.clock.now()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        async with self.db.write() as conn:
            customer = await self._customer(shop_id, external_id, create=True)
            if customer.user_id is not None:  # (the shop asks: "another" account would be the buyer's word)
                raise AlreadyLinked(N_("This customer is already linked to a Telegram account: orders for them are "
                                       "placed at once."))
            await repo.add_link(conn, customer.id, token_hash(token), now, now + LINK_TTL)
        return Link(token, now + LINK_TTL)

    async def redeem(self, token: str, user_id: int) -> Linked:
        """The Telegram user `user_id` opened the link: the customer becomes theirs and the orders
        that waited for them are placed, all in one unit of work."""
        now = self.clock.now()
        async with self.db.write() as conn:
            link = await by_token(token, LINK_PREFIX, lambda hashed: repo.link_by_hash(conn, hashed))
            if link is None:
                raise LinkUnknown()
            if link.used_at is not None:
                raise LinkUsed()
            if now >= link.expires_at:
                raise LinkExpired()
            customer = await repo.customer_by_id(conn, link.customer_id)
            assert customer is not None
            if customer.user_id not in (None, user_id):
                raise AlreadyLinked()
            if not await repo.use_link(conn, link.id, user_id, now):
                raise LinkUsed()
            await repo.set_customer_user(conn, customer.id, user_id, now)
            placed = 0
            for row in await repo.customer_orders(conn, customer.id, waiting_only=True, limit=10_000):
                new = NewOrder.from_json(row.request, row.number)
                try:  # checked before anything is written: a refusal leaves the unit of work usable
                    check_new_order(new.currency, new.items, new.shipping_minor, usd_rate=new.usd_rate)
                except DomainError as refused:  # one the rules of its day took and today's refuse (a currency
                    # that is no ISO code): cancelled, so it can't keep the customer from being linked
                    log.warning("waiting order %s could not be placed when its customer was linked: %s",
                                row.number, refused.english)
                    await repo.mark_waiting(conn, row.id, cancelled_at=now)
                    continue
                await self._place_waiting(row, new, user_id)
                placed += 1
            shop = await repo.shop_name(conn, customer.shop_id)
        return Linked(shop, placed)

    async def _place_waiting(self, row: CustomerOrderRow, new: NewOrder, user_id: int) -> None:
        """`new`: the row's request, as `redeem` read and checked it."""
        async with self.db.read() as conn:  # a product gone since (or named wrongly before it was checked):
            ids = {i.product_id for i in new.items if i.product_id is not None}  # the item stays, unlinked
            known = await catalog_repo.of_store(conn, new.store_id, ids) if ids else set()
        if known != ids:
            new = replace(new, items=tuple(i if i.product_id in known else replace(i, product_id=None)
                                           for i in new.items))
        order = await self._create(user_id, new, told=True)  # the link's answer says it is placed
        async with self.db.write() as conn:
            await repo.placed(conn, row.id, order.id)
        if row.paid:
            card = CardSnapshot(**json.loads(row.paid))
            await self.orders.mark_paid(user_id, order.id, card, by=Actor.seller, told=True)

    async def _create(self, user_id: int, new: NewOrder, *, told: bool = False) -> OrderRow:
        """The shop places it: the buyer is told, to pay (`told`: they know already)."""
        return await self.orders.create(user_id=user_id, store_id=new.store_id, items=new.items,
                                        currency=new.currency, shipping_minor=new.shipping_minor,
                                        address=new.address, usd_rate=new.usd_rate, number=new.number,
                                        by=Actor.seller, told=told)

    # -- orders -----------------------------------------------------------------------------------
    async def place(self, shop_id: int, external_id: str, new: NewOrder) -> ShopOrder:
        """An order for the customer (made when new): placed at once when they are linked, otherwise
        it waits for them. `new.store_id` must be the shop's (the caller checks it)."""
        now = self.clock.now()
        async with self.db.write() as conn:
            customer = await self._customer(shop_id, external_id, create=True)
            number = new.number
            if number is not None and await repo.number_taken(conn, number):
                raise NumberTaken()
            if customer.user_id is not None:
                order = await self._create(customer.user_id, new)
                await repo.add_customer_order(conn, customer_id=customer.id, store_id=new.store_id,
                                              number=order.number, order_id=order.id, request="", now=now)
                return await self._shop_order(shop_id, order.number)  # type: ignore[return-value]
            check_new_order(new.currency, new.items, new.shipping_minor, usd_rate=new.usd_rate)  # so that placing it later can't fail
            await check_products(conn, new.store_id, new.items)
            number = number or f"{now:%y%m%d}-{await repo.next_customer_order_id(conn):06d}"
            await repo.add_customer_order(conn, customer_id=customer.id, store_id=new.store_id, number=number,
                                          order_id=None, request=NewOrder(**{**_fields(new), "number": number})
                                          .to_json(), now=now)
            return await self._shop_order(shop_id, number)  # type: ignore[return-value]

    async def order(self, shop_id: int, number: str) -> ShopOrder | None:
        return await self._shop_order(shop_id, number.strip().upper())

    async def _shop_order(self, shop_id: int, number: str) -> ShopOrder | None:
        async with self.db.read() as c:
            order_id = await repo.order_of_shop(c, shop_id, number)
            if order_id is not None:
                order = await orders_repo.get(c, order_id, purged=True)  # the buyer's "for good" is theirs
                assert order is not None
                return ShopOrder(order.number, order.store_id, await repo.customer_of_order(c, order.id), order.status,
                                 order.created_at, order, tuple(await orders_repo.items(c, order.id)),
                                 refunds=tuple(await refunds_repo.for_order(c, order.id)))
            row = await repo.waiting_of_shop(c, shop_id, number)
            if row is None:
                return None
            customer = await repo.customer_by_id(c, row.customer_id)
            assert customer is not None
            return ShopOrder.waiting_for(row, customer.external_id)

    async def waiting_paid(self, shop_id: int, number: str, card: CardSnapshot) -> ShopOrder:
        return await self._waiting_change(shop_id, number, paid=json.dumps(asdict(card)))

    async def waiting_cancelled(self, shop_id: int, number: str) -> ShopOrder:
        return await self._waiting_change(shop_id, number, cancelled=True)

    async def _waiting_change(self, shop_id: int, number: str, *, paid: str | None = None,
                              cancelled: bool = False) -> ShopOrder:
        async with self.db.write() as conn:
            row = await repo.waiting_of_shop(conn, shop_id, number)
            if row is None:
                raise NotFound()
            if row.state != WAITING or (paid is not None and row.paid is not None):
                raise ForbiddenTransition()
            await repo.mark_waiting(conn, row.id, paid=paid, cancelled_at=self.clock.now() if cancelled else None)
            found = await self._shop_order(shop_id, number)
        assert found is not None
        return found

    async def orders_of(self, shop_id: int, external_id: str, limit: int = 100,
                        before: str | None = None) -> tuple[list[ShopOrder], str | None]:
        """The customer's orders this shop placed, newest first: at most `limit`, older than the order
        numbered `before` when given; and, when there are more, the number to ask for them `before`."""
        customer = await self.customer(shop_id, external_id)
        async with self.db.read() as conn:  # one snapshot, four statements whatever the count
            before_id = None
            if before is not None:
                before_id = await repo.customer_order_id(conn, customer.id, before)
                if before_id is None:
                    raise InvalidInput(N_("No order of this customer has the number given as before."))
            rows = await repo.customer_orders(conn, customer.id, limit=limit + 1, before_id=before_id)
            rows, more = rows[:limit], rows[limit:]
            placed = await orders_repo.many(conn, [r.order_id for r in rows if r.order_id is not None])
        found = []
        for row in rows:
            if row.order_id is None:
                found.append(ShopOrder.waiting_for(row, customer.external_id))
            elif row.order_id in placed:
                order, items = placed[row.order_id]
                found.append(ShopOrder(order.number, order.store_id, customer.external_id, order.status,
                                       order.created_at, order, tuple(items)))
        return found, rows[-1].number if more else None


def _fields(new: NewOrder) -> dict[str, object]:
    return {f: getattr(new, f) for f in NewOrder.__dataclass_fields__}

