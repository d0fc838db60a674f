"""`python main.py order …`: the shop's side of an order, for operators. Every command calls the
same service the shop API will call later, so the rules (conditional transitions, refunds to the
paying card, pushes in the outbox) are the same whoever acts.

Orders are addressed by their number, disputes by their order's number, refunds by id.
Amounts are typed in major units ("25.99") of the order's currency.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from bot.db.orders import OrderRow
from bot.db.refunds import RefundRow
from bot.integrations.carrier import CARRIERS, EVENT_CODES, CarrierEvent
from bot.services.disputes import SellerAnswer
from bot.services.errors import DomainError
from bot.services.money import parse_amount, to_major
from bot.services.orders import AddressSnapshot, CancelReason, NewItem
from bot.services.refunds import CardSnapshot, Payout, payout

if TYPE_CHECKING:
    from bot.app import Services


class UsageError(Exception):
    pass


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    order = sub.add_parser("order", help="operator commands: create, pay, ship, track, deliver, disputes, refunds")
    cmds = order.add_subparsers(dest="order_command", metavar="ACTION", required=True)

    create = cmds.add_parser("create", help="place an order for a user (awaiting payment)")
    create.add_argument("--user", type=int, required=True, help="the buyer's Telegram id")
    create.add_argument("--store", required=True, help="store name (created when new)")
    create.add_argument("--seller", help="the seller's account, for a new store")
    create.add_argument("--item", action="append", required=True, metavar="TITLE|QTY|PRICE[|Name=value;…]",
                        help='e.g. "Wireless earbuds|1|25.99|Colour=black"; repeat for more items')
    create.add_argument("--currency", default="USD")
    create.add_argument("--shipping", default="0", help="shipping cost, e.g. 3.00")
    create.add_argument("--usd-rate", help="USD per one unit of the currency (required unless USD)")
    create.add_argument("--number", help="the order number (default: YYMMDD + id)")
    for field in ("recipient", "phone", "street", "city", "region", "postcode", "country"):
        create.add_argument(f"--{field}", default="", help=f"shipping address: {field}")
    create.add_argument("--address-id", type=int,
                        help="ship to this entry of the buyer's address book (its fields are copied onto the order)")

    pay = cmds.add_parser("pay", help="mark an order paid with a card")
    pay.add_argument("number")
    pay.add_argument("--brand", default="Visa")
    pay.add_argument("--last4", default="4242")
    pay.add_argument("--exp", default="", help="MM/YYYY")
    pay.add_argument("--card-id", type=int)

    ship = cmds.add_parser("ship", help="ship an order with a track number")
    ship.add_argument("number")
    ship.add_argument("--track", required=True)
    ship.add_argument("--carrier", default="cainiao", help=", ".join(CARRIERS))

    track = cmds.add_parser("track", help="add a tracking event")
    track.add_argument("number")
    track.add_argument("--code", required=True, help=", ".join(EVENT_CODES) + ", or the carrier's own")
    track.add_argument("--location", default="")
    track.add_argument("--description", default="")
    track.add_argument("--at", help="ISO time with zone (default: now)")

    deliver = cmds.add_parser("deliver", help="the parcel reached the buyer")
    deliver.add_argument("number")
    deliver.add_argument("--location", default="")

    cancel = cmds.add_parser("cancel", help="the seller cancels an order before shipment (refunds if paid)")
    cancel.add_argument("number")
    cancel.add_argument("--reason", default="out_of_stock", choices=[r.value for r in CancelReason])

    answer = cmds.add_parser("answer", help="the seller answers the order's dispute")
    answer.add_argument("number")
    how = answer.add_mutually_exclusive_group(required=True)
    how.add_argument("--accept", action="store_true")
    how.add_argument("--reject", action="store_true")
    how.add_argument("--offer", metavar="AMOUNT")
    answer.add_argument("--note", default="")

    decide = cmds.add_parser("decide", help="the platform decides the order's dispute")
    decide.add_argument("number")
    verdict = decide.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--refund", metavar="AMOUNT")
    verdict.add_argument("--refund-full", action="store_true")
    verdict.add_argument("--reject", action="store_true")

    refund = cmds.add_parser("refund", help="refund (part of) a paid order without a dispute")
    refund.add_argument("number")
    refund.add_argument("--amount", help="default: all that is left")

    done = cmds.add_parser("refund-done", help="a refund was paid out (one paid outside the payment gateway)")
    done.add_argument("refund_id", type=int)

    cmds.add_parser("refunds", help="pending refunds: which wait for the gateway, which need an operator")

    retry = cmds.add_parser("refund-retry", help="send a refund the gateway refused to it again")
    retry.add_argument("refund_id", type=int)

    show = cmds.add_parser("show", help="an order's state")
    show.add_argument("number")

    cmds.add_parser("sweep", help="run the due transitions now (check payments, expire unpaid, complete, "
                                "poll carriers, pay refunds out)")


def add_review_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    review = sub.add_parser("review", help="operator commands on reviews: the seller's reply")
    cmds = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    reply = cmds.add_parser("reply", help="the seller answers a review (the buyer gets a push)")
    reply.add_argument("review_id", type=int, metavar="REVIEW_ID")
    reply.add_argument("text", help="the reply, up to 2000 characters")


async def run_review(args: argparse.Namespace, services: Services) -> str:
    if args.review_command == "reply":
        review = await services.reviews.seller_reply(args.review_id, args.text)
        return f"review {review.id} ({review.title}, order {review.number}): replied"
    raise UsageError(f"unknown review command {args.review_command!r}")


def describe(order: OrderRow) -> str:
    total = f"{to_major(order.total_minor, order.currency)} {order.currency}"
    parts = [f"order {order.number} (id {order.id}, user {order.user_id}): {order.status}, total {total}"]
    if order.track_number:
        parts.append(f"track {order.track_number}")
    if order.deleted_at:
        parts.append("deleted by the buyer")
    return ", ".join(parts)


def _item(text: str, currency: str) -> NewItem:
    parts = [p.strip() for p in text.split("|")]
    if len(parts) not in (3, 4) or not parts[0]:
        raise UsageError(f"--item {text!r}: expected TITLE|QTY|PRICE[|Name=value;…]")
    try:
        quantity = int(parts[1])
    except ValueError:
        raise UsageError(f"--item {text!r}: the quantity must be a whole number") from None
    options: list[tuple[str, str]] = []
    if len(parts) == 4 and parts[3]:
        for pair in parts[3].split(";"):
            name, _, value = pair.partition("=")
            if name.strip() and value.strip():
                options.append((name.strip(), value.strip()))
    return NewItem(parts[0], quantity, parse_amount(parts[2], currency), tuple(options))


def _exp(text: str) -> tuple[int | None, int | None]:
    if not text:
        return None, None
    month, _, year = text.partition("/")
    try:
        m, y = int(month), int(year)
    except ValueError:
        raise UsageError("--exp: expected MM/YYYY") from None
    return m, (2000 + y if y < 100 else y)


async def run(args: argparse.Namespace, services: Services) -> str:
    """Run one operator command; returns the line to print. Raises DomainError or UsageError."""
    if getattr(args, "review_command", None):
        return await run_review(args, services)
    orders, disputes = services.orders, services.disputes
    cmd = args.order_command
    if cmd == "create":
        currency = args.currency.upper()
        store_id = await orders.ensure_store(args.store, args.seller)
        items = [_item(text, currency) for text in args.item]
        if currency != "USD" and not args.usd_rate:
            raise UsageError("--usd-rate is required for a currency other than USD")
        address = AddressSnapshot(args.recipient, args.phone, args.street, args.city, args.region,
                                  args.postcode, args.country.upper())
        if args.address_id is not None:  # the service takes the book's entry (through the buyer)
            address = AddressSnapshot.of_address(await services.addresses.get(args.user, args.address_id))
        shipping = 0 if args.shipping in ("0", "") else parse_amount(args.shipping, currency)
        order = await orders.create(user_id=args.user, store_id=store_id, items=items, currency=currency,
                                    shipping_minor=shipping, address=address, usd_rate=args.usd_rate,
                                    number=args.number, address_id=args.address_id)
        return "created " + describe(order)
    if cmd == "sweep":
        now = services.clock.now()
        checked = await services.pay.reconcile(now)  # first: a payment that went through is not expired
        expired = await orders.expire_unpaid(now)
        completed = await orders.auto_complete(now)
        events = await orders.poll_tracking(now)
        refunded = await services.refunds.pay_out_due(now)
        return (f"payments checked {checked}, expired {expired}, completed {completed}, "
                f"new tracking events {events}, refunds paid out {refunded}")
    if cmd == "refund-done":
        refund = await services.refunds.complete(args.refund_id)
        return f"refund {refund.id} completed"
    if cmd == "refund-retry":
        refund = await services.refunds.retry(args.refund_id)
        return f"refund {refund.id}: goes to the payment gateway at the next sweep"
    if cmd == "refunds":
        rows = await services.refunds.pending()
        return "\n".join(refund_status_line(r, number) for r, number in rows) or "no pending refunds"
    order = await orders.by_number(args.number)
    user = order.user_id
    if cmd == "show":
        return describe(order)
    if cmd == "pay":
        month, year = _exp(args.exp)
        card = CardSnapshot(args.card_id, args.brand, args.last4[-4:], month, year)
        return "paid " + describe(await orders.mark_paid(user, order.id, card))
    if cmd == "ship":
        return "shipped " + describe(await orders.ship(user, order.id, args.track, args.carrier))
    if cmd == "track":
        at = datetime.fromisoformat(args.at) if args.at else services.clock.now()
        if at.tzinfo is None:
            raise UsageError("--at: give the time zone, e.g. 2026-11-25T10:00+00:00")
        added = await orders.add_tracking_event(user, order.id, CarrierEvent(at, args.code, args.location,
                                                                            args.description))
        return f"tracking event {'added' if added else 'already known'} for order {order.number}"
    if cmd == "deliver":
        added = await orders.deliver(user, order.id, args.location)
        return f"order {order.number} delivered" + ("" if added else " (already known)")
    if cmd == "cancel":
        card = await orders.cancel_by_seller(user, order.id, CancelReason(args.reason))
        refunded = sum(r.amount_minor for r in card.refunds)
        tail = f", refund {to_major(refunded, order.currency)} {order.currency}" if refunded else ""
        return "cancelled " + describe(card.order) + tail
    if cmd == "answer":
        dispute = await disputes.for_order_number(order.number)
        if args.accept:
            dispute = await disputes.seller_answer(dispute.id, SellerAnswer.accept, note=args.note)
        elif args.reject:
            dispute = await disputes.seller_answer(dispute.id, SellerAnswer.reject, note=args.note)
        else:
            offer = parse_amount(args.offer, order.currency)
            dispute = await disputes.seller_answer(dispute.id, SellerAnswer.offer, offer_minor=offer, note=args.note)
        return f"dispute {dispute.id} on order {order.number}: {dispute.state}" + (
            f" ({dispute.resolution})" if dispute.resolution else "")
    if cmd == "decide":
        dispute = await disputes.for_order_number(order.number)
        if args.reject:
            amount = 0
        elif args.refund_full:
            amount = dispute.amount_minor
        else:
            amount = parse_amount(args.refund, order.currency)
        dispute = await disputes.decide(dispute.id, amount)
        return f"dispute {dispute.id} on order {order.number}: closed ({dispute.resolution})"
    if cmd == "refund":
        amount = parse_amount(args.amount, order.currency) if args.amount else None
        refund = await orders.refund(user, order.id, amount)
        return (f"refund {refund.id}: {to_major(refund.amount_minor, refund.currency)} {refund.currency} "
                f"to {refund.destination}, expected by {refund.expected_at:%Y-%m-%d}")
    raise UsageError(f"unknown order command {cmd!r}")


def refund_status_line(refund: RefundRow, number: str) -> str:
    amount = f"{to_major(refund.amount_minor, refund.currency)} {refund.currency}"
    state = payout(refund)
    if state is Payout.outside:
        where = "paid outside the gateway: complete it with refund-done once paid"
    elif state is Payout.operator:
        where = f"NEEDS AN OPERATOR ({refund.last_error}): refund-retry or refund-done"
    elif state is Payout.accepted:
        where = f"accepted by the gateway as {refund.gateway_refund_id}, asking again at {refund.next_attempt_at:%Y-%m-%d %H:%M}"
    else:
        tail = f", {refund.attempts} failed ({refund.last_error})" if refund.attempts else ""
        where = f"to the gateway at {refund.next_attempt_at:%Y-%m-%d %H:%M}{tail}"
    return f"refund {refund.id} (order {number}): {amount}, {where}"


def error_text(exc: DomainError) -> str:
    """A domain error for the operator's terminal: the English msgid with its parameters."""
    return exc.msgid.format(**exc.params) if exc.params else exc.msgid
