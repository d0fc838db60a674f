"""Orders screens: the tabs, the order card and its confirmations, tracking, deleted orders.

Texts that other screens share (status names, where a refund goes) live here too, so the disputes
screens and, later, the pushes say the same thing the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.orders import SummaryRow, TrackingRow
from bot.db.refunds import RefundRow
from bot.keyboards.disputes import DisputeAction, DisputeCb
from bot.keyboards.orders import ORDER_TABS, OrderAction, OrderCb, OrderItemsCb, Tab, list_cb, order_cb
from bot.keyboards.pay import PayAction, PayCb
from bot.keyboards.reviews import ReviewAction, ReviewCb
from bot.services.addresses import AddressDraft
from bot.services.errors import N_
from bot.services.orders import (
    BUYER_CANCEL_REASONS,
    PROTECTION_KIND,
    STAMP,
    STATUS_KIND,
    TRACKING_KIND,
    AddressSnapshot,
    CancelPreview,
    OrderCard,
    OrderPage,
    OrderTab,
    Status,
    Tracking,
)
from bot.services.refunds import REFUND_KIND, CardState, RefundDestination, RefundPreview, RefundTo
from bot.views.addresses import address_block
from bot.views.common import (
    Fmt,
    Screen,
    button,
    card_label,
    chunk,
    clip,
    fitting,
    flow_row,
    markup,
    nav_row,
    page_label,
)
from bot.views.pushes import register_push

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
    Tab.completed: N_("Completed"),
    Tab.cancelled: N_("Cancelled"),
}

EMPTY_TAB: dict[Tab, str] = {
    Tab.all: N_("You have no orders yet. Orders you place appear here."),
    Tab.unpaid: N_("Nothing to pay for: no unpaid orders. 👌"),
    Tab.to_ship: N_("No orders are waiting to be shipped."),
    Tab.shipped: N_("No parcels on the way right now."),
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


def not_found(f: Fmt) -> str:
    return f._("This order is no longer available.")


# -- where a refund goes (also used by disputes) ----------------------------------------------------
def refund_target(f: Fmt, to: str, brand: str | None, last4: str | None) -> str:
    if to == RefundTo.card:
        return card_label(brand, last4, f)
    if to == RefundTo.bank_account:
        return f._("the bank account of {card}").format(card=card_label(brand, last4, f))
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
    return f._("The money goes back to {card}.").format(card=card)


def refund_preview_text(f: Fmt, refund: RefundPreview) -> str:
    lines = [
        f._("You will get {amount} back.").format(amount=f.money(refund.amount_minor, refund.currency)),
        refund_explanation(f, refund.destination),
        f._("Expected by {date}.").format(date=f.date(refund.expected_at)),
    ]
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


# -- lists --------------------------------------------------------------------------------------------
def _summary_lines(f: Fmt, index: int, row: SummaryRow) -> list[str]:
    first = hd.quote(shorten(row.first_title))
    more = row.item_lines - 1
    if more > 0:
        first += " " + f.ngettext("+{n} more item", "+{n} more items", more).format(n=more)
    return [
        f._("<b>{index}. #{number}</b> · {date}").format(index=index, number=hd.quote(row.number),
                                                          date=f.date(row.created_at)),
        first,
        f"<b>{f.money(row.total_minor, row.currency)}</b> · {status_label(f, row.status)}",
    ]


def _pager(page: OrderPage, back: Tab) -> list:
    if page.pages <= 1:
        return []
    row = []
    if page.page > 0:
        row.append(button("‹", list_cb(back, page.page - 1)))
    row.append(button(page_label(page.page, page.pages), OrderCb(action=OrderAction.noop)))
    if page.page < page.pages - 1:
        row.append(button("›", list_cb(back, page.page + 1)))
    return row


def _open_buttons(page: OrderPage, back: OrderCb) -> list:
    return [
        button(str(page.offset + i), order_cb(OrderAction.open, row.id, back))
        for i, row in enumerate(page.rows, 1)
    ]


def order_list(page: OrderPage, f: Fmt) -> Screen:
    """A tab of My orders: tabs with counts, one page of 5, the pager, search and the other lists."""
    assert page.tab is not None
    tab = tab_from_service(page.tab)
    head = f._("<b>My orders</b> · {tab}").format(tab=f._(TAB_LABELS[tab]))
    lines = [head, ""]
    if page.rows:
        for i, row in enumerate(page.rows, page.offset + 1):
            lines += [*_summary_lines(f, i, row), ""]
        lines.append(f._("Tap a number to open the order."))
    else:
        lines.append(f._(EMPTY_TAB[tab]))
    tabs = []
    for t in ORDER_TABS:
        label = f"{f._(TAB_LABELS[t])} · {page.counts.get(tab_to_service(t), 0)}"
        tabs.append(button(("• " + label) if t == tab else label, list_cb(t)))
    back = list_cb(tab, page.page)
    rows = [*chunk(tabs, 3), _open_buttons(page, back), _pager(page, tab)]
    extra = [button(f._("🔍 Search"), OrderCb(action=OrderAction.search, tab=tab, page=page.page))]
    extra.append(button(f._("↩️ Disputes"), DisputeCb(action=DisputeAction.list)))
    if page.deleted_count:
        extra.append(button(f._("🗑 Deleted · {n}").format(n=page.deleted_count), list_cb(Tab.deleted)))
    rows += [extra, nav_row(f)]
    return Screen("\n".join(lines).rstrip(), markup(rows))


def search_results(page: OrderPage, f: Fmt, origin: OrderCb | None = None) -> Screen:
    """`origin`: the list the search was started from, where Back leads ("All" when not known)."""
    lines = [f._("<b>Search</b> · “{query}”").format(query=hd.quote(shorten(page.query, 64))), ""]
    if page.rows:
        lines.append(f.ngettext("Found {n} order.", "Found {n} orders.", page.total).format(n=page.total))
        lines.append("")
        for i, row in enumerate(page.rows, page.offset + 1):
            lines += [*_summary_lines(f, i, row), ""]
    else:
        lines.append(f._("Nothing found. Try an order number or another word from the product title."))
    back = list_cb(Tab.search, page.page)
    rows = [
        _open_buttons(page, back), _pager(page, Tab.search),
        [button(f._("🔍 New search"), OrderCb(action=OrderAction.search, tab=Tab.search)),
         button(f._("✖️ Clear search"), OrderCb(action=OrderAction.clear_search))],
        nav_row(f, back=origin or list_cb()),
    ]
    return Screen("\n".join(lines).rstrip(), markup(rows))


def search_prompt(f: Fmt, error: str | None = None) -> Screen:
    text = f._("Type an order number (for example <code>261125000042</code>) or a word from a product "
               "title (for example <i>earbuds</i>).")
    if error:
        text = f"{error}\n\n{text}"
    return Screen(text, markup([flow_row(f)]))


def search_expired(f: Fmt) -> str:
    return f._("That search is over; here are all your orders.")


def deleted_list(page: OrderPage, f: Fmt) -> Screen:
    lines = [f._("<b>Deleted orders</b>"), ""]
    if page.rows:
        lines.append(f._("Deleted orders are out of your lists. Open one to restore it or delete it for good."))
        lines.append("")
        for i, row in enumerate(page.rows, page.offset + 1):
            lines += [*_summary_lines(f, i, row), ""]
    else:
        lines.append(f._("Nothing here. Orders you delete from My orders wait here until you restore "
                         "them or delete them for good."))
    back = list_cb(Tab.deleted, page.page)
    rows = [_open_buttons(page, back), _pager(page, Tab.deleted),
            [button(f._("📦 My orders"), list_cb())], nav_row(f)]
    return Screen("\n".join(lines).rstrip(), markup(rows))


# -- the order card ------------------------------------------------------------------------------------
def address_text(f: Fmt, address: AddressSnapshot) -> str:
    """The order's address laid out by the address book's own layout (bot/views/addresses.py), so
    it reads the same on the order card as in the book."""
    draft = AddressDraft(country=address.country.upper(), recipient=address.recipient, phone=address.phone,
                         region=address.region, city=address.city, street=address.street,
                         apartment=address.apartment, postal_code=address.postal_code)
    return address_block(draft, f)


ITEMS_PER_PAGE = 10  # an order card shows its items a page at a time
ITEM_TITLE_SHOWN = 120  # a shop's title and options are cut on the card, so a page always fits
ITEM_DETAILS_SHOWN = 120
TRACKING_BUDGET = 3000  # visible characters of tracking events on one screen (newest first)
REFUNDS_SHOWN = 5


def items_pages(card: OrderCard) -> int:
    return max(1, -(-len(card.items) // ITEMS_PER_PAGE))


def _items(f: Fmt, card: OrderCard, at: int) -> list[str]:
    lines = []
    currency = card.order.currency
    at = min(max(at, 0), items_pages(card) - 1)
    shown = card.items[at * ITEMS_PER_PAGE:(at + 1) * ITEMS_PER_PAGE]
    for item in shown:
        lines.append(f"{item.position}. {hd.quote(clip(item.title, ITEM_TITLE_SHOWN))}")
        details = [f"{name}: {value}" for name, value in item.options]
        price = f.money(item.unit_price_minor, currency)
        lines.append("    " + " · ".join([
            *([hd.quote(clip(" · ".join(details), ITEM_DETAILS_SHOWN))] if details else []),
            f"{item.quantity} × {price}" if item.quantity > 1 else price,
        ]))
    if len(card.items) > len(shown):
        first = at * ITEMS_PER_PAGE + 1
        lines.append(f._("Items {first}–{last} of {total}").format(
            first=first, last=first + len(shown) - 1, total=len(card.items)))
    return lines


def _items_pager(card: OrderCard, f: Fmt, back: OrderCb, at: int) -> list[InlineKeyboardButton]:
    pages = items_pages(card)
    if pages == 1:
        return []
    at = min(max(at, 0), pages - 1)
    oid, row = card.order.id, []
    if at > 0:
        row.append(button(f._("‹ Previous items"), OrderItemsCb(id=oid, at=at - 1, tab=back.tab, page=back.page)))
    if at < pages - 1:
        row.append(button(f._("Next items ›"), OrderItemsCb(id=oid, at=at + 1, tab=back.tab, page=back.page)))
    return row


def order_card(card: OrderCard, f: Fmt, back: OrderCb, items_page: int = 0) -> Screen:
    order = card.order
    status_at = getattr(order, STAMP.get(order.status, "created_at")) or order.created_at
    lines = [
        f"<b>{number_label(f, order.number)}</b>",
        f._("🏬 {store}").format(store=hd.quote(card.store)),
        f._("Placed on {date}").format(date=f.date(order.created_at)),
        "",
        f._("Status: <b>{status}</b> · {when}").format(status=status_label(f, order.status),
                                                       when=f.datetime(status_at)),
    ]
    if card.in_bin and order.deleted_at is not None:
        lines.append(f._("🗑 In Deleted orders since {date}").format(date=f.date(order.deleted_at)))
    if order.status == Status.awaiting_payment and order.pay_by is not None and not card.in_bin:
        lines.append(f._("⏳ Pay by {time}, or the order is cancelled automatically.").format(
            time=f.datetime(order.pay_by)))
    if order.status == Status.cancelled and order.cancel_reason in CANCEL_REASONS:
        lines.append(f._("Reason: {reason}").format(reason=f._(CANCEL_REASONS[order.cancel_reason])))
    days = card.protection_days_left
    if days is not None and order.protection_ends_at is not None:
        lines.append(f.ngettext(
            "🛡 Buyer protection: {n} day left (until {date})",
            "🛡 Buyer protection: {n} days left (until {date})", days,
        ).format(n=days, date=f.date(order.protection_ends_at)))
    if order.status == Status.completed and card.dispute_until is not None:
        lines.append(f._("Something wrong? You can open a dispute until {date}.").format(
            date=f.date(card.dispute_until)))
    if order.delivered_at is not None and order.status == Status.shipped:
        lines.append(f._("📬 Delivered on {date}: please check the item and confirm receipt.").format(
            date=f.date(order.delivered_at)))
    lines += ["", *_items(f, card, items_page), ""]
    lines.append(f._("Items: {amount}").format(amount=f.money(order.items_minor, order.currency)))
    shipping = (f.money(order.shipping_minor, order.currency) if order.shipping_minor
                else f._("free"))
    lines.append(f._("Shipping: {amount}").format(amount=shipping))
    lines.append(f._("<b>Total: {amount}</b>").format(amount=f.money(order.total_minor, order.currency)))
    if card.card is not None:
        lines.append(f._("💳 Paid with {card}").format(card=card_label(card.card.brand, card.card.last4, f)))
    for refund in card.refunds[:REFUNDS_SHOWN]:
        lines.append(refund_line(f, refund))
    if len(card.refunds) > REFUNDS_SHOWN:
        more = len(card.refunds) - REFUNDS_SHOWN
        lines.append(f.ngettext("…and {n} more refund.", "…and {n} more refunds.", more).format(n=more))
    if not card.address.empty:
        lines += ["", f._("📍 Ship to:"), address_text(f, card.address)]
    if order.track_number:
        lines += ["", f._("📮 Track number: <code>{track}</code>").format(track=hd.quote(order.track_number))]
    if card.dispute is not None:
        state = dispute_state_label(f, card.dispute.state, card.dispute.seller_answer, card.dispute.resolution)
        lines += ["", f._("⚖️ Dispute: {state}").format(state=state)]
    return Screen("\n".join(lines), markup([_items_pager(card, f, back, items_page), *_card_rows(card, f, back)]))


DISPUTE_STATES: dict[str, str] = {
    "open": N_("waiting for the seller's answer"),
    "answered:reject": N_("the seller rejected it — your turn"),
    "answered:offer": N_("the seller offered a refund — your turn"),
    "escalated": N_("under review by the platform"),
    "closed:refunded_full": N_("closed, refunded in full"),
    "closed:refunded_partial": N_("closed, partly refunded"),
    "closed:rejected": N_("closed without a refund"),
}


def dispute_state_label(f: Fmt, state: str, seller_answer: str | None, resolution: str | None) -> str:
    key = {"answered": f"answered:{seller_answer}", "closed": f"closed:{resolution}"}.get(state, state)
    return f._(DISPUTE_STATES[key]) if key in DISPUTE_STATES else state


def _card_rows(card: OrderCard, f: Fmt, back: OrderCb) -> list:
    oid = card.order.id
    rows: list = []
    if card.in_bin:
        rows.append([button(f._("♻️ Restore"), order_cb(OrderAction.restore, oid, back)),
                     button(f._("🗑 Delete for good"), order_cb(OrderAction.purge, oid, back))])
        rows.append(nav_row(f, back=list_cb(back.tab, back.page)))
        return rows
    if card.status == Status.awaiting_payment:
        rows.append([button(f._("💳 Pay {amount}").format(amount=f.money(card.order.total_minor, card.order.currency)),
                            PayCb(action=PayAction.choose, id=oid, tab=back.tab, page=back.page))])
    if card.can_track:
        rows.append([button(f._("📍 Track parcel"), order_cb(OrderAction.track, oid, back))])
    if card.can_confirm:
        rows.append([button(f._("✅ Confirm receipt"), order_cb(OrderAction.confirm, oid, back))])
    if card.can_review:
        rows.append([button(f._("⭐ Leave a review"), ReviewCb(action=ReviewAction.order, id=oid))])
    if card.can_dispute:
        rows.append([button(f._("⚠️ Open a dispute"), DisputeCb(action=DisputeAction.start, id=oid))])
    if card.dispute is not None:
        rows.append([button(f._("⚖️ View the dispute"), DisputeCb(action=DisputeAction.open, id=card.dispute.id))])
    if card.can_cancel:
        rows.append([button(f._("✖️ Cancel order"), order_cb(OrderAction.cancel, oid, back))])
    if card.deletable:  # an order under way or in dispute can't be: no button (a stale one says why)
        rows.append([button(f._("🗑 Delete"), order_cb(OrderAction.delete, oid, back))])
    rows.append(nav_row(f, back=list_cb(back.tab, back.page)))
    return rows


# -- confirmations ----------------------------------------------------------------------------------------
def cancel_reasons(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    text = f._("Why do you want to cancel <b>order #{number}</b>?").format(number=hd.quote(card.order.number))
    buttons = [button(f._(CANCEL_REASONS[r]), order_cb(OrderAction.cancel_reason, card.order.id, back, r.value))
               for r in BUYER_CANCEL_REASONS]
    rows = [*chunk(buttons, 2),
            [button(f._("‹ Keep the order"), order_cb(OrderAction.open, card.order.id, back))]]
    return Screen(text, markup(rows))


def cancel_confirm(preview: CancelPreview, reason: str, f: Fmt, back: OrderCb) -> Screen:
    order = preview.order
    lines = [
        f._("Cancel <b>order #{number}</b>?").format(number=hd.quote(order.number)),
        f._("Reason: {reason}").format(reason=f._(CANCEL_REASONS.get(reason, CANCEL_REASONS["other"]))),
        "",
    ]
    if preview.refund is not None:
        lines.append(f._("The order is paid, so it will be refunded."))
        lines.append(refund_preview_text(f, preview.refund))
    else:
        lines.append(f._("The order isn't paid yet: nothing will be charged."))
    rows = [
        [button(f._("✖️ Yes, cancel the order"), order_cb(OrderAction.cancel_ok, order.id, back, reason))],
        [button(f._("‹ Keep the order"), order_cb(OrderAction.open, order.id, back))],
    ]
    return Screen("\n".join(lines), markup(rows))


def cancelled_note(f: Fmt, refunded: bool) -> str:
    if refunded:
        return f._("The order is cancelled; the refund is on its way.")
    return f._("The order is cancelled.")


def confirm_receipt_prompt(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    text = "\n".join([
        f._("Confirm receipt of <b>order #{number}</b>?").format(number=hd.quote(card.order.number)),
        "",
        f._("Confirm only after you have received the parcel and checked the item: the seller then gets "
            "paid and the order is completed."),
        f.ngettext("If something turns out wrong later, you can still open a dispute within {n} day.",
                   "If something turns out wrong later, you can still open a dispute within {n} days.",
                   card.dispute_window_days).format(n=card.dispute_window_days),
    ])
    rows = [
        [button(f._("✅ Yes, I received it"), order_cb(OrderAction.confirm_ok, card.order.id, back))],
        [button(f._("‹ Not yet"), order_cb(OrderAction.open, card.order.id, back))],
    ]
    return Screen(text, markup(rows))


def delete_confirm(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    lines = [
        f._("Delete <b>order #{number}</b>?").format(number=hd.quote(card.order.number)),
        "",
        f._("It leaves your order lists and waits in Deleted orders, where you can restore it."),
    ]
    if card.order.status == Status.awaiting_payment:
        lines.append(f._("The order isn't paid: deleting it also cancels it."))
    rows = [
        [button(f._("🗑 Delete"), order_cb(OrderAction.delete_ok, card.order.id, back))],
        [button(f._("‹ Keep it"), order_cb(OrderAction.open, card.order.id, back))],
    ]
    return Screen("\n".join(lines), markup(rows))


def purge_confirm(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    text = "\n".join([
        f._("Delete <b>order #{number}</b> for good?").format(number=hd.quote(card.order.number)),
        "",
        f._("This can't be undone: the order disappears from Deleted orders too, and you won't be able "
            "to see it again."),
    ])
    rows = [
        [button(f._("🗑 Yes, delete for good"), order_cb(OrderAction.purge_ok, card.order.id, back))],
        [button(f._("‹ Back"), order_cb(OrderAction.open, card.order.id, back))],
    ]
    return Screen(text, markup(rows))


# -- tracking ----------------------------------------------------------------------------------------------
def event_label(f: Fmt, event: TrackingRow) -> str:
    if event.code in TRACKING_EVENTS:
        return f._(TRACKING_EVENTS[event.code])
    return hd.quote(event.description or event.code)


def tracking(track: Tracking, f: Fmt, back: OrderCb) -> Screen:
    order = track.order
    lines = [
        f._("<b>Parcel for order #{number}</b>").format(number=hd.quote(order.number)),
        f"{hd.quote(track.carrier)} · <code>{hd.quote(order.track_number or '')}</code>".lstrip(" ·"),
        "",
    ]
    if track.events:
        blocks = [f"<b>{f.datetime(event.at)}</b>\n{event_label(f, event)}"
                  + (f" · {hd.quote(event.location)}" if event.location else "") for event in track.events]
        shown = fitting(blocks, TRACKING_BUDGET)  # the newest first, as many as fit
        lines += blocks[:shown]
        if shown < len(blocks):
            earlier = len(blocks) - shown
            lines.append(f.ngettext("…and {n} earlier event.", "…and {n} earlier events.", earlier).format(n=earlier))
        lines.append("")
    else:
        lines += [f._("The carrier has no news about this parcel yet."), ""]
    if track.carrier_failed:
        lines.append(f._("The carrier didn't answer just now; this is what we knew before."))
    if track.checked_at is not None:
        lines.append(f._("Checked with the carrier: {time}").format(time=f.datetime(track.checked_at)))
    rows = [
        [button(f._("🔄 Refresh"), order_cb(OrderAction.refresh, order.id, back))],
        nav_row(f, back=order_cb(OrderAction.open, order.id, back)),
    ]
    return Screen("\n".join(lines).rstrip(), markup(rows))


def refreshed_note(f: Fmt, new: int) -> str:
    if not new:
        return f._("No news from the carrier yet.")
    return f.ngettext("{n} new event", "{n} new events", new).format(n=new)


# -- pushes (delivered from the outbox in the user's language) -----------------------------------------
def _open_order_button(payload: dict[str, Any], f: Fmt) -> InlineKeyboardButton:
    return button(f._("📦 Open the order"), OrderCb(action=OrderAction.open, id=int(payload["order_id"])))


def status_push(payload: dict[str, Any], f: Fmt) -> Screen:
    """"order_status": one line that says what happened, then the details that matter for it."""
    number = hd.quote(str(payload["number"]))
    status = str(payload["status"])
    store = hd.quote(str(payload.get("store") or ""))
    lines = {
        Status.awaiting_shipment: f._("💳 Order #{number} is paid. {store} is preparing it for shipment."),
        Status.shipped: f._("🚚 Order #{number} from {store} is on its way."),
        Status.completed: f._("✅ Order #{number} is completed. Thank you for your purchase!"),
        Status.cancelled: f._("✖️ Order #{number} is cancelled."),
        Status.in_dispute: f._("⚠️ A dispute is open on order #{number}."),
        Status.closed: f._("🔒 The dispute on order #{number} is closed."),
    }
    template = lines.get(Status(status)) if status in Status.__members__.values() else None
    text = (template or f._("Order #{number}: {status}")).format(number=number, store=store,
                                                        status=status_label(f, status))
    extra = []
    if payload.get("track_number"):
        extra.append(f._("Track number: {track}").format(track=f"<code>{hd.quote(str(payload['track_number']))}</code>"))
    if payload.get("protection_ends_at"):
        ends = datetime.fromisoformat(str(payload["protection_ends_at"]))
        extra.append(f._("Buyer protection until {date}").format(date=f.date(ends)))
    if status == Status.cancelled and int(payload.get("refund_minor") or 0) > 0:
        extra.append(f._("{amount} will be refunded.").format(
            amount=f.money(int(payload["refund_minor"]), str(payload["currency"]))))
    return Screen("\n".join([text, *extra]))


def tracking_push(payload: dict[str, Any], f: Fmt) -> Screen:
    """"order_tracking": the parcel's new event."""
    at = datetime.fromisoformat(str(payload["at"]))
    where = f" — {hd.quote(str(payload['location']))}" if payload.get("location") else ""
    return Screen("\n".join([
        f._("📍 Order #{number}: {event}").format(number=hd.quote(str(payload["number"])),
                                         event=hd.quote(str(payload.get("description") or ""))) + where,
        f.datetime(at),
    ]))


def refund_push(payload: dict[str, Any], f: Fmt) -> Screen:
    """"refund": issued (on its way, with where and when) or completed."""
    amount = f.money(int(payload["amount_minor"]), str(payload["currency"]))
    number = hd.quote(str(payload["number"]))
    target = refund_target(f, str(payload.get("destination") or ""), payload.get("brand"), payload.get("last4"))
    if payload.get("step") == "completed":
        return Screen(f._("💸 The refund of {amount} for order #{number} has been paid to {target}.").format(
            amount=amount, number=number, target=target))
    expected = datetime.fromisoformat(str(payload["expected_at"]))
    return Screen(f._("💸 A refund of {amount} for order #{number} is on its way to {target}. Expected by {date}.").format(
        amount=amount, number=number, target=target, date=f.date(expected)))


register_push(STATUS_KIND, status_push, button=_open_order_button)
register_push(TRACKING_KIND, tracking_push, button=_open_order_button)
register_push(REFUND_KIND, refund_push, button=_open_order_button)


def protection_reminder(payload: dict[str, Any], f: Fmt) -> Screen:
    """The reminder "protection_ending", 3 days before buyer protection of a shipped order ends."""
    ends = datetime.fromisoformat(str(payload["ends_at"]))
    return Screen(f._("🛡 Buyer protection for order #{number} ends on {date}. Not received, or something is wrong? Open a dispute before then; otherwise the order completes by itself.").format(
        number=hd.quote(str(payload["number"])), date=f.date(ends)))


register_push(PROTECTION_KIND, protection_reminder, button=_open_order_button)
