"""Confirmations: cancelling (reasons, then what it does), confirming receipt, deleting."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.orders import OrderAction, OrderCb, order_cb
from bot.services.orders import BUYER_CANCEL_REASONS, CancelPreview, OrderCard, Status
from bot.views.common import Fmt, Screen, button, chunk, markup
from bot.views.orders.texts import CANCEL_REASONS, refund_preview_text

__all__ = [
    "cancel_confirm",
    "cancel_reasons",
    "cancelled_note",
    "confirm_receipt_prompt",
    "delete_confirm",
    "purge_confirm",
]


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
    yes = order_cb(OrderAction.cancel_ok, order.id, back, reason)
    return _yes_or_back("\n".join(lines), f._("✖️ Yes, cancel the order"), yes, f._("‹ Keep the order"),
                        order.id, back)


def cancelled_note(f: Fmt, refunded: bool) -> str:
    if refunded:
        return f._("The order is cancelled; the refund is on its way.")
    return f._("The order is cancelled.")


def confirm_receipt_prompt(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    window = card.dispute_window_days
    return _ask(card, back, f._("Confirm receipt of <b>order #{number}</b>?"), [
        f._("Confirm only after you have received the parcel and checked the item: the seller then gets "
            "paid and the order is completed."),
        f.ngettext("If something turns out wrong later, you can still open a dispute within {n} day.",
                   "If something turns out wrong later, you can still open a dispute within {n} days.",
                   window).format(n=window),
    ], (f._("✅ Yes, I received it"), OrderAction.confirm_ok), f._("‹ Not yet"))


def delete_confirm(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    lines = [f._("It leaves your order lists and waits in Deleted orders, where you can restore it.")]
    if card.order.status == Status.awaiting_payment:
        lines.append(f._("The order isn't paid: deleting it also cancels it."))
    return _ask(card, back, f._("Delete <b>order #{number}</b>?"), lines,
                (f._("🗑 Delete"), OrderAction.delete_ok), f._("‹ Keep it"))


def purge_confirm(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    return _ask(card, back, f._("Delete <b>order #{number}</b> for good?"), [
        f._("This can't be undone: the order disappears from Deleted orders too, and you won't be able "
            "to see it again."),
    ], (f._("🗑 Yes, delete for good"), OrderAction.purge_ok), f._("‹ Back"))


def _ask(card: OrderCard, back: OrderCb, question: str, details: list[str], yes: tuple[str, OrderAction],
         keep_label: str) -> Screen:
    """A question about the order (its number put in), what the action does, and its two buttons."""
    text = "\n".join([question.format(number=hd.quote(card.order.number)), "", *details])
    label, action = yes
    return _yes_or_back(text, label, order_cb(action, card.order.id, back), keep_label, card.order.id, back)


def _yes_or_back(text: str, yes_label: str, yes: OrderCb, back_label: str, order_id: int,
                 back: OrderCb) -> Screen:
    """A confirmation: the action's button, then one back to the order card."""
    rows = [[button(yes_label, yes)], [button(back_label, order_cb(OrderAction.open, order_id, back))]]
    return Screen(text, markup(rows))
