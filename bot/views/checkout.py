"""Checkout's screens: quantity, shipping address, coupons, card, and the summary with Place order.
Each step shows what is chosen now (✓), has Back (the previous step) and Cancel."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.coupons import Coupon, Scope
from bot.keyboards.catalog import CheckoutAction, CheckoutCb, CheckoutField
from bot.services.addresses import Address
from bot.services.cards.results import Card
from bot.services.catalog.checkout import QUANTITY_MAX, Quote
from bot.services.coupons.pricing import WhatApplies
from bot.views.addresses.layout import address_block, one_line, short
from bot.views.catalog import options_text, price_text
from bot.views.common import Fmt, Screen, button, card_label, clip, flow_row, markup, totals
from bot.views.coupons import terms_value

CHECK = "✓ "


def _coupon_label(coupon: Coupon, f: Fmt) -> str:
    where = coupon.terms.store_name if coupon.terms.scope == Scope.store else f._("All stores")
    return f"{terms_value(coupon.terms, f)} · {where}"


def _coupon_labels(coupons: Sequence[Coupon], f: Fmt) -> list[str]:
    """A button's words per coupon; coupons that would read alike (the same value in the same
    stores) also say their name, or the day they end, so the buyer sees which one is used."""
    plain = [clip(_coupon_label(c, f), 40) for c in coupons]  # compared as shown: cut to the button's width
    titles = [c.terms.title or "" for c in coupons]
    return [label if plain.count(label) == 1 else clip(label, 26) + " · " + clip(
                c.terms.title if c.terms.title and titles.count(c.terms.title) == 1  # its own name, else its end
                else f._("until {date}").format(date=f.date(c.terms.valid_to)), 24)
            for c, label in zip(coupons, plain, strict=True)]


def _cb(action: CheckoutAction, value: int = 0) -> CheckoutCb:
    return CheckoutCb(action=action, value=value)


def _head(f: Fmt, quote: Quote, step: int, steps: int) -> str:
    return f._("<b>🛒 Checkout · {store}</b> · step {step} of {steps}").format(
        store=hd.quote(quote.store), step=step, steps=steps)


def _with_error(lines: list[str], error: str | None) -> str:
    return "\n".join((["⚠️ " + error, ""] if error else []) + lines)


def _options(options: dict[str, str], f: Fmt) -> str:
    return hd.quote(options_text(options.items(), f))


def quantity_screen(f: Fmt, quote: Quote, *, quantity: int, step: int, steps: int, error: str | None = None) -> Screen:
    line = quote.lines[0]
    lines = [_head(f, quote, step, steps), "", f"<b>{hd.quote(line.product.title_in(f.locale))}</b>"]
    if line.options:
        lines.append(_options(line.options, f))
    lines += [price_text(line.product, f), "",
              f._("How many? Choose or type a number from 1 to {max}.").format(max=QUANTITY_MAX)]
    row = [button((CHECK if n == quantity else "") + str(n), _cb(CheckoutAction.quantity, n)) for n in range(1, 6)]
    return Screen(_with_error(lines, error), markup([row, flow_row(f)]))


def address_screen(f: Fmt, quote: Quote, addresses: Sequence[Address], *, chosen: int, step: int, steps: int,
                   room: bool, error: str | None = None) -> Screen:
    lines = [_head(f, quote, step, steps), "", f._("<b>Where to ship it?</b>")]
    if not addresses:
        lines.append(f._("Your address book is empty: add an address, and checkout goes on with it."))
    rows = [[button((CHECK if a.id == chosen else "") + ("⭐ " if a.is_default else "") + short(one_line(a)),
                    _cb(CheckoutAction.address, a.id))] for a in addresses]
    if room:
        rows.append([button(f._("➕ New address"), _cb(CheckoutAction.new_address))])
    rows.append(flow_row(f))
    return Screen(_with_error(lines, error), markup(rows))


def coupons_screen(f: Fmt, quote: Quote, applies: WhatApplies, *, chosen: Sequence[int], certificates_could: int,
                   step: int, steps: int, error: str | None = None) -> Screen:
    """The coupons (each with its discount, ✓ those chosen), and the gift certificates: what they pay
    of what the coupons leave, switched on or off (`certificates_could`: what they would pay)."""
    lines = [_head(f, quote, step, steps), "", f._("<b>Coupons</b>")]
    usable = applies.applicable
    if not usable:
        lines.append(f._("None of your coupons applies to this order."))
    else:
        lines.append(f._("The best combination is chosen; tap a coupon to switch it on or off."))
        if quote.discount_minor:
            lines.append(f._("Discount: −{amount}").format(amount=f.money(quote.discount_minor, quote.currency)))
    shown = usable[:8]
    rows = [[button((CHECK if o.coupon.id in chosen else "") + label + " · −" + f.money(o.discount_minor, quote.currency),
                    _cb(CheckoutAction.coupon, o.coupon.id))]
            for o, label in zip(shown, _coupon_labels([o.coupon for o in shown], f), strict=True)]
    if chosen:
        rows.append([button(f._("No coupons"), _cb(CheckoutAction.no_coupons))])
    if quote.certificates_minor:
        lines += ["", f._("🎁 Gift certificates pay {amount}; the card pays the rest, {rest}.").format(
            amount=f.money(quote.certificates_minor, quote.currency), rest=f.money(quote.card_minor, quote.currency))
            if quote.card_minor else
            f._("🎁 Gift certificates pay all of it, {amount}: no card is needed.").format(
                amount=f.money(quote.certificates_minor, quote.currency))]
        rows.append([button(f._("🎁 Don't use gift certificates"), _cb(CheckoutAction.certificates, 0))])
    elif certificates_could:
        lines += ["", f._("🎁 Your gift certificates could pay {amount} of this order.").format(
            amount=f.money(certificates_could, quote.currency))]
        rows.append([button(f._("🎁 Use gift certificates"), _cb(CheckoutAction.certificates, 1))])
    rows.append([button(f._("Continue ›"), _cb(CheckoutAction.coupons_done))])
    rows.append(flow_row(f))
    return Screen(_with_error(lines, error), markup(rows))


def card_screen(f: Fmt, quote: Quote, cards: Sequence[Card], *, chosen: int | None, step: int, steps: int,
                error: str | None = None) -> Screen:
    lines = [_head(f, quote, step, steps), "", f._("<b>How to pay?</b>"),
             f._("To pay: <b>{amount}</b>").format(amount=f.money(quote.card_minor, quote.currency))]
    if quote.certificates_minor:
        lines.append(f._("🎁 Gift certificates pay {amount} of the total, {total}.").format(
            amount=f.money(quote.certificates_minor, quote.currency), total=f.money(quote.total_minor, quote.currency)))
    usable = [c for c in cards if not c.expired]
    rows = [[button((CHECK if c.id == chosen else "") + ("⭐ " if c.is_default else "") + card_label(c.brand, c.last4, f),
                    _cb(CheckoutAction.card, c.id))] for c in usable]
    if chosen == 0:  # a full wallet: a new card pays this order just this once
        rows.append([button(CHECK + f._("➕ New card, just this once"), _cb(CheckoutAction.card, 0))])
    rows.append([button(f._("➕ New card"), _cb(CheckoutAction.new_card))])
    rows.append(flow_row(f))
    return Screen(_with_error(lines, error), markup(rows))


def summary_screen(f: Fmt, quote: Quote, *, address: Address | None, card: Card | None, new_card: bool,
                   product: bool, error: str | None = None) -> Screen:
    lines = [f._("<b>🛒 Checkout · {store}</b>").format(store=hd.quote(quote.store)), ""]
    for n, line in enumerate(quote.lines, 1):
        text = f"{n}. {hd.quote(clip(line.product.title_in(f.locale), 48))} × {line.quantity}"
        if line.options:
            text += f" ({_options(line.options, f)})"
        lines.append(text + " — " + f.money(line.total_minor, quote.currency))
    for line in quote.changed:
        lines.append("⚠️ " + f._("The price of {title} changed since you saw it: {before} → {now}.").format(
            title=hd.quote(clip(line.product.title_in(f.locale), 48)),
            before=f.money(line.seen_minor, quote.currency), now=f.money(line.product.price_minor, quote.currency)))
    lines += ["", *totals(f, quote.currency, items_minor=quote.items_minor, discount_minor=quote.discount_minor,
                          total_minor=quote.total_minor)]
    if quote.certificates_minor:
        lines.append(f._("🎁 Gift certificates: −{amount}").format(
            amount=f.money(quote.certificates_minor, quote.currency)))
        lines.append(f._("<b>To pay by card: {amount}</b>").format(amount=f.money(quote.card_minor, quote.currency)))
    # the whole address, as the parcel's label will have it: a mistake in it loses the parcel
    lines += ["", f._("Ship to: {address}").format(address="\n" + address_block(address, f) if address else "—")]
    if quote.card_minor:
        paying = f._("a new card") if new_card else (card_label(card.brand, card.last4, f) if card else "—")
        lines.append(f._("Pay with: {card}").format(card=paying))
    rows: list[list[InlineKeyboardButton]] = [
        [button(_place_label(f, quote), _cb(CheckoutAction.place))]]
    edits = [(CheckoutField.address, f._("✏️ Address")), (CheckoutField.coupons, f._("✏️ Coupons"))]
    if quote.card_minor:  # no card is asked when gift certificates pay it all
        edits.append((CheckoutField.card, f._("✏️ Card")))
    if product:
        edits.insert(0, (CheckoutField.quantity, f._("✏️ Quantity")))
    for pair in (edits[:2], edits[2:]):
        if pair:
            rows.append([button(label, _cb(CheckoutAction.edit, field.value)) for field, label in pair])
    rows.append(flow_row(f))
    return Screen(_with_error(lines, error), markup(rows))


def _place_label(f: Fmt, quote: Quote) -> str:
    """Place order, with what the buyer will pay by card when gift certificates pay part of it."""
    if not quote.certificates_minor:
        return f._("✅ Place order · {amount}").format(amount=f.money(quote.total_minor, quote.currency))
    if quote.card_minor:
        return f._("✅ Place order · {amount} by card").format(amount=f.money(quote.card_minor, quote.currency))
    return f._("✅ Place order · gift certificates")


def placed_paid_note(f: Fmt, number: str) -> str:
    """Placed and paid by gift certificates alone (a card's payment has its own line, `placed_note`)."""
    return f._("✅ Order #{number} is placed and paid.").format(number=hd.quote(number))


def placed_note(f: Fmt, number: str) -> str:
    """Placed, above the card payment's own "✅ Paid …" line."""
    return f._("🛒 Order #{number} is placed.").format(number=hd.quote(number))
