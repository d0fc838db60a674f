"""Returns & disputes screens: the list, a dispute's card, and the steps of opening one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.disputes import DisputeLine
from bot.keyboards.disputes import DisputeAction, DisputeCb, DraftAction, DraftCb, DraftField
from bot.keyboards.orders import OrderAction, OrderCb, list_cb
from bot.services.disputes import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    DISPUTE_KIND,
    MAX_PHOTOS,
    RETURN_KIND,
    DisputeCard,
    DisputeNotFound,
    DisputePage,
    DisputeReason,
    DisputeState,
    Outcome,
    SellerAnswer,
    outcomes_for,
)
from bot.services.errors import N_
from bot.views.common import (
    Fmt,
    Screen,
    are_you_sure,
    button,
    chunk,
    clip,
    flow_row,
    markup,
    nav_row,
    pager_row,
)
from bot.views.orders import (
    certificates_part,
    dispute_state_label,
    list_heading,
    refund_lines,
)
from bot.views.pushes import register_push

REASONS: dict[str, str] = {
    DisputeReason.not_received: N_("Item not received"),
    DisputeReason.not_as_described: N_("Not as described"),
    DisputeReason.damaged: N_("Damaged or doesn't work"),
    DisputeReason.wrong_item: N_("Wrong item or size"),
    DisputeReason.other: N_("Something else"),
}

OUTCOMES: dict[str, str] = {
    Outcome.full_refund: N_("Full refund"),
    Outcome.partial_refund: N_("Partial refund"),
    Outcome.return_refund: N_("Return the item and get a refund"),
}


def reason_label(f: Fmt, reason: str) -> str:
    return f._(REASONS[reason]) if reason in REASONS else reason


def outcome_text(f: Fmt, outcome: str, amount_minor: int | None, currency: str) -> str:
    label = f._(OUTCOMES[outcome]) if outcome in OUTCOMES else outcome
    if amount_minor:
        return f._("{outcome}: {amount}").format(outcome=label, amount=f.money(amount_minor, currency))
    return label


def not_found(f: Fmt) -> str:
    return f._(DisputeNotFound.msgid)


# -- the list -------------------------------------------------------------------------------------------
def _line(f: Fmt, index: int, row: DisputeLine) -> list[str]:
    return [
        list_heading(f, index, row.number, row.opened_at),
        reason_label(f, row.reason),
        "⚖️ " + dispute_state_label(f, row.state, row.seller_answer, row.resolution),
    ]


def disputes_list(page: DisputePage, f: Fmt) -> Screen:
    lines = [f._("<b>Returns &amp; disputes</b>"), ""]
    if page.rows:
        done = page.total - page.current
        lines.append(f.ngettext("{n} current", "{n} current", page.current).format(n=page.current) + " · "
                     + f.ngettext("{n} completed", "{n} completed", done).format(n=done))
        lines.append("")
        offset = page.page * 5
        for i, row in enumerate(page.rows, offset + 1):
            lines += [*_line(f, i, row), ""]
    else:
        lines.append(f._("No disputes. If something is wrong with an order, open it and tap "
                         "“Open a dispute”: shipped orders and recently completed ones can be disputed."))
    buttons = [button(str(page.page * 5 + i), DisputeCb(action=DisputeAction.open, id=row.id, page=page.page))
               for i, row in enumerate(page.rows, 1)]
    pager = pager_row(page.page, page.pages, lambda n: DisputeCb(action=DisputeAction.list, page=n),
                      DisputeCb(action=DisputeAction.noop))
    rows = [buttons, pager, [button(f._("📦 My orders"), list_cb())], nav_row(f)]
    return Screen("\n".join(lines).rstrip(), markup(rows))


# -- a dispute's card -------------------------------------------------------------------------------------
def deadline_line(f: Fmt, decide_by: datetime, priority: bool, now: datetime | None = None) -> str:
    """When the dispute is to be decided by; past that moment, that it was due then (not a date in
    the past under "by")."""
    if now is not None and now >= decide_by:
        line = f._("⏳ The decision was due on {date}.").format(date=f.date(decide_by))
    else:
        line = f._("⏳ Decision by {date}").format(date=f.date(decide_by))
    if priority:
        line += "\n" + f._("⚡ Priority handling of disputes: a privilege of your loyalty level.")
    return line


def dispute_card(card: DisputeCard, f: Fmt, page: int = 0) -> Screen:
    d = card.dispute
    lines = [
        f._("<b>Dispute on order #{number}</b>").format(number=hd.quote(card.number)),
        f._("🏬 {store}").format(store=hd.quote(card.store)),
        f._("Status: <b>{state}</b>").format(state=dispute_state_label(f, d.state, d.seller_answer, d.resolution)),
        "",
        f._("Reason: {reason}").format(reason=reason_label(f, d.reason)),
        f._("You asked for: {outcome}").format(outcome=outcome_text(f, d.outcome, d.amount_minor, d.currency)),
        f"<blockquote>{hd.quote(d.description)}</blockquote>",
    ]
    if d.photos:
        lines.append(f.ngettext("📎 {n} photo", "📎 {n} photos", len(d.photos)).format(n=len(d.photos)))
    if d.seller_answer == SellerAnswer.offer and d.offer_minor and card.state == DisputeState.closed:
        lines.append(f._("The seller offered a refund of {amount}.").format(amount=f.money(d.offer_minor, d.currency)))
    elif d.seller_answer == SellerAnswer.offer and d.offer_minor:
        lines.append(f._("The seller offers a refund of {amount}.").format(amount=f.money(d.offer_minor, d.currency)))
    elif d.seller_answer == SellerAnswer.reject:
        lines.append(f._("The seller rejected the dispute."))
    elif d.seller_answer == SellerAnswer.accept and d.return_by is not None:
        lines.append(f._("The seller accepted the return."))
    elif d.seller_answer == SellerAnswer.accept:
        lines.append(f._("The seller accepted the dispute."))
    if d.seller_note and card.state == DisputeState.returning:
        lines.append(f._("Send the item back to: {address}").format(address=f"<i>{hd.quote(clip(d.seller_note, 500))}</i>"))
    elif d.seller_note and d.return_by is not None:
        lines.append(f._("Return address: {address}").format(address=f"<i>{hd.quote(clip(d.seller_note, 500))}</i>"))
    elif d.seller_note:
        lines.append(f._("Seller's note: {note}").format(note=f"<i>{hd.quote(d.seller_note)}</i>"))
    if card.state == DisputeState.answered:
        lines += ["", f._("Accept the seller's answer, or ask the platform to decide.")]
    if card.state == DisputeState.returning or d.returned_at is not None:
        lines += ["", *return_lines(card, f)]
    if d.return_problem:
        lines.append(f._("The seller says it did not come back as sent: {reason}").format(
            reason=f"<i>{hd.quote(clip(d.return_problem, 500))}</i>"))
    if card.state not in (DisputeState.closed, DisputeState.returning):
        lines += ["", deadline_line(f, d.decide_by, d.priority, card.now)]
    lines += refund_lines(f, card.refunds)
    lines.append("")
    dates = f._("Opened on {date}").format(date=f.date(d.opened_at))
    if d.closed_at is not None:
        dates += " · " + f._("closed on {date}").format(date=f.date(d.closed_at))
    lines.append(dates)
    return Screen("\n".join(lines), markup(_card_rows(card, f, page)))


def return_lines(card: DisputeCard, f: Fmt) -> list[str]:
    """Where a return stands: to send back by a day, or sent and waiting for the store."""
    d = card.dispute
    if d.returned_at is not None:
        lines = [f._("📦 You sent it back on {date} · track <code>{track}</code>").format(
            date=f.date(d.returned_at), track=hd.quote(d.return_track or ""))]
        if card.refunded_on_sending:
            lines.append(f._("⚡ Refund issued as soon as you sent it (fast refund). The seller confirms the item "
                             "came back by {date}.").format(date=f.date(card.receive_by or d.returned_at)))
        elif card.receive_by is not None and card.state == DisputeState.returning:
            lines.append(f._("⏳ You are refunded when the seller confirms the item came back, by {date} at the "
                             "latest.").format(date=f.date(card.receive_by)))
        return lines
    if card.send_back_missed:
        return [f._("⏳ The day to send the item back was {date}.").format(date=f.date(d.return_by))]
    lines = [f._("📦 Send the item back by {date}, then tap “I've sent it back” and type the parcel's track "
                 "number.").format(date=f.date(d.return_by))]
    if card.fast_refund:
        lines.append(f._("⚡ Fast refund, a privilege of your loyalty level: you are refunded as soon as you "
                         "send the item back."))
    else:
        lines.append(f._("You are refunded when the seller confirms the item came back."))
    return lines


def _card_rows(card: DisputeCard, f: Fmt, page: int) -> list:
    d = card.dispute
    rows = []
    if card.can_send_back:
        rows.append([button(f._("📦 I've sent it back"), DisputeCb(action=DisputeAction.send_back, id=d.id,
                                                                   page=page))])
    if card.can_answer:
        if d.seller_answer == SellerAnswer.offer and d.offer_minor:
            accept = f._("✅ Accept {amount}").format(amount=f.money(d.offer_minor, d.currency))
        else:
            accept = f._("✔️ Accept and close")
        rows.append([button(accept, DisputeCb(action=DisputeAction.accept, id=d.id, page=page))])
        rows.append([button(f._("⚖️ Ask the platform to decide"),
                            DisputeCb(action=DisputeAction.escalate, id=d.id, page=page))])
    extra = []
    if d.photos:
        extra.append(button(f._("🖼 Photos · {n}").format(n=len(d.photos)),
                            DisputeCb(action=DisputeAction.photos, id=d.id, page=page)))
    extra.append(button(f._("📦 Order"), OrderCb(action=OrderAction.open, id=d.order_id)))
    rows.append(extra)
    rows.append(nav_row(f, back=DisputeCb(action=DisputeAction.list, page=page)))
    return rows


def accept_confirm(card: DisputeCard, f: Fmt, page: int = 0) -> Screen:
    d = card.dispute
    if d.seller_answer == SellerAnswer.offer and d.offer_minor:
        lines = [f._("Accept the seller's offer of {amount}?").format(amount=f.money(d.offer_minor, d.currency)),
                 "", f._("The dispute closes and the money is refunded.")]
        if d.outcome == Outcome.return_refund:
            lines.append(f._("You keep the item: nothing is sent back."))
        if card.offer_refund is not None:
            lines += certificates_part(f, card.offer_refund)
    else:
        lines = [f._("Accept the seller's rejection?"), "", f._("The dispute closes without a refund.")]
    return are_you_sure(f, "\n".join(lines), f._("✅ Yes, accept"),
                        DisputeCb(action=DisputeAction.accept_ok, id=d.id, page=page),
                        DisputeCb(action=DisputeAction.open, id=d.id, page=page))


def escalate_confirm(card: DisputeCard, f: Fmt, page: int = 0) -> Screen:
    d = card.dispute
    lines = [f._("Ask the platform to decide?"), "",
             f._("The platform reviews what you and the seller said and decides whether and how much to refund."),
             deadline_line(f, d.decide_by, d.priority)]
    return are_you_sure(f, "\n".join(lines), f._("⚖️ Yes, ask the platform"),
                        DisputeCb(action=DisputeAction.escalate_ok, id=d.id, page=page),
                        DisputeCb(action=DisputeAction.open, id=d.id, page=page))


def step_send_back(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    lines = [f._("<b>Return on order #{number}</b>").format(number=hd.quote(str(data.get("number", "")))), "",
             f._("Type the track number of the parcel you sent, for example <code>LP123456789CN</code>.")]
    return Screen(_with_error("\n".join(lines), error), markup([flow_row(f)]))


TRACK_EXPECTED = N_("Please type the parcel's track number as a message, or tap “Cancel”.")


def sent_back(card: DisputeCard, f: Fmt) -> str:
    if card.refunded_on_sending:
        return f._("Thank you! The item is on its way back, and your refund is issued; below is when it reaches you.")
    return f._("Thank you! The seller is told the item is on its way back.")


def photos_unavailable(f: Fmt) -> str:
    return f._("These photos can't be shown right now.")


# -- opening a dispute: one screen per step ------------------------------------------------------------------
def _head(f: Fmt, data: dict[str, Any], step: int) -> str:
    return f._("<b>Dispute on order #{number}</b> · step {step} of {steps}").format(
        number=hd.quote(str(data.get("number", ""))), step=step, steps=5)


def _with_error(text: str, error: str | None) -> str:
    return f"{error}\n\n{text}" if error else text


def step_reason(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    text = "\n".join([_head(f, data, 1), "", f._("What went wrong?")])
    buttons = [button(("• " if data.get("reason") == r.value else "") + f._(REASONS[r]),
                      DraftCb(action=DraftAction.reason, value=r.value)) for r in DisputeReason]
    return Screen(_with_error(text, error), markup([*chunk(buttons, 2), flow_row(f)]))


def step_description(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    if data.get("reason") == DisputeReason.not_received:  # nothing came: nothing to compare with
        ask = f._("Describe the problem in a message ({min}–{max} characters): what the tracking shows and what "
                  "you checked. For example: <i>Tracking says delivered on March 3, but nothing came; the post "
                  "office has no parcel for me.</i>")
    else:
        ask = f._("Describe the problem in a message ({min}–{max} characters): what you expected and what you "
                  "got. For example: <i>The jacket is size S, I ordered M.</i>")
    lines = [_head(f, data, 2), "", ask.format(min=DESCRIPTION_MIN, max=DESCRIPTION_MAX)]
    if data.get("description"):
        lines += ["", f._("Now: {text}").format(text=f"<i>{hd.quote(str(data['description'])[:200])}</i>")]
    return Screen(_with_error("\n".join(lines), error), markup([flow_row(f)]))


def step_outcome(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    text = "\n".join([_head(f, data, 3), "", f._("What would make it right?"),
                      f._("You paid {amount}.").format(amount=f.money(int(data.get("max", 0)),
                                                                         str(data.get("currency", "USD"))))])
    outcomes = outcomes_for(data.get("reason"), int(data["max"]) if "max" in data else None)
    terms = _return_terms(f, data) if Outcome.return_refund in outcomes else ""
    if terms:
        text += "\n\n" + terms
    buttons = [[button(("• " if data.get("outcome") == o.value else "") + f._(OUTCOMES[o]),
                       DraftCb(action=DraftAction.outcome, value=o.value))] for o in outcomes]
    return Screen(_with_error(text, error), markup([*buttons, flow_row(f)]))


def _return_terms(f: Fmt, data: dict[str, Any]) -> str:
    days = int(data.get("return_days") or 0)
    if not days:  # a draft begun before returns were told
        return ""
    if data.get("fast"):
        return f.ngettext("A return: if the seller agrees, you send the item back within {n} day and are refunded "
                          "as soon as you send it (fast refunds, a privilege of your loyalty level).",
                          "A return: if the seller agrees, you send the item back within {n} days and are refunded "
                          "as soon as you send it (fast refunds, a privilege of your loyalty level).",
                          days).format(n=days)
    return f.ngettext("A return: if the seller agrees, you send the item back within {n} day and are refunded "
                      "when it arrives.",
                      "A return: if the seller agrees, you send the item back within {n} days and are refunded "
                      "when it arrives.", days).format(n=days)


def step_amount(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    currency = str(data.get("currency", "USD"))
    lines = [_head(f, data, 3), "",
             f._("How much should be refunded? Type an amount less than {max}, for example <code>12.50</code>.")
             .format(max=f.money(int(data.get("max", 0)), currency))]
    if data.get("amount"):  # asked again (an edit from the summary): what was typed before
        lines += ["", f._("Now: {text}").format(text=f.money(int(data["amount"]), currency))]
    return Screen(_with_error("\n".join(lines), error), markup([flow_row(f)]))


def step_photos(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    count = len(data.get("photos") or [])
    if data.get("reason") == DisputeReason.not_received:  # nothing to photograph but what shows it
        ask = f.ngettext("Send up to {n} photo that shows it (optional): the tracking page, the parcel's place, "
                         "a note from the post office.",
                         "Send up to {n} photos that show it (optional): the tracking page, the parcel's place, "
                         "a note from the post office.", MAX_PHOTOS)
    else:
        ask = f.ngettext("Send up to {n} photo of the problem (optional): the item, the damage, the label.",
                         "Send up to {n} photos of the problem (optional): the item, the damage, the label.",
                         MAX_PHOTOS)
    lines = [_head(f, data, 4), "", ask.format(n=MAX_PHOTOS)]
    if count:
        lines.append(f._("Added: {count} of {max}.").format(count=count, max=MAX_PHOTOS))
    done = f._("➡️ Continue") if count else f._("➡️ Continue without photos")
    rows = [[button(done, DraftCb(action=DraftAction.photos_done))]]
    if count:
        rows.append([button(f._("🗑 Remove the photos"), DraftCb(action=DraftAction.photos_clear))])
    rows.append(flow_row(f))
    return Screen(_with_error("\n".join(lines), error), markup(rows))


def summary(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    currency = str(data.get("currency", "USD"))
    amount = int(data["amount"]) if data.get("outcome") == Outcome.partial_refund and data.get("amount") else None
    photos = len(data.get("photos") or [])
    decide_by = data.get("decide_by")
    lines = [
        _head(f, data, 5), "",
        f._("Check your dispute and submit it:"), "",
        f._("Reason: {reason}").format(reason=reason_label(f, str(data.get("reason", "")))),
        f._("You ask for: {outcome}").format(outcome=outcome_text(f, str(data.get("outcome", "")), amount, currency)),
        f"<blockquote>{hd.quote(str(data.get('description', '')))}</blockquote>",
        f.ngettext("📎 {n} photo", "📎 {n} photos", photos).format(n=photos) if photos else f._("📎 No photos"),
    ]
    terms = _return_terms(f, data) if data.get("outcome") == Outcome.return_refund else ""
    if terms:
        lines += ["", terms]
    if isinstance(decide_by, str):
        lines += ["", deadline_line(f, datetime.fromisoformat(decide_by), bool(data.get("priority")))]
    edits = [
        button(f._("✏️ Reason"), DraftCb(action=DraftAction.edit, value=DraftField.reason.value)),
        button(f._("✏️ Description"), DraftCb(action=DraftAction.edit, value=DraftField.description.value)),
        button(f._("✏️ Outcome"), DraftCb(action=DraftAction.edit, value=DraftField.outcome.value)),
        button(f._("✏️ Photos"), DraftCb(action=DraftAction.edit, value=DraftField.photos.value)),
    ]
    rows = [*chunk(edits, 2), [button(f._("📨 Submit the dispute"), DraftCb(action=DraftAction.submit))], flow_row(f)]
    return Screen(_with_error("\n".join(lines), error), markup(rows))


def submitted(f: Fmt) -> str:
    return f._("The dispute is open. The seller has been asked to answer; you'll get a message at each step.")


# -- pushes ----------------------------------------------------------------------------------------
def dispute_push(payload: dict[str, Any], f: Fmt) -> Screen:
    """"dispute": a step of a dispute (opened, the seller answered, escalated, decided, closed)."""
    state = dispute_state_label(f, str(payload.get("state") or ""), payload.get("seller_answer"),
                                payload.get("resolution"))
    number = hd.quote(str(payload["number"]))
    if payload.get("step") == "return_accepted" and payload.get("return_by"):
        return Screen("\n".join([
            f._("↩️ Dispute on order #{number}: the seller accepted the return. Send the item back by {date} "
                "and type its track number in the dispute.").format(
                number=number, date=f.date(datetime.fromisoformat(str(payload["return_by"])))),
            f._("Send the item back to: {address}").format(
                address=f"<i>{hd.quote(str(payload.get('seller_note') or ''))}</i>")]))
    if payload.get("step") == "overdue":
        lines = [f._("↩️ Dispute on order #{number}: the seller did not answer by {date}, so it is decided "
                     "in your favour.").format(number=number,
                                              date=f.date(datetime.fromisoformat(str(payload["decide_by"]))))]
    elif payload.get("step") == "return_problem":
        lines = [f._("↩️ Dispute on order #{number}: the seller says the returned item did not come back as sent. "
                     "The platform will decide.").format(number=number),
                 f"<i>{hd.quote(str(payload.get('return_problem') or ''))}</i>"]
    elif payload.get("step") == "return_unconfirmed":
        lines = [f._("↩️ Dispute on order #{number}: the seller did not confirm in time that the item came back, "
                     "so you are refunded.").format(number=number)]
    else:
        lines = [f._("↩️ Dispute on order #{number}: {state}").format(number=number, state=state)]
    if int(payload.get("refund_minor") or 0) > 0:
        lines.append(f._("Refund: {amount}").format(
            amount=f.money(int(payload["refund_minor"]), str(payload["currency"]))))
    elif payload.get("offer_minor"):
        lines.append(f._("The seller offers {amount}.").format(
            amount=f.money(int(payload["offer_minor"]), str(payload["currency"]))))
    return Screen("\n".join(lines))


def _open_dispute(payload: dict[str, Any], f: Fmt) -> InlineKeyboardButton:
    return button(f._("↩️ Open the dispute"), DisputeCb(action=DisputeAction.open, id=int(payload["dispute_id"])))


register_push(DISPUTE_KIND, dispute_push, button=_open_dispute)
register_push(RETURN_KIND, dispute_push, button=_open_dispute)  # a return to send: never toggled off
