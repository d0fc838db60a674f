"""Confirmations: cancelling (reasons, then what it does), confirming receipt, deleting."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.orders import OrderRow
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
    if preview.refund is not None:
        details = [f._("The order is paid, so it will be refunded."), refund_preview_text(f, preview.refund)]
    else:
        details = [f._("The order isn't paid yet: nothing will be charged.")]
    if preview.order.discount_minor:
        details.append(f._("🎟 The coupons used on it come back to your wallet (while they are valid)."))
    why = f._("Reason: {reason}").format(reason=f._(CANCEL_REASONS.get(reason, CANCEL_REASONS["other"])))
    return _ask(preview.order, back, f._("Cancel <b>order #{number}</b>?"), details,
                (f._("✖️ Yes, cancel the order"), OrderAction.cancel_ok), f._("‹ Keep the order"),
                value=reason, subtitle=why)


def cancelled_note(f: Fmt, card: OrderCard) -> str:
    """A refund still on its way is said; one done already (to the gift certificates that paid) is
    not "on its way"."""
    if any(r.state != "completed" for r in card.refunds):
        return f._("The order is cancelled; the refund is on its way.")
    if card.refunds:
        return f._("The order is cancelled, and the money is back.")
    return f._("The order is cancelled.")


def confirm_receipt_prompt(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    window = card.dispute_window_days
    return _ask(card.order, back, f._("Confirm receipt of <b>order #{number}</b>?"), [
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
    return _ask(card.order, back, f._("Delete <b>order #{number}</b>?"), lines,
                (f._("🗑 Delete"), OrderAction.delete_ok), f._("‹ Keep it"))


def purge_confirm(card: OrderCard, f: Fmt, back: OrderCb) -> Screen:
    return _ask(card.order, back, f._("Delete <b>order #{number}</b> for good?"), [
        f._("This can't be undone: the order disappears from Deleted orders too, and you won't be able "
            "to see it again."),
    ], (f._("🗑 Yes, delete for good"), OrderAction.purge_ok), f._("‹ Back"))


def _ask(order: OrderRow, back: OrderCb, question: str, details: list[str], yes: tuple[str, OrderAction],
         keep_label: str, *, value: str = "", subtitle: str | None = None) -> Screen:
    """A question about the order (its number put in; `subtitle` under it), what the action does,
    then the action's button (with `value`) and one back to the order card."""
    head = [question.format(number=hd.quote(order.number)), *([subtitle] if subtitle else [])]
    label, action = yes
    rows = [[button(label, order_cb(action, order.id, back, value))],
            [button(keep_label, order_cb(OrderAction.open, order.id, back))]]
    return Screen("\n".join([*head, "", *details]), markup(rows))
