"""`python main.py coupon …`: operators grant coupons and certificates, create codes and offers."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import cli
from bot.config import Settings
from bot.db.engine import Database
from bot.services.clock import FakeClock
from bot.services.coupons import CouponService, Scope, Tab, ValueKind
from bot.services.users import Contact, UserService
from main import parse_args

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _cli_clock(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command builds its services (bot.app.build_services) on the test's clock."""
    from bot import app

    monkeypatch.setattr(app, "build_services", functools.partial(app.build_services, clock=clock))


def _users(settings: Settings, *ids: int) -> None:
    async def make() -> None:
        db = Database(settings.database_url)
        users = UserService(db, FakeClock())
        for uid in ids:
            await users.touch(Contact(uid, "U", None, "en"))
        await db.dispose()

    asyncio.run(make())


def _wallet(settings: Settings, clock: FakeClock, user_id: int, tab: Tab = Tab.active):
    async def read():
        db = Database(settings.database_url)
        try:
            return await CouponService(db, clock).wallet(user_id, tab)
        finally:
            await db.dispose()

    return asyncio.run(read())


def run(settings: Settings, *argv: str) -> int:
    return cli.run(parse_args(["coupon", *argv]), settings)


def test_grant_a_special_platform_coupon(settings: Settings, clock: FakeClock, capsys) -> None:
    _users(settings, 1001, 1002)
    code = run(settings, "grant", "--user", "1001", "--user", "1002", "--user", "999", "--percent", "10",
               "--cap", "15", "--currency", "usd", "--min", "20", "--days", "30", "--category", "phones",
               "--category-name", "Phones", "--campaign", "winter")
    assert code == 0
    out = capsys.readouterr().out
    assert "for user 1001" in out and "for user 1002" in out
    assert "user 999 has not started the bot: skipped" in out
    [coupon] = _wallet(settings, clock, 1001).items
    terms = coupon.terms
    assert (terms.scope, terms.value_kind, terms.percent, terms.cap_minor, terms.min_order_minor) == (
        Scope.platform, ValueKind.percent, 10, 1500, 2000)
    assert (terms.currency, terms.category, terms.campaign, terms.is_special) == ("USD", "phones", "winter", True)
    assert terms.valid_to == clock.now() + timedelta(days=30)
    # one per user: granting the campaign again skips them
    assert run(settings, "grant", "--user", "1001", "--amount", "5", "--currency", "USD", "--days", "3",
               "--campaign", "winter") == 1
    assert "already has a coupon of campaign 'winter'" in capsys.readouterr().out


def test_grant_a_certificate_until_a_day(settings: Settings, clock: FakeClock, capsys) -> None:
    _users(settings, 1001)
    assert run(settings, "grant", "--user", "1001", "--certificate", "50", "--currency", "EUR",
               "--until", "2030-12-31", "--title", "Birthday") == 0
    [cert] = _wallet(settings, clock, 1001).items
    assert (cert.face_minor, cert.balance_minor, cert.currency, cert.title) == (5000, 5000, "EUR", "Birthday")
    assert cert.valid_to == datetime(2031, 1, 1, tzinfo=UTC)  # valid through Dec 31 (UTC)


def test_codes_and_offers(settings: Settings, clock: FakeClock, capsys) -> None:
    _users(settings, 1001)
    assert run(settings, "code", "spring-26", "--amount", "5", "--currency", "USD", "--min", "25",
               "--days", "60", "--uses", "100") == 0
    assert "SPRING26 created" in capsys.readouterr().out
    assert run(settings, "code", "SPRING26", "--amount", "5", "--currency", "USD", "--days", "6") == 2
    assert capsys.readouterr().out == "error: This code exists already.\n"
    assert run(settings, "offer", "--store", "101", "--store-name", "Xiaomi", "--amount", "3",
               "--currency", "USD", "--days", "14", "--quantity", "500") == 0
    assert "store coupon offer #1 created" in capsys.readouterr().out

    async def collect():
        db = Database(settings.database_url)
        svc = CouponService(db, clock)
        try:
            return await svc.redeem_code(1001, "spring26"), await svc.collect_store_coupon(1001, 1)
        finally:
            await db.dispose()

    redeemed, collected = asyncio.run(collect())
    assert redeemed.coupon is not None and redeemed.coupon.terms.min_order_minor == 2500
    assert (collected.terms.scope, collected.terms.store_id, collected.terms.store_name) == (Scope.store, 101, "Xiaomi")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["grant", "--user", "1", "--amount", "5.555", "--currency", "USD", "--days", "3"],
         "error: --amount: not an amount in USD: '5.555'"),
        (["grant", "--user", "1", "--amount", "5", "--currency", "XYZ", "--days", "3"],
         "error: --currency: unknown currency 'XYZ'"),
        (["grant", "--user", "1", "--percent", "120", "--currency", "USD", "--days", "3"],
         "error: A percent is between 1 and 100."),
        (["grant", "--user", "1", "--amount", "5", "--currency", "USD", "--until", "2020-01-01"],
         "error: A coupon must end after it starts."),
        (["grant", "--user", "1", "--amount", "5", "--currency", "USD", "--until", "someday"],
         "error: not a date: 'someday' (use YYYY-MM-DD)"),
        (["grant", "--user", "1", "--certificate", "5", "--currency", "USD", "--days", "3", "--min", "2"],
         "error: a gift certificate has no cap, minimum, store or special conditions"),
        (["code", "GIFT10", "--certificate", "10", "--currency", "USD", "--days", "3", "--new-buyers"],
         "error: a gift certificate has no cap, minimum, store or special conditions"),
        (["code", "no", "--amount", "5", "--currency", "USD", "--days", "3"],
         "error: That doesn't look like a code: a code is 4 to 32 Latin letters and digits."),
    ],
)
def test_bad_input_is_one_line_and_exit_2(settings: Settings, capsys, argv: list[str], message: str) -> None:
    assert run(settings, *argv) == 2
    assert capsys.readouterr().out == message + "\n"


def test_as_a_process(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "LOG_LEVEL")}
    env["DATABASE_URL"] = database_url
    env["CARD_FINGERPRINT_KEY"] = "k" * 40  # on PostgreSQL there is no database file to keep one beside
    result = subprocess.run(
        [sys.executable, "main.py", "coupon", "code", "WELCOME5", "--amount", "5", "--currency", "USD",
         "--days", "30"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert (result.returncode, result.stdout) == (0, "code #1 WELCOME5 created\n"), result.stderr
