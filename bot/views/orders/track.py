"""The tracking screen: the carrier's events, newest first."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.orders import OrderAction, OrderCb, order_cb
from bot.services.orders import Tracking
from bot.views.carriers import carrier_label
from bot.views.common import Fmt, Screen, button, fitting, markup, nav_row
from bot.views.orders.card import TRACKING_BUDGET
from bot.views.orders.texts import TRACKING_EVENTS

__all__ = [
    "refreshed_note",
    "tracking",
]


def event_label(f: Fmt, code: str, description: str | None) -> str:
    """A tracking event in the user's language when it is one of the carrier's known ones, else as
    the carrier wrote it (escaped)."""
    if code in TRACKING_EVENTS:
        return f._(TRACKING_EVENTS[code])
    return hd.quote(description or code)


def tracking(track: Tracking, f: Fmt, back: OrderCb) -> Screen:
    order = track.order
    lines = [
        f._("<b>Parcel for order #{number}</b>").format(number=hd.quote(order.number)),
        f"{carrier_label(f, track.carrier)} · <code>{hd.quote(order.track_number or '')}</code>".lstrip(" ·"),
        "",
    ]
    if track.events:
        blocks = [f"<b>{f.datetime(event.at)}</b>\n{event_label(f, event.code, event.description)}"
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
