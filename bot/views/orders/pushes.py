"""The orders section's pushes (delivered from the outbox in the user's language): status changes,
tracking events, refunds, the buyer-protection reminder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.orders import OrderAction, OrderCb
from bot.services.orders import PROTECTION_KIND, STATUS_KIND, TRACKING_KIND, Status
from bot.services.refunds import REFUND_KIND, RefundTo
from bot.views.common import Fmt, Screen, button
from bot.views.orders.texts import refund_target, status_label
from bot.views.orders.track import event_label
from bot.views.pushes import register_push


def _open_order_button(payload: dict[str, Any], f: Fmt) -> InlineKeyboardButton:
    return button(f._("📦 Open the order"), OrderCb(action=OrderAction.open, id=int(payload["order_id"])))


def status_push(payload: dict[str, Any], f: Fmt) -> Screen:
    """"order_status": one line that says what happened, then the details that matter for it."""
    number = hd.quote(str(payload["number"]))
    status = str(payload["status"])
    store = hd.quote(str(payload.get("store") or ""))
    if status == Status.awaiting_payment:  # placed for the buyer by the shop (or an operator): to pay
        text = f._("🛒 {store} placed order #{number} for you: {amount}.").format(
            store=store, number=number, amount=f.money(int(payload["total_minor"]), str(payload["currency"])))
        if payload.get("pay_by"):
            text += " " + f._("Pay for it by {date}, or it is cancelled.").format(
                date=f.datetime(datetime.fromisoformat(str(payload["pay_by"]))))
        return Screen(text)
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
        f._("📍 Order #{number}: {event}").format(
            number=hd.quote(str(payload["number"])),
            event=event_label(f, str(payload.get("code") or ""), payload.get("description"))) + where,
        f.datetime(at),
    ]))


def refund_push(payload: dict[str, Any], f: Fmt) -> Screen:
    """"refund": issued (on its way, with where and when) or completed."""
    amount = f.money(int(payload["amount_minor"]), str(payload["currency"]))
    number = hd.quote(str(payload["number"]))
    target = refund_target(f, str(payload.get("destination") or ""), payload.get("brand"), payload.get("last4"))
    if payload.get("destination") == RefundTo.certificate:
        text = f._("💸 {amount} for order #{number} is back on your gift certificates.").format(
            amount=amount, number=number)
        if payload.get("renewed_until"):
            text += " " + f._("The certificate is valid until {date}.").format(
                date=f.date(datetime.fromisoformat(str(payload["renewed_until"]))))
        return Screen(text)
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
