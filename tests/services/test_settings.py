from __future__ import annotations

import pytest

from bot.services.errors import InvalidInput
from bot.services.settings import COMMON_ZONES, is_valid_zone, offset_zone, parse_time_zone
from bot.services.users import locale_from_language_code


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("UTC+3", "Etc/GMT-3"), ("utc -5", "Etc/GMT+5"), ("+3", "Etc/GMT-3"), ("GMT-8", "Etc/GMT+8"),
        ("−4", "Etc/GMT+4"), ("+03:00", "Etc/GMT-3"), ("UTC", "UTC"), ("utc+0", "UTC"),
        ("europe/moscow", "Europe/Moscow"), ("  Asia/Kolkata ", "Asia/Kolkata"),
        ("America/New York", "America/New_York"), ("+14", "Etc/GMT-14"), ("-12", "Etc/GMT+12"),
    ],
)
def test_parse_time_zone(typed: str, zone: str) -> None:
    assert parse_time_zone(typed) == zone
    assert is_valid_zone(zone)


@pytest.mark.parametrize("typed", ["", "   ", "Narnia", "UTC+15", "-13", "x" * 80, "+3:30", "🙂"])
def test_parse_time_zone_refuses(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_time_zone(typed)


def test_offset_zone_sign_is_posix_inverted() -> None:
    assert offset_zone(3) == "Etc/GMT-3"
    assert offset_zone(-3) == "Etc/GMT+3"
    assert offset_zone(0) == "UTC"


def test_common_zones_are_real() -> None:
    assert all(is_valid_zone(z) for z in COMMON_ZONES)


@pytest.mark.parametrize(
    ("code", "locale"), [("ru", "ru"), ("ru-RU", "ru"), ("RU", "ru"), ("en", "en"), ("de", "en"),
                         (None, "en"), ("", "en"), ("uk", "en")],
)
def test_locale_from_language_code(code: str | None, locale: str) -> None:
    assert locale_from_language_code(code, "en") == locale


def test_default_locale_is_configurable() -> None:
    assert locale_from_language_code("fr", "ru") == "ru"
