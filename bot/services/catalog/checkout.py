"""Checkout: one store's order from a product (Buy now) or from that store's part of the cart —
the items as they are priced now, the coupons (the best combination preselected by the coupons
engine), the total; then the order, placed in one unit of work with its coupons marked used.

Rules:
- The prices are today's: an item whose price changed since the buyer saw it (the product card,
  or when it went into the cart) is flagged, and the summary says so before anything is paid.
- A product no longer sold can't be checked out; a cart checkout takes the store's lines still sold.
- The coupons are checked again when the order is placed (a coupon used meanwhile by another
  order, or expired, refuses the order with the coupons' own sentence); their discount is the
  order's `discount_minor`, and they are given back if the order is cancelled (the orders
  service's hook).
- Gift certificates in the order's currency pay what the coupons leave, the soonest to expire
  first, unless the buyer switches them off; what they pay is spent (their ledger) when the order
  is placed, in the same unit of work, and is the order's `certificate_minor` — the card pays the
  rest. When they pay it all, the order is paid as it is placed, with no card. They get their money
  back when the unpaid order is cancelled (the orders service's hook), and a refund of a paid
  order goes to the card first and then to them (the orders service's `_refund`).
- A cart checkout removes the lines it ordered from the cart, in the same unit of work.
Paying is the pay section's (`PayService.pay`, one idempotency key per order and attempt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.db import catalog as repo
from bot.db.catalog import ProductRow
from bot.db.engine import Database
from bot.db.orders import OrderRow
from bot.services.catalog.kept import check_options
from bot.services.catalog.products import NotSold, ProductNotFound, option_key, parse_option_key
from bot.services.clock import Clock
from bot.services.coupons import CouponService
from bot.services.coupons.pricing import Cart, Plan, WhatApplies
from bot.services.errors import N_, DomainError, InvalidInput
from bot.services.orders import NewItem, OrderService

QUANTITY_MAX = 99


class NothingToCheckOut(DomainError, msgid=N_("There is nothing from this store in your cart to check out.")): ...


class MixedCurrencies(DomainError, msgid=N_("These products are priced in different currencies: check them out one by one.")): ...


class AmountChanged(DomainError, msgid=N_("The amounts changed since you saw them (a price, or a gift certificate's balance): check the order below and place it again.")): ...


class BadQuantity(InvalidInput, msgid=N_("Type a quantity from 1 to {max}.")): ...


@dataclass(frozen=True, slots=True)
class Item:
    """One line being checked out, as the draft keeps it (JSON primitives)."""

    product_id: int
    options: str  # "colour=black;size=M"
    quantity: int
    seen_minor: int  # the price the buyer saw
    cart_line: int = 0  # the cart line it comes from (removed once ordered)

    def as_json(self) -> list[Any]:
        return [self.product_id, self.options, self.quantity, self.seen_minor, self.cart_line]

    @classmethod
    def of(cls, raw: Sequence[Any]) -> Item:
        return cls(int(raw[0]), str(raw[1]), int(raw[2]), int(raw[3]), int(raw[4]) if len(raw) > 4 else 0)


@dataclass(frozen=True, slots=True)
class Line:
    product: ProductRow
    options: dict[str, str]
    quantity: int
    seen_minor: int

    @property
    def total_minor(self) -> int:
        return self.product.price_minor * self.quantity

    @property
    def price_changed(self) -> bool:
        return self.product.price_minor != self.seen_minor


@dataclass(frozen=True, slots=True)
class Quote:
    store_id: int
    store: str
    currency: str
    lines: tuple[Line, ...]
    plan: Plan

    @property
    def items_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    @property
    def discount_minor(self) -> int:
        return self.plan.discount_minor

    @property
    def total_minor(self) -> int:
        return self.items_minor - self.discount_minor

    @property
    def certificates_minor(self) -> int:
        """What gift certificates pay of the total."""
        return self.plan.certificates_minor

    @property
    def card_minor(self) -> int:
        """What is left for a card to pay (0: the certificates pay it all)."""
        return self.total_minor - self.certificates_minor

    @property
    def changed(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.price_changed)


def check_quantity(quantity: int) -> int:
    if not 1 <= quantity <= QUANTITY_MAX:
        raise BadQuantity(max=QUANTITY_MAX)
    return quantity


class CheckoutService:
    def __init__(self, db: Database, clock: Clock, orders: OrderService, coupons: CouponService) -> None:
        self.db = db
        self.clock = clock
        self.orders = orders
        self.coupons = coupons

    async def for_product(self, product_id: int, options: dict[str, str], quantity: int = 1) -> list[Item]:
        """Buy now: the product with its chosen options."""
        async with self.db.read() as conn:
            product = await repo.product(conn, product_id)
        if product is None:
            raise ProductNotFound()
        if not product.active:
            raise NotSold()
        key = option_key(check_options(product, options))
        return [Item(product.id, key, check_quantity(quantity), product.price_minor)]

    async def for_store(self, user_id: int, store_id: int, currency: str = "") -> list[Item]:
        """A store's part of the cart (its lines still sold), of the products in `currency` when
        given (an order is in one currency)."""
        async with self.db.read() as conn:
            lines = await repo.cart_lines(conn, user_id)
            products = await repo.products(conn, sorted({line.product_id for line in lines}))
        items = [Item(line.product_id, line.options, line.quantity, line.price_then_minor, line.id)
                 for line in lines
                 if (p := products.get(line.product_id)) is not None and p.store_id == store_id and p.active
                 and currency in ("", p.currency)]
        if not items:
            raise NothingToCheckOut()
        return items

    async def _lines(self, items: Sequence[Item]) -> tuple[Line, ...]:
        async with self.db.read() as conn:
            products = await repo.products(conn, [i.product_id for i in items])
        lines = []
        for item in items:
            product = products.get(item.product_id)
            if product is None:
                raise ProductNotFound()
            if not product.active:
                raise NotSold()
            lines.append(Line(product, parse_option_key(item.options), item.quantity, item.seen_minor))
        if len({line.product.store_id for line in lines}) != 1 or len({line.product.currency for line in lines}) != 1:
            raise MixedCurrencies()
        return tuple(lines)

    @staticmethod
    def _cart(lines: Sequence[Line]) -> Cart:
        first = lines[0].product
        return Cart(first.store_id, sum(line.total_minor for line in lines), first.currency,
                    categories=frozenset(line.product.category for line in lines if line.product.category))

    async def coupons_for(self, user_id: int, items: Sequence[Item]) -> WhatApplies:
        """The wallet's coupons for this order (each alone, or why not) and the best plan."""
        return await self.coupons.what_applies(user_id, self._cart(await self._lines(items)))

    async def quote(self, user_id: int, items: Sequence[Item], coupon_ids: Sequence[int], *,
                    certificates: bool = True) -> Quote:
        """The order as it would be placed now: today's prices, the chosen coupons (checked), and
        (with `certificates`) the gift certificates paying what the coupons leave."""
        lines = await self._lines(items)
        plan = await self.coupons.quote(user_id, self._cart(lines), coupon_ids, use_certificates=certificates)
        first = lines[0].product
        return Quote(first.store_id, first.store, first.currency, lines, plan)

    async def place(self, user_id: int, items: Sequence[Item], *, address_id: int,
                    coupon_ids: Sequence[int], certificates: bool = True,
                    expected: tuple[int, int] | None = None, locale: str = "en") -> OrderRow:
        """The order, with the coupons marked used by it, the gift certificates' part spent and
        the cart lines it came from removed — one unit of work. It awaits payment by card, or it is
        paid already when the certificates pay it all. `expected`: (total, card part) as the buyer
        saw them; other amounts now raise AmountChanged, and nothing is placed. The items keep their
        titles in `locale`, the buyer's language, as the buyer saw them."""
        async with self.db.write() as conn:
            # quoted inside the unit of work: the balances it spends are the ones it read
            quote = await self.quote(user_id, items, coupon_ids, certificates=certificates)
            if expected is not None and expected != (quote.total_minor, quote.card_minor):
                raise AmountChanged()
            order = await self.orders.create(
                user_id=user_id, store_id=quote.store_id, currency=quote.currency, address_id=address_id,
                discount_minor=quote.discount_minor, certificate_minor=quote.certificates_minor,
                items=[NewItem(line.product.title_in(locale), line.quantity, line.product.price_minor,
                               tuple(line.options.items()), product_id=line.product.id) for line in quote.lines],
            )
            if coupon_ids:
                await self.coupons.use(conn, user_id, coupon_ids, order.number, cart=quote.plan.cart)
            for part in quote.plan.certificates:
                await self.coupons.spend(conn, user_id, part.certificate.id, part.amount_minor, quote.currency,
                                         order.number, shop_id=quote.plan.cart.shop_id)
            for item in items:
                if item.cart_line:
                    await repo.cart_set_quantity(conn, user_id, item.cart_line, 0)
            if order.card_minor == 0:  # the certificates paid it all
                order = await self.orders.mark_paid(user_id, order.id, None)
        return order
