"""The shop API's endpoints: one table (`ROUTES`), each a thin call into the services the bot and
the operator commands use (`OrderService`, `CatalogService`, `DisputeService`, `ReviewService`,
`CouponService`, and `ShopService` / `CustomerService` for what is the API's own).

A shop reaches its own stores' data only: every id in a path goes through the shop (an order by its
number in one of the shop's stores, a review of such an order, a store the shop owns, a customer of
the shop), and anything else is 404 — another shop's object looks exactly like one that does not
exist. A POST runs in one unit of work with its Idempotency-Key's record: the same key again (with
the same method, path and body) gets the stored answer and changes nothing; the same key with
another request is 422 `idempotency_key_reused`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel

from bot.api import models as m
from bot.api.errors import ApiError, not_found
from bot.db.refunds import RefundRow
from bot.integrations.carrier import CarrierEvent
from bot.services.coupons import Scope, Terms, ValueKind
from bot.services.disputes import DisputeMovedOn, SellerAnswer
from bot.services.errors import NotFound
from bot.services.orders import Actor, AddressSnapshot, CancelReason, NewItem
from bot.services.refunds import CardSnapshot
from bot.services.relay.sellers import deep_link, start_parameter
from bot.services.shops import LINK_PREFIX, ORDER_WAITS, CustomerNotLinked, NewOrder, ShopOrder
from bot.services.webhook_events import pay_out

if TYPE_CHECKING:
    from bot.app import Services
    from bot.db.shops import ShopRow

IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class Call:
    """One request, as a route's function sees it."""

    services: Services
    shop: ShopRow
    params: dict[str, str]
    body: Any
    bot_username: str | None
    query: dict[str, str] = field(default_factory=dict)  # the route's own query parameters, as sent

    def text(self, name: str) -> str:
        return self.params[name]

    def number(self, name: str, missing: str = "Not found.") -> int:
        """An id in the path; one no id can be (letters, beyond 64 bits) is `missing`, as an unknown one."""
        value = self.params[name]
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            raise not_found(missing)
        return int(value)


Run = Callable[[Call], Awaitable[tuple[int, BaseModel]]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # under /api/v1, with {params}
    run: Run
    answer: type[BaseModel]
    summary: str
    body: type[BaseModel] | None = None
    status: int = 200  # the success status (201: made something)
    tag: str = "orders"
    query: tuple[tuple[str, str], ...] = ()  # a GET's query parameters: (name, what it means); others are a 422


# -- answers ------------------------------------------------------------------------------------------
def refund_out(row: RefundRow) -> m.RefundOut:
    return m.RefundOut(id=row.id, amount_minor=row.amount_minor, currency=row.currency, reason=row.reason,
                       pay_out=pay_out(row), state=row.state, created_at=row.created_at, completed_at=row.completed_at)


def order_out(found: ShopOrder) -> m.OrderOut:
    if found.order is not None:
        o = found.order
        return m.OrderOut(
            number=o.number, store_id=o.store_id, customer=found.customer, status=o.status, currency=o.currency,
            items_minor=o.items_minor, shipping_minor=o.shipping_minor, discount_minor=o.discount_minor,
            total_minor=o.total_minor, certificate_minor=o.certificate_minor, track_number=o.track_number, carrier=o.carrier, created_at=o.created_at,
            paid_at=o.paid_at, shipped_at=o.shipped_at, delivered_at=o.delivered_at, completed_at=o.completed_at,
            cancelled_at=o.cancelled_at,
            items=[m.ItemOut(position=i.position, title=i.title, quantity=i.quantity,
                             unit_price_minor=i.unit_price_minor, product_id=i.product_id, options=dict(i.options))
                   for i in found.items],
            refunded_minor=sum(r.amount_minor for r in found.refunds), refunds=[refund_out(r) for r in found.refunds])
    new = found.waiting
    assert new is not None
    items_minor = sum(i.quantity * i.unit_price_minor for i in new.items)
    return m.OrderOut(
        number=found.number, store_id=found.store_id, customer=found.customer, status=found.status,
        currency=new.currency, items_minor=items_minor, shipping_minor=new.shipping_minor, discount_minor=0,
        total_minor=items_minor + new.shipping_minor, created_at=found.created_at,
        cancelled_at=found.cancelled_at, paid_on_link=found.paid_while_waiting,
        items=[m.ItemOut(position=n, title=i.title, quantity=i.quantity, unit_price_minor=i.unit_price_minor,
                         product_id=i.product_id, options=dict(i.options)) for n, i in enumerate(new.items, 1)])


async def _order(call: Call) -> ShopOrder:
    found = await call.services.customers.order(call.shop.id, call.text("number"))
    if found is None:
        raise not_found("There is no such order.")
    return found


async def _placed(call: Call) -> ShopOrder:
    found = await _order(call)
    if found.order is None:
        raise CustomerNotLinked(ORDER_WAITS)
    return found


async def _linked_user(call: Call) -> int:
    customer = await call.services.customers.customer(call.shop.id, call.text("customer"))
    if customer.user_id is None:
        raise CustomerNotLinked()
    return customer.user_id


# -- stores and products ------------------------------------------------------------------------------
async def upsert_store(call: Call) -> tuple[int, BaseModel]:
    store_id, name, created = await call.services.shops.upsert_store(call.shop.id, call.body.name)
    return (201 if created else 200), m.StoreOut(id=store_id, name=name, created=created)


async def upsert_product(call: Call) -> tuple[int, BaseModel]:
    store_id, _ = await call.services.shops.store(call.shop.id, call.number("store_id", "There is no such store."))
    b: m.ProductIn = call.body
    product_id = await call.services.catalog.upsert(
        store_id, b.title, price_minor=b.price_minor, currency=b.currency, category=b.category, title_ru=b.title_ru,
        options=b.options, active=b.active)
    return 200, m.ProductOut(id=product_id, store_id=store_id, title=b.title, price_minor=b.price_minor,
                             currency=b.currency)


# -- customers and their orders -----------------------------------------------------------------------
async def link_customer(call: Call) -> tuple[int, BaseModel]:
    link = await call.services.customers.link(call.shop.id, call.text("customer"))
    username = call.bot_username
    return 201, m.LinkOut(customer=call.text("customer"), start_parameter=start_parameter(link.token, LINK_PREFIX),
                          url=deep_link(username, link.token, LINK_PREFIX) if username else None,
                          expires_at=link.expires_at)


async def create_order(call: Call) -> tuple[int, BaseModel]:
    b: m.OrderIn = call.body
    await call.services.shops.store(call.shop.id, b.store_id)
    a = b.address
    new = NewOrder(
        store_id=b.store_id, currency=b.currency, shipping_minor=b.shipping_minor, usd_rate=b.usd_rate,
        number=b.number,
        items=tuple(NewItem(i.title, i.quantity, i.unit_price_minor, tuple(i.options.items()), i.product_id)
                    for i in b.items),
        address=AddressSnapshot.of(a))
    return 201, order_out(await call.services.customers.place(call.shop.id, call.text("customer"), new))


async def customer_orders(call: Call) -> tuple[int, BaseModel]:
    before = call.query.get("before", "").strip().upper() or None
    found, next_before = await call.services.customers.orders_of(call.shop.id, call.text("customer"), before=before)
    return 200, m.OrderList(orders=[order_out(o) for o in found], next_before=next_before)


async def read_order(call: Call) -> tuple[int, BaseModel]:
    return 200, order_out(await _order(call))


async def change_status(call: Call) -> tuple[int, BaseModel]:
    change = call.body.root
    found = await _order(call)
    services, number = call.services, found.number
    if found.order is None:  # waits for its customer: it can be paid or cancelled meanwhile
        if isinstance(change, m.Paid):
            c = change.card
            card = CardSnapshot(None, c.brand, c.last4, c.exp_month, c.exp_year)
            return 200, order_out(await services.customers.waiting_paid(call.shop.id, number, card))
        if isinstance(change, m.Cancelled):
            return 200, order_out(await services.customers.waiting_cancelled(call.shop.id, number))
        raise CustomerNotLinked(ORDER_WAITS)
    o = found.order
    orders = services.orders
    if isinstance(change, m.Paid):
        c = change.card
        await orders.mark_paid(o.user_id, o.id, CardSnapshot(None, c.brand, c.last4, c.exp_month, c.exp_year),
                               by=Actor.seller)  # paid at the shop: the buyer is told
    elif isinstance(change, m.Shipped):
        await orders.ship(o.user_id, o.id, change.track_number, change.carrier)
    elif isinstance(change, m.Delivered):
        await orders.deliver(o.user_id, o.id, change.location)
    elif isinstance(change, m.Cancelled):
        await orders.cancel_by_seller(o.user_id, o.id, CancelReason(change.reason))
    else:
        await orders.refund(o.user_id, o.id, change.amount_minor)
    return 200, order_out(await _order(call))


async def add_tracking(call: Call) -> tuple[int, BaseModel]:
    o = (await _placed(call)).order
    assert o is not None
    b: m.TrackingIn = call.body
    at = b.at or call.services.clock.now()
    added = await call.services.orders.add_tracking_event(
        o.user_id, o.id, CarrierEvent(at, b.code, b.location, b.description), "shop")
    return 200, m.TrackingOut(number=o.number, added=bool(added))


# -- disputes and reviews -----------------------------------------------------------------------------
async def answer_dispute(call: Call) -> tuple[int, BaseModel]:
    b: m.DisputeAnswerIn = call.body
    if b.answer == "offer" and b.offer_minor is None:
        raise ApiError(422, "validation_error", "The request is not valid.",
                       [m.FieldError(field="offer_minor", reason="an offer needs its amount")])
    return await _on_dispute(call, lambda disputes, dispute_id: disputes.seller_answer(
        dispute_id, SellerAnswer(b.answer), offer_minor=b.offer_minor, note=b.note))


async def return_received(call: Call) -> tuple[int, BaseModel]:
    return await _on_dispute(call, lambda disputes, dispute_id: disputes.return_received(dispute_id))


async def return_problem(call: Call) -> tuple[int, BaseModel]:
    return await _on_dispute(call, lambda disputes, dispute_id: disputes.return_problem(dispute_id, call.body.note))


async def _on_dispute(call: Call, act: Callable[[Any, int], Awaitable[Any]]) -> tuple[int, BaseModel]:
    """An action on the dispute of the order (one of the shop's stores'): 404 when the order has
    none; a dispute in another state than the action needs says which it is in."""
    number, dispute = await _order_dispute(call)
    try:
        dispute = await act(call.services.disputes, dispute.id)
    except DisputeMovedOn as error:
        state, needed = error.params.get("state"), error.params.get("needed")
        raise ApiError(409, "dispute_moved_on", f"The dispute is {state}; this needs it {needed}.") from None
    return 200, _dispute_out(dispute, number)


async def _order_dispute(call: Call) -> tuple[str, Any]:
    """The order's number and its dispute (the order one of the shop's stores'): 404 when it has none."""
    o = (await _placed(call)).order
    assert o is not None
    try:
        return o.number, await call.services.disputes.for_order_number(o.number)
    except NotFound:
        raise not_found("This order has no dispute.") from None


def _dispute_out(dispute: Any, number: str) -> m.DisputeOut:
    return m.DisputeOut(id=dispute.id, number=number, state=dispute.state, resolution=dispute.resolution,
                        amount_minor=dispute.amount_minor, return_by=dispute.return_by,
                        return_track=dispute.return_track, returned_at=dispute.returned_at, reason=dispute.reason,
                        outcome=dispute.outcome, description=dispute.description, photos=len(dispute.photos),
                        seller_answer=dispute.seller_answer, offer_minor=dispute.offer_minor,
                        seller_note=dispute.seller_note, refund_minor=dispute.refund_minor,
                        opened_at=dispute.opened_at, decide_by=dispute.decide_by)


async def read_dispute(call: Call) -> tuple[int, BaseModel]:
    number, dispute = await _order_dispute(call)
    return 200, _dispute_out(dispute, number)


async def reply_review(call: Call) -> tuple[int, BaseModel]:
    review_id = call.number("review_id", "There is no such review.")
    if not await call.services.shops.owns_review(call.shop.id, review_id):
        raise not_found("There is no such review.")
    review = await call.services.reviews.seller_reply(review_id, call.body.text)
    return 200, review_out(review)


async def read_review(call: Call) -> tuple[int, BaseModel]:
    review_id = call.number("review_id", "There is no such review.")
    if not await call.services.shops.owns_review(call.shop.id, review_id):
        raise not_found("There is no such review.")
    return 200, review_out(await call.services.reviews.of_store(review_id))


def review_out(review: Any) -> m.ReviewOut:
    """A review as its shop reads it: never the buyer (the order number names the purchase)."""
    return m.ReviewOut(id=review.id, number=review.number, rating=review.extra_rating or review.rating,
                       reply=review.reply_text, title=review.title, text=review.text, photos=len(review.photos),
                       created_at=review.created_at, first_rating=review.rating if review.extra_rating else None,
                       additional_text=review.extra_text, additional_at=review.extra_at, reply_at=review.reply_at)


# -- refunds ------------------------------------------------------------------------------------------
async def refund_done(call: Call) -> tuple[int, BaseModel]:
    """A refund of an order paid outside the gateway: the shop paid it back. The buyer is told."""
    refund_id = call.number("refund_id", "There is no such refund.")
    if not await call.services.shops.owns_refund(call.shop.id, refund_id):
        raise not_found("There is no such refund.")
    refund = await call.services.refunds.complete(refund_id, outside_only=True)
    return 200, refund_out(refund)


# -- coupons and certificates -------------------------------------------------------------------------
async def grant_coupon(call: Call) -> tuple[int, BaseModel]:
    b: m.CouponIn = call.body
    store_id, store = await call.services.shops.store(call.shop.id, b.store_id)
    if (b.amount_minor is None) == (b.percent is None):
        raise ApiError(422, "validation_error", "The request is not valid.",
                       [m.FieldError(field="amount_minor", reason="give either amount_minor or percent")])
    user_id = await _linked_user(call)
    terms = Terms(scope=Scope.store, value_kind=ValueKind.percent if b.percent else ValueKind.amount,
                  currency=b.currency, valid_from=b.valid_from or call.services.clock.now(), valid_to=b.valid_to,
                  amount_minor=b.amount_minor, percent=b.percent, cap_minor=b.cap_minor,
                  min_order_minor=b.min_order_minor, store_id=store_id, store_name=store, title=b.title)
    result = await call.services.coupons.grant([user_id], terms, source="shop")
    return 201, m.CouponOut(id=result.granted[user_id], customer=call.text("customer"))


async def grant_certificate(call: Call) -> tuple[int, BaseModel]:
    b: m.CertificateIn = call.body
    user_id = await _linked_user(call)
    cert = await call.services.coupons.grant_certificate(user_id, amount_minor=b.amount_minor, currency=b.currency,
                                                         valid_to=b.valid_to, title=b.title, source="shop",
                                                         shop_id=call.shop.id)
    return 201, m.CertificateOut(id=cert.id, customer=call.text("customer"), amount_minor=cert.face_minor,
                                 currency=cert.currency)


ROUTES: tuple[Route, ...] = (
    Route("POST", "/stores", upsert_store, m.StoreOut, "Add a store (or get yours of that name)", m.StoreIn,
          201, "catalog"),
    Route("POST", "/stores/{store_id}/products", upsert_product, m.ProductOut,
          "Add or update a product (by title); a lower price alerts the buyers who keep it", m.ProductIn,
          tag="catalog"),
    Route("POST", "/customers/{customer}/link", link_customer, m.LinkOut,
          "A one-time deep link (24 h) that ties your customer to their Telegram account", status=201,
          tag="customers"),
    Route("POST", "/customers/{customer}/orders", create_order, m.OrderOut,
          "Place an order for a customer (it waits until they are linked)", m.OrderIn, 201, "customers"),
    Route("GET", "/customers/{customer}/orders", customer_orders, m.OrderList,
          "The customer's orders you placed, newest first, 100 a page", tag="customers",
          query=(("before", "an order number from the page before (its next_before): the orders older than it"),)),
    Route("GET", "/orders/{number}", read_order, m.OrderOut, "An order of one of your stores"),
    Route("POST", "/orders/{number}/status", change_status, m.OrderOut,
          "Change an order's status: paid, shipped, delivered, cancelled, refunded", m.StatusChange),
    Route("POST", "/orders/{number}/tracking", add_tracking, m.TrackingOut, "Add a tracking event", m.TrackingIn),
    Route("GET", "/orders/{number}/dispute", read_dispute, m.DisputeOut,
          "The order's dispute: the buyer's request and words, and where it stands", tag="disputes"),
    Route("POST", "/orders/{number}/dispute/answer", answer_dispute, m.DisputeOut,
          "Answer the order's dispute: accept (a return: `note` is the return address), reject, or offer a "
          "partial refund", m.DisputeAnswerIn, tag="disputes"),
    Route("POST", "/orders/{number}/dispute/return-received", return_received, m.DisputeOut,
          "The returned item came back: the buyer is refunded what they asked for", tag="disputes"),
    Route("POST", "/orders/{number}/dispute/return-problem", return_problem, m.DisputeOut,
          "The returned item did not come back as sent (say what came): the platform decides", m.ProblemIn,
          tag="disputes"),
    Route("POST", "/refunds/{refund_id}/done", refund_done, m.RefundOut,
          "You paid back a refund of an order paid outside the payment gateway (`pay_out`: shop): the buyer is "
          "told it is done", tag="orders"),
    Route("GET", "/reviews/{review_id}", read_review, m.ReviewOut,
          "A review of one of your stores' orders (its id comes with the review.written webhook)", tag="reviews"),
    Route("POST", "/reviews/{review_id}/reply", reply_review, m.ReviewOut,
          "Reply to a review of one of your stores' orders", m.ReplyIn, tag="reviews"),
    Route("POST", "/customers/{customer}/coupons", grant_coupon, m.CouponOut,
          "Grant the (linked) customer a coupon of one of your stores", m.CouponIn, 201, "coupons"),
    Route("POST", "/customers/{customer}/certificates", grant_certificate, m.CertificateOut,
          "Grant the (linked) customer a gift certificate", m.CertificateIn, 201, "coupons"),
)


# -- the aiohttp side ---------------------------------------------------------------------------------
def _json(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(text=text, status=status, content_type="application/json", headers=headers or None)


def _invalid(field: str, reason: str) -> ApiError:
    return ApiError(422, "validation_error", "The request is not valid.", [m.FieldError(field=field, reason=reason)])


def handler_for(route: Route, services_key: Any, config_key: Any,
                shop_key: Any) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        services: Services = request.app[services_key]
        raw = await request.read() if route.body is not None or route.method == "POST" else b""
        data: Any = None
        canonical = raw  # what the key's request is compared by: the JSON, not its spacing or key order
        if route.body is not None:
            try:
                data = json.loads(raw or b"null")
            except ValueError:
                raise _invalid("body", "not valid JSON") from None
            canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()  # ASCII: any string encodes
        shop, params, bot_username = request[shop_key], dict(request.match_info), request.app[config_key].bot_username
        known = {name for name, _ in route.query}
        for name in request.query if route.method == "GET" else ():  # (a POST's are ignored, as they were:
            if name not in known:  # a retry of one accepted then gets its kept answer); a misspelt
                raise _invalid(name, "not a query parameter of this endpoint"  # one must not give the first page
                                     + (f" (it takes: {', '.join(sorted(known))})" if known else ""))
        query = {name: request.query[name] for name in known if name in request.query}

        def call() -> Call:  # the body validated: after a kept answer is looked up (a retry of a request
            # the rules of its day took is answered as then, though they have changed since)
            return Call(services, shop, params, None if route.body is None else route.body.model_validate(data),
                        bot_username, query)

        if route.method != "POST":
            status, answer = await route.run(call())
            return _json(status, answer.model_dump_json())
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not key or len(key) > 255:
            raise _invalid(IDEMPOTENCY_HEADER, "a POST needs this header: 1–255 characters, unique per change")

        def print_of(body: bytes) -> str:
            return hashlib.sha256(b"%s %s\n%s" % (route.method.encode(), request.rel_url.path.encode(),
                                                  body)).hexdigest()

        fingerprint = print_of(canonical)
        shops = services.shops
        async with services.db.write():  # the change and the key's record: one unit of work
            stored = await shops.stored_answer(shop.id, key)
            if stored is not None:  # (a key kept before the JSON was compared matches its raw body)
                if stored.fingerprint not in (fingerprint, print_of(raw)):
                    raise ApiError(422, "idempotency_key_reused",
                                   "This Idempotency-Key was used for another request.",
                                   [m.FieldError(field=IDEMPOTENCY_HEADER, reason="used with another request")])
                return _json(stored.status, stored.body, **{"Idempotent-Replayed": "true"})
            status, answer = await route.run(call())
            text = answer.model_dump_json()
            await shops.keep_answer(shop.id, key, fingerprint, status, text)
        return _json(status, text)

    handle.__name__ = route.run.__name__
    return handle
