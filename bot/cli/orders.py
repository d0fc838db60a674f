"""`python main.py order …`: the shop's side of an order, for operators. Every command calls the
same service the shop API will call later, so the rules (conditional transitions, refunds to the
paying card, pushes in the outbox) are the same whoever acts.

Orders are addressed by their number, disputes by their order's number, refunds by id.
Amounts are typed in major units ("25.99") of the order's currency.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.cli.common import ServiceCommand, UsageError, command_group
from bot.integrations.carrier import CARRIERS, EVENT_CODES, CarrierEvent
from bot.services.disputes import SellerAnswer
from bot.services.money import parse_amount, to_major
from bot.services.orders import Actor, AddressSnapshot, CancelReason, NewItem
from bot.services.refunds import CardSnapshot, Payout, PendingRefund

if TYPE_CHECKING:
    from bot.app import Services

OrderCommand = Callable[[argparse.Namespace, "Services"], Awaitable[str]]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmds = command_group(sub, "order", "operator commands: create, pay, ship, track, deliver, disputes, refunds")

    create = _command(cmds, "create", create_order, help="place an order for a user (awaiting payment)")
    create.add_argument("--user", type=int, required=True, help="the buyer's Telegram id")
    create.add_argument("--store", required=True, help="store name (created when new)")
    create.add_argument("--seller", help="the seller's account, for a new store")
    create.add_argument("--item", action="append", required=True, metavar="TITLE|QTY|PRICE[|Name=value;…]",
                        help='e.g. "Wireless earbuds|1|25.99|Colour=black"; repeat for more items')
    create.add_argument("--currency", default="USD")
    create.add_argument("--shipping", default="0", help="shipping cost, e.g. 3.00")
    create.add_argument("--usd-rate", help="USD per one unit of the currency (required unless USD)")
    create.add_argument("--number", help="the order number (default: YYMMDD + id)")
    for field in ("recipient", "phone", "street", "city", "region", "country"):
        create.add_argument(f"--{field}", default="", help=f"shipping address: {field}")
    # the address book's name for it; --postcode, the name it had first, still works
    create.add_argument("--postal-code", "--postcode", dest="postal_code", default="",
                        help="shipping address: postal code")
    create.add_argument("--address-id", type=int,
                        help="ship to this entry of the buyer's address book (its fields are copied onto the order)")

    pay = _command(cmds, "pay", pay_order, on="number", help="mark an order paid with a card")
    pay.add_argument("--brand", default="Visa")
    pay.add_argument("--last4", default="4242")
    pay.add_argument("--exp", default="", help="MM/YYYY")
    pay.add_argument("--card-id", type=int)

    ship = _command(cmds, "ship", ship_order, on="number", help="ship an order with a track number")
    ship.add_argument("--track", required=True)
    ship.add_argument("--carrier", default="cainiao", help=", ".join(CARRIERS))

    track = _command(cmds, "track", track_order, on="number", help="add a tracking event")
    track.add_argument("--code", required=True, help=", ".join(EVENT_CODES) + ", or the carrier's own")
    track.add_argument("--location", default="")
    track.add_argument("--description", default="")
    track.add_argument("--at", help="ISO time with zone (default: now)")

    deliver = _command(cmds, "deliver", deliver_order, on="number", help="the parcel reached the buyer")
    deliver.add_argument("--location", default="")

    cancel = _command(cmds, "cancel", cancel_order, on="number",
                      help="the seller cancels an order before shipment (refunds if paid)")
    cancel.add_argument("--reason", default="out_of_stock", choices=[r.value for r in CancelReason])

    answer = _command(cmds, "answer", answer_dispute, on="number", help="the seller answers the order's dispute")
    how = answer.add_mutually_exclusive_group(required=True)
    how.add_argument("--accept", action="store_true")
    how.add_argument("--reject", action="store_true")
    how.add_argument("--offer", metavar="AMOUNT")
    answer.add_argument("--note", default="", help="with --reject: the reason the buyer reads (5–1000 characters, "
                        "required); with --accept of a return: the address to send the item back to (required)")
    _command(cmds, "return-received", return_received, on="number",
             help="the seller has the returned item back: the buyer is refunded")
    _command(cmds, "dispute", show_dispute, on="number",
             help="the order's dispute as the platform decides it: both sides' words, a return's track")

    decide = _command(cmds, "decide", decide_dispute, on="number", help="the platform decides the order's dispute")
    verdict = decide.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--refund", metavar="AMOUNT")
    verdict.add_argument("--refund-full", action="store_true")
    verdict.add_argument("--reject", action="store_true")

    refund = _command(cmds, "refund", refund_order, on="number",
                      help="refund (part of) a paid order without a dispute")
    refund.add_argument("--amount", help="default: all that is left")

    _command(cmds, "refund-done", refund_done, on="refund_id",
             help="a refund was paid out (one paid outside the payment gateway)")
    _command(cmds, "refunds", pending_refunds,
             help="pending refunds: which wait for the gateway, which need an operator")
    _command(cmds, "refund-retry", refund_retry, on="refund_id", help="send a refund the gateway refused to it again")
    _command(cmds, "show", show_order, on="number", help="an order's state")
    _command(cmds, "sweep", sweep_now,
             help="run the due transitions now (check payments, expire unpaid, complete, poll carriers, "
                  "pay refunds out)")


def _command(cmds: argparse._SubParsersAction, name: str, run: OrderCommand,  # type: ignore[type-arg]
             *, help: str, on: str | None = None) -> argparse.ArgumentParser:
    """`order NAME`, run by `run` (through ServiceCommand); `on`: what it is addressed by, an
    order's "number" or a "refund_id"."""
    parser = cmds.add_parser(name, help=help)
    if on == "number":
        parser.add_argument("number")
    elif on == "refund_id":
        parser.add_argument("refund_id", type=int)
    parser.set_defaults(func=ServiceCommand(run))
    return parser


class Order(Protocol):
    """What an operator's line shows of an order the order service returned."""

    id: int
    number: str
    user_id: int
    status: str
    total_minor: int
    currency: str
    track_number: str | None
    deleted_at: datetime | None


def describe(order: Order) -> str:
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


async def create_order(args: argparse.Namespace, services: Services) -> str:
    orders = services.orders
    currency = args.currency.upper()
    store_id = await orders.ensure_store(args.store, args.seller)
    items = [_item(text, currency) for text in args.item]
    if currency != "USD" and not args.usd_rate and currency not in orders.policy.usd_rates:
        raise UsageError("--usd-rate is required for a currency without a rate in USD_RATES")
    address = AddressSnapshot(recipient=args.recipient, phone=args.phone, street=args.street, city=args.city,
                              region=args.region, postal_code=args.postal_code, country=args.country.upper())
    if args.address_id is not None:  # the service takes the book's entry (through the buyer)
        address = AddressSnapshot.of(await services.addresses.get(args.user, args.address_id))
    shipping = 0 if args.shipping in ("0", "") else parse_amount(args.shipping, currency)
    order = await orders.create(user_id=args.user, store_id=store_id, items=items, currency=currency,
                                shipping_minor=shipping, address=address, usd_rate=args.usd_rate,
                                number=args.number, address_id=args.address_id, by=Actor.platform)
    return "created " + describe(order)


async def sweep_now(args: argparse.Namespace, services: Services) -> str:
    """The running bot's sweeper, every job once, now (bot/runner.py: one list of jobs for both)."""
    from bot.runner import build_sweeper

    done = await build_sweeper(services)(services.clock.now())
    return ", ".join(f"{name} {count if count >= 0 else 'FAILED'}" for name, count in done.items())


async def refund_done(args: argparse.Namespace, services: Services) -> str:
    refund = await services.refunds.complete(args.refund_id)
    return f"refund {refund.id} completed"


async def refund_retry(args: argparse.Namespace, services: Services) -> str:
    refund = await services.refunds.retry(args.refund_id)
    return f"refund {refund.id}: goes to the payment gateway at the next sweep"


async def pending_refunds(args: argparse.Namespace, services: Services) -> str:
    return "\n".join(refund_status_line(r) for r in await services.refunds.pending()) or "no pending refunds"


async def show_order(args: argparse.Namespace, services: Services) -> str:
    return describe(await services.orders.by_number(args.number))


async def pay_order(args: argparse.Namespace, services: Services) -> str:
    order = await services.orders.by_number(args.number)
    month, year = _exp(args.exp)
    card = CardSnapshot(args.card_id, args.brand, args.last4[-4:], month, year)
    return "paid " + describe(await services.orders.mark_paid(order.user_id, order.id, card, by=Actor.platform))


async def ship_order(args: argparse.Namespace, services: Services) -> str:
    order = await services.orders.by_number(args.number)
    return "shipped " + describe(await services.orders.ship(order.user_id, order.id, args.track, args.carrier))


async def track_order(args: argparse.Namespace, services: Services) -> str:
    order = await services.orders.by_number(args.number)
    at = datetime.fromisoformat(args.at) if args.at else services.clock.now()
    if at.tzinfo is None:
        raise UsageError("--at: give the time zone, e.g. 2026-11-25T10:00+00:00")
    event = CarrierEvent(at, args.code, args.location, args.description)
    added = await services.orders.add_tracking_event(order.user_id, order.id, event)
    return f"tracking event {'added' if added else 'already known'} for order {order.number}"


async def deliver_order(args: argparse.Namespace, services: Services) -> str:
    order = await services.orders.by_number(args.number)
    added = await services.orders.deliver(order.user_id, order.id, args.location)
    return f"order {order.number} delivered" + ("" if added else " (already known)")


async def cancel_order(args: argparse.Namespace, services: Services) -> str:
    order = await services.orders.by_number(args.number)
    card = await services.orders.cancel_by_seller(order.user_id, order.id, CancelReason(args.reason))
    refunded = sum(r.amount_minor for r in card.refunds)
    tail = f", refund {to_major(refunded, order.currency)} {order.currency}" if refunded else ""
    return "cancelled " + describe(card.order) + tail


async def answer_dispute(args: argparse.Namespace, services: Services) -> str:
    order = await services.orders.by_number(args.number)
    disputes = services.disputes
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


async def show_dispute(args: argparse.Namespace, services: Services) -> str:
    dispute = await services.disputes.for_order_number(args.number)
    amount = f"{to_major(dispute.amount_minor, dispute.currency)} {dispute.currency}"
    lines = [f"dispute {dispute.id} on order {args.number}: {dispute.state}"
             + (f" ({dispute.resolution})" if dispute.resolution else "") + f", decide by {dispute.decide_by:%Y-%m-%d}",
             f"buyer: {dispute.reason}, asks {dispute.outcome} {amount}: {dispute.description}"]
    if dispute.seller_answer:
        lines.append(f"store: {dispute.seller_answer}" + (f": {dispute.seller_note}" if dispute.seller_note else ""))
    if dispute.return_by is not None:
        lines.append(f"return: send by {dispute.return_by:%Y-%m-%d}" + (
            f", sent {dispute.returned_at:%Y-%m-%d} track {dispute.return_track}" if dispute.returned_at else ""))
    if dispute.return_problem:
        lines.append(f"store says it did not come back as sent: {dispute.return_problem}")
    return "\n".join(lines)


async def return_received(args: argparse.Namespace, services: Services) -> str:
    dispute = await services.disputes.for_order_number(args.number)
    dispute = await services.disputes.return_received(dispute.id)
    return f"dispute {dispute.id} on order {args.number}: {dispute.state} ({dispute.resolution})"


async def decide_dispute(args: argparse.Namespace, services: Services) -> str:
    order = await services.orders.by_number(args.number)
    dispute = await services.disputes.for_order_number(order.number)
    if args.reject:
        amount = 0
    elif args.refund_full:
        amount = dispute.amount_minor
    else:
        amount = parse_amount(args.refund, order.currency)
    dispute = await services.disputes.decide(dispute.id, amount)
    return f"dispute {dispute.id} on order {order.number}: closed ({dispute.resolution})"


async def refund_order(args: argparse.Namespace, services: Services) -> str:
    order = await services.orders.by_number(args.number)
    amount = parse_amount(args.amount, order.currency) if args.amount else None
    refund = await services.orders.refund(order.user_id, order.id, amount)
    return (f"refund {refund.id}: {to_major(refund.amount_minor, refund.currency)} {refund.currency} "
            f"to {refund.destination}, expected by {refund.expected_at:%Y-%m-%d}")


def refund_status_line(refund: PendingRefund) -> str:
    amount = f"{to_major(refund.amount_minor, refund.currency)} {refund.currency}"
    if refund.where is Payout.outside:
        where = "paid outside the gateway: complete it with refund-done once paid"
    elif refund.where is Payout.operator:
        where = f"NEEDS AN OPERATOR ({refund.last_error}): refund-retry or refund-done"
    elif refund.where is Payout.accepted:
        assert refund.next_attempt_at is not None
        where = (f"accepted by the gateway as {refund.gateway_refund_id}, "
                 f"asking again at {refund.next_attempt_at:%Y-%m-%d %H:%M}")
    else:
        assert refund.next_attempt_at is not None
        tail = f", {refund.attempts} failed ({refund.last_error})" if refund.attempts else ""
        where = f"to the gateway at {refund.next_attempt_at:%Y-%m-%d %H:%M}{tail}"
    return f"refund {refund.id} (order {refund.number}): {amount}, {where}"
