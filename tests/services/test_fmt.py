"""Fmt: plural forms, money and dates through Babel in the user's locale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import build_i18n
from bot.services.errors import N_, InvalidInput
from bot.views.common import Fmt

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.fixture(scope="module")
def i18n():
    return build_i18n("en")


def test_money_in_both_locales(i18n) -> None:
    assert Fmt(i18n, "en").money(123456, "USD") == "$1,234.56"
    assert Fmt(i18n, "ru").money(123456, "USD") == f"1{NBSP}234,56{NBSP}$"
    assert Fmt(i18n, "ru").money(99900, "RUB") == f"999,00{NBSP}₽"
    assert Fmt(i18n, "en").money(500, "JPY") == "¥500"  # no minor units


@pytest.mark.parametrize("locale", ["en", "ru", "de_CH", "hi", "ar", "ja"])
def test_money_is_babels_format_currency(locale: str) -> None:
    """Every amount formats as Babel formats it, for any currency (grouping like India's 12,34,567,
    other signs and symbols, no or three minor digits) — whichever path does it: the precomputed
    format where it is exact for that Babel's data, Babel itself where it is not — with two
    differences: the amount is ISO 4217 minor units (Babel's digits are CLDR's), and a symbol of
    letters keeps a no-break space from the digits (CLDR's currency spacing, which Babel omits)."""
    import random
    from decimal import Decimal

    from babel import Locale
    from babel.numbers import format_currency

    from bot.services.money import precision
    from bot.views.common import _money_format

    rng = random.Random(locale)
    for currency in ("RUB", "USD", "EUR", "KZT", "JPY", "BHD", "INR", "HUF", "IQD"):
        money = _money_format(locale, currency)
        for minor in [0, 1, -1, 999, 1000, -1000, 10**12, *(rng.randrange(-10**13, 10**13) for _ in range(300))]:
            expected = format_currency(Decimal(minor).scaleb(-precision(currency)), currency,
                                       locale=Locale.parse(locale))
            shown = money(minor)
            assert shown == money._babel(minor), (currency, minor)  # the fast path is Babel's
            assert shown.replace(NBSP, "") == expected.replace(NBSP, ""), (currency, minor)


def test_money_is_iso_minor_units_with_a_letter_symbol_kept_apart(i18n) -> None:
    en, ru = Fmt(i18n, "en"), Fmt(i18n, "ru")
    assert en.money(325000, "RUB") == f"RUB{NBSP}3,250.00"  # Babel: "RUB3,250.00"
    assert en.money(-325000, "RUB") == f"-RUB{NBSP}3,250.00"
    assert ru.money(325000, "RUB") == f"3{NBSP}250,00{NBSP}₽"
    assert en.money(1_000_000, "HUF") == f"HUF{NBSP}10,000"  # ISO: 2 digits (CLDR shows none): 10,000 forints
    assert en.money(1_000_000, "IQD") == f"IQD{NBSP}1,000"  # ISO: 3 digits
    assert en.money(1234, "KWD") == f"KWD{NBSP}1.234"


def test_dates_in_the_users_zone(i18n) -> None:
    moment = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    assert Fmt(i18n, "en", "UTC").date(moment) == "Dec 31, 2026"
    assert Fmt(i18n, "ru", "Europe/Moscow").date(moment) == f"1 янв. 2027{NNBSP}г."
    assert Fmt(i18n, "ru", "Europe/Moscow").time(moment) == "01:30"
    assert Fmt(i18n, "en", "Nowhere/Bad").tz_name == "Nowhere/Bad"  # falls back to UTC
    assert Fmt(i18n, "en", "Nowhere/Bad").time(moment) == f"10:30{NNBSP}PM"


def test_timedelta(i18n) -> None:
    assert Fmt(i18n, "ru").timedelta(timedelta(days=5)) == "5 дней"
    assert Fmt(i18n, "en").timedelta(timedelta(days=1)) == "1 day"


def test_domain_error_is_translated(i18n) -> None:
    err = InvalidInput(N_("Please type a time zone such as UTC+3 or Europe/Moscow."))
    assert Fmt(i18n, "ru").error(err) == "Введите часовой пояс, например UTC+3 или Europe/Moscow."
    assert Fmt(i18n, "en").error(InvalidInput()) == "That doesn't look right. Please try again."


def test_russian_catalog_has_three_plural_forms(i18n) -> None:
    translations = i18n.locales["ru"]
    # the plural rule from the catalog header: 1 → 0, 2 → 1, 5 → 2, 11 → 2, 21 → 0, 22 → 1
    assert [translations.plural(n) for n in (1, 2, 5, 11, 21, 22, 25)] == [0, 1, 2, 2, 0, 1, 2]


def test_an_order_shows_its_address_as_the_address_book_does(i18n) -> None:
    """One layout for the book and the order card (issue 14): "кв." kept, Moscow not twice, "NY 10118"
    without a comma; the book's E.164 number grouped, a number typed elsewhere as given."""
    from bot.db.addresses import AddressRow
    from bot.services.orders import AddressSnapshot
    from bot.views.addresses import address_block
    from bot.views.orders import address_text

    def row(**kw) -> AddressRow:
        base = dict(id=1, user_id=1, country="", recipient="", phone="", region="", city="", street="",
                    apartment="", postal_code="", is_default=True, created_at=None, updated_at=None)
        return AddressRow(**{**base, **kw})  # type: ignore[arg-type]

    moscow = row(country="RU", recipient="Алексей Смирнов", phone="+79161234567", region="Москва",
                 city="Москва", street="ул. Тверская, д. 7", apartment="12", postal_code="125009")
    new_york = row(country="US", recipient="Alex Smirnov", phone="+12125550123", region="NY", city="New York",
                   street="350 5th Ave", apartment="Apt 21B", postal_code="10118")
    for locale in ("en", "ru"):
        f = Fmt(i18n, locale)
        for book in (moscow, new_york):
            assert address_text(f, AddressSnapshot.of(book)) == address_block(book, f)
    ru, en = Fmt(i18n, "ru"), Fmt(i18n, "en")
    assert address_text(ru, AddressSnapshot.of(moscow)) == (
        "Алексей Смирнов\nул. Тверская, д. 7, кв. 12\nМосква\n125009\nРоссия\n📞 +7 916 123-45-67")
    assert address_text(en, AddressSnapshot.of(new_york)) == (
        "Alex Smirnov\n350 5th Ave, Apt 21B\nNew York, NY 10118\nUnited States\n📞 +1 212-555-0123")
    typed = AddressSnapshot(recipient="Alex Doe", phone="+1 555 0100", street="1 Main St", city="Springfield",
                            postal_code="12345", country="US")
    assert address_text(en, typed).endswith("📞 +1 555 0100")
