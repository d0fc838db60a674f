"""Where a refund goes, when it is expected, and typed amounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.errors import InvalidInput
from bot.services.money import parse_amount
from bot.services.refunds import (
    CardSnapshot,
    CardState,
    RefundTo,
    SnapshotCardLookup,
    refund_destination,
    refund_eta,
)

VISA = CardSnapshot(1, "Visa", "4242", 12, 2026)


@pytest.mark.parametrize(
    ("state", "to"),
    [
        (CardState.active, RefundTo.card),
        (CardState.unknown, RefundTo.card),
        (CardState.expired, RefundTo.bank_account),
        (CardState.deleted, RefundTo.bank_account),
    ],
)
def test_refunds_return_where_the_money_came_from(state: CardState, to: RefundTo) -> None:
    dest = refund_destination(VISA, state)
    assert (dest.to, dest.card_state, dest.brand, dest.last4) == (to, state, "Visa", "4242")


def test_an_order_without_a_card_refunds_to_the_original_method() -> None:
    assert refund_destination(None, CardState.active).to == RefundTo.original


async def test_the_default_lookup_knows_expiry_from_the_snapshot() -> None:
    lookup = SnapshotCardLookup()
    last_moment = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert await lookup.card_state(None, 1, VISA, last_moment) == CardState.active  # type: ignore[arg-type]
    assert await lookup.card_state(None, 1, VISA, last_moment + timedelta(seconds=1)) == CardState.expired  # type: ignore[arg-type]
    no_expiry = CardSnapshot(None, "Mir", "0001")
    assert await lookup.card_state(None, 1, no_expiry, last_moment) == CardState.active  # type: ignore[arg-type]


@pytest.mark.parametrize(("level", "days"), [(1, 10), (2, 10), (3, 3), (5, 3)])
def test_refunds_are_faster_from_level_3(level: int, days: int) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    assert refund_eta(now, level, 10, 3) == now + timedelta(days=days)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12", "USD", 1200), ("12.5", "USD", 1250), ("12,50", "USD", 1250), ("1 200", "RUB", 120000),
     ("$3", "USD", 300), ("1500 ₽", "RUB", 150000), ("₽500", "RUB", 50000), ("USD 4", "USD", 400),
     ("7", "JPY", 7), ("0.01", "USD", 1),
     # a separator that can only group thousands does: never an amount 100 or 1000 times smaller
     ("1,500", "USD", 150000), ("1,500", "RUB", 150000), ("1,000", "JPY", 1000), ("1,234.56", "USD", 123456),
     ("1.234,56", "EUR", 123456), ("1,000,000", "USD", 100000000), ("1.000.000", "JPY", 1000000),
     ("1,500", "KWD", 1500),  # three decimals: 1.500 dinars
     ("0,500", "USD", 50),  # a leading zero groups nothing: half a dollar, never 500
     ("500р", "RUB", 50000), ("500 руб", "RUB", 50000), ("500 руб.", "RUB", 50000), ("500 р.", "RUB", 50000)],
)
def test_amounts_people_type(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("text", ["", "abc", "0", "-5", "12345.678", "1e5", "12.5.1", "9" * 20, "7.5", "1,2,3",
                                  "1.000,000.5", "12,34,567", "9" * 17, "1.500", "0,001", "000,001", "0,100,000"])
def test_amounts_that_are_refused(text: str) -> None:
    currency = "JPY" if text == "7.5" else "USD"
    with pytest.raises(InvalidInput) as refused:
        parse_amount(text, currency)
    if text in ("0", "-5"):  # a number, but not an amount: said so, not "type a number"
        assert refused.value.msgid == "The amount must be more than zero."
