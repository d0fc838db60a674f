"""The catalogs read as one editor wrote them (issue 14, "Texts"): checks over every entry, so a
new string cannot bring back what was fixed.

Placeholders follow one convention: `{date}`, `{start}` and `{end}` hold `Fmt.date` ("5 дек.
2026 г."), `{when}` holds `Fmt.datetime` or a phrase. Russian dates end in "г.", so a Russian
sentence that ends with a date takes no period of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"
SAMPLE = {"ru": "5 дек. 2026\u202fг.", "en": "Dec 5, 2026"}
DATES = ("date", "start", "end")
# Forms the views supply beside a country parameter (bot/views/countries.py: country_forms).
COUNTRY_FORMS = {"country": ("country_in", "country_number"), "other": ("other_in", "other_number")}
# Latin words a Russian text may hold: names, codes, commands, examples typed on a card.
LATIN_OK = {
    "Telegram", "ISO", "RUB", "USD", "ZIP", "American", "Express", "CID", "CVC", "UTC", "Europe", "Moscow",
    "Asia", "Kolkata", "EMS", "DHL", "Visa", "Mastercard", "UnionPay", "Maestro", "JCB", "IVAN", "PETROV", "DE",
}


def catalog(lang: str) -> Catalog:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def entries(lang: str) -> list[tuple[Message, str, str]]:
    """(message, its msgid — the singular, or the plural for plural forms — , one translation)."""
    out = []
    for m in catalog(lang):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for i, s in enumerate(strings):
            out.append((m, ids[min(i, len(ids) - 1)], s))
    return out


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def render(text: str, lang: str) -> str:
    """The translation with every placeholder filled: dates with a real date of the locale."""
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[lang] if m.group(1) in DATES else "X", text)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_no_double_period_after_a_date(lang: str) -> None:
    bad = [s for _, _, s in entries(lang) if ".." in render(s, lang)]
    assert not bad, bad


def test_russian_uses_only_placeholders_the_code_fills() -> None:
    bad = []
    for _, msgid, s in entries("ru"):
        allowed = placeholders(msgid)
        for key, forms in COUNTRY_FORMS.items():
            if key in allowed:
                allowed |= set(forms)
        if not placeholders(s) <= allowed:
            bad.append((msgid, s))
    assert not bad, bad


def test_russian_names_an_order_in_the_sentences_case() -> None:
    """"Заказ № …" starts a sentence or a title; inside one it is "заказ № …", "заказа № …"."""
    bad = [s for _, _, s in entries("ru") if re.search(r"[а-яё,:–—-] Заказ №|\{order\}", s)]
    assert not bad, bad


def test_russian_has_no_english_leftovers_or_gendered_brackets() -> None:
    bad = []
    for _, msgid, s in entries("ru"):
        text = re.sub(r"<code>.*?</code>|\{\w+\}|<[^>]+>|&\w+;|/\w+", " ", s)
        latin = set(re.findall(r"[A-Za-z]{2,}", text)) - LATIN_OK
        if latin or re.search(r"\((а|ла|ый|ая)\)", s):
            bad.append((msgid, s, sorted(latin)))
    assert not bad, bad


def test_english_has_one_form_for_an_order_and_for_a_tap() -> None:
    bad = [msgid for _, msgid, _ in entries("en")
           if "№" in msgid or re.search(r"[«»]", msgid) or re.search(r"\bPress\b", msgid)]
    assert not bad, bad


def test_russian_writes_yo_where_it_matters() -> None:
    words = re.compile(r"\b(Соединенные|еще|ее|все равно|зачтен|удален|сохранен|передан|отмечен|решен|включен|выключен)\b")
    bad = [s for _, _, s in entries("ru") if words.search(s)]
    assert not bad, bad


def test_english_spells_one_way() -> None:
    """British spelling, as most of the catalog has it ("cancelled", "Privilege centre")."""
    bad = [msgid for _, msgid, _ in entries("en") if re.search(r"\b(center|canceled|color|favorite)\b", msgid)]
    assert not bad, bad


def test_every_tracking_code_the_api_names_is_read_in_the_buyers_language() -> None:
    """The codes the API's schema and the CLI list are the ones the buyer reads translated (a code
    outside them is shown as its description): the two lists are one."""
    from bot.integrations.carrier import EVENT_CODES
    from bot.views.orders.texts import TRACKING_EVENTS

    assert list(EVENT_CODES) == list(TRACKING_EVENTS)
