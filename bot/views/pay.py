"""Paying an order: the cards to choose from, the amount to confirm, the new-card choice, the
result. The add-card flow (bot/views/cards.py) shows `paying_line` on each of its steps."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.orders import OrderRow
from bot.keyboards.orders import OrderAction, OrderCb, Tab
from bot.keyboards.pay import PayAction, PayCb
from bot.services.cards import CARD_LIMIT, HOLD_AMOUNT_MINOR, HOLD_CURRENCY, Card
from bot.services.pay import PAYMENT_CHECKED_KIND, CheckOutcome, Paid, PayOptions
from bot.views.cards import card_label, expiry_label, hold_note
from bot.views.common import Fmt, Screen, button, markup, nav_row
from bot.views.pushes import register_push


def order_back(order_id: int, tab: Tab, page: int) -> OrderCb:
    """Back to the order card (which remembers its list page)."""
    return OrderCb(action=OrderAction.open, id=order_id, tab=tab, page=page)


def _cb(action: PayAction, order_id: int, tab: Tab, page: int, **kw: object) -> PayCb:
    return PayCb(action=action, id=order_id, tab=tab, page=page, **kw)  # type: ignore[arg-type]


def _amount(order: OrderRow, f: Fmt) -> str:
    return f.money(order.card_minor, order.currency)


def choose(options: PayOptions, f: Fmt, tab: Tab, page: int, *, note: str | None = None) -> Screen:
    order = options.order
    lines = [note, ""] if note else []
    lines += [
        f._("<b>💳 Payment for order #{number}</b>").format(number=hd.quote(order.number)),
        f._("Amount: <b>{amount}</b>").format(amount=_amount(order, f)),
        "",
    ]
    if options.cards:
        lines.append(f._("Choose a card:"))
    else:
        lines.append(f._("There are no valid cards in your wallet yet: pay with a new card."))
    if options.expired:
        lines.append(f.ngettext("{count} expired card is not offered.", "{count} expired cards are not offered.",
                                options.expired).format(count=options.expired))
    rows = [
        [button(("⭐ " if c.is_default else "") + card_label(c.brand, c.last4, f)
                + " · " + expiry_label(c.exp_month, c.exp_year),
                _cb(PayAction.card, order.id, tab, page, card=c.id))]
        for c in options.cards
    ]
    rows.append([button(f._("➕ New card"), _cb(PayAction.new, order.id, tab, page))])
    rows.append(nav_row(f, back=order_back(order.id, tab, page)))
    return Screen("\n".join(lines), markup(rows))


def confirm(order: OrderRow, card: Card, f: Fmt, tab: Tab, page: int) -> Screen:
    text = "\n".join([
        f._("Pay <b>{amount}</b> for order #{number} with <b>{card}</b>?").format(
            amount=_amount(order, f), number=hd.quote(order.number), card=card_label(card.brand, card.last4, f)),
        "",
        f._("The order then goes to the seller for shipping."),
    ])
    rows = [
        [button(f._("✅ Pay {amount}").format(amount=_amount(order, f)),
                _cb(PayAction.confirm, order.id, tab, page, card=card.id))],
        [button(f._("‹ Another card"), _cb(PayAction.choose, order.id, tab, page))],
        nav_row(f, back=order_back(order.id, tab, page)),
    ]
    return Screen(text, markup(rows))


def new_card(order: OrderRow, f: Fmt, tab: Tab, page: int, *, wallet_full: bool = False) -> Screen:
    """Save the new card, or use it just this once. With a full wallet only the latter is offered:
    a card used once takes no place in the wallet."""
    lines = [
        f._("<b>💳 Pay {amount} with a new card</b>").format(amount=_amount(order, f)),
        f._("For order #{number}.").format(number=hd.quote(order.number)),
        "",
        f._("Next you type the card's details. Once the bank has checked the card, {amount} is charged "
            "for the order.").format(amount=_amount(order, f)),
        "",
    ]
    if wallet_full:
        lines.append(f.ngettext(
            "Your wallet already holds {limit} card, the most it can, so this card is used for this "
            "payment only. To keep it, delete a card in Bank cards first.",
            "Your wallet already holds {limit} cards, the most it can, so this card is used for this "
            "payment only. To keep it, delete a card in Bank cards first.", CARD_LIMIT).format(limit=CARD_LIMIT))
        rows = [[button(f._("Use it just this once"), _cb(PayAction.new_go, order.id, tab, page, save=False))]]
    else:
        lines.append(f._("Save this card for later? A saved card is in Bank cards and is offered next time; "
                         "otherwise it is used for this payment only."))
        rows = [
            [button(f._("💾 Save this card for later"), _cb(PayAction.new_go, order.id, tab, page, save=True))],
            [button(f._("Use it just this once"), _cb(PayAction.new_go, order.id, tab, page, save=False))],
        ]
    rows.append(nav_row(f, back=_cb(PayAction.choose, order.id, tab, page)))
    return Screen("\n".join(lines), markup(rows))


def paying_line(number: str, amount_minor: int, currency: str, save: bool, f: Fmt) -> str:
    """Shown above each step of the add-card flow when it runs to pay an order."""
    line = f._("💳 Paying {amount} for order #{number} with a new card.").format(
        amount=f.money(amount_minor, currency), number=hd.quote(number))
    if not save:
        line += " " + f._("The card will not be kept.")
    return line


def paid_note(paid: Paid, f: Fmt) -> str:
    lines = [f._("✅ Paid {amount} with {card}. The order is waiting for the seller to ship it.").format(
        amount=f.money(paid.amount_minor, paid.currency), card=card_label(paid.card.brand, paid.card.last4, f))]
    if not paid.card_kept:
        lines.append(f._("The card was used for this payment only and is not kept in your wallet."))
        lines.append(hold_note(HOLD_AMOUNT_MINOR, HOLD_CURRENCY, f))
    return "\n".join(lines)


def declined(order_id: int, number: str, error: str, f: Fmt, tab: Tab, page: int) -> Screen:
    text = "\n".join([
        "❌ " + error,
        f._("Order #{number} is not paid yet. You can pay with another card or try again later.").format(
            number=hd.quote(number)),
    ])
    rows = [
        [button(f._("💳 Pay with another card"), _cb(PayAction.choose, order_id, tab, page))],
        nav_row(f, back=order_back(order_id, tab, page)),
    ]
    return Screen(text, markup(rows))


def with_note(note: str, screen: Screen) -> Screen:
    return Screen(note + "\n\n" + screen.text, screen.reply_markup, screen.extra)



# -- pushes -----------------------------------------------------------------------------------
def payment_checked(payload: dict[str, Any], f: Fmt) -> Screen:
    """"payment_checked": the outcome of a payment whose answer was lost (the buyer was told it is
    being checked), found out by the sweeper from the payment service."""
    amount = f.money(int(payload["amount_minor"]), str(payload["currency"]))
    number = hd.quote(str(payload["number"]))
    card = card_label(str(payload["brand"]), str(payload["last4"]), f)
    outcome = str(payload["outcome"])
    if outcome == CheckOutcome.paid:
        text = f._("✅ The payment of {amount} for order #{number} went through: paid with {card}. The order is "
                   "waiting for the seller to ship it.").format(amount=amount, number=number, card=card)
    elif outcome == CheckOutcome.voided:
        text = f._("↩️ {amount} was charged to {card} for order #{number} when the order could no longer be "
                   "paid, so the money has been returned to the card.").format(amount=amount, number=number,
                                                                                card=card)
    else:
        text = f._("❌ The payment of {amount} for order #{number} did not go through: nothing was charged.").format(
            amount=amount, number=number)
        if payload.get("payable"):
            text += " " + f._("You can pay for the order again.")
    return Screen(text)


def _open_order(payload: dict[str, Any], f: Fmt) -> InlineKeyboardButton:
    return button(f._("📦 Open the order"), OrderCb(action=OrderAction.open, id=int(payload["order_id"])))


# money news: never held, and no toggle (the buyer was told they would hear the outcome)
register_push(PAYMENT_CHECKED_KIND, payment_checked, button=_open_order)
