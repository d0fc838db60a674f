"""Reading what a person typed: the card number (`CardNumber` hides its digits), the expiry date
and the CVC."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from bot.services.card_numbers import luhn_ok
from bot.services.cards.brands import BRAND_LENGTHS, Brand, detect_brand
from bot.services.cards.errors import InvalidCardNumber, InvalidCvc, InvalidExpiry
from bot.services.cards.expiry import is_expired
from bot.services.cards.policy import MAX_YEARS_AHEAD
from bot.services.errors import N_

if TYPE_CHECKING:
    pass

__all__ = [
    "cvc_length",
    "looks_like_card_number",
    "parse_cvc",
    "parse_expiry",
    "parse_number",
]


_NUMBER_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.]")
_DIGIT_RUN = re.compile(r"\d(?:[\s\-]?\d){11,}")


class CardNumber:
    """A card number on its way to the gateway. Its digits never show in repr, str or logs."""

    __slots__ = ("_digits", "brand")

    def __init__(self, digits: str, brand: Brand) -> None:
        self._digits = digits
        self.brand = brand

    @property
    def last4(self) -> str:
        return self._digits[-4:]

    def reveal(self) -> str:
        """The digits, for the gateway only."""
        return self._digits

    def __repr__(self) -> str:
        return f"CardNumber({self.brand.value} •••• {self.last4})"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("a card number is not serialised")


def looks_like_card_number(text: str) -> bool:
    """True when the text holds a run of 12 or more digits (spaces or dashes between them)."""
    return bool(_DIGIT_RUN.search(text))


def parse_number(text: str) -> CardNumber:
    raw = _NUMBER_SEPARATORS.sub("", text.strip())
    if not raw or not (raw.isascii() and raw.isdigit()):
        raise InvalidCardNumber(N_("A card number is made of digits; spaces and dashes between them are fine. "
                                   "It is on the front of the card: 16 digits on most cards."))
    if not 12 <= len(raw) <= 19:
        raise InvalidCardNumber(N_("A card number has 12 to 19 digits, and this one has {count}. "
                                   "Check it and send it again."), count=len(raw))
    if not luhn_ok(raw):
        raise InvalidCardNumber()
    brand = detect_brand(raw)
    if brand is None:
        raise InvalidCardNumber(N_("There is no such card among those we accept: Mir, Visa, Mastercard, "
                                   "American Express, UnionPay, Maestro and JCB."))
    if len(raw) not in BRAND_LENGTHS[brand]:
        raise InvalidCardNumber(N_("There is no such card: numbers that start like this one have {lengths} digits, "
                                   "and this one has {count}."),
                                lengths="/".join(map(str, BRAND_LENGTHS[brand])), count=len(raw))
    return CardNumber(raw, brand)


_EXPIRY_PATTERNS = (
    re.compile(r"(?P<m>[0-9]{1,2})\s*[/\\.\-\s]\s*(?P<y>[0-9]{2}|[0-9]{4})"),
    re.compile(r"(?P<m>[0-9]{2})(?P<y>[0-9]{2}|[0-9]{4})"),
)


def parse_expiry(text: str, now: datetime) -> tuple[int, int]:
    """05/28, 0528, 5/2028, 05-28, 05.2028 → (month, year)."""
    raw = text.strip()
    for pattern in _EXPIRY_PATTERNS:
        match = pattern.fullmatch(raw)
        if match:
            break
    else:
        raise InvalidExpiry()
    month, year = int(match["m"]), int(match["y"])
    if len(match["y"]) == 2:
        year += 2000
    if not 1 <= month <= 12:
        raise InvalidExpiry(N_("There is no month {month}. Send the month and the year as on the card, "
                               "for example 05/28."), month=match["m"])
    if is_expired(month, year, now):
        raise InvalidExpiry(N_("This card expired at the end of {expiry}. Please use a card that is still valid."),
                            expiry=f"{month:02d}/{year}")
    if year > now.year + MAX_YEARS_AHEAD:
        raise InvalidExpiry(N_("Cards are not issued for that long: check the year. "
                               "Send the month and the year as on the card, for example 05/28."))
    return month, year


def cvc_length(brand: str | None) -> int:
    return 4 if brand == Brand.amex else 3


def parse_cvc(text: str, brand: str | None) -> str:
    code = "".join(text.split())
    if not (code.isascii() and code.isdigit() and len(code) == cvc_length(brand)):
        if brand == Brand.amex:
            raise InvalidCvc(N_("An American Express card has a 4-digit code (CID) on its front, above the number."))
        raise InvalidCvc()
    return code
