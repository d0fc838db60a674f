"""What every screen is made of: Screen, Fmt (one locale's texts, money and dates), buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n
from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.numbers import format_currency, format_decimal, get_currency_precision

from bot.keyboards.common import NavAction, NavCb
from bot.services.errors import DomainError

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    reply_markup: Markup = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "reply_markup": self.reply_markup, **self.extra}


@lru_cache(maxsize=16)
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


class Fmt:
    """One locale's gettext, plural forms, money, dates and time spans (Babel)."""

    __slots__ = ("_i18n", "babel", "locale", "tz", "tz_name")

    def __init__(self, i18n: I18n, locale: str, tz_name: str = "UTC") -> None:
        self._i18n = i18n
        self.locale = locale
        self.babel = _babel_locale(locale)
        self.tz_name = tz_name
        self.tz = _zone(tz_name)

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
        digits = get_currency_precision(currency)
        return format_currency(Decimal(minor).scaleb(-digits), currency, locale=self.babel)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.babel)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def date(self, moment: datetime | date, fmt: str = "medium") -> str:
        if isinstance(moment, datetime):
            moment = self.local(moment)
        return format_date(moment, format=fmt, locale=self.babel)

    def datetime(self, moment: datetime, fmt: str = "medium") -> str:
        return format_datetime(moment, format=fmt, tzinfo=self.tz, locale=self.babel)

    def time(self, moment: datetime, fmt: str = "short") -> str:
        return format_time(moment, format=fmt, tzinfo=self.tz, locale=self.babel)

    def timedelta(self, delta: timedelta, **kwargs: Any) -> str:
        return format_timedelta(delta, locale=self.babel, **kwargs)


def button(text: str, callback: CallbackData | str) -> InlineKeyboardButton:
    data = callback if isinstance(callback, str) else callback.pack()
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


def flow_row(f: Fmt, *, back: bool = True) -> list[InlineKeyboardButton]:
    """The last row of a step in a flow: Back (previous step) and Cancel."""
    row = []
    if back:
        row.append(button(f._("‹ Back"), NavCb(action=NavAction.back)))
    row.append(button(f._("✖ Cancel"), NavCb(action=NavAction.cancel)))
    return row


def markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[r for r in rows if r])


def chunk(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]
