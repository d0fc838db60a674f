"""What every screen is made of: Screen, Fmt (one locale's texts, money and dates), buttons."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n
from aiogram.utils.text_decorations import html_decoration
from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)

from bot.keyboards.common import NavAction, NavCb
from bot.services.clock import zone
from bot.services.errors import DomainError
from bot.services.money import precision

html_quote = html_decoration.quote
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    reply_markup: Markup = None
    extra: dict[str, Any] = field(default_factory=dict)
    # a push that carries media (a relayed photo, document, voice message or album): (type, file
    # id) per item; `text` is then the caption, or for an album the message before it
    media: tuple[tuple[str, str], ...] = ()

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "reply_markup": self.reply_markup, **self.extra}


@lru_cache(maxsize=16)
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code)


class _MoneyFormat:
    """Babel's `format_currency(minor / 10**digits, currency, locale)` for integer minor units,
    with the pattern's affixes, symbols and grouping worked out once per (locale, currency):
    ~2 µs instead of ~25 µs a call (Babel parses nothing, but quantizes a Decimal, looks the
    symbols up and evaluates plural rules for every value; a wallet page formats a dozen sums).
    It checks itself against Babel when built and falls back to Babel for any pattern it does not
    reproduce exactly (scientific, significant digits, currency names)."""

    __slots__ = ("babel", "currency", "decimal", "digits", "exact", "group", "grouping", "int_min",
                 "prefix", "suffix")

    _SAMPLES = (0, 1, -1, 5, 99, 100, -100, 1234, 100_000, -123_456, 1_234_567, 99_999_999_999, -10**15)

    def __init__(self, locale: Locale, currency: str) -> None:
        self.babel = locale
        self.currency = currency
        self.digits = precision(currency)  # ISO 4217's: what an amount's minor units are
        pattern = locale.currency_formats["standard"]
        symbol = get_currency_symbol(currency, locale)

        def affix(text: str) -> str:
            text = text.replace("¤¤", currency.upper()).replace("¤", symbol)
            return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)

        # CLDR's currency spacing, which Babel leaves out: a symbol that is letters ("RUB", "KZT")
        # is kept apart from the digits by a no-break space — "RUB 3,250.00", not "RUB3,250.00"
        def spaced(text: str, before: bool) -> str:
            if before and text[-1:].isalpha():
                return text + "\u00a0"
            if not before and text[:1].isalpha():
                return "\u00a0" + text
            return text

        self.prefix = (spaced(affix(pattern.prefix[0]), True), spaced(affix(pattern.prefix[1]), True))
        self.suffix = (spaced(affix(pattern.suffix[0]), False), spaced(affix(pattern.suffix[1]), False))
        self.group = get_group_symbol(locale)
        self.decimal = get_decimal_symbol(locale)
        self.grouping = pattern.grouping
        self.int_min = pattern.int_prec[0]
        simple = not (pattern.exp_prec or pattern.scale or "@" in pattern.pattern
                      or "¤¤¤" in "".join((*pattern.prefix, *pattern.suffix)))
        # the fast path shows ISO's digits; where CLDR shows other ones (0 for HUF), Babel rounds
        simple = simple and int(get_currency_precision(currency)) == self.digits
        self.exact = simple and all(self._fast(m) == self._babel(m) for m in self._SAMPLES)

    def _babel(self, minor: int) -> str:
        text = format_currency(Decimal(minor).scaleb(-self.digits), self.currency, locale=self.babel)
        text = re.sub(r"(?<=[^\W\d_])(?=\d)", "\u00a0", text)  # currency spacing (above)
        return re.sub(r"(?<=\d)(?=[^\W\d_])", "\u00a0", text)

    def _fast(self, minor: int) -> str:
        negative = minor < 0
        whole, frac = divmod(-minor if negative else minor, 10**self.digits)
        digits = str(whole).rjust(self.int_min, "0")
        size, then = self.grouping
        parts = []
        while len(digits) > size:
            parts.append(digits[-size:])
            digits = digits[:-size]
            size = then
        parts.append(digits)
        number = self.group.join(reversed(parts))
        if self.digits:
            number += self.decimal + str(frac).rjust(self.digits, "0")
        return self.prefix[negative] + number + self.suffix[negative]

    def __call__(self, minor: int) -> str:
        return self._fast(minor) if self.exact else self._babel(minor)


@lru_cache(maxsize=256)
def _money_format(locale: str, currency: str) -> _MoneyFormat:
    return _MoneyFormat(_babel_locale(locale), currency)


class Fmt:
    """One locale's gettext, plural forms, money, dates and time spans (Babel)."""

    __slots__ = ("_i18n", "babel", "locale", "tz", "tz_name")

    def __init__(self, i18n: I18n, locale: str, tz_name: str = "UTC") -> None:
        self._i18n = i18n
        self.locale = locale
        self.babel = _babel_locale(locale)
        self.tz_name = tz_name
        self.tz = zone(tz_name)

    def rebind(self, locale: str, tz_name: str) -> Fmt:
        """The same catalogs for another locale or zone (after the user changed settings)."""
        return Fmt(self._i18n, locale, tz_name)

    def _(self, msgid: str) -> str:
        return self._i18n.gettext(msgid, locale=self.locale)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._i18n.gettext(singular, plural, n, locale=self.locale)

    def error(self, exc: DomainError) -> str:
        """A domain error's message in this locale, with its parameters."""
        text = self._(exc.msgid)
        return text.format(**exc.params) if exc.params else text

    def money(self, minor: int, currency: str) -> str:
        return _money_format(self.locale, currency)(minor)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.babel)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def date(self, moment: datetime | date) -> str:
        """The one date format of the locale (Babel's medium): "Dec 5, 2026", "5 дек. 2026 г."."""
        if isinstance(moment, datetime):
            moment = self.local(moment)
        return format_date(moment, format="medium", locale=self.babel)

    def datetime(self, moment: datetime) -> str:
        """The one date-and-time format: the date as `date`, then the time as `time`, in the user's
        zone: "Dec 5, 2026, 10:52 PM", "5 дек. 2026 г., 22:52"."""
        return f"{self.date(moment)}, {self.time(moment)}"

    def time(self, moment: datetime) -> str:
        """The time of day in the user's zone (Babel's short): "10:52 PM", "22:52"."""
        return format_time(moment, format="short", tzinfo=self.tz, locale=self.babel)

    def timedelta(self, delta: timedelta, **kwargs: Any) -> str:
        return format_timedelta(delta, locale=self.babel, **kwargs)


_BRANDS = {
    "visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "unionpay": "UnionPay",
    "maestro": "Maestro", "jcb": "JCB",
}


def brand_name(brand: str | None, f: Fmt) -> str:
    """A card brand's name in this locale ("Mir" / "Мир"). Takes the wallet's codes ("mir") and the
    names older order snapshots hold ("Mir")."""
    code = (brand or "").strip().lower()
    if code == "mir":
        return f._("Mir")
    return _BRANDS.get(code, brand or "")


def card_label(brand: str | None, last4: str | None, f: Fmt) -> str:
    """The one way a card is named on every screen: "Visa •••• 4242", "Мир •••• 0004" (HTML-safe)."""
    name = html_quote(brand_name(brand, f))
    return f"{name} •••• {html_quote(last4 or '')}".strip()


_packed: dict[tuple[Any, ...], str] = {}


def totals(f: Fmt, currency: str, *, items_minor: int, discount_minor: int, total_minor: int,
           shipping_minor: int | None = None) -> list[str]:
    """An order's money lines, as the checkout summary and the order card show them: items, shipping
    (when known: free when 0), the coupons' discount when there is one, the total."""
    lines = [f._("Items: {amount}").format(amount=f.money(items_minor, currency))]
    if shipping_minor is not None:
        shipping = f.money(shipping_minor, currency) if shipping_minor else f._("free")
        lines.append(f._("Shipping: {amount}").format(amount=shipping))
    if discount_minor:
        lines.append(f._("Coupons: −{amount}").format(amount=f.money(discount_minor, currency)))
    lines.append(f._("<b>Total: {amount}</b>").format(amount=f.money(total_minor, currency)))
    return lines


def pack(callback: CallbackData) -> str:
    """`callback.pack()`, remembered by (class, field values): the same buttons (tabs, pagers,
    Back, Menu) are packed on every screen, and aiogram's pack costs ~10 µs."""
    key = (type(callback), *callback.__dict__.values())
    data = _packed.get(key)
    if data is None:
        data = callback.pack()
        if len(_packed) >= 8192:
            _packed.clear()
        _packed[key] = data
    return data


def button(text: str, callback: CallbackData | str) -> InlineKeyboardButton:
    data = callback if isinstance(callback, str) else pack(callback)
    return InlineKeyboardButton(text=text, callback_data=data)


def url_button(text: str, url: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, url=url)


def nav_row(f: Fmt, *, back: CallbackData | None = None) -> list[InlineKeyboardButton]:
    """The shared last row: Back (to `back`, when given) and Menu."""
    row = []
    if back is not None:
        row.append(button(f._("‹ Back"), back))
    row.append(button(f._("☰ Menu"), NavCb(action=NavAction.menu)))
    return row


def noted(screen: Screen, note: str) -> Screen:
    """A screen with a line on top saying what just happened."""
    return Screen(note + "\n\n" + screen.text, screen.reply_markup)


def flow_row(f: Fmt, *, back: bool = True) -> list[InlineKeyboardButton]:
    """The last row of a step in a flow: Back (previous step) and Cancel."""
    row = []
    if back:
        row.append(button(f._("‹ Back"), NavCb(action=NavAction.back)))
    row.append(button(f._("✖ Cancel"), NavCb(action=NavAction.cancel)))
    return row


def page_label(page: int, pages: int) -> str:
    """The pager's middle button, the same on every list: "2/6" (`page` counts from 0)."""
    return f"{page + 1}/{pages}"


def pager_row(page: int, pages: int, to: Callable[[int], CallbackData],
              here: CallbackData | None = None) -> list[InlineKeyboardButton]:
    """A list's pager, the same on every list: "‹", "2/6", "›" (no row when it fits one page).
    `to(n)` opens page n (from 0); the middle button is `here`, or opens the page again."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(button("‹", to(page - 1)))
    row.append(button(page_label(page, pages), to(page) if here is None else here))
    if page < pages - 1:
        row.append(button("›", to(page + 1)))
    return row


def markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r])


def are_you_sure(f: Fmt, text: str, yes: str, does: CallbackData, back: CallbackData) -> Screen:
    """A confirmation: the question, the button that `does` it, and ‹ Back to where it was asked."""
    return Screen(text, markup([[button(yes, does)], [button(f._("‹ Back"), back)]]))


def chunk(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


# -- Telegram's limits ---------------------------------------------------------------------------------
TEXT_LIMIT = 4096  # a message's text as Telegram counts it: visible characters in UTF-16 code units
CAPTION_LIMIT = 1024
_TAGS = re.compile(r"<[^>]*>")


def visible_length(text: str) -> int:
    """How Telegram counts an HTML text against its limits: tags gone, entities decoded, in
    UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(html.unescape(_TAGS.sub("", text)).encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """Plain text (not HTML yet) cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fitting(blocks: list[str], budget: int, *, at_most: int | None = None, sep: int = 1) -> int:
    """How many of `blocks` (HTML), in order, fit in `budget` visible characters, each followed by
    a separator of `sep` characters; at least one when there is any (a cut block is better than
    none), at most `at_most`."""
    used, taken = 0, 0
    for block in blocks[: at_most if at_most is not None else len(blocks)]:
        used += visible_length(block) + sep
        if used > budget and taken:
            break
        taken += 1
    return taken
