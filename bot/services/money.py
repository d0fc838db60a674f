"""Money: integer minor units and an ISO 4217 code, never float."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import cache

from babel.core import get_global
from babel.numbers import get_territory_currencies

from bot.services.errors import N_, InvalidInput


class NotANumber(InvalidInput, msgid=N_("Please type an amount as a number, for example 12.50.")): ...


_AMOUNT_RE = re.compile(r"^\d+(?:[.,]\d+)*$")


# ISO 4217's minor units where they are not 2. Amounts are ISO minor units (the shop API says so),
# and Babel's digits are CLDR's — how a sum is *shown* (0 for HUF, IDR, COP, IQD…, which ISO gives
# 2 or 3); scaling by them read 1,000,000 HUF minor units as a million forints, not 10,000.
_ISO_DIGITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


# Since when a currency must have been some country's money to be taken: a fixed day, so that what is
# money does not change with the day the process started (one withdrawn since stays taken: harmless)
TENDER_SINCE = date(2024, 1, 1)


@cache
def _tender() -> frozenset[str]:
    """The ISO 4217 codes that have been some country's money since TENDER_SINCE (Unicode CLDR,
    through Babel): not one withdrawn long ago (DEM), a metal (XAU), a unit of account (XDR) or the
    codes for testing and for no currency (XTS, XXX)."""
    return frozenset(code for territory in get_global("territory_currencies")
                     for code in get_territory_currencies(territory, start_date=TENDER_SINCE,
                                                          end_date=date(9999, 12, 31), tender=True))


def check_currency(currency: str) -> str:
    """An ISO 4217 code of money in use (any case, as typed or sent) → upper case; another three
    letters ("XYZ"), a metal ("XAU") or "no currency" ("XXX") could not be shown or paid."""
    code = currency.strip().upper()
    if code not in _tender():
        raise InvalidInput(N_("A currency is a three-letter ISO 4217 code of money in use, such as USD."))
    return code


def precision(currency: str) -> int:
    """ISO 4217's minor units of `currency`: how many digits of its amounts are after the point."""
    return _ISO_DIGITS.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in major units → minor units; more decimals than the currency has is an error."""
    scaled = amount.scaleb(precision(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidInput(N_("Too many digits after the decimal point."))
    return int(scaled)


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-precision(currency))


def parse_amount(text: str, currency: str) -> int:
    """What a person types ("12", "12.50", "12,5", "1 200", "1,200.50", "1.200,50") → minor units (> 0).
    A comma or a point is the decimal separator, except where it can only group thousands: one
    that stands more than once, one before the other separator, and a comma followed by exactly
    three digits when the currency has fewer decimals than that ("1,500" is 1500 dollars, never
    $1.50; in Kuwaiti dinars, which have three, it is 1.5). "1.500" dollars is refused (too many
    digits after the point): never read as an amount a thousand times another."""
    raw = (text or "").strip()
    for junk in (" ", "\u00a0", "\u202f", "'"):
        raw = raw.replace(junk, "")
    raw = raw.removesuffix(currency).removeprefix(currency)
    raw = raw.removeprefix("$").removesuffix("$").removeprefix("₽").removesuffix("₽")
    for rouble in ("руб.", "руб", "р.", "р"):  # as Russians write roubles: "500р", "500 руб"
        raw = raw.removesuffix(rouble)
    if raw.startswith("-") and _AMOUNT_RE.match(raw[1:]):  # a number, but not more than zero
        raise InvalidInput(N_("The amount must be more than zero."))
    if not raw or len(raw) > 24 or len(re.sub(r"[.,]", "", raw)) > 16 or not _AMOUNT_RE.match(raw):
        raise NotANumber()
    minor = to_minor(_decimal(raw, precision(currency)), currency)
    if minor <= 0:
        raise InvalidInput(N_("The amount must be more than zero."))
    return minor


def _decimal(raw: str, decimals: int) -> Decimal:
    """`raw`: digits with commas and points between them (`_AMOUNT_RE`)."""
    parts = re.split(r"([.,])", raw)
    digits, seps = parts[0::2], parts[1::2]
    if not seps:
        return Decimal(raw)
    last = seps[-1]
    decimal_point = last if seps.count(last) == 1 else None  # one that stands more than once groups
    if len(seps) == 1 and len(digits[-1]) == 3 and decimals < 3 and len(digits[0]) <= 3 \
            and not digits[0].startswith("0"):  # "0,500" groups nothing: half of one, with too many digits
        if decimal_point == ".":  # "1.500": 1500 where points group, 1.50 where they don't: asked again
            raise InvalidInput(N_("Too many digits after the decimal point."))
        decimal_point = None  # "1,500": thousands, as no such amount has three decimals
    groups = seps[:-1] if decimal_point else seps
    if groups and (len(set(groups)) > 1 or len(digits[0]) > 3 or digits[0].startswith("0")
                   or any(len(d) != 3 for d in digits[1:len(groups) + 1])):
        raise NotANumber()  # "1,2,3", "1.000,000.5", "12345,678": no way to read it for sure
    whole = "".join(digits[:len(groups) + 1])
    return Decimal(f"{whole}.{digits[-1]}" if decimal_point else whole)
