"""The address form's vocabulary: its questions (`Field`) and limits, the errors and their msgids,
and how typed text is cleaned."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Self

from bot.services.errors import N_, DomainError, InvalidInput, NotFound

__all__ = [
    "ANGLE_BRACKETS",
    "APARTMENT_MAX",
    "CITY_MAX",
    "CITY_NEEDS_LETTERS",
    "COUNTRY_UNKNOWN",
    "EMPTY",
    "MAX_ADDRESSES",
    "NAME_CHARACTERS",
    "NAME_NEEDS_LETTERS",
    "NAME_TOO_SHORT",
    "NO_LETTERS",
    "PHONE_INVALID",
    "PHONE_MAX",
    "PHONE_OTHER_COUNTRY",
    "POSTAL_INVALID",
    "POSTAL_MAX",
    "POSTAL_NOT_IN_REGION",
    "POSTAL_REQUIRED",
    "RECIPIENT_MAX",
    "REGION_MAX",
    "REGION_REQUIRED",
    "REGION_UNKNOWN",
    "STREET_MAX",
    "STREET_TOO_SHORT",
    "TOO_LONG",
    "ZIP_INVALID",
    "ZIP_NOT_IN_STATE",
    "ZIP_REQUIRED",
    "AddressInputError",
    "AddressLimitReached",
    "AddressNotFound",
    "Field",
    "fold",
]


MAX_ADDRESSES = 5
RECIPIENT_MIN, RECIPIENT_MAX = 2, 60
REGION_MAX = 60
CITY_MAX = 60
STREET_MAX = 120
APARTMENT_MAX = 20
POSTAL_MAX = 12
PHONE_MAX = 32
COUNTRY_TYPED_MAX = 60


class Field(StrEnum):
    """The questions of the form, in their order."""

    country = "country"
    recipient = "recipient"
    phone = "phone"
    region = "region"
    city = "city"
    street = "street"
    apartment = "apartment"
    postal_code = "postal_code"


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """An address's parts, one per Field: what the form takes (AddressDraft) and what an order
    keeps (the orders' AddressSnapshot)."""

    country: str = ""  # ISO 3166-1 alpha-2
    recipient: str = ""
    phone: str = ""
    region: str = ""  # as the address book stores it: the library's key ("Москва", "NY") or free text
    city: str = ""
    street: str = ""
    apartment: str = ""  # kept apart from the street, so the layout can say "кв. 12" / "Apt 12"
    postal_code: str = ""

    @classmethod
    def of(cls, address: Any) -> Self:
        """The parts of anything that has them: an address book entry, another address."""
        return cls(**{f.name: getattr(address, f.name) for f in fields(cls)})


# --- errors -------------------------------------------------------------------------------------

class AddressNotFound(NotFound, msgid=N_("This address is no longer available.")): ...


class AddressLimitReached(DomainError, msgid=N_("Your address book is full. Delete an address to add another one.")):
    def __init__(self, limit: int = MAX_ADDRESSES) -> None:
        super().__init__()
        self.limit = limit


class AddressInputError(InvalidInput):
    """A value a field cannot take. `field` names the question to ask again; params are plain
    values (a country or region is given by its code or key; the view names it)."""

    def __init__(self, field: Field, msgid: str, **params: object) -> None:
        super().__init__(msgid, **params)
        self.field = field


EMPTY = N_("This can't be empty.")
TOO_LONG = N_("That's too long.")  # the view says how long it may be (with plural forms)
NO_LETTERS = N_("Please use letters or digits: emoji and symbols alone are not an address.")
ANGLE_BRACKETS = N_("Please leave out the “&lt;” and “&gt;” characters.")  # HTML: shown in messages
NAME_NEEDS_LETTERS = N_("Please type the recipient's name in letters.")
CITY_NEEDS_LETTERS = N_("Please type the name of the town or city in letters, not a postal code.")
STREET_TOO_SHORT = N_("Please type the street and the house number, for example “12 Oak Street”.")
NAME_CHARACTERS = N_("A name may contain only letters, spaces, hyphens and apostrophes.")
NAME_TOO_SHORT = N_("The name is too short.")
COUNTRY_UNKNOWN = N_("I don't know this country.")
PHONE_INVALID = N_("This doesn't look like a phone number in {country}. Example: {example}")
PHONE_OTHER_COUNTRY = N_(
    "This is a number from {other}, but the address is in {country}. Please give a number that "
    "works in {country}, for example {example}"
)
REGION_UNKNOWN = N_("I don't know this region in {country}. Choose a button or type its name, for example {region}.")
REGION_REQUIRED = N_("Addresses in {country} need a region. Choose one of the buttons or type its name.")
POSTAL_REQUIRED = N_("Addresses in {country} need a postal code. Example: {example}")
ZIP_REQUIRED = N_("Addresses in {country} need a ZIP code. Example: {example}")
POSTAL_INVALID = N_("This doesn't look like a postal code in {country}. Example: {example}")
ZIP_INVALID = N_("This doesn't look like a ZIP code. Example: {example}")
POSTAL_NOT_IN_REGION = N_("The postal code {code} is not in {region}. Postal codes there look like {example}.")
ZIP_NOT_IN_STATE = N_("The ZIP code {code} is not in {region}. ZIP codes there look like {example}.")


# --- text ---------------------------------------------------------------------------------------

_LINE_BREAKS = "\n\r\t\v\f\u2028\u2029\x85"


def clean(raw: str) -> str:
    """What the user typed, trimmed: NFC, line breaks as spaces, control and format characters
    (zero-width spaces, direction marks) dropped, runs of spaces collapsed."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(
        " " if ch in _LINE_BREAKS else ch
        for ch in text
        if ch in _LINE_BREAKS or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")
    )
    return " ".join(text.split())


def free_text(field: Field, raw: str, limit: int, *, required: bool) -> str:
    value = clean(raw)
    if not value:
        if required:
            raise AddressInputError(field, EMPTY)
        return ""
    if "<" in value or ">" in value:
        raise AddressInputError(field, ANGLE_BRACKETS)
    if len(value) > limit:
        raise AddressInputError(field, TOO_LONG, max=limit)
    if not any(ch.isalnum() for ch in value):
        raise AddressInputError(field, NO_LETTERS)
    return value


def fold(text: str) -> str:
    """A comparison key: casefolded, ё as е, apostrophes and dots dropped, hyphens, commas and
    "&" as spaces, "and"/"и" dropped."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    text = re.sub(r"['’ʼ`.]", "", text)
    text = re.sub(r"[\s\-‐–—_,()&/]+", " ", text)
    words = [w for w in text.split() if w not in ("and", "и")]
    return " ".join(words)
