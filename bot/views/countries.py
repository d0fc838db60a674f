"""Country names inside sentences, in the forms each language needs.

English puts "the" before some names ("in the United States"). Russian declines them: "в России",
"белорусский номер". A table holds the forms for the countries buyers use most; any other country
falls back to a construction that needs no declension ("в стране «Гана»", "номер из страны «Гана»").
"""

from __future__ import annotations

from bot.views.common import Fmt

# Babel's names that an editor of that language would write otherwise.
_NAMES: dict[str, dict[str, str]] = {
    "ru": {"US": "Соединённые Штаты"},
}

# English puts "the" before these names inside a sentence ("in the United States").
_WITH_THE = frozenset({
    "US", "GB", "AE", "NL", "PH", "BS", "GM", "KY", "VI", "VG", "MH", "SB", "FO", "FK", "CF",
    "DO", "MV", "SC", "KM", "CK", "TC", "VA", "UM",
})

# Per language, per country: (the name after "in", with its preposition and case; the masculine
# adjective). Russian needs them; English builds both from the name.
_RU_FORMS: dict[str, tuple[str, str]] = {
    "RU": ("в России", "российский"),
    "BY": ("в Беларуси", "белорусский"),
    "KZ": ("в Казахстане", "казахстанский"),
    "UA": ("в Украине", "украинский"),
    "US": ("в США", "американский"),
    "GB": ("в Великобритании", "британский"),
    "DE": ("в Германии", "немецкий"),
    "FR": ("во Франции", "французский"),
    "IT": ("в Италии", "итальянский"),
    "ES": ("в Испании", "испанский"),
    "CN": ("в Китае", "китайский"),
    "TR": ("в Турции", "турецкий"),
    "UZ": ("в Узбекистане", "узбекистанский"),
    "AM": ("в Армении", "армянский"),
    "GE": ("в Грузии", "грузинский"),
    "KG": ("в Киргизии", "киргизский"),
    "AZ": ("в Азербайджане", "азербайджанский"),
    "MD": ("в Молдове", "молдавский"),
    "TJ": ("в Таджикистане", "таджикский"),
    "TM": ("в Туркменистане", "туркменский"),
    "PL": ("в Польше", "польский"),
    "FI": ("в Финляндии", "финский"),
    "LV": ("в Латвии", "латвийский"),
    "LT": ("в Литве", "литовский"),
    "EE": ("в Эстонии", "эстонский"),
    "IL": ("в Израиле", "израильский"),
    "AE": ("в ОАЭ", "эмиратский"),
    "JP": ("в Японии", "японский"),
    "KR": ("в Республике Корея", "южнокорейский"),
    "IN": ("в Индии", "индийский"),
    "CA": ("в Канаде", "канадский"),
    "RS": ("в Сербии", "сербский"),
    "CZ": ("в Чехии", "чешский"),
    "NL": ("в Нидерландах", "нидерландский"),
    "TH": ("в Таиланде", "тайский"),
    "VN": ("во Вьетнаме", "вьетнамский"),
    "MN": ("в Монголии", "монгольский"),
}


_FORMS = {"ru": _RU_FORMS}


def country_name(f: Fmt, code: str) -> str:
    """The country's name on its own (a button, an address line): "Germany", "Германия"."""
    fixed = _NAMES.get(f.locale, {}).get(code)
    return fixed or f.babel.territories.get(code, code)


def country_in_text(f: Fmt, code: str) -> str:
    """The name inside an English sentence, with "the" where English wants it ("the United
    States"); the name itself in other languages (their catalogs use `{country_in}` for a case)."""
    name = country_name(f, code)
    return f"the {name}" if f.locale == "en" and code in _WITH_THE else name


def country_in(f: Fmt, code: str) -> str:
    """"in Germany" / "в Германии"; "в стране «Гана»" for a country the table does not know."""
    forms = _FORMS.get(f.locale, {}).get(code)
    return forms[0] if forms else f._("in {country}").format(country=country_in_text(f, code))


def number_from(f: Fmt, code: str) -> str:
    """A phone number of that country: "a number from Belarus" / "белорусский номер", or
    "номер из страны «Гана»"."""
    forms = _FORMS.get(f.locale, {}).get(code)
    if forms:
        return f._("{adjective} number").format(adjective=forms[1])
    return f._("a number from {country}").format(country=country_in_text(f, code))


def country_forms(f: Fmt, key: str, code: str) -> dict[str, str]:
    """The placeholders a message about country `code` (held in the parameter `key`) may use:
    `{key}` (the name in a sentence), `{key_in}` ("в России") and `{key_number}` ("российский
    номер"). English msgids use `{key}`; a translation picks the form its grammar needs."""
    return {
        key: country_in_text(f, code),
        f"{key}_in": country_in(f, code),
        f"{key}_number": number_from(f, code),
    }
