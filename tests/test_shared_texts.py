"""Texts that screens and pushes share: a parcel's new event as its push reads in the message centre
(the carrier's known events in the user's language, as on the tracking screen; an unknown one as the
carrier wrote it), and chosen options in the reader's language whatever case a shop wrote them in."""

from __future__ import annotations

from bot.i18n import build_i18n
from bot.views.catalog import options_text
from bot.views.common import Fmt
from bot.views.orders.pushes import tracking_push

AT = "2026-11-25T01:12:00+00:00"


def test_a_known_event_is_named_in_the_users_language_even_with_no_description() -> None:
    i18n = build_i18n("en")
    payload = {"number": "261123000006", "code": "left_origin_facility", "description": "", "at": AT,
               "location": "Shenzhen sorting center, CN"}
    assert tracking_push(payload, Fmt(i18n, "en")).text.startswith(
        "📍 Order #261123000006: Left the seller's sorting centre — Shenzhen sorting center, CN\n")
    assert tracking_push(payload, Fmt(i18n, "ru")).text.startswith(
        "📍 Заказ № 261123000006: Покинула сортировочный центр отправителя — Shenzhen sorting center, CN\n")


def test_an_unknown_event_is_the_carriers_words_escaped() -> None:
    payload = {"number": "7", "code": "x_custom", "description": "Held <at> depot", "at": AT}
    assert tracking_push(payload, Fmt(build_i18n("en"), "en")).text.startswith("📍 Order #7: Held &lt;at&gt; depot\n")


def test_option_names_and_values_are_translated_whatever_their_case() -> None:
    ru = Fmt(build_i18n("en"), "ru")
    assert options_text([("Colour", "Black"), ("colour", "white"), ("Size", "M"), ("Engraving", "Yes")], ru) == (
        "Цвет: чёрный, Цвет: белый, Размер: M, Engraving: Yes")
