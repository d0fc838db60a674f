"""The order card: items a page at a time, refunds, the address, the dispute, and the buttons for
what the buyer may do now."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.catalog import ShopAction, ShopCb
from bot.keyboards.disputes import DisputeAction, DisputeCb
from bot.keyboards.orders import OrderAction, OrderCb, OrderItemsCb, list_cb, order_cb
from bot.keyboards.pay import PayAction, PayCb
from bot.keyboards.relay import RelayAction, RelayCb
from bot.keyboards.reviews import ReviewAction, ReviewCb
from bot.services.addresses import AddressDraft
from bot.services.orders import STAMP, AddressSnapshot, OrderCard, Status
from bot.views.addresses import address_block
from bot.views.catalog import options_text
from bot.views.common import Fmt, Screen, button, card_label, clip, markup, nav_row, totals
from bot.views.orders.texts import (
    CANCEL_REASONS,
    dispute_state_label,
    number_label,
    refund_lines,
    status_label,
)

__all__ = [
    "address_text",
    "items_pages",
    "order_card",
]


def address_text(f: Fmt, address: AddressSnapshot) -> str:
    """The order's address laid out by the address book's own layout (bot/views/addresses/layout.py), so
    it reads the same on the order card as in the book."""
    draft = AddressDraft(country=address.country.upper(), recipient=address.recipient, phone=address.phone,
                         region=address.region, city=address.city, street=address.street,
                         apartment=address.apartment, postal_code=address.postal_code)
    return address_block(draft, f)


ITEMS_PER_PAGE = 10  # an order card shows its items a page at a time
ITEM_TITLE_SHOWN = 120  # a shop's title and options are cut on the card, so a page always fits
ITEM_DETAILS_SHOWN = 120
TRACKING_BUDGET = 3000  # visible characters of tracking events on one screen (newest first)


def items_pages(card: OrderCard) -> int:
    return max(1, -(-len(card.items) // ITEMS_PER_PAGE))


def _items(f: Fmt, card: OrderCard, at: int) -> list[str]:
    lines = []
    currency = card.order.currency
    at = min(max(at, 0), items_pages(card) - 1)
    shown = card.items[at * ITEMS_PER_PAGE:(at + 1) * ITEMS_PER_PAGE]
    for item in shown:
        lines.append(f"{item.position}. {hd.quote(clip(item.title, ITEM_TITLE_SHOWN))}")
        details = options_text(item.options, f)
        price = f.money(item.unit_price_minor, currency)
        lines.append("    " + " · ".join([
            *([hd.quote(clip(details, ITEM_DETAILS_SHOWN))] if details else []),
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
    days = card.protection_days_left(f.tz)
    if days == 0 and order.protection_ends_at is not None:
        lines.append(f._("🛡 Buyer protection ends today at {time}").format(time=f.time(order.protection_ends_at)))
    elif days is not None and order.protection_ends_at is not None:
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
    lines += totals(f, order.currency, items_minor=order.items_minor, shipping_minor=order.shipping_minor,
                    discount_minor=order.discount_minor, total_minor=order.total_minor)
    if order.certificate_minor:
        lines.append(f._("🎁 Paid with gift certificates: {amount}").format(
            amount=f.money(order.certificate_minor, order.currency)))
    if card.card is not None and order.certificate_minor:
        lines.append(f._("💳 Paid with {card}: {amount}").format(
            card=card_label(card.card.brand, card.card.last4, f), amount=f.money(order.card_minor, order.currency)))
    elif card.card is not None:
        lines.append(f._("💳 Paid with {card}").format(card=card_label(card.card.brand, card.card.last4, f)))
    lines += refund_lines(f, card.refunds)
    if not card.address.empty:
        lines += ["", f._("📍 Ship to:"), address_text(f, card.address)]
    if order.track_number:
        lines += ["", f._("📮 Track number: <code>{track}</code>").format(track=hd.quote(order.track_number))]
    if card.dispute is not None:
        state = dispute_state_label(f, card.dispute.state, card.dispute.seller_answer, card.dispute.resolution)
        lines += ["", f._("⚖️ Dispute: {state}").format(state=state)]
    return Screen("\n".join(lines), markup([_items_pager(card, f, back, items_page), *_card_rows(card, f, back)]))


def _card_rows(card: OrderCard, f: Fmt, back: OrderCb) -> list:
    oid = card.order.id
    rows: list = []
    if card.in_bin:
        rows.append([button(f._("♻️ Restore"), order_cb(OrderAction.restore, oid, back)),
                     button(f._("🗑 Delete for good"), order_cb(OrderAction.purge, oid, back))])
        rows.append(nav_row(f, back=list_cb(back.tab, back.page)))
        return rows
    if card.status == Status.awaiting_payment:
        rows.append([button(f._("💳 Pay {amount}").format(amount=f.money(card.order.card_minor, card.order.currency)),
                            PayCb(action=PayAction.choose, id=oid, tab=back.tab, page=back.page))])
    if card.can_track:
        rows.append([button(f._("📍 Track parcel"), order_cb(OrderAction.track, oid, back))])
    if card.can_confirm:
        rows.append([button(f._("✅ Confirm receipt"), order_cb(OrderAction.confirm, oid, back))])
    if card.can_review:
        rows.append([button(f._("⭐ Leave a review"), ReviewCb(action=ReviewAction.order, id=oid))])
    elif card.has_reviews:
        rows.append([button(f._("⭐ Your reviews"), ReviewCb(action=ReviewAction.order, id=oid))])
    if card.can_dispute:
        rows.append([button(f._("⚠️ Open a dispute"), DisputeCb(action=DisputeAction.start, id=oid))])
    if card.dispute is not None:
        rows.append([button(f._("⚖️ View the dispute"), DisputeCb(action=DisputeAction.open, id=card.dispute.id))])
    if card.can_cancel:
        rows.append([button(f._("✖️ Cancel order"), order_cb(OrderAction.cancel, oid, back))])
    if card.deletable:  # an order under way or in dispute can't be: no button (a stale one says why)
        rows.append([button(f._("🗑 Delete"), order_cb(OrderAction.delete, oid, back))])
    rows.append([button(f._("✉️ Message seller"), RelayCb(action=RelayAction.order, id=oid)),
                 button(f._("🏬 Store"), ShopCb(action=ShopAction.store, id=card.order.store_id))])
    rows.append(nav_row(f, back=list_cb(back.tab, back.page)))
    return rows
