"""Money: integer minor units and an ISO 4217 code, never float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from bot.services.errors import N_, InvalidInput


class NotANumber(InvalidInput, msgid=N_("Please type an amount as a number, for example 12.50.")): ...


_AMOUNT_RE = re.compile(r"^\d+(?:[.,]\d+)?$")


def precision(currency: str) -> int:
    return int(get_currency_precision(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in major units → minor units; more decimals than the currency has is an error."""
    scaled = amount.scaleb(precision(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidInput(N_("Too many digits after the decimal point."))
    return int(scaled)


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-precision(currency))


def parse_amount(text: str, currency: str) -> int:
    """What a person types ("12", "12.50", "12,5", "1 200") → minor units (> 0)."""
    raw = (text or "").strip()
    for junk in (" ", "\u00a0", "\u202f", "'"):
        raw = raw.replace(junk, "")
    raw = raw.removesuffix(currency).removeprefix(currency)
    raw = raw.removeprefix("$").removesuffix("$").removeprefix("₽").removesuffix("₽")
    raw = raw.removesuffix("руб.").removesuffix("р.")
    if raw.startswith("-") and _AMOUNT_RE.match(raw[1:]):  # a number, but not more than zero
        raise InvalidInput(N_("The amount must be more than zero."))
    if not raw or len(raw) > 16 or not _AMOUNT_RE.match(raw):
        raise NotANumber()
    try:
        amount = Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise NotANumber() from None
    minor = to_minor(amount, currency)
    if minor <= 0:
        raise InvalidInput(N_("The amount must be more than zero."))
    return minor
