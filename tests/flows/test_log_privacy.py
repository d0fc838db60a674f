"""Logs hold no user data: with every logger at DEBUG, flows that enter an address, a card, a
search, a dispute and a review leave none of what was typed in the log — nor the new card's
gateway token and fingerprint (issue 15, item 5). SQL parameters are never logged: not by
SQLAlchemy (`hide_parameters`), not by the aiosqlite driver's DEBUG lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.services.orders import Status
from tests.conftest import App
from tests.flows.steps import rate_a_completed_order
from tests.orderkit import make_order


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The root logger at DEBUG and every logger passing everything on to it, as LOG_LEVEL=DEBUG
    does and more: no library's own level hides a record."""
    loggers = [lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.NOTSET)
        lg.disabled = False
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything a record could print: the message, each argument (a parameter list whole, not
    shortened as a log line shows it), the traceback and the stack."""
    parts = [record.getMessage(), str(record.msg), record.exc_text or "", record.stack_info or ""]
    args: Any = record.args
    values = list(args.values()) if isinstance(args, dict) else list(args or ())
    for value in values:
        parts.append(repr(getattr(value, "params", value)))
    return parts


async def test_no_entered_value_reaches_the_log_at_debug(app: App, alex, every_logger_at_debug) -> None:
    caplog = every_logger_at_debug
    entered: dict[str, str] = {}

    # an address (United States)
    await alex.send("/start")
    await alex.press("📍 Shipping addresses")
    await alex.press("➕ Add an address")
    await alex.send("usa")
    entered["recipient"] = "Quentin Zebrowski"
    await alex.send(entered["recipient"])
    await alex.send("(650) 253-0199")
    entered["phone"] = "6502530199"
    await alex.send("Massachusetts")
    entered["city"] = "Quahogville"
    await alex.send(entered["city"])
    entered["street"] = "1717 Xanadu Boulevard"
    await alex.send(entered["street"])
    await alex.press("⏭ Skip")  # no apartment
    await alex.send("02110")
    await alex.press("✅ Save")
    (address,) = await app.services.addresses.list(alex.user.id)
    assert address.street == entered["street"], alex.last_text

    # a card
    await alex.send("/menu")
    await alex.press("💳 Bank cards")
    await alex.press("➕ Add a card")
    entered["number"] = "4929804614587330"
    await alex.send("4929 8046 1458 7330")
    await alex.send("11/31")
    entered["holder"] = "QUENTIN ZEBROWSKI"
    await alex.send(entered["holder"])
    await alex.send("731")
    assert alex.last_text.startswith("✅"), alex.last_text
    async with app.services.db.read() as conn:
        token, fingerprint = (await conn.exec_driver_sql("SELECT token, fingerprint FROM cards")).one()
    entered["token"], entered["fingerprint"] = token, fingerprint

    # a search
    await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.send("/menu")
    await alex.press("📦 My orders")
    await alex.press("🔍 Search")
    entered["search"] = "Zanzibarlamp"
    await alex.send(entered["search"])
    assert "Zanzibarlamp" in alex.last_text

    # a dispute
    await alex.send("/menu")
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("⚠️ Open a dispute")
    await alex.press("Damaged or doesn't work")
    entered["dispute"] = "The hinge squeaks like a xylophone"
    await alex.send(entered["dispute"])
    assert "step 3 of 5" in alex.last_text

    # a review
    await rate_a_completed_order(app, alex, "4", via="/menu")
    entered["review"] = "Marvellous quokka bass"
    await alex.send(entered["review"])
    await alex.press("✅ Done")
    await alex.press("📣 Publish")
    assert "quokka" in alex.last_text

    assert len(caplog.records) > 100  # the log was on
    leaks = {
        (name, record.name)
        for record in caplog.records
        for text in record_texts(record)
        for name, value in entered.items()
        if value in text or value in text.replace(" ", "").replace("-", "")
    }
    assert leaks == set()
