"""The rule behind the card-number guard (issue 15, item 4): a Luhn-valid run of 13–19 digits,
spaces and dashes allowed between them."""

from __future__ import annotations

import pytest

from bot.services.card_numbers import contains_card_number, luhn_ok


@pytest.mark.parametrize("text", [
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111111111111111",
    "my card 4242 4242 4242 4242 thanks",
    "2200-0000-0000-0004",
    "378282246310005",  # Amex, 15 digits
    "6011 0009 9013 9424",  # Discover: a brand we don't take is still a card number
    "4222222222222",  # 13 digits
    "6304000000000000000",  # 19 digits
    "4111 1111 1111 1111 05/28 123",  # the number, then the expiry and the code
    "4111 1111 1111 1111 05 28",  # …in groups of their own
    "12 4111 1111 1111 1111",  # after a group of something else
    "4111  1111 – 1111 1111",  # two spaces, an en dash
    "Поиск: 4111 1111 1111 1111",
])
def test_card_numbers_are_found(text: str) -> None:
    assert contains_card_number(text)


@pytest.mark.parametrize("text", [
    "",
    "4111 1111 1111 1112",  # the Luhn check fails
    "order 123456789012",  # 12 digits
    "41111111111111111111",  # 20 digits in one group: too long for a card
    "+86 138 0013 8000",  # an international phone number
    "+7 916 123-45-67",
    "12/30", "05/28 123", "Flat 12, house 4111",
    "4111.1111.1111.1111",  # dots are not spaces or dashes
    "٤١١١١١١١١١١١١١١١",  # Arabic-Indic digits: not how card numbers are typed
])
def test_other_texts_are_not_card_numbers(text: str) -> None:
    assert not contains_card_number(text)


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112")
