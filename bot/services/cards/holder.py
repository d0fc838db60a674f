"""The holder's name as the card bears it: Latin capitals, Cyrillic transliterated (ICAO Doc 9303)
as an offer."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from bot.services.cards.errors import HolderNeedsLatin, InvalidHolder
from bot.services.cards.policy import HOLDER_MAX
from bot.services.errors import N_

if TYPE_CHECKING:
    pass

__all__ = [
    "parse_holder",
    "transliterate",
]


_ICAO: dict[str, str] = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH", "З": "Z",
    "И": "I", "Й": "I", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O", "П": "P", "Р": "R",
    "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH",
    "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU", "Я": "IA",
    "І": "I", "Ї": "I", "Є": "IE", "Ґ": "G", "Ў": "U",
}
_HOLDER = re.compile(r"[A-Z](?:[A-Z .'\-]*[A-Z.])?")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'"})


def transliterate(text: str) -> str:
    """A name in the Latin letters of a Russian passport (ICAO Doc 9303): Иван Петров → IVAN PETROV.
    Accents are dropped: José → JOSE."""
    out = []
    for char in text.upper():
        if char in _ICAO:
            out.append(_ICAO[char])
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(out)


def _clean_holder(text: str) -> str:
    return " ".join(text.translate(_APOSTROPHES).split()).upper()


def _holder_ok(name: str) -> bool:
    return 0 < len(name) <= HOLDER_MAX and bool(_HOLDER.fullmatch(name)) and sum(c.isalpha() for c in name) >= 2


def parse_holder(text: str) -> str:
    """The cardholder's name as on the card: Latin A–Z, space, hyphen, apostrophe, dot, ≤ 26."""
    name = _clean_holder(text)
    if not name:
        raise InvalidHolder()
    if not name.isascii():
        offer = _clean_holder(transliterate(name))
        raise HolderNeedsLatin(offer if offer.isascii() and _holder_ok(offer) else None)
    if len(name) > HOLDER_MAX:
        raise InvalidHolder(N_("The name on a card has at most 26 characters, and this one has {count}. "
                               "Type it exactly as it is printed on the card."), count=len(name))
    if _HOLDER.fullmatch(name) and sum(c.isalpha() for c in name) < 2:  # "A": the characters are fine
        raise InvalidHolder(N_("A cardholder's name has at least two letters. Type it as it is printed on the card, "
                               "for example IVAN PETROV."))
    if not _holder_ok(name):
        raise InvalidHolder(N_("Use only Latin letters, spaces, hyphens, apostrophes and dots, as on the card, "
                               "for example IVAN PETROV."))
    return name
