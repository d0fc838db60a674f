"""Seller mode's screens: becoming a seller, the seller's menu, reviews to answer, disputes to
answer, orders to ship, and the questions of their steps.

Nothing here names the buyer: a review or a dispute is the buyer's words under "Buyer"; an order to
ship shows the address the order was placed with (recipient and phone included: the parcel needs
them), never the buyer's Telegram account."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.seller import SellerAction, SellerCb, SellerStepCb, StepAction
from bot.services.disputes import REASON_MAX, Resolution, SellerAnswer
from bot.services.errors import N_
from bot.services.relay.sellers import Redeemed
from bot.services.reviews import ReviewAnsweredAlready
from bot.services.seller import (
    DisputeToAnswer,
    OrderToShip,
    Page,
    ReviewLine,
    ReviewToAnswer,
    SellerDisputeLine,
    SellerHome,
    ShipLine,
)
from bot.services.track_numbers import TRACK_MAX, TRACK_MIN
from bot.views.carriers import carrier_choices, carrier_label
from bot.views.catalog import options_text
from bot.views.common import Fmt, Screen, are_you_sure, button, clip, flow_row, markup, nav_row, pager_row
from bot.views.disputes import outcome_text, reason_label
from bot.views.loyalty import level_name
from bot.views.orders import address_text
from bot.views.orders.texts import status_label
from bot.views.reviews import additional_head, stars

MENU_LABEL = N_("🏪 Seller mode")
SNIPPET = 80  # of a review's text in the list
TEXT_SHOWN = 1500  # of a review's or a dispute's text on its screen
TITLE_SHOWN = 60
BUYER = N_("Buyer")  # who wrote a review or opened a dispute, as the store sees them


def _buyer(f: Fmt, level: int) -> str:
    """The buyer as the store sees them: their loyalty level (is a conscientious customer on the
    other side?), nothing of their account."""
    return f._("{who}, loyalty level {level} ({name})").format(who=f._(BUYER), level=level,
                                                                name=level_name(f, level))

_MENU = SellerCb(action=SellerAction.menu)

# what each step says to anything but its answer, and to a step's button after the step is over
REPLY_EXPECTED = N_("Please type your reply to the review as a message, or tap “Cancel”.")
REASON_EXPECTED = N_("Please type the reason as a message, or tap “Cancel”.")
AMOUNT_EXPECTED = N_("Please type the amount as a number, for example 12.50.")
TRACK_EXPECTED = N_("Please type the track number as a message, for example LP123456789CN.")
CARRIER_EXPECTED = N_("Please choose the carrier with a button.")
ADDRESS_EXPECTED = N_("Please type the return address as a message, or tap “Cancel”.")
STEP_OVER = N_("This step is over. Open seller mode to start again.")


def already_answered(f: Fmt) -> str:
    return f.error(ReviewAnsweredAlready())


def moved_on(f: Fmt) -> str:
    return f._("The dispute has moved on since; here is where it stands now.")


def not_a_seller(f: Fmt) -> str:
    return f._("You are not a seller of any store.")


def not_found(f: Fmt) -> str:
    return f._("This item is no longer available.")


def _title(text: str, limit: int = TITLE_SHOWN) -> str:
    return hd.quote(clip(text, limit))


def _options(options: tuple[tuple[str, str], ...], f: Fmt) -> str:
    return hd.quote(clip(options_text(options, f), 120))


def _pager(action: SellerAction, page: int, pages: int) -> list[InlineKeyboardButton]:
    return pager_row(page, pages, lambda n: SellerCb(action=action, page=n), SellerCb(action=SellerAction.noop))


def _counted(label: str, n: int) -> str:
    return f"{label} · {n}" if n else label


# -- onboarding and the menu ---------------------------------------------------------------------------
def seller_menu(home: SellerHome, unread: int, f: Fmt, note: str | None = None) -> Screen:
    stores = ", ".join(f"<b>{hd.quote(name)}</b>" for name in home.stores)
    lines = [f._("<b>🏪 Seller mode</b>"), f.ngettext("Store: {stores}", "Stores: {stores}",
                                                     len(home.stores)).format(stores=stores)]
    if not (home.reviews or home.disputes or home.orders or unread):
        lines += ["", f._("Nothing is waiting for you right now.")]
    if note:
        lines = [note, "", *lines]
    rows = [
        [button(_counted(f._("💬 Conversations"), unread), SellerCb(action=SellerAction.conversations))],
        [button(_counted(f._("⭐ Reviews to answer"), home.reviews), SellerCb(action=SellerAction.reviews))],
        [button(_counted(f._("↩️ Disputes"), home.disputes), SellerCb(action=SellerAction.disputes))],
        [button(_counted(f._("📦 Orders to ship"), home.orders), SellerCb(action=SellerAction.orders))],
        nav_row(f),
    ]
    return Screen("\n".join(lines), markup(rows))


def redeemed(result: Redeemed, f: Fmt) -> str:
    """What the seller is told above their menu when an invitation made them a store's seller."""
    if result.already:
        return f._("✅ You are a seller of <b>{store}</b> already.").format(store=hd.quote(result.store))
    text = f._("✅ You are now a seller of <b>{store}</b>.").format(store=hd.quote(result.store))
    if result.delivered:
        text += "\n" + f.ngettext(
            "{n} message buyers wrote while the store had no seller is on its way to you.",
            "{n} messages buyers wrote while the store had no seller are on their way to you.",
            result.delivered).format(n=result.delivered)
    return text


# -- the three lists ----------------------------------------------------------------------------------------
def _list_screen(f: Fmt, page: Page[Any], note: str | None, *, title: str, summary: str, empty: str,
                 blocks: list[str], open_: SellerAction, paging: SellerAction) -> Screen:
    """A list of seller mode: the title (under a note), how many, a block per row, a numbered button
    per row opening it, the pager, Back to the seller's menu."""
    lines = [*([note, ""] if note else []), title]
    lines += [summary, "", *blocks] if page.rows else ["", empty]
    buttons = [button(str(i), SellerCb(action=open_, id=row.id, page=page.page))
               for i, row in enumerate(page.rows, page.first)]
    rows = [buttons, _pager(paging, page.page, page.pages), nav_row(f, back=_MENU)]
    return Screen("\n".join(lines).rstrip(), markup(rows))


# -- reviews ---------------------------------------------------------------------------------------------
def _review_line(f: Fmt, index: int, row: ReviewLine) -> str:
    head = f"<b>{index}.</b> {_title(row.title)}\n{stars(row.rating)} · {f.date(row.created_at)}"
    return head + ("\n" + hd.quote(clip(row.text, SNIPPET)) if row.text else "")


def reviews_list(page: Page[ReviewLine], f: Fmt, note: str | None = None) -> Screen:
    return _list_screen(
        f, page, note, title=f._("<b>⭐ Reviews to answer</b>"),
        summary=f.ngettext("{n} review without your reply, newest first.",
                           "{n} reviews without your reply, newest first.", page.total).format(n=page.total),
        empty=f._("Every review of your stores has your reply."),
        blocks=[_review_line(f, i, row) + "\n" for i, row in enumerate(page.rows, page.first)],
        open_=SellerAction.review, paging=SellerAction.reviews)


def review_screen(review: ReviewToAnswer, f: Fmt, page: int = 0) -> Screen:
    lines = [f._("<b>Review of {title}</b>").format(title=_title(review.title))]
    if review.options:
        lines.append(_options(review.options, f))
    lines += [
        f._("🏬 {store} · order #{number}").format(store=hd.quote(review.store), number=hd.quote(review.number)),
        "",
        f._("{who} · {date}").format(who=_buyer(f, review.buyer_level), date=f.date(review.created_at)),
        stars(review.rating),
    ]
    if review.text:
        lines.append(f"<blockquote>{hd.quote(clip(review.text, TEXT_SHOWN))}</blockquote>")
    if review.photos:
        lines.append(f.ngettext("📷 {n} photo", "📷 {n} photos", review.photos).format(n=review.photos))
    if review.extra_at is not None:
        lines += additional_head(f, review.extra_at, review.rating, review.extra_rating)
        if review.extra_text:
            lines.append(f"<blockquote>{hd.quote(clip(review.extra_text, TEXT_SHOWN))}</blockquote>")
        if review.extra_photos:
            lines.append(f.ngettext("📷 {n} photo", "📷 {n} photos", review.extra_photos).format(
                n=review.extra_photos))
    rows = []
    if review.reply_text is not None:
        lines += ["", f._("💬 <b>The store's reply</b> · {date}").format(date=f.date(review.reply_at) if review.reply_at else ""),
                  hd.quote(clip(review.reply_text, TEXT_SHOWN))]
    else:
        rows.append([button(f._("✍️ Answer"), SellerCb(action=SellerAction.answer, id=review.id, page=page))])
    rows.append(nav_row(f, back=SellerCb(action=SellerAction.reviews, page=page)))
    return Screen("\n".join(lines), markup(rows))


def step_reply(f: Fmt, draft: dict[str, Any], error: str | None = None) -> Screen:
    lines = [f._("<b>Your reply to the review of {title}</b>").format(title=_title(str(draft.get("title", "")))),
             "", f._("Type your reply (up to 2000 characters). The buyer sees it under their review.")]
    if error:
        lines = [error, "", *lines]
    return Screen("\n".join(lines), markup([flow_row(f)]))


def reply_sent(f: Fmt) -> str:
    return f._("Your reply is published under the review.")


# -- disputes --------------------------------------------------------------------------------------------
def _dispute_state(f: Fmt, d: DisputeToAnswer) -> str:
    if d.state == "open":
        return f._("waiting for your answer")
    if d.state == "returning" and d.returned_at is not None:
        return f._("the buyer sent the item back; confirm it came back")
    if d.state == "returning":
        return f._("return accepted; the buyer sends the item back")
    if d.state == "answered" and d.seller_answer == SellerAnswer.offer and d.offer_minor:
        return f._("you offered {amount}; the buyer's turn").format(amount=f.money(d.offer_minor, d.currency))
    if d.state == "answered":
        return f._("you rejected it; the buyer's turn")
    if d.state == "escalated":
        return f._("the platform decides")
    if d.resolution == Resolution.refunded_full:
        return f._("closed, refunded in full")
    if d.resolution == Resolution.refunded_partial:
        return f._("closed, partly refunded")
    if d.resolution == Resolution.not_returned:
        return f._("closed: the item was not sent back in time")
    return f._("closed without a refund")


def disputes_list(page: Page[SellerDisputeLine], f: Fmt, note: str | None = None) -> Screen:
    blocks = []
    for i, row in enumerate(page.rows, page.first):
        amount = f.money(row.amount_minor, row.currency)
        if row.state == "returning":
            detail = (f._("Asked: {amount} · the item is on its way back") if row.returned_at is not None
                      else f._("Asked: {amount} · return accepted, not sent back yet")).format(amount=amount)
        else:
            detail = f._("Asked: {amount} · decision by {date}").format(amount=amount, date=f.date(row.decide_by))
        blocks += [f._("<b>{index}. Order #{number}</b> · {reason}").format(
            index=i, number=hd.quote(row.number), reason=reason_label(f, row.reason)), detail, ""]
    return _list_screen(
        f, page, note, title=f._("<b>↩️ Disputes</b>"),
        summary=f.ngettext("{n} dispute waits for you: to answer, or a returned item to receive.",
                           "{n} disputes wait for you: to answer, or returned items to receive.",
                           page.total).format(n=page.total),
        empty=f._("No dispute is waiting for your answer."), blocks=blocks,
        open_=SellerAction.dispute, paging=SellerAction.disputes)


def dispute_screen(d: DisputeToAnswer, f: Fmt, page: int = 0) -> Screen:
    lines = [
        f._("<b>Dispute on order #{number}</b>").format(number=hd.quote(d.number)),
        f._("🏬 {store}").format(store=hd.quote(d.store)),
        f._("Status: <b>{state}</b>").format(state=_dispute_state(f, d)),
        "",
        f._("Reason: {reason}").format(reason=reason_label(f, d.reason)),
        f._("{who} asks for: {outcome}").format(who=_buyer(f, d.buyer_level),
                                                outcome=outcome_text(f, d.outcome, d.amount_minor, d.currency)),
        f._("Order total: {amount}").format(amount=f.money(d.order_total_minor, d.currency)),
        *([f._("Refunded already: {amount}").format(amount=f.money(d.order_refunded_minor, d.currency))]
          if d.order_refunded_minor else []),
        f"<blockquote>{hd.quote(clip(d.description, TEXT_SHOWN))}</blockquote>",
        *([f.ngettext("📎 {n} photo as evidence", "📎 {n} photos as evidence", d.photos).format(n=d.photos)]
          if d.photos else []),
    ]
    if d.return_by is not None:  # a return accepted: where it stands, or stood
        lines += _return_lines(f, d)
    elif d.overdue:
        lines.append(f._("⏳ The day to answer passed on {date}: the platform decides it for the buyer.").format(
            date=f.date(d.decide_by)))
    elif d.state != "closed":
        lines.append(f._("⏳ Decision by {date}").format(date=f.date(d.decide_by)))
    if d.seller_note and d.seller_answer == SellerAnswer.reject:
        lines += ["", f._("Reason for rejecting: {note}").format(note=hd.quote(clip(d.seller_note, 500)))]
    rows = []
    if d.can_confirm_return:
        came_back = (f._("📦 It came back: refund {amount}").format(amount=f.money(d.accept_minor, d.currency))
                     if d.accept_minor else f._("📦 It came back"))  # refunded in full already (goodwill)
        rows.append([button(came_back, SellerCb(action=SellerAction.received, id=d.id, page=page))])
    if d.can_report_problem:
        rows.append([button(f._("⚠️ It did not come back as sent"),
                            SellerCb(action=SellerAction.problem, id=d.id, page=page))])
    if d.can_answer:
        accept = (f._("✅ Accept the return") if d.is_return else
                  f._("✅ Accept: refund {amount}").format(amount=f.money(d.accept_minor, d.currency))
                  if d.accept_minor else f._("✅ Accept"))
        rows.append([button(accept, SellerCb(action=SellerAction.accept, id=d.id, page=page))])
        rows.append([button(f._("✖️ Reject with a reason"), SellerCb(action=SellerAction.reject, id=d.id, page=page))])
        if d.can_offer:
            rows.append([button(f._("💸 Offer a partial refund"),
                                SellerCb(action=SellerAction.offer, id=d.id, page=page))])
    rows.append(nav_row(f, back=SellerCb(action=SellerAction.disputes, page=page)))
    return Screen("\n".join(lines), markup(rows))


def _return_lines(f: Fmt, d: DisputeToAnswer) -> list[str]:
    lines = ["", f._("Return address: {address}").format(address=hd.quote(clip(d.seller_note or "", 500)))]
    if d.returned_at is None and d.return_by is not None and d.state == "returning":
        lines.append(f._("📦 The buyer sends the item back by {date}; if not, the dispute closes without a "
                         "refund.").format(date=f.datetime(d.return_by)))  # the buyer's day ends then, here
    elif d.returned_at is not None:
        lines.append(f._("📦 Sent back on {date} · track <code>{track}</code>").format(
            date=f.date(d.returned_at), track=hd.quote(d.return_track or "")))
        if d.receive_by is not None and d.state == "returning" and d.dispute_refunded_minor:
            lines.append(f._("⚡ The buyer was refunded {amount} when they sent it (fast refunds, a privilege of "
                             "their loyalty level). Confirm it came back, or say it did not by {date}: then the "
                             "platform decides.").format(amount=f.money(d.dispute_refunded_minor, d.currency),
                                                          date=f.date(d.receive_by)))
        elif d.receive_by is not None and d.state == "returning":
            lines.append(f._("⏳ Confirm it came back by {date}: after that day the buyer is refunded "
                             "anyway.").format(date=f.date(d.receive_by)))
    if d.return_problem:
        lines.append(f._("You told the platform: {reason}").format(reason=hd.quote(clip(d.return_problem, 500))))
    return lines


def step_problem(f: Fmt, draft: dict[str, Any], error: str | None = None) -> Screen:
    lines = [f._("<b>The return on order #{number} did not come back as sent</b>").format(
                 number=hd.quote(str(draft.get("number", "")))), "",
             f._("What came, or what did not? For example: no parcel came by that track, or the parcel held "
                 "another item. The platform checks it and decides; the buyer reads it too (up to {max} "
                 "characters).").format(max=REASON_MAX)]
    if error:
        lines = [error, "", *lines]
    return Screen("\n".join(lines), markup([flow_row(f)]))


def problem_reported(f: Fmt) -> str:
    return f._("Sent: the platform decides the return.")


def _refunded_already(f: Fmt) -> str:
    return f._("The order is refunded in full already, and the dispute closes.")


def received_confirm(d: DisputeToAnswer, f: Fmt, page: int = 0) -> Screen:
    text = f._("Has the item of <b>order #{number}</b> come back to you?").format(number=hd.quote(d.number))
    text += " " + (f._("The buyer gets {amount} back, and the dispute closes.").format(
        amount=f.money(d.accept_minor, d.currency)) if d.accept_minor else _refunded_already(f))
    return are_you_sure(f, text, f._("✅ Yes, it came back"), SellerCb(action=SellerAction.received_ok, id=d.id,
                                                                          page=page),
                        SellerCb(action=SellerAction.dispute, id=d.id, page=page))


def refunded_on_return(f: Fmt, d: DisputeToAnswer) -> str:
    return f._("Done: the buyer is refunded.") if d.refund_minor else f._("Done: the dispute is closed.")


def step_return_address(f: Fmt, draft: dict[str, Any], error: str | None = None) -> Screen:
    lines = [f._("<b>Accept the return on order #{number}</b>").format(number=hd.quote(str(draft.get("number", "")))),
             "", f._("Where should the buyer send the item? Type the return address and anything the buyer "
                     "should know, for example what to write on the parcel. The buyer is refunded when you "
                     "confirm the item came back — a buyer of loyalty level 3 or higher as soon as they send "
                     "it, by the platform's fast refunds.")]
    if error:
        lines = [error, "", *lines]
    return Screen("\n".join(lines), markup([flow_row(f)]))


def accept_confirm(d: DisputeToAnswer, f: Fmt, page: int = 0) -> Screen:
    text = f._("Accept the dispute on <b>order #{number}</b>?").format(number=hd.quote(d.number))
    text += " " + (f._("The buyer gets {amount} back, and the dispute closes.").format(
        amount=f.money(d.accept_minor, d.currency)) if d.accept_minor else _refunded_already(f))
    return are_you_sure(f, text, f._("✅ Yes, accept"), SellerCb(action=SellerAction.accept_ok, id=d.id, page=page),
                        SellerCb(action=SellerAction.dispute, id=d.id, page=page))


def dispute_answered(f: Fmt, answer: SellerAnswer, is_return: bool = False, refunded: bool = True) -> str:
    """`refunded`: accepting paid something (not when the order was refunded in full already)."""
    if answer == SellerAnswer.accept and is_return:
        return f._("The return is accepted: the buyer is told where to send the item.")
    if answer == SellerAnswer.accept:
        return f._("Accepted: the buyer is refunded.") if refunded else f._("Done: the dispute is closed.")
    if answer == SellerAnswer.offer:
        return f._("Your offer is sent to the buyer.")
    return f._("Your answer is sent to the buyer.")


def step_reason(f: Fmt, draft: dict[str, Any], error: str | None = None) -> Screen:
    lines = [f._("<b>Reject the dispute on order #{number}</b>").format(number=hd.quote(str(draft.get("number", "")))),
             "", f._("Why? Type the reason the buyer will read (up to {max} characters).").format(max=REASON_MAX)]
    if error:
        lines = [error, "", *lines]
    return Screen("\n".join(lines), markup([flow_row(f)]))


def step_offer(f: Fmt, draft: dict[str, Any], error: str | None = None) -> Screen:
    currency = str(draft.get("currency", "USD"))
    asked_minor = int(draft.get("asked", 0))
    most_minor = int(draft.get("most") or asked_minor)
    asked = f.money(asked_minor, currency)
    lines = [f._("<b>Offer a partial refund on order #{number}</b>").format(number=hd.quote(str(draft.get("number", "")))),
             ""]
    if most_minor < asked_minor:  # part of the order was refunded already
        lines.append(f._("The buyer asked for {amount}, and {left} of the order is left to refund. Type the amount "
                         "you offer, less than {left}, in {currency}.").format(
                             amount=asked, left=f.money(most_minor, currency), currency=currency))
    else:
        lines.append(f._("The buyer asked for {amount}. Type the amount you offer, less than that, in {currency}.")
                     .format(amount=asked, currency=currency))
    if error:
        lines = [error, "", *lines]
    return Screen("\n".join(lines), markup([flow_row(f)]))


# -- orders to ship --------------------------------------------------------------------------------------
def orders_list(page: Page[ShipLine], f: Fmt, note: str | None = None) -> Screen:
    blocks = []
    for i, row in enumerate(page.rows, page.first):
        more = row.item_lines - 1
        title = _title(row.first_title) + (" " + f.ngettext("and {n} more item", "and {n} more items",
                                                             more).format(n=more) if more else "")
        paid = f._("paid {date}").format(date=f.date(row.paid_at)) if row.paid_at else ""
        blocks += [f._("<b>{index}. Order #{number}</b> · {paid}").format(
            index=i, number=hd.quote(row.number), paid=paid).rstrip(" ·"), title, ""]
    return _list_screen(
        f, page, note, title=f._("<b>📦 Orders to ship</b>"),
        summary=f.ngettext("{n} paid order waits to be shipped, the oldest first.",
                           "{n} paid orders wait to be shipped, the oldest first.", page.total).format(n=page.total),
        empty=f._("No paid order is waiting to be shipped."), blocks=blocks,
        open_=SellerAction.order, paging=SellerAction.orders)


def order_screen(order: OrderToShip, f: Fmt, page: int = 0) -> Screen:
    lines = [f._("<b>Order #{number}</b>").format(number=hd.quote(order.number)),
             f._("🏬 {store}").format(store=hd.quote(order.store)),
             f._("Status: {status}").format(status=status_label(f, order.status))]
    if order.paid_at:
        lines.append(f._("Paid: {when}").format(when=f.datetime(order.paid_at)))
    lines.append("👤 " + _buyer(f, order.buyer_level))
    lines += ["", f._("<b>Items</b>")]
    for item in order.items:
        line = f._("{title} × {quantity}").format(title=_title(item.title, 120), quantity=item.quantity)
        if item.options:
            line += "\n   " + _options(item.options, f)
        lines.append("• " + line)
    if order.item_lines > len(order.items):
        more = order.item_lines - len(order.items)
        lines.append(f.ngettext("…and {n} more item", "…and {n} more items", more).format(n=more))
    lines += ["", f._("<b>Ship to</b>"), address_text(f, order.address)]
    if order.track_number:
        lines += ["", f._("🚚 {carrier} · <code>{track}</code>").format(
            carrier=carrier_label(f, order.carrier),
            track=hd.quote(order.track_number))]
    rows = []
    if order.can_ship:
        rows.append([button(f._("🚚 Mark shipped"), SellerCb(action=SellerAction.ship, id=order.id, page=page))])
    rows.append(nav_row(f, back=SellerCb(action=SellerAction.orders, page=page)))
    return Screen("\n".join(lines), markup(rows))


def step_track(f: Fmt, draft: dict[str, Any], error: str | None = None) -> Screen:
    lines = [f._("<b>Ship order #{number}</b> · step 1 of 2").format(number=hd.quote(str(draft.get("number", "")))),
             "", f._("Type the parcel's track number ({min}–{max} Latin letters, digits or dashes).").format(
                 min=TRACK_MIN, max=TRACK_MAX)]
    if error:
        lines = [error, "", *lines]
    return Screen("\n".join(lines), markup([flow_row(f)]))


def step_carrier(f: Fmt, draft: dict[str, Any], error: str | None = None) -> Screen:
    lines = [f._("<b>Ship order #{number}</b> · step 2 of 2").format(number=hd.quote(str(draft.get("number", "")))),
             f._("Track number: <code>{track}</code>").format(track=hd.quote(str(draft.get("track", "")))),
             "", f._("Which carrier takes the parcel?")]
    if error:
        lines = [error, "", *lines]
    rows = [[button(name, SellerStepCb(action=StepAction.carrier, value=code))]
            for code, name in carrier_choices(f)]
    rows.append(flow_row(f))
    return Screen("\n".join(lines), markup(rows))


def shipped(f: Fmt) -> str:
    return f._("Marked shipped: the buyer is told.")
