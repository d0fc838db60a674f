"""Texts other screens share: status and tab names, cancel reasons, tracking events, dispute
states, where a refund goes (the disputes screens and the pushes say them the same way)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.refunds import RefundRow
from bot.keyboards.orders import Tab
from bot.services.errors import N_
from bot.services.orders import OrderNotFound, OrderTab, Status
from bot.services.refunds import CardState, RefundDestination, RefundPreview, RefundTo
from bot.views.common import Fmt, card_label

__all__ = [
    "certificates_part",
    "dispute_state_label",
    "list_heading",
    "not_found",
    "refund_explanation",
    "refund_line",
    "refund_lines",
    "tab_to_service",
]


STATUS_LABELS: dict[str, str] = {
    Status.awaiting_payment: N_("💳 Awaiting payment"),
    Status.awaiting_shipment: N_("📦 Awaiting shipment"),
    Status.shipped: N_("🚚 Shipped"),
    Status.completed: N_("✅ Completed"),
    Status.cancelled: N_("✖️ Cancelled"),
    Status.in_dispute: N_("⚠️ In dispute"),
    Status.closed: N_("🔒 Closed after a dispute"),
}

TAB_LABELS: dict[Tab, str] = {
    Tab.all: N_("All"),
    Tab.unpaid: N_("Unpaid"),
    Tab.to_ship: N_("To be shipped"),
    Tab.shipped: N_("Shipped"),
    Tab.in_dispute: N_("In dispute"),
    Tab.completed: N_("Completed"),
    Tab.cancelled: N_("Cancelled"),
}

EMPTY_TAB: dict[Tab, str] = {
    Tab.all: N_("You have no orders yet. Orders you place appear here."),
    Tab.unpaid: N_("Nothing to pay for: no unpaid orders. 👌"),
    Tab.to_ship: N_("No orders are waiting to be shipped."),
    Tab.shipped: N_("No parcels on the way right now."),
    Tab.in_dispute: N_("No orders in dispute."),
    Tab.completed: N_("No completed orders yet."),
    Tab.cancelled: N_("No cancelled orders."),
}

CANCEL_REASONS: dict[str, str] = {
    "changed_mind": N_("I changed my mind"),
    "found_cheaper": N_("Found it cheaper elsewhere"),
    "wrong_details": N_("Wrong address or options"),
    "too_long": N_("Delivery takes too long"),
    "seller_asked": N_("The seller asked me to cancel"),
    "other": N_("Another reason"),
    "out_of_stock": N_("The seller is out of stock"),
    "payment_timeout": N_("Not paid in time"),
    "deleted": N_("Deleted before payment"),
}

TRACKING_EVENTS: dict[str, str] = {
    "accepted": N_("Accepted by the carrier"),
    "left_origin_facility": N_("Left the seller's sorting centre"),
    "export_customs": N_("Cleared export customs"),
    "departed_origin_country": N_("Left the country of origin"),
    "in_transit": N_("In transit"),
    "arrived_destination_country": N_("Arrived in the destination country"),
    "import_customs": N_("Cleared import customs"),
    "sorting_center": N_("At the local sorting centre"),
    "out_for_delivery": N_("Out for delivery"),
    "delivered": N_("Delivered"),
}

TITLE_MAX = 40


def tab_to_service(tab: Tab) -> OrderTab:
    return OrderTab(tab.name)


def tab_from_service(tab: OrderTab) -> Tab:
    return Tab[tab.value]


def status_label(f: Fmt, status: str) -> str:
    return f._(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def shorten(text: str, limit: int = TITLE_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def number_label(f: Fmt, number: str) -> str:
    return f._("Order #{number}").format(number=hd.quote(number))


def list_heading(f: Fmt, index: int, number: str, at: datetime) -> str:
    """The first line of an order's entry in a list (My orders, Returns & disputes)."""
    return f._("<b>{index}. #{number}</b> · {date}").format(index=index, number=hd.quote(number), date=f.date(at))


def not_found(f: Fmt) -> str:
    return f._(OrderNotFound.msgid)


# -- where a refund goes (also used by disputes) ----------------------------------------------------
def refund_target(f: Fmt, to: str, brand: str | None, last4: str | None) -> str:
    if to == RefundTo.card:
        return card_label(brand, last4, f)
    if to == RefundTo.bank_account:
        return f._("the bank account of {card}").format(card=card_label(brand, last4, f))
    if to == RefundTo.certificate:
        return f._("your gift certificates")
    return f._("the original payment method")


def refund_explanation(f: Fmt, dest: RefundDestination) -> str:
    """Why the money goes where it goes, when that is not simply "back to the card"."""
    card = card_label(dest.brand, dest.last4, f)
    if dest.to == RefundTo.bank_account and dest.card_state == CardState.expired:
        return f._("{card} has expired, so the bank will credit the account that card belongs to: "
                   "refunds return where the money came from.").format(card=card)
    if dest.to == RefundTo.bank_account:
        return f._("{card} is no longer in your account, so the bank will credit the account that card "
                   "belongs to: refunds return where the money came from.").format(card=card)
    if dest.to == RefundTo.original:
        return f._("The money goes back to the payment method used for this order.")
    if dest.to == RefundTo.certificate:
        return f._("The money goes back to your gift certificates at once.")
    return f._("The money goes back to {card}.").format(card=card)


def certificates_part(f: Fmt, refund: RefundPreview) -> list[str]:
    """Where a refund goes when gift certificates paid for the order: how it splits, why (when the
    card's part does not simply go back to the card) and a certificate renewed to take it."""
    dest = refund.destination
    if not refund.certificates_minor:
        return [refund_explanation(f, dest)]
    lines = []
    if refund.card_minor:
        lines.append(f._("🎁 {amount} of it goes back to your gift certificates at once, and {rest} to {target}.").format(
            amount=f.money(refund.certificates_minor, refund.currency),
            rest=f.money(refund.card_minor, refund.currency), target=refund_target(f, dest.to, dest.brand, dest.last4)))
        if dest.to != RefundTo.card:  # why not simply to the card
            lines.append(refund_explanation(f, dest))
    else:
        lines.append(refund_explanation(f, dest))
    if refund.certificates_until is not None:
        lines.append(f._("🎁 The gift certificate it goes back to is valid until {date}, so that you can spend it.")
                     .format(date=f.date(refund.certificates_until)))
    return lines


def refund_preview_text(f: Fmt, refund: RefundPreview) -> str:
    lines = [
        f._("You will get {amount} back.").format(amount=f.money(refund.amount_minor, refund.currency)),
        *certificates_part(f, refund),
    ]
    if refund.card_minor:
        lines.append(f._("Expected by {date}.").format(date=f.date(refund.expected_at)))
        if refund.fast:
            lines.append(f._("⚡ Faster refunds: a privilege of your loyalty level."))
    return "\n".join(lines)


def refund_line(f: Fmt, refund: RefundRow) -> str:
    target = refund_target(f, refund.destination, refund.card_brand, refund.card_last4)
    amount = f.money(refund.amount_minor, refund.currency)
    if refund.state == "completed" and refund.completed_at is not None:
        return f._("💸 Refund of {amount} to {target}: done on {date}").format(
            amount=amount, target=target, date=f.date(refund.completed_at))
    return f._("💸 Refund of {amount} to {target}: expected by {date}").format(
        amount=amount, target=target, date=f.date(refund.expected_at))


REFUNDS_SHOWN = 5


def refund_lines(f: Fmt, refunds: Sequence[RefundRow]) -> list[str]:
    """An order's refunds as the order card and the dispute card list them: the first few, then how
    many more."""
    lines = [refund_line(f, refund) for refund in refunds[:REFUNDS_SHOWN]]
    more = len(refunds) - REFUNDS_SHOWN
    if more > 0:
        lines.append(f.ngettext("…and {n} more refund.", "…and {n} more refunds.", more).format(n=more))
    return lines


DISPUTE_STATES: dict[str, str] = {
    "open": N_("waiting for the seller's answer"),
    "answered:reject": N_("the seller rejected it — your turn"),
    "answered:offer": N_("the seller offered a refund — your turn"),
    "returning": N_("return accepted by the seller"),
    "escalated": N_("under review by the platform"),
    "closed:refunded_full": N_("closed, refunded in full"),
    "closed:refunded_partial": N_("closed, partly refunded"),
    "closed:rejected": N_("closed without a refund"),
    "closed:not_returned": N_("closed: the item was not sent back in time"),
}


def dispute_state_label(f: Fmt, state: str, seller_answer: str | None, resolution: str | None) -> str:
    key = {"answered": f"answered:{seller_answer}", "closed": f"closed:{resolution}"}.get(state, state)
    return f._(DISPUTE_STATES[key]) if key in DISPUTE_STATES else state
