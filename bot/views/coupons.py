"""Coupons: the wallet (tabs Active / Used / Expired), a coupon's card, a gift certificate's card
with its history, "Enter a code", and the expiry reminder push."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.common import MenuCb
from bot.keyboards.coupons import CouponAction, CouponCb
from bot.services.coupons import (
    EXPIRY_KIND,
    Certificate,
    CertificateCard,
    Coupon,
    Redeemed,
    Scope,
    Tab,
    Terms,
    TooManyAttempts,
    ValueKind,
    WalletPage,
    certificate_tab,
    coupon_tab,
)
from bot.services.errors import N_, DomainError
from bot.views.catalog import category_label
from bot.views.common import Fmt, Screen, button, chunk, flow_row, markup, nav_row, pager_row
from bot.views.pushes import register_push

SOON_DAYS = 30  # up to this many days ahead: "expires in N days"; beyond: the date
_LAST_MOMENT = timedelta(microseconds=1)  # valid_to is exclusive: show the last valid moment

HISTORY_SHOWN = 20  # a gift certificate's newest ledger entries on its card


# -- pieces -------------------------------------------------------------------------------------

def value_text(f: Fmt, *, value_kind: str, currency: str, amount_minor: int | None = None,
               percent: int | None = None, cap_minor: int | None = None) -> str:
    """"$3.00 off", "10% off, up to $15.00"."""
    if value_kind == ValueKind.percent:
        text = f._("{percent}% off").format(percent=percent)
        if cap_minor is not None:
            text += f._(", up to {amount}").format(amount=f.money(cap_minor, currency))
        return text
    return f._("{amount} off").format(amount=f.money(amount_minor or 0, currency))


def terms_value(terms: Terms, f: Fmt) -> str:
    return value_text(f, value_kind=terms.value_kind, currency=terms.currency,
                      amount_minor=terms.amount_minor, percent=terms.percent,
                      cap_minor=terms.cap_minor)


def condition_text(f: Fmt, min_order_minor: int, currency: str) -> str:
    """"from $20.00", or "any amount"."""
    if min_order_minor > 0:
        return f._("from {amount}").format(amount=f.money(min_order_minor, currency))
    return f._("any amount")


def scope_text(terms: Terms, f: Fmt) -> str:
    if terms.scope == Scope.store:
        return hd.quote(terms.store_name or "")
    return f._("All stores")


def category_text(terms: Terms, f: Fmt) -> str:
    """The category a coupon is limited to: the name it was given, else the catalog's for its code."""
    return hd.quote(terms.category_name or category_label(terms.category or "", f))


def special_texts(terms: Terms, f: Fmt, *, sentences: bool = False) -> list[str]:
    """A coupon's special conditions: short, for its line in a list, or as the card's sentences."""
    texts = []
    if terms.category is not None:
        limited = f._("The order must include an item from {category}.") if sentences else f._("only for {category}")
        texts.append(limited.format(category=category_text(terms, f)))
    if terms.new_buyers_only:
        texts.append(f._("For new buyers only (your first order).") if sentences else f._("new buyers only"))
    if terms.campaign is not None:
        texts.append(f._("One per customer.") if sentences else f._("one per customer"))
    return texts


def expires_in(days: int, f: Fmt) -> str:
    return f.ngettext("expires in {n} day", "expires in {n} days", days).format(n=days)


def expiry_text(valid_to: datetime, now: datetime, f: Fmt) -> str:
    """"expires today at 11:59 PM", "expires in 3 days", or "valid until Jan 10, 2027" — calendar
    days in the user's zone."""
    last = valid_to - _LAST_MOMENT
    days = (f.local(last).date() - f.local(now).date()).days
    if days <= 0:
        return f._("expires today at {time}").format(time=f.time(last))
    if days <= SOON_DAYS:
        return expires_in(days, f)
    return f._("valid until {date}").format(date=f.date(last))


def _coupon_when(coupon: Coupon, tab: Tab, now: datetime, f: Fmt) -> str:
    terms = coupon.terms
    if tab == Tab.used:
        return f._("used on {date}").format(date=f.date(coupon.used_at or now))
    if tab == Tab.expired:
        return f._("⌛ expired on {date}").format(date=f.date(terms.valid_to - _LAST_MOMENT))
    if now < terms.valid_from:
        return f._("valid from {date}").format(date=f.date(terms.valid_from))
    return expiry_text(terms.valid_to, now, f)


def _coupon_icon(terms: Terms) -> str:
    if terms.scope == Scope.store:
        return "🏬"
    return "✨" if terms.is_special else "🌐"


def coupon_line(coupon: Coupon, now: datetime, f: Fmt) -> str:
    """Two lines: the value and its condition; where it works, special conditions and when."""
    terms = coupon.terms
    tab = coupon_tab(coupon, now)
    condition = condition_text(f, terms.min_order_minor, terms.currency)
    head = f"{_coupon_icon(terms)} <b>{terms_value(terms, f)}</b> · {condition}"
    details = [scope_text(terms, f), *special_texts(terms, f), _coupon_when(coupon, tab, now, f)]
    if terms.title:
        head += " — " + hd.quote(terms.title)
    return head + "\n" + " · ".join(details)


def _own_title(cert: Certificate, f: Fmt) -> str:
    """The certificate's title when it says more than "Gift certificate" (which the line already
    says), in either language."""
    title = (cert.title or "").strip()
    generic = {"gift certificate", f._("Gift certificate").casefold()}
    return "" if title.casefold() in generic else title


def certificate_line(cert: Certificate, now: datetime, f: Fmt) -> str:
    tab = certificate_tab(cert, now)
    if tab == Tab.used:
        head = f._("🎁 Gift certificate {amount}: spent in full").format(
            amount=f.money(cert.face_minor, cert.currency))
    elif cert.balance_minor >= cert.face_minor:
        head = f._("🎁 Gift certificate <b>{amount}</b>").format(amount=f.money(cert.face_minor, cert.currency))
    else:
        head = f._("🎁 Gift certificate: <b>{balance}</b> left of {face}").format(
            balance=f.money(cert.balance_minor, cert.currency),
            face=f.money(cert.face_minor, cert.currency))
    title = _own_title(cert, f)
    if title:
        head += " — " + hd.quote(title)
    if tab == Tab.expired:
        when = f._("⌛ expired on {date}, {amount} unused").format(
            date=f.date(cert.valid_to - _LAST_MOMENT),
            amount=f.money(cert.balance_minor, cert.currency))
    elif tab == Tab.used:
        when = _certificate_scope(cert, f)
    else:
        when = _certificate_scope(cert, f) + " · " + expiry_text(cert.valid_to, now, f)
    return head + "\n" + when


def _certificate_scope(cert: Certificate, f: Fmt) -> str:
    if cert.shop_id is None:
        return f._("All stores")
    return f._("Stores of {shop}").format(shop=hd.quote(cert.shop or ""))


# -- the wallet ---------------------------------------------------------------------------------

def tab_label(tab: Tab, f: Fmt) -> str:
    return {
        Tab.active: f._("Active"),
        Tab.used: f._("Used"),
        Tab.expired: f._("Expired"),
    }[tab]


def _empty(tab: Tab, f: Fmt) -> str:
    if tab == Tab.active:
        return f._(
            "No active coupons yet. Enter a code from a promotion, or collect coupons on stores' "
            "pages."
        )
    if tab == Tab.used:
        return f._("No used coupons yet.")
    return f._("No expired coupons.")


def wallet_screen(page: WalletPage, f: Fmt) -> Screen:
    lines = ["{} · {}".format(f._("<b>🎟 My coupons</b>"), tab_label(page.tab, f)), ""]
    item_buttons: list[InlineKeyboardButton] = []
    if not page.items:
        lines.append(_empty(page.tab, f))
    for n, item in enumerate(page.items, start=page.first_index + 1):
        if isinstance(item, Certificate):
            text = certificate_line(item, page.now, f)
            cb = CouponCb(action=CouponAction.certificate, tab=page.tab, page=page.page, id=item.id)
        else:
            text = coupon_line(item, page.now, f)
            cb = CouponCb(action=CouponAction.coupon, tab=page.tab, page=page.page, id=item.id)
        lines.append(f"<b>{n}.</b> {text}")
        lines.append("")
        item_buttons.append(button(str(n), cb))
    if page.items:
        lines.append(f._("Tap a number for the details."))
    rows = chunk(item_buttons, 6)
    rows.append(pager_row(page.page, page.pages, lambda n: CouponCb(action=CouponAction.tab, tab=page.tab, page=n)))
    rows.append([
        button(("• " if tab == page.tab else "") + f"{tab_label(tab, f)} ({page.counts[tab]})",
               CouponCb(action=CouponAction.tab, tab=tab))
        for tab in Tab
    ])
    rows.append([button(f._("🔑 Enter a code"), CouponCb(action=CouponAction.code))])
    rows.append(nav_row(f))
    return Screen("\n".join(lines).rstrip(), markup(rows))


def coupon_card(coupon: Coupon, now: datetime, f: Fmt, *, back: CouponCb, for_you: bool = True) -> Screen:
    """`for_you`: False when the buyer is not who the coupon is for (a new buyers' coupon and a buyer
    who has ordered): its active line says so instead of "applied at checkout"."""
    terms = coupon.terms
    tab = coupon_tab(coupon, now)
    kind = {
        Scope.store: f._("Store coupon"),
        Scope.platform: f._("Special coupon") if terms.is_special else f._("Platform coupon"),
    }[terms.scope]
    lines = [f"{_coupon_icon(terms)} <b>{terms_value(terms, f)}</b>", kind]
    if terms.title:
        lines.append(hd.quote(terms.title))
    lines.append("")
    if terms.scope == Scope.store:
        lines.append(f._("Only in {store}.").format(store=f"<b>{scope_text(terms, f)}</b>"))
    else:
        lines.append(f._("Works in every store, after the store's own coupon."))
    if terms.min_order_minor > 0:
        lines.append(f._("Minimum order: {amount}.").format(
            amount=f.money(terms.min_order_minor, terms.currency)))
    else:
        lines.append(f._("No minimum order amount."))
    lines.append(f._("For orders in {currency}.").format(currency=terms.currency))
    lines.extend(special_texts(terms, f, sentences=True))
    lines.append(f._("Valid {start} – {end}.").format(
        start=f.date(terms.valid_from), end=f.date(terms.valid_to - _LAST_MOMENT)))
    lines.append("")
    if tab == Tab.used:
        lines.append(f._("✅ Used on {date}.").format(date=f.date(coupon.used_at or now)))
    elif tab == Tab.expired:
        lines.append(f._("⌛ Expired on {date}; it can no longer be used.").format(
            date=f.date(terms.valid_to - _LAST_MOMENT)))
    elif now < terms.valid_from:
        lines.append(f._("🕒 Not valid yet: it can be used from {when}.").format(
            when=f.datetime(terms.valid_from)))
    elif not for_you:
        lines.append(f._("🚫 Not for you: it is for a buyer's first order, and you have paid for an order before."))
    else:
        lines.append(f._("🟢 Active: {when}. It is applied at checkout.").format(
            when=expiry_text(terms.valid_to, now, f)))
    return Screen("\n".join(lines), markup([nav_row(f, back=back)]))


def certificate_card(card: CertificateCard, f: Fmt, *, back: CouponCb) -> Screen:
    cert = card.certificate
    tab = certificate_tab(cert, card.now)
    lines = [f._("<b>🎁 Gift certificate</b>")]
    title = _own_title(cert, f)
    if title:
        lines.append(hd.quote(title))
    balance = f.money(cert.balance_minor, cert.currency)
    lines += [
        "",
        f._("Balance: <b>{balance}</b>.").format(balance=balance) if cert.balance_minor >= cert.face_minor
        else f._("Balance: <b>{balance}</b> of {face}.").format(balance=balance,
                                                              face=f.money(cert.face_minor, cert.currency)),
        f._("Pays what is left of an order in {currency}, in every store, after coupons.").format(
            currency=cert.currency) if cert.shop_id is None else
        f._("Pays what is left of an order in {currency}, in the stores of {shop}, after coupons.").format(
            currency=cert.currency, shop=hd.quote(cert.shop or "")),
    ]
    if tab == Tab.expired:
        lines.append(f._("⌛ Expired on {date}.").format(date=f.date(cert.valid_to - _LAST_MOMENT)))
    elif tab == Tab.active:
        lines.append(f._("Valid until {date}.").format(date=f.date(cert.valid_to - _LAST_MOMENT)))
    lines += ["", f._("<b>History</b>")]
    earlier = max(len(card.history) - HISTORY_SHOWN, 0)
    if earlier:
        lines.append(f.ngettext("…{n} earlier entry", "…{n} earlier entries", earlier).format(n=earlier))
    for entry in card.history[earlier:]:  # the newest, oldest first
        amount = f.money(abs(entry.delta_minor), cert.currency)
        number = hd.quote(entry.order_number or "")  # an order of theirs (not a shop's own reference)
        what = {
            "issue": f._("added"),
            "spend": f._("paid for order #{number}").format(number=number) if number else f._("paid for an order"),
            "refund": (f._("returned from order #{number}").format(number=number) if number
                       else f._("returned from an order")),
        }.get(entry.kind, entry.kind)
        sign = "−" if entry.delta_minor < 0 else "+"
        lines.append(f"{f.date(entry.created_at)} · {what} · {sign}{amount}")
    return Screen("\n".join(lines), markup([nav_row(f, back=back)]))


# -- codes --------------------------------------------------------------------------------------

CODE_EXPECTED = N_("Please send the code as text.")


def code_prompt(f: Fmt, error: str | None = None) -> Screen:
    text = f._(
        "<b>🔑 Enter a code</b>\n"
        "Type the code of a coupon or a gift certificate, for example <code>WELCOME5</code>. "
        "Capital or small letters, both work."
    )
    if error:
        text = f"{error}\n\n{text}"
    return Screen(text, markup([flow_row(f)]))


def error_text(exc: DomainError, now: datetime, f: Fmt) -> str:
    """A coupon error in this locale: dates in the user's zone, the pause in minutes."""
    if isinstance(exc, TooManyAttempts):
        minutes = max(1, math.ceil((exc.retry_at - now).total_seconds() / 60))
        return f.ngettext(
            "Too many wrong codes. Please try again in {n} minute.",
            "Too many wrong codes. Please try again in {n} minutes.",
            minutes,
        ).format(n=minutes)
    params: dict[str, Any] = {
        key: f.date(value) if isinstance(value, datetime) else value for key, value in exc.params.items()
    }
    text = f._(exc.msgid)
    return text.format(**params) if params else text


def redeemed_text(result: Redeemed, now: datetime, f: Fmt) -> str:
    if result.certificate is not None:
        return f._("✅ Gift certificate added:") + "\n" + certificate_line(result.certificate, now, f)
    assert result.coupon is not None
    return f._("✅ Coupon added:") + "\n" + coupon_line(result.coupon, now, f)


# -- pushes (delivered by the reminders section) ------------------------------------------------

def _section_button(f: Fmt) -> InlineKeyboardButton:
    """My coupons, from a push."""
    return button(f._("🎟 My coupons"), MenuCb(section="coupons"))


def expiry_push(payload: dict[str, Any], f: Fmt) -> Screen:
    """The "coupon_expiry" outbox row, rendered in the user's locale."""
    value = value_text(
        f, value_kind=payload["value_kind"], currency=payload["currency"],
        amount_minor=payload.get("amount_minor"), percent=payload.get("percent"),
        cap_minor=payload.get("cap_minor"),
    )
    where = (hd.quote(payload.get("store_name") or "") if payload.get("scope") == Scope.store
             else f._("All stores"))
    days = int(payload["days"])
    text = "\n".join([
        f.ngettext("⏳ A coupon expires in {n} day", "⏳ A coupon expires in {n} days", days).format(n=days),
        "<b>{value}</b> · {condition} · {where}".format(
            value=value, condition=condition_text(f, int(payload.get("min_order_minor") or 0),
                                                  payload["currency"]),
            where=where),
    ])
    return Screen(text, markup([[_section_button(f)]]))


register_push(
    EXPIRY_KIND, expiry_push,
    button=lambda payload, f: _section_button(f),
)
