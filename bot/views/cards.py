"""Bank cards: the wallet, a card, deleting, the add-card flow's steps, the hold-released push."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.integrations.payments import CardSession
from bot.keyboards.cards import CardAction, CardCb, CardField
from bot.keyboards.common import MenuCb
from bot.services.cards import (
    CARD_LIMIT,
    EXPIRY_KIND,
    HOLD_AMOUNT_MINOR,
    HOLD_CURRENCY,
    HOLD_RELEASED_KIND,
    AddOutcome,
    Card,
    CardUsageSummary,
    cvc_length,
    valid_until,
)
from bot.views.common import Fmt, Screen, button, card_label, flow_row, markup, nav_row
from bot.views.pushes import register_push

STEPS = 4


def expiry_label(month: int, year: int) -> str:
    return f"{month:02d}/{year % 100:02d}"


def _section_button(f: Fmt) -> InlineKeyboardButton:
    """Bank cards, from a screen outside the section or a push."""
    return button(f._("💳 Bank cards"), MenuCb(section="cards"))


def _wallet_cb() -> CardCb:
    return CardCb(action=CardAction.wallet)


# -- the wallet and a card --------------------------------------------------------------------
def wallet(cards: list[Card], f: Fmt, *, note: str | None = None) -> Screen:
    lines = [note, ""] if note else []
    lines.append(f._("<b>💳 Bank cards</b>"))
    if not cards:
        lines += [
            "",
            f._("No cards yet. Add a card to pay for your orders in a couple of taps."),
            "",
            f._("🔒 The card number and the CVC go straight to the payment provider; "
                "we keep only the last 4 digits."),
        ]
    for card in cards:
        mark = "⭐ " if card.is_default else ""
        line = f"{mark}<b>{card_label(card.brand, card.last4, f)}</b> · {expiry_label(card.exp_month, card.exp_year)}"
        if card.expired:
            line += " · " + f._("⚠️ expired")
        lines += ["", line, hd.quote(card.holder) + (" · " + f._("default") if card.is_default else "")]
    if cards:
        lines += [
            "",
            f.ngettext("You have {count} card; a wallet holds up to {limit}.",
                       "You have {count} cards; a wallet holds up to {limit}.", len(cards)).format(
                count=len(cards), limit=CARD_LIMIT
            )
            + " "
            + f._("The default card is offered first when you pay."),
        ]
    rows = [
        [button(
            ("⭐ " if c.is_default else "") + card_label(c.brand, c.last4, f) + (" ⚠️" if c.expired else ""),
            CardCb(action=CardAction.open, id=c.id),
        )]
        for c in cards
    ]
    if len(cards) < CARD_LIMIT:
        rows.append([button(f._("➕ Add a card"), CardCb(action=CardAction.add))])
    rows.append(nav_row(f))
    return Screen("\n".join(lines), markup(rows))


def card_screen(card: Card, f: Fmt, *, note: str | None = None) -> Screen:
    lines = [note, ""] if note else []
    lines.append(f"<b>{card_label(card.brand, card.last4, f)}</b>")
    expiry = expiry_label(card.exp_month, card.exp_year)
    if card.expired:
        lines.append(f._("⚠️ Expired at the end of {expiry}").format(expiry=expiry))
    else:
        lines.append(f._("Valid thru: {expiry}").format(expiry=expiry))
    lines.append(f._("Cardholder: {name}").format(name=hd.quote(card.holder)))
    lines.append(f._("Added: {date}").format(date=f.date(card.created_at)))
    if card.is_default:
        lines += ["", f._("⭐ Your default card: it is offered first when you pay.")]
    rows = []
    if not card.is_default and not card.expired:
        rows.append([button(f._("⭐ Make it the default card"), CardCb(action=CardAction.set_default, id=card.id))])
    rows.append([
        button(f._("🔄 Replace"), CardCb(action=CardAction.replace, id=card.id)),
        button(f._("🗑 Delete"), CardCb(action=CardAction.delete, id=card.id)),
    ])
    rows.append(nav_row(f, back=_wallet_cb()))
    return Screen("\n".join(lines), markup(rows))


def usage_warning(usage: CardUsageSummary, f: Fmt) -> str:
    if not usage.total:
        return ""
    lines = [
        f.ngettext(
            "⚠️ {count} order paid with this card is not finished yet:",
            "⚠️ {count} orders paid with this card are not finished yet:",
            usage.total,
        ).format(count=usage.total)
    ]
    if usage.in_delivery:
        lines.append("• " + f._("in delivery: {count}").format(count=usage.in_delivery))
    if usage.in_dispute:
        lines.append("• " + f._("in a dispute: {count}").format(count=usage.in_dispute))
    if usage.refund_pending:
        lines.append("• " + f._("waiting for a refund: {count}").format(count=usage.refund_pending))
    lines.append(f._("Refunds for them still go to this card's bank account, even after it leaves your wallet."))
    return "\n".join(lines)


def delete_confirm(card: Card, usage: CardUsageSummary, f: Fmt) -> Screen:
    lines = [f._("Delete <b>{card}</b> from your wallet?").format(card=card_label(card.brand, card.last4, f))]
    if card.is_default:
        lines.append(f._("It is your default card; the most recently added of the others will take its place."))
    warning = usage_warning(usage, f)
    if warning:
        lines += ["", warning]
    rows = [
        [button(f._("🗑 Yes, delete"), CardCb(action=CardAction.delete_ok, id=card.id))],
        [button(f._("‹ No, keep it"), CardCb(action=CardAction.open, id=card.id))],
    ]
    return Screen("\n".join(lines), markup(rows))


def default_note(card: Card, f: Fmt) -> str:
    return f._("⭐ {card} is now your default card.").format(card=card_label(card.brand, card.last4, f))


def hold_note(amount_minor: int, currency: str, f: Fmt) -> str:
    """The verification hold on a new card, said where a card is added or paid with and not kept."""
    return f._("We held {amount} to check it; it will be released within a day.").format(
        amount=f.money(amount_minor, currency))


def deleted_note(card: Card, new_default: Card | None, f: Fmt) -> str:
    note = f._("🗑 {card} is deleted.").format(card=card_label(card.brand, card.last4, f))
    if new_default is not None:
        note += "\n" + default_note(new_default, f)
    return note


# -- the add-card flow ------------------------------------------------------------------------
def _head(f: Fmt, step: int, replacing: str | None) -> str:
    if replacing:
        return f._("<b>Replacing {card}</b> · step {step} of {steps}").format(card=replacing, step=step, steps=STEPS)
    return f._("<b>New card</b> · step {step} of {steps}").format(step=step, steps=STEPS)


def _compose(parts: list[str | None]) -> str:
    return "\n\n".join(p for p in parts if p)


def not_deleted_warning(f: Fmt) -> str:
    return f._("⚠️ I couldn't delete your message with the card details. Please delete it yourself: "
               "touch and hold it, then Delete.")


def cvc_tries_left(left: int, f: Fmt) -> str:
    return f.ngettext("{n} more try; after that the card is not saved.",
                      "{n} more tries; after that the card is not saved.", left).format(n=left)


def reissue_note(card: str, f: Fmt) -> str:
    return f._("♻️ This is your expired {card}, reissued: the new expiry date will replace the old card.").format(
        card=card)


def removed_card_number_warning(f: Fmt) -> str:
    return f._("⚠️ That looked like a card number, so I deleted it. Send only what is asked below.")


def removed_photo_warning(f: Fmt) -> str:
    return f._("⚠️ I deleted the picture: please don't send photos of your card. Type what is asked below.")


def add_intro(f: Fmt, *, replacing: str | None = None, usage: CardUsageSummary | None = None) -> str | None:
    if not replacing:
        return None
    text = f._("The new card is checked first; once it is added, it takes the place of {card}.").format(card=replacing)
    warning = usage_warning(usage, f) if usage else ""
    return text + ("\n\n" + warning if warning else "")


def number_prompt(f: Fmt, *, error: str | None = None, warning: str | None = None,
                  replacing: str | None = None, intro: str | None = None,
                  keep: tuple[str, str] | None = None) -> Screen:
    body = "\n".join([
        _head(f, 1, replacing),
        f._("Send the card number: the 16 digits on the front of the card (some cards have 12 to 19). "
            "Spaces are fine."),
        "",
        f._("🔒 I delete your message right away and pass the number straight to the payment provider. "
            "We keep only the last 4 digits."),
    ])
    rows = []
    if keep is not None:
        rows.append([button(f._("Keep {card}").format(card=card_label(keep[0], keep[1], f)),
                            CardCb(action=CardAction.keep))])
    rows.append(flow_row(f))
    return Screen(_compose([warning, error, intro, body]), markup(rows))


def expiry_prompt(f: Fmt, brand: str, last4: str, *, error: str | None = None, warning: str | None = None,
                  replacing: str | None = None, keep: tuple[int, int] | None = None) -> Screen:
    body = "\n".join([
        f"✅ {card_label(brand, last4, f)}",
        "",
        _head(f, 2, replacing),
        f._("Send the expiry date from the card: the month and the year, for example <code>05/28</code>."),
    ])
    rows = []
    if keep is not None:
        rows.append([button(f._("Keep {expiry}").format(expiry=expiry_label(*keep)), CardCb(action=CardAction.keep))])
    rows.append(flow_row(f))
    return Screen(_compose([warning, error, body]), markup(rows))


def holder_prompt(f: Fmt, *, error: str | None = None, warning: str | None = None,
                  replacing: str | None = None, offer: str | None = None, keep: str | None = None) -> Screen:
    body = "\n".join([
        _head(f, 3, replacing),
        f._("Type the cardholder's name as it is printed on the card, in Latin letters, "
            "for example <code>IVAN PETROV</code>."),
        f._("If there is no name on your card, type your name in Latin letters all the same: the bank asks for it."),
    ])
    rows = []
    if offer:
        rows.append([button(f._("Use {name}").format(name=offer), CardCb(action=CardAction.offer))])
    if keep:
        rows.append([button(f._("Keep {name}").format(name=keep), CardCb(action=CardAction.keep))])
    rows.append(flow_row(f))
    return Screen(_compose([warning, error, body]), markup(rows))


def cvc_prompt(f: Fmt, session: CardSession, *, error: str | None = None, warning: str | None = None,
               replacing: str | None = None) -> Screen:
    assert session.brand and session.last4 and session.exp_month and session.exp_year
    digits = cvc_length(session.brand)
    if digits == 4:
        ask = f._("Now send the card's 4-digit code (CID): it is on the front of an American Express card, "
                  "above the number.")
    else:
        ask = f._("Now send the CVC: the 3 digits on the back of the card.")
    body = "\n".join([
        _head(f, 4, replacing),
        f"<b>{card_label(session.brand, session.last4, f)}</b>",
        f._("Valid thru: {expiry}").format(expiry=expiry_label(session.exp_month, session.exp_year)),
        hd.quote(session.holder or ""),
        "",
        ask,
        f._("🔒 I delete the message at once. The code goes to the bank to check the card and is not stored anywhere."),
        f._("To check the card, the bank holds {amount}; it is released within a day.").format(
            amount=f.money(HOLD_AMOUNT_MINOR, HOLD_CURRENCY)
        ),
    ])
    rows = [
        [
            button(f._("✏️ Number"), CardCb(action=CardAction.edit, field=CardField.number)),
            button(f._("✏️ Expiry"), CardCb(action=CardAction.edit, field=CardField.expiry)),
            button(f._("✏️ Name"), CardCb(action=CardAction.edit, field=CardField.holder)),
        ],
        flow_row(f),
    ]
    return Screen(_compose([warning, error, body]), markup(rows))


def added_note(outcome: AddOutcome, f: Fmt) -> str:
    card = card_label(outcome.card.brand, outcome.card.last4, f)
    old = outcome.replaced
    if old is not None and (old.brand, old.last4) == (outcome.card.brand, outcome.card.last4):  # its reissue
        head = f._("✅ Card updated: {card}, valid thru {expiry}.").format(
            card=card, expiry=expiry_label(outcome.card.exp_month, outcome.card.exp_year))
    elif outcome.replaced is not None:
        head = f._("✅ Card replaced: {card} took the place of {old}.").format(
            card=card, old=card_label(outcome.replaced.brand, outcome.replaced.last4, f)
        )
    else:
        head = f._("✅ Card added: {card}.").format(card=card)
    lines = [
        head,
        hold_note(outcome.hold_minor, outcome.hold_currency, f),
    ]
    if outcome.is_default:
        lines.append(f._("⭐ It is your default card."))
    return "\n".join(lines)


def refused_note(error: str, hold_minor: int, hold_currency: str, f: Fmt) -> str:
    return "\n".join([
        error,
        f._("The card was not saved. The {amount} check hold will be released within a day.").format(
            amount=f.money(hold_minor, hold_currency)
        ),
    ])


def declined(error: str, f: Fmt) -> Screen:
    text = "\n".join(["❌ " + error, f._("The card was not saved.")])
    rows = [
        [button(f._("➕ Try another card"), CardCb(action=CardAction.add))],
        [button(f._("💳 Bank cards"), _wallet_cb())],
        nav_row(f),
    ]
    return Screen(text, markup(rows))


def card_number_outside_flow(f: Fmt, *, deleted: bool) -> Screen:
    if deleted:
        text = f._("⚠️ That looked like a card number, so I deleted it: card details are not safe in a chat. "
                   "To add a card, open Bank cards.")
    else:
        text = not_deleted_warning(f)
    return Screen(text, markup([[_section_button(f)], nav_row(f)]))


# -- pushes -----------------------------------------------------------------------------------
def hold_released(payload: dict[str, Any], f: Fmt) -> Screen:
    """The outbox push "card_hold_released" (rendered by the delivery job)."""
    text = f._("💳 The {amount} check of {card} is over: the hold is released and the money is available again.").format(
        amount=f.money(int(payload["amount_minor"]), str(payload["currency"])),
        card=card_label(str(payload["brand"]), str(payload["last4"]), f),
    )
    return Screen(text, markup([[_section_button(f)]]))


register_push(
    HOLD_RELEASED_KIND, hold_released,
    button=lambda payload, f: _section_button(f),
)


def expiry_reminder(payload: dict[str, Any], f: Fmt) -> Screen:
    """The reminder "card_expiry", 30 days before the end of the card's expiry month."""
    last_day = valid_until(int(payload["exp_month"]), int(payload["exp_year"])) - timedelta(days=1)
    return Screen(f._("💳 {card} is valid until {date} — add a new card to keep paying without a hitch").format(
        card=card_label(str(payload["brand"]), str(payload["last4"]), f), date=f.date(last_day.date())))


register_push(
    EXPIRY_KIND, expiry_reminder,
    button=lambda payload, f: _section_button(f),
)
