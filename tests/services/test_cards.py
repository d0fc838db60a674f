"""Bank cards: the rules directly (numbers, brands, dates, names, codes), the wallet's limits and
defaults, the sandbox gateway, the $1 hold's release, and what the orders section will call."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import Settings, SettingsError, card_fingerprint_key, load_settings
from bot.db import cards as repo
from bot.db import outbox as outbox_repo
from bot.integrations.payments import (
    CardDeclined,
    DeclineReason,
    IdempotencyConflict,
    InvalidRequest,
    SandboxGateway,
    SessionNotFound,
    UnknownPayment,
)
from bot.services.card_numbers import luhn_ok
from bot.services.cards import (
    CARD_LIMIT,
    HOLD_RELEASED_KIND,
    AddOutcome,
    AddRefused,
    AlreadyDefault,
    Brand,
    CardAlreadyDeleted,
    CardAlreadySaved,
    CardLimitReached,
    CardNotFound,
    CardService,
    CardSessionExpired,
    CardStatus,
    CardUsageSummary,
    ExpiredCard,
    HolderNeedsLatin,
    InvalidCardNumber,
    InvalidCvc,
    InvalidExpiry,
    InvalidHolder,
    PaymentDeclined,
    TooManyChecks,
    detect_brand,
    looks_like_card_number,
    parse_cvc,
    parse_expiry,
    parse_holder,
    parse_number,
    transliterate,
)
from bot.services.clock import FakeClock
from bot.services.users import Contact
from tests.conftest import App
from tests.plankit import plan, reading, recording

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


# -- numbers and brands -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", Brand.visa),
        ("4222222222222", Brand.visa),  # 13 digits
        ("5555555555554444", Brand.mastercard),
        ("5105105105105100", Brand.mastercard),
        ("2223003122003222", Brand.mastercard),  # 2-series
        (with_check_digit("272099999999999"), Brand.mastercard),
        ("2200000000000004", Brand.mir),
        (with_check_digit("220499999999999"), Brand.mir),
        ("378282246310005", Brand.amex),
        ("371449635398431", Brand.amex),
        ("340000000000009", Brand.amex),
        ("6200000000000005", Brand.unionpay),
        ("3566002020360505", Brand.jcb),
        (with_check_digit("358999999999999"), Brand.jcb),
        ("6759649826438453", Brand.maestro),
        (with_check_digit("50180000000"), Brand.maestro),  # 12 digits
        (with_check_digit("630400000000000"), Brand.maestro),
        (with_check_digit("580000000000000"), Brand.maestro),
    ],
)
def test_brand_from_the_prefix(number: str, brand: Brand) -> None:
    assert luhn_ok(number)
    assert detect_brand(number) is brand
    parsed = parse_number(number)
    assert parsed.brand is brand and parsed.last4 == number[-4:]


@pytest.mark.parametrize(
    "prefix",
    ["2199", "2205", "2220", "2721", "3527", "3590", "6011", "36", "30", "1", "9", "0", "60", "64", "65", "59"],
)
def test_prefixes_we_do_not_take(prefix: str) -> None:
    assert detect_brand(prefix + "0" * (16 - len(prefix))) is None


def test_most_specific_range_first() -> None:
    assert detect_brand("2200" + "0" * 12) is Brand.mir  # not the 2221–2720 Mastercard range
    assert detect_brand("2221" + "0" * 12) is Brand.mastercard
    assert detect_brand("6304" + "0" * 12) is Brand.maestro
    assert detect_brand("6390" + "0" * 12) is Brand.maestro
    assert detect_brand("6200" + "0" * 12) is Brand.unionpay


@pytest.mark.parametrize("typed", ["4242 4242 4242 4242", "4242-4242-4242-4242", "  4242424242424242\n",
                                   "4242\u00a04242\u00a04242\u00a04242", "3782 822463 10005"])
def test_number_with_spaces_and_dashes(typed: str) -> None:
    assert parse_number(typed).reveal() == "".join(c for c in typed if c.isdigit())


@pytest.mark.parametrize(
    ("typed", "needle"),
    [
        ("", "made of digits"),
        ("four two four two", "made of digits"),
        ("4242 4242 4242 424x", "made of digits"),
        ("<b>4242</b>", "made of digits"),
        ("🙂", "made of digits"),
        ("४२४२४२४२४२४२४२४२", "made of digits"),  # digits, but not ASCII ones
        ("4242 4242", "12 to 19 digits"),
        ("4" * 25, "12 to 19 digits"),
        ("4242 4242 4242 4241", "has a typo"),
        ("6011 1111 1111 1117", "among those we accept"),  # Discover: valid, not taken
        (with_check_digit("42424242424242"), "have 13/16/19 digits"),  # a 15-digit Visa
        (with_check_digit("378282246310005"), "have 15 digits"),  # a 16-digit Amex
    ],
)
def test_impossible_numbers(typed: str, needle: str) -> None:
    with pytest.raises(InvalidCardNumber) as info:
        parse_number(typed)
    text = info.value.msgid.format(**info.value.params)
    assert needle in text
    assert "4242424242" not in text and "4242424242" not in repr(info.value.params)


def test_card_number_never_shows_its_digits() -> None:
    number = parse_number("4242 4242 4242 4242")
    assert repr(number) == str(number) == "CardNumber(visa •••• 4242)"
    assert f"{number}" == "CardNumber(visa •••• 4242)"
    with pytest.raises(TypeError):
        pickle.dumps(number)


def test_spotting_a_long_run_of_digits_in_a_step() -> None:
    assert looks_like_card_number("4242 4242 4242 4241")  # enough digits to be deleted in a step
    assert not looks_like_card_number("05/28")


# -- expiry, name, code -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("05/28", (5, 2028)), ("0528", (5, 2028)), ("5/2028", (5, 2028)), ("05-28", (5, 2028)),
        ("05.2028", (5, 2028)), ("052028", (5, 2028)), (" 5 / 28 ", (5, 2028)), ("5 28", (5, 2028)),
        ("11/26", (11, 2026)),  # the current month: valid to its end
        ("12/46", (12, 2046)),
    ],
)
def test_expiry_formats(typed: str, expected: tuple[int, int]) -> None:
    assert parse_expiry(typed, NOW) == expected


@pytest.mark.parametrize(
    ("typed", "needle"),
    [
        ("10/26", "expired at the end of 10/2026"), ("01/2020", "expired"), ("13/28", "no month 13"),
        ("00/28", "no month 00"), ("05/50", "check the year"), ("", "for example 05/28"),
        ("май 28", "for example 05/28"), ("5/2", "for example 05/28"), ("528", "for example 05/28"),
        ("05/28/30", "for example 05/28"), ("🙂", "for example 05/28"),
        ("12/9999", "check the year"),  # no date to compare with: refused as far off, not a crash
        ("05/0000", "expired"), ("050000", "expired"),  # nor a year 0
    ],
)
def test_expiry_refused(typed: str, needle: str) -> None:
    with pytest.raises(InvalidExpiry) as info:
        parse_expiry(typed, NOW)
    assert needle in info.value.msgid.format(**info.value.params)


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("ivan petrov", "IVAN PETROV"), ("  Ivan   Petrov ", "IVAN PETROV"), ("O'Brien", "O'BRIEN"),
        ("Anna-Maria D’Arc", "ANNA-MARIA D'ARC"), ("J. R. R. Tolkien", "J. R. R. TOLKIEN"),
        ("A" * 26, "A" * 26), ("Li", "LI"),
    ],
)
def test_holder_accepted(typed: str, name: str) -> None:
    assert parse_holder(typed) == name


@pytest.mark.parametrize(
    ("typed", "needle"),
    [
        ("", "as it is printed"), ("   ", "as it is printed"), ("A" * 27, "at most 26 characters, and this one has 27"),
        ("<b>Ivan</b>", "Use only Latin letters"), ("Ivan2", "Use only Latin letters"), ("A", "at least two letters"), ("J.", "at least two letters"),
        ("-IVAN", "Use only Latin letters"), ("IVAN_PETROV", "Use only Latin letters"),
    ],
)
def test_holder_refused(typed: str, needle: str) -> None:
    with pytest.raises(InvalidHolder) as info:
        parse_holder(typed)
    assert not isinstance(info.value, HolderNeedsLatin)
    assert needle in info.value.msgid.format(**info.value.params)


@pytest.mark.parametrize(
    ("typed", "offer"),
    [
        ("Иван Петров", "IVAN PETROV"), ("иван петров", "IVAN PETROV"), ("Юлия Щукина", "IULIIA SHCHUKINA"),
        ("Фёдор Хабибуллин", "FEDOR KHABIBULLIN"), ("Ivan Петров", "IVAN PETROV"), ("José Müller", "JOSE MULLER"),
        ("Константин Константинопольский", None),  # longer than 26 in Latin letters
        ("🙂", None), ("王伟", None),
    ],
)
def test_holder_in_other_letters_gets_a_transliteration_offer(typed: str, offer: str | None) -> None:
    with pytest.raises(HolderNeedsLatin) as info:
        parse_holder(typed)
    assert info.value.offer == offer
    if offer:
        assert parse_holder(offer) == offer


def test_transliteration_follows_the_passport_rules() -> None:
    assert transliterate("Жанна Цой") == "ZHANNA TSOI"
    assert transliterate("Эльвира Ёлкина-Чайковская") == "ELVIRA ELKINA-CHAIKOVSKAIA"


@pytest.mark.parametrize(
    ("typed", "brand", "ok"),
    [
        ("123", "visa", True), (" 1 2 3 ", "visa", True), ("12", "visa", False), ("1234", "visa", False),
        ("12a", "visa", False), ("1234", "amex", True), ("123", "amex", False), ("١٢٣", "visa", False),
        ("", "mir", False),
    ],
)
def test_cvc(typed: str, brand: str, ok: bool) -> None:
    if ok:
        assert parse_cvc(typed, brand) == "".join(typed.split())
    else:
        with pytest.raises(InvalidCvc) as info:
            parse_cvc(typed, brand)
        assert ("4-digit" in info.value.msgid) == (brand == "amex")


# -- the wallet -------------------------------------------------------------------------------
async def add(cards: CardService, user_id: int, number: str, *, expiry: str = "12/29",
              holder: str = "IVAN PETROV", cvc: str | None = None, replaces: int | None = None) -> AddOutcome | AddRefused:
    """What the flow does, step by step."""
    accepted = await cards.enter_number(user_id, None, number, replaces=replaces)
    await cards.enter_expiry(accepted.session_id, expiry)
    await cards.enter_holder(accepted.session_id, holder)
    code = cvc or ("1234" if accepted.brand == "amex" else "123")
    verified = await cards.verify(user_id, accepted.session_id, code, replaces=replaces)
    return await cards.save(user_id, verified, replaces=replaces)


def numbers(count: int, start: int = 0) -> list[str]:
    return [with_check_digit(f"41{i + start:013d}") for i in range(count)]


@pytest.fixture
async def cards(app: App) -> CardService:
    for uid in (1, 2):
        await app.services.users.touch(Contact(uid, f"U{uid}", None, "en"))
    return app.services.cards


@pytest.fixture
def gateway(app: App) -> SandboxGateway:
    assert isinstance(app.services.payments, SandboxGateway)
    return app.services.payments


async def test_first_card_is_the_default_and_the_hold_is_recorded(app: App, cards: CardService) -> None:
    outcome = await add(cards, 1, "4242 4242 4242 4242")
    assert isinstance(outcome, AddOutcome)
    assert outcome.is_default and outcome.card.is_default
    assert (outcome.card.brand, outcome.card.last4, outcome.card.exp_month, outcome.card.exp_year) == ("visa", "4242", 12, 2029)
    assert outcome.card.holder == "IVAN PETROV" and not outcome.card.expired
    assert (outcome.hold_minor, outcome.hold_currency) == (100, "USD")
    second = await add(cards, 1, "5555 5555 5555 4444")
    assert isinstance(second, AddOutcome) and not second.is_default
    wallet = await cards.wallet(1)
    assert [(c.last4, c.is_default) for c in wallet] == [("4242", True), ("4444", False)]
    async with app.services.db.read() as conn:
        holds = await repo.holds_for_user(conn, 1)
    assert [(h.card_id, h.amount_minor, h.currency, h.orphan_token) for h in holds] == [
        (wallet[0].id, 100, "USD", None), (wallet[1].id, 100, "USD", None)
    ]


async def test_at_most_five_cards(cards: CardService) -> None:
    for number in numbers(CARD_LIMIT):
        assert isinstance(await add(cards, 1, number), AddOutcome)
    with pytest.raises(CardLimitReached) as info:
        await cards.ensure_room(1)
    assert info.value.params == {"limit": 5}
    accepted = await cards.enter_number(1, None, numbers(1, 100)[0])  # the number step does not count
    await cards.enter_expiry(accepted.session_id, "01/30")
    await cards.enter_holder(accepted.session_id, "A B")
    with pytest.raises(CardLimitReached):
        await cards.verify(1, accepted.session_id, "123")
    await cards.ensure_room(2)  # another user's wallet is not full


async def test_the_limit_is_counted_inside_the_saving_transaction(app: App, cards: CardService,
                                                                 gateway: SandboxGateway) -> None:
    for number in numbers(CARD_LIMIT - 1):
        await add(cards, 1, number)
    verified = []
    for number in numbers(3, 50):  # three flows verified while there was room for one
        accepted = await cards.enter_number(1, None, number)
        await cards.enter_expiry(accepted.session_id, "01/30")
        await cards.enter_holder(accepted.session_id, "A B")
        verified.append(await cards.verify(1, accepted.session_id, "123"))
    outcomes = await asyncio.gather(*(cards.save(1, v) for v in verified))
    assert sum(isinstance(o, AddOutcome) for o in outcomes) == 1
    refused = [o for o in outcomes if isinstance(o, AddRefused)]
    assert len(refused) == 2 and all(isinstance(o.error, CardLimitReached) for o in refused)
    assert len(await cards.wallet(1)) == CARD_LIMIT
    # the refused cards' holds are released and their tokens forgotten by the sweeper
    assert await cards.release_due_holds(app.clock.now()) == CARD_LIMIT + 2
    assert all(gateway.holds.values())
    assert {v.token for v in verified} - {c for c in gateway.detached} == {
        next(v.token for v, o in zip(verified, outcomes, strict=True) if isinstance(o, AddOutcome))
    }
    async with app.services.db.read() as conn:
        rows = await outbox_repo.for_user(conn, 1, HOLD_RELEASED_KIND.key)
    assert len(rows) == CARD_LIMIT + 2


async def test_the_same_card_twice(cards: CardService, gateway: SandboxGateway) -> None:
    await add(cards, 1, "4242424242424242")
    with pytest.raises(CardAlreadySaved):
        await cards.enter_number(1, None, "4242-4242-4242-4242")
    assert gateway._sessions == {}  # the duplicate's number left the gateway at once
    assert isinstance(await add(cards, 2, "4242424242424242"), AddOutcome)  # another wallet: fine
    # found only at saving (two flows at once): refused, hold recorded for release
    a = await cards.enter_number(1, None, "5555555555554444")
    b = await cards.enter_number(1, None, "5555 5555 5555 4444")
    for sid in (a.session_id, b.session_id):
        await cards.enter_expiry(sid, "01/30")
        await cards.enter_holder(sid, "A B")
    va = await cards.verify(1, a.session_id, "123")
    vb = await cards.verify(1, b.session_id, "123")
    assert va.fingerprint == vb.fingerprint
    assert isinstance(await cards.save(1, va), AddOutcome)
    refused = await cards.save(1, vb)
    assert isinstance(refused, AddRefused) and isinstance(refused.error, CardAlreadySaved)
    # a deleted card may be added again
    first = (await cards.wallet(1))[0]
    await cards.delete(1, first.id)
    assert isinstance(await add(cards, 1, "4242424242424242"), AddOutcome)


async def test_saving_the_same_verification_twice_saves_once(cards: CardService) -> None:
    accepted = await cards.enter_number(1, None, "4242424242424242")
    await cards.enter_expiry(accepted.session_id, "01/30")
    await cards.enter_holder(accepted.session_id, "A B")
    verified = await cards.verify(1, accepted.session_id, "123")
    first = await cards.save(1, verified)
    again = await cards.save(1, verified)
    assert isinstance(first, AddOutcome) and isinstance(again, AddOutcome)
    assert first.card.id == again.card.id and len(await cards.wallet(1)) == 1


async def test_default_switching(cards: CardService, clock: FakeClock) -> None:
    a = await add(cards, 1, "4242424242424242")
    clock.advance(minutes=1)
    b = await add(cards, 1, "5555555555554444")
    clock.advance(minutes=1)
    c = await add(cards, 1, "2200000000000004")
    assert isinstance(a, AddOutcome) and isinstance(b, AddOutcome) and isinstance(c, AddOutcome)
    moved = await cards.set_default(1, b.card.id)
    assert moved.is_default
    assert [x.is_default for x in await cards.wallet(1)] == [False, True, False]
    with pytest.raises(AlreadyDefault):
        await cards.set_default(1, b.card.id)  # a double tap: "already done"
    # deleting the default: the most recently added remaining card takes over
    deleted = await cards.delete(1, b.card.id)
    assert deleted.card.id == b.card.id and deleted.new_default is not None
    assert deleted.new_default.id == c.card.id and deleted.new_default.is_default
    # deleting a card that is not the default moves nothing
    deleted = await cards.delete(1, a.card.id)
    assert deleted.new_default is None
    assert [(x.id, x.is_default) for x in await cards.wallet(1)] == [(c.card.id, True)]
    with pytest.raises(CardAlreadyDeleted):
        await cards.delete(1, a.card.id)  # a double tap
    last = await cards.delete(1, c.card.id)
    assert last.new_default is None and await cards.wallet(1) == []


async def test_expired_cards_and_the_default(cards: CardService, clock: FakeClock) -> None:
    old = await add(cards, 1, "4242424242424242", expiry="12/26")
    clock.advance(days=1)
    newer = await add(cards, 1, "5555555555554444", expiry="01/27")
    clock.advance(days=1)
    newest = await add(cards, 1, "2200000000000004", expiry="12/30")
    assert isinstance(old, AddOutcome) and isinstance(newer, AddOutcome) and isinstance(newest, AddOutcome)
    clock.set(datetime(2027, 2, 1, tzinfo=UTC))  # the first two have expired
    wallet = await cards.wallet(1)
    assert [c.expired for c in wallet] == [True, True, False]
    assert await cards.status(1, old.card.id) is CardStatus.expired
    with pytest.raises(ExpiredCard):
        await cards.set_default(1, newer.card.id)
    await cards.set_default(1, newest.card.id)
    await cards.delete(1, newest.card.id)  # no valid card left: the most recent one all the same
    assert [(c.id, c.is_default) for c in await cards.wallet(1)] == [(old.card.id, False), (newer.card.id, True)]
    # a new card takes over from an expired default
    fresh = await add(cards, 1, "3566002020360505", expiry="05/31")
    assert isinstance(fresh, AddOutcome) and fresh.is_default


async def test_replace_adds_the_new_card_first_then_removes_the_old(app: App, cards: CardService) -> None:
    for number in numbers(CARD_LIMIT):
        await add(cards, 1, number)
    default = (await cards.wallet(1))[0]
    assert default.is_default
    # a full wallet can still replace; the new card takes the old one's default status
    replaced = await add(cards, 1, "2200 0000 0000 0004", replaces=default.id)
    assert isinstance(replaced, AddOutcome) and replaced.replaced is not None
    assert replaced.replaced.id == default.id and replaced.is_default
    wallet = await cards.wallet(1)
    assert len(wallet) == CARD_LIMIT and default.id not in [c.id for c in wallet]
    assert [c.last4 for c in wallet if c.is_default] == ["0004"]
    assert await cards.status(1, default.id) is CardStatus.deleted
    # a reissued card (same number, new expiry) replaces itself
    again = await add(cards, 1, "2200000000000004", expiry="03/33", replaces=replaced.card.id)
    assert isinstance(again, AddOutcome) and again.card.exp_year == 2033 and again.is_default
    # replacing a card that is not the default keeps the default where it is
    other = next(c for c in await cards.wallet(1) if not c.is_default)
    third = await add(cards, 1, "5555555555554444", replaces=other.id)
    assert isinstance(third, AddOutcome) and not third.is_default


async def test_replace_when_the_old_card_is_gone_meanwhile(cards: CardService) -> None:
    a = await add(cards, 1, "4242424242424242")
    assert isinstance(a, AddOutcome)
    accepted = await cards.enter_number(1, None, "5555555555554444", replaces=a.card.id)
    await cards.enter_expiry(accepted.session_id, "01/30")
    await cards.enter_holder(accepted.session_id, "A B")
    verified = await cards.verify(1, accepted.session_id, "123", replaces=a.card.id)
    await cards.delete(1, a.card.id)
    outcome = await cards.save(1, verified, replaces=a.card.id)
    assert isinstance(outcome, AddOutcome) and outcome.replaced is None and outcome.is_default


async def test_status_and_snapshot_for_the_orders_section(cards: CardService, clock: FakeClock) -> None:
    outcome = await add(cards, 1, "4242424242424242", expiry="01/27")
    assert isinstance(outcome, AddOutcome)
    card_id = outcome.card.id
    assert await cards.status(1, card_id) is CardStatus.active
    snap = await cards.snapshot(1, card_id)
    assert (snap.card_id, snap.brand, snap.last4, snap.exp_month, snap.exp_year) == (card_id, "visa", "4242", 1, 2027)
    clock.set(datetime(2027, 1, 31, 23, 59, tzinfo=UTC))
    assert await cards.status(1, card_id) is CardStatus.active  # valid to the end of its month
    clock.set(datetime(2027, 2, 1, tzinfo=UTC))
    assert await cards.status(1, card_id) is CardStatus.expired
    await cards.delete(1, card_id)
    assert await cards.status(1, card_id) is CardStatus.deleted
    assert (await cards.snapshot(1, card_id)).last4 == "4242"  # old orders still show the card
    for call in (cards.status, cards.snapshot, cards.get, cards.set_default, cards.delete, cards.pending_orders):
        with pytest.raises(CardNotFound):
            await call(2, card_id)  # someone else's card
    with pytest.raises(CardNotFound):
        await cards.status(1, 999_999)


async def test_card_usage_is_asked_through_the_protocol(cards: CardService) -> None:
    outcome = await add(cards, 1, "4242424242424242")
    assert isinstance(outcome, AddOutcome)
    assert (await cards.pending_orders(1, outcome.card.id)).total == 0  # the default: none

    class FakeOrders:
        def __init__(self) -> None:
            self.asked: list[tuple[int, int]] = []

        async def pending_orders(self, user_id: int, card_id: int) -> CardUsageSummary:
            self.asked.append((user_id, card_id))
            return CardUsageSummary(in_delivery=2, in_dispute=1, refund_pending=1)

    fake = FakeOrders()
    cards.usage = fake
    usage = await cards.pending_orders(1, outcome.card.id)
    assert usage.total == 4 and fake.asked == [(1, outcome.card.id)]
    with pytest.raises(CardNotFound):
        await cards.pending_orders(2, outcome.card.id)
    assert fake.asked == [(1, outcome.card.id)]  # a forged id never reaches the orders section


# -- the gateway: declines, sessions, holds, charges ------------------------------------------
async def _verify(cards: CardService, number: str, cvc: str = "123", expiry: str = "01/30"):
    accepted = await cards.enter_number(1, None, number)
    await cards.enter_expiry(accepted.session_id, expiry)
    await cards.enter_holder(accepted.session_id, "A B")
    return accepted.session_id, cards.verify(1, accepted.session_id, cvc)


@pytest.mark.parametrize(
    ("number", "reason", "retry"),
    [
        ("4000 0000 0000 9995", DeclineReason.insufficient_funds, False),
        ("4000 0000 0000 0002", DeclineReason.declined, False),
        ("4000 0000 0000 0069", DeclineReason.expired_card, False),
        ("4000 0000 0000 0127", DeclineReason.incorrect_cvc, True),
        ("4000 0000 0000 0119", DeclineReason.processing_error, True),
    ],
)
async def test_sandbox_declines(cards: CardService, gateway: SandboxGateway, number: str,
                                reason: DeclineReason, retry: bool) -> None:
    sid, verifying = await _verify(cards, number)
    with pytest.raises(PaymentDeclined) as info:
        await verifying
    assert info.value.reason is reason and info.value.may_retry is retry
    assert (sid in gateway._sessions) is retry  # a hard decline closes the session
    assert await cards.wallet(1) == []
    assert not gateway.holds  # nothing was held


async def test_wrong_cvc_three_times_closes_the_session(cards: CardService) -> None:
    sid, verifying = await _verify(cards, "4000000000000127")
    for _ in range(2):
        with pytest.raises(PaymentDeclined):
            await verifying
        verifying = cards.verify(1, sid, "321")
    with pytest.raises(PaymentDeclined):
        await verifying
    with pytest.raises(CardSessionExpired):
        await cards.verify(1, sid, "111")


async def test_card_checks_per_hour_are_limited(cards: CardService, clock: FakeClock) -> None:
    """Adding cards is where stolen numbers get tested: ten checks an hour per user."""
    for _ in range(10):
        _sid, verifying = await _verify(cards, "4000 0000 0000 0002")  # declined every time
        with pytest.raises(PaymentDeclined):
            await verifying
    _sid, verifying = await _verify(cards, "4242 4242 4242 4242")
    with pytest.raises(TooManyChecks):
        await verifying
    assert isinstance(await add(cards, 2, "4242 4242 4242 4242"), AddOutcome)  # per user
    clock.advance(minutes=61)
    assert isinstance(await add(cards, 1, "4242 4242 4242 4242"), AddOutcome)


async def test_sessions_live_in_memory_for_a_short_time(cards: CardService, clock: FakeClock,
                                                        gateway: SandboxGateway) -> None:
    accepted = await cards.enter_number(1, None, "4242424242424242")
    clock.advance(minutes=14)
    await cards.enter_expiry(accepted.session_id, "01/30")  # activity keeps it alive
    clock.advance(minutes=14)
    session = await cards.card_session(accepted.session_id)
    assert (session.brand, session.last4, session.exp_month, session.exp_year) == ("visa", "4242", 1, 2030)
    assert "4242424242424242" not in repr(session) + repr(gateway._sessions)
    clock.advance(minutes=16)
    with pytest.raises(CardSessionExpired):
        await cards.enter_holder(accepted.session_id, "A B")
    assert gateway._sessions == {}
    # a number sent into a forgotten session opens a new one
    again = await cards.enter_number(1, accepted.session_id, "4242424242424242")
    assert again.session_id != accepted.session_id


async def test_fingerprint_is_keyed_hmac(app: App, gateway: SandboxGateway) -> None:
    other = SandboxGateway(app.clock, b"another key of at least thirty-two chars", detect_brand)
    assert gateway.fingerprint("4242424242424242") != other.fingerprint("4242424242424242")
    expected = hmac.new(b"another key of at least thirty-two chars", b"4242424242424242", hashlib.sha256).hexdigest()
    assert other.fingerprint("4242424242424242") == expected


async def test_gateway_refuses_what_the_service_would_not_send(gateway: SandboxGateway) -> None:
    sid = await gateway.start_card_session()
    for bad in ("4242424242424241", "42424242", "abcd", "6011111111111117"):
        with pytest.raises(InvalidRequest) as info:
            await gateway.submit_number(sid, bad)
        assert bad not in str(info.value)
    with pytest.raises(InvalidRequest):
        await gateway.verify(sid, "123", amount_minor=100, currency="USD", idempotency_key="k")


async def test_hold_is_released_by_the_sweeper_and_the_user_is_told(app: App, cards: CardService,
                                                                    gateway: SandboxGateway) -> None:
    from bot.runner import build_sweeper

    outcome = await add(cards, 1, "4242424242424242")
    assert isinstance(outcome, AddOutcome)
    hold_id = next(iter(gateway.holds))
    assert gateway.holds[hold_id] is False
    sweeper = build_sweeper(app.services)
    assert "card_holds_release" in sweeper.names
    done = await sweeper(app.clock.now())
    assert done["card_holds_release"] == 1 and gateway.holds[hold_id] is True
    assert (await sweeper(app.clock.now()))["card_holds_release"] == 0  # idempotent
    async with app.services.db.read() as conn:
        rows = await outbox_repo.for_user(conn, 1, "card_hold_released")
    assert [(r.kind, r.payload, r.dedupe_key) for r in rows] == [(
        "card_hold_released",
        {"amount_minor": 100, "brand": "visa", "card_id": outcome.card.id, "currency": "USD",
         "hold_id": 1, "last4": "4242"},
        "card_hold:1:released",
    )]


async def test_a_failed_release_is_retried_later(app: App, cards: CardService, gateway: SandboxGateway,
                                                 clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    await add(cards, 1, "4242424242424242")

    async def down(hold_id: str) -> None:
        raise CardDeclined(DeclineReason.processing_error)

    monkeypatch.setattr(gateway, "release_hold", down)
    assert await cards.release_due_holds(clock.now()) == 0
    async with app.services.db.read() as conn:
        (hold,) = await repo.holds_for_user(conn, 1)
        assert hold.attempts == 1 and await outbox_repo.for_user(conn, 1, "card_hold_released") == []
    monkeypatch.undo()
    assert await cards.release_due_holds(clock.now()) == 0  # not due yet
    clock.advance(minutes=6)
    assert await cards.release_due_holds(clock.now()) == 1


async def test_deleted_cards_tokens_are_forgotten_by_the_gateway(app: App, cards: CardService,
                                                                 gateway: SandboxGateway) -> None:
    outcome = await add(cards, 1, "4242424242424242")
    assert isinstance(outcome, AddOutcome)
    async with app.services.db.read() as conn:
        token = await repo.token(conn, 1, outcome.card.id)
    assert token and token.startswith("tok_sbx_ok_")
    await cards.delete(1, outcome.card.id)
    assert await cards.detach_deleted(app.clock.now()) == 1
    assert token in gateway.detached
    assert await cards.detach_deleted(app.clock.now()) == 0
    async with app.services.db.read() as conn:
        row = (await conn.execute(
            text("SELECT token, fingerprint, deleted_at IS NOT NULL FROM cards WHERE id = :id"), {"id": outcome.card.id}
        )).one()
    assert tuple(row) == (None, None, True)


async def test_charge_once_per_idempotency_key(cards: CardService, gateway: SandboxGateway) -> None:
    outcome = await add(cards, 1, "4242424242424242")
    assert isinstance(outcome, AddOutcome)
    first = await cards.charge(1, outcome.card.id, 2599, "USD", "order:42:pay")
    second = await cards.charge(1, outcome.card.id, 2599, "USD", "order:42:pay")  # a double press
    assert first == second and len(gateway.charges) == 1
    assert (first.amount_minor, first.currency) == (2599, "USD")
    with pytest.raises(IdempotencyConflict):
        await cards.charge(1, outcome.card.id, 100, "USD", "order:42:pay")
    other = await cards.charge(1, outcome.card.id, 100, "USD", "order:43:pay")
    assert other.id != first.id and len(gateway.charges) == 2
    # refunds go to the charge (so a deleted card still gets them), once per key
    await cards.delete(1, outcome.card.id)
    refund = await cards.refund(first.id, 1000, "USD", "order:42:refund:1")
    assert refund == await cards.refund(first.id, 1000, "USD", "order:42:refund:1")
    await cards.refund(first.id, 1599, "USD", "order:42:refund:2")
    with pytest.raises(InvalidRequest):
        await cards.refund(first.id, 1, "USD", "order:42:refund:3")  # more than was charged
    assert [r.amount_minor for r in gateway.refunds] == [1000, 1599]
    with pytest.raises(CardNotFound):
        await cards.charge(1, outcome.card.id, 100, "USD", "order:44:pay")  # deleted


async def test_charge_refusals(cards: CardService, gateway: SandboxGateway, clock: FakeClock) -> None:
    poor = await add(cards, 1, "4000 0000 0000 0341")  # verifies, then every charge is declined
    assert isinstance(poor, AddOutcome)
    for _ in range(2):
        with pytest.raises(PaymentDeclined) as info:
            await cards.charge(1, poor.card.id, 500, "USD", "order:1:pay")
        assert info.value.reason is DeclineReason.insufficient_funds
    assert gateway.charges == []
    ok = await add(cards, 1, "4242424242424242", expiry="11/26")
    assert isinstance(ok, AddOutcome)
    with pytest.raises(CardNotFound):
        await cards.charge(2, ok.card.id, 500, "USD", "order:2:pay")  # another user's card
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(ExpiredCard):
        await cards.charge(1, ok.card.id, 500, "USD", "order:2:pay")
    for bad in ((0, "USD"), (-5, "USD"), (100, "usd"), (100, "DOLLARS")):
        with pytest.raises(InvalidRequest):
            await gateway.charge("tok_sbx_ok_x", bad[0], bad[1], "k")
    with pytest.raises(UnknownPayment):
        await gateway.charge("tok_other", 100, "USD", "k2")
    with pytest.raises(UnknownPayment):
        await gateway.refund("ch_other", 100, "USD", "k3")


# -- configuration, schema, demo --------------------------------------------------------------
def test_fingerprint_key_is_generated_once_next_to_the_database(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}")  # type: ignore[call-arg]
    key = card_fingerprint_key(settings)
    path = tmp_path / "card_fingerprint.key"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert len(key) == 64 and card_fingerprint_key(settings) == key
    assert [p.name for p in tmp_path.iterdir()] == ["card_fingerprint.key"]  # no temporary left over
    explicit = settings.model_copy(update={"card_fingerprint_key": load_settings(
        _env_file=None, card_fingerprint_key="k" * 40).card_fingerprint_key})
    assert card_fingerprint_key(explicit) == b"k" * 40
    path.write_text("short")
    with pytest.raises(SettingsError):
        card_fingerprint_key(settings)


def test_fingerprint_key_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARD_FINGERPRINT_KEY", "sekrit-value")
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)
    assert str(info.value).startswith("CARD_FINGERPRINT_KEY: bad value")
    assert "sekrit" not in str(info.value)  # the secret is not repeated
    monkeypatch.setenv("CARD_FINGERPRINT_KEY", "x" * 32)
    settings = load_settings(_env_file=None)
    assert "x" * 32 not in repr(settings)
    monkeypatch.setenv("CARD_FINGERPRINT_KEY", "  ")
    assert load_settings(_env_file=None).card_fingerprint_key is None


def test_migration_matches_the_tables(template_db: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from bot.db.tables import metadata

    engine = create_engine(f"sqlite:///{template_db}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    ours = [d for d in diff if "card" in repr(d)]
    assert ours == []


async def test_wallet_and_holds_use_their_indexes(app: App, cards: CardService) -> None:
    db = app.services.db
    with recording(db) as ran:
        await cards.wallet(1)
        await cards.release_due_holds(app.clock.now())
    wallet = await plan(db, reading(ran, "cards"))
    holds = await plan(db, reading(ran, "card_holds"))
    assert any("USING INDEX ix_cards_wallet" in d for d in wallet), wallet
    assert any("USING INDEX ix_card_holds_due" in d for d in holds), holds


async def test_demo_user_has_two_cards_one_expired(app: App) -> None:
    from bot import demo

    await demo.seed(app.services)
    await demo.seed(app.services)  # idempotent
    wallet = await app.services.cards.wallet(demo.DEMO_USER_ID)
    assert [(c.brand, c.last4, c.expired, c.is_default) for c in wallet] == [
        ("mastercard", "4444", True, False), ("visa", "4242", False, True)
    ]
    # the demo Visa is the sandbox's 4242…: adding it again is a duplicate
    with pytest.raises(CardAlreadySaved):
        await app.services.cards.enter_number(demo.DEMO_USER_ID, None, "4242424242424242")
    charge = await app.services.cards.charge(demo.DEMO_USER_ID, wallet[1].id, 100, "USD", "demo:1")
    assert charge.amount_minor == 100


async def test_no_card_data_in_the_sandbox_ids() -> None:
    """The number lives only in its card session: no id, token, fingerprint or repr carries it, and
    it goes with the session, after the check or 15 minutes unused."""
    clock = FakeClock(NOW)
    gateway = SandboxGateway(clock, os.urandom(32), detect_brand)
    number = "4242424242424242"
    sid = await gateway.start_card_session()
    preview = await gateway.submit_number(sid, number)
    await gateway.submit_expiry(sid, 12, NOW.year + 2)
    await gateway.submit_holder(sid, "IVAN PETROV")
    session = await gateway.get_session(sid)
    assert repr(gateway) == "SandboxGateway(sessions=1)"
    verified = await gateway.verify(sid, "123", amount_minor=100, currency="RUB", idempotency_key="k1")
    seen = [sid, repr(preview), repr(session), repr(verified), verified.token, verified.fingerprint,
            verified.hold.id, repr(gateway)]
    assert [s for s in seen if number[:12] in s or number in s.replace(" ", "")] == []
    assert (preview.last4, verified.last4) == ("4242", "4242")
    assert repr(gateway) == "SandboxGateway(sessions=0)"
    with pytest.raises(SessionNotFound):
        await gateway.get_session(sid)
    abandoned = await gateway.start_card_session()
    await gateway.submit_number(abandoned, number)
    clock.advance(minutes=14)
    await gateway.get_session(abandoned)  # in use: it stays
    clock.advance(minutes=15)
    with pytest.raises(SessionNotFound):
        await gateway.get_session(abandoned)
    assert repr(gateway) == "SandboxGateway(sessions=0)"


async def test_the_wallets_one_statement_reads_what_the_repository_reads(app: App, cards: CardService) -> None:
    """The wallet screen's hot read (one driver statement) against the Core query it replaces: the
    same cards in the same order, deleted ones left out, inside and outside a unit of work."""
    for i, number in enumerate(numbers(4)):
        await add(cards, 1, number, expiry=f"0{i + 1}/{27 + i}")
        app.clock.advance(minutes=1)
    await add(cards, 2, numbers(1, start=50)[0])
    first = (await cards.wallet(1))[0]
    await cards.delete(1, first.id)
    db = app.services.db
    async with db.read() as conn:
        for user_id in (1, 2, 3):
            assert await repo.active_hot(db, user_id) == await repo.active(conn, user_id)
    async with db.write() as conn:  # inside a unit of work it reads that transaction's snapshot
        await repo.soft_delete(conn, 1, (await repo.active(conn, 1))[0].id, app.clock.now())
        assert await repo.active_hot(db, 1) == await repo.active(conn, 1)
        assert len(await repo.active_hot(db, 1)) == 2
