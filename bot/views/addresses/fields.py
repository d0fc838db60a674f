"""The form's fields as people read them: their names (a ZIP code in the US) and examples in the
user's language."""

from __future__ import annotations

from bot.services import addresses as rules
from bot.services.addresses import Field
from bot.services.errors import N_
from bot.views.common import Fmt

__all__ = [
    "CITY_EXAMPLES", "STREET_EXAMPLES",
]


REGION_PAGE = 8
LABEL_MAX = 40

FIELD_NAMES = {
    Field.country: N_("Country"),
    Field.recipient: N_("Recipient"),
    Field.phone: N_("Phone"),
    Field.region: N_("Region"),
    Field.city: N_("City"),
    Field.street: N_("Street and house"),
    Field.apartment: N_("Apartment"),
    Field.postal_code: N_("Postal code"),
}

def field_name(f: Fmt, field: Field, country: str) -> str:
    if field is Field.postal_code and rules.is_country(country) and rules.country_rules(country).postal_kind == "zip":
        return f._("ZIP code")
    return f._(FIELD_NAMES[field])


# Examples in the user's language for the countries people ship to most (msgids: the Russian
# catalog has them in Russian where a Russian speaker would write them so).
CITY_EXAMPLES = {
    "RU": N_("Moscow"), "BY": N_("Minsk"), "KZ": N_("Almaty"), "UZ": N_("Tashkent"),
    "AM": N_("Yerevan"), "GE": N_("Tbilisi"), "KG": N_("Bishkek"), "AZ": N_("Baku"),
    "US": "New York", "DE": "Berlin", "GB": "London", "TR": "Istanbul", "IL": "Tel Aviv",
}
STREET_EXAMPLES = {
    "RU": N_("7 Tverskaya St"), "BY": N_("4 Nezavisimosti Ave"), "KZ": N_("10 Abay Ave"),
    "UZ": N_("1 Amir Temur St"), "AM": N_("5 Abovyan St"), "GE": N_("12 Rustaveli Ave"),
    "KG": N_("20 Chuy Ave"), "AZ": N_("3 Nizami St"),
    "US": "350 5th Ave", "DE": "Unter den Linden 5", "GB": "221B Baker Street",
}
REGION_EXAMPLES = {
    "KZ": N_("Almaty Region"), "BY": N_("Minsk Region"), "UZ": N_("Tashkent Region"),
    "KG": N_("Chuy Region"),
}
