"""Carriers' names as a buyer or a seller reads them, in their language. The codes, and the
English names the shop API and the operator's commands print, are in bot/integrations/carrier.py."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.integrations.carrier import CARRIERS
from bot.services.errors import N_
from bot.views.common import Fmt

NAMES = {
    "cainiao": N_("Cainiao"),
    "ems": N_("EMS"),
    "russian_post": N_("Russian Post"),
    "dhl": N_("DHL"),
}
assert set(NAMES) == set(CARRIERS), "every carrier an order can be shipped with has a name to show"


def carrier_name(f: Fmt, code: str | None) -> str:
    """The carrier's name in the user's language (plain text, for a button); an unknown code as it is."""
    if not code:
        return ""
    name = NAMES.get(code)
    return f._(name) if name is not None else code


def carrier_label(f: Fmt, code: str | None) -> str:
    """The carrier's name for a message's HTML."""
    return hd.quote(carrier_name(f, code))


def carrier_choices(f: Fmt) -> list[tuple[str, str]]:
    """(code, name) of every carrier, in the order the shop's systems know them."""
    return [(code, carrier_name(f, code)) for code in CARRIERS]
