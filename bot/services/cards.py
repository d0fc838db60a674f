"""Bank cards: the wallet (at most 5, one default), adding a card through the gateway's card
session with a $1 verification hold, replacing and deleting; what the orders section needs to pay
and refund.

The card number and the CVC pass through here only as local values on their way to the gateway:
`CardNumber` hides its digits from repr and str, errors never carry them, and nothing here stores
them. What is stored is the gateway's token and fingerprint, the brand, the last 4 digits, the
expiry and the holder's name.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.db import cards as repo
from bot.db.cards import CardRow
from bot.db.engine import Database
from bot.integrations.payments import (
    CardDeclined,
    CardSession,
    Charge,
    DeclineReason,
    PaymentGateway,
    Refund,
    SessionNotFound,
    VerifiedCard,
)
from bot.services import reminders
from bot.services.card_numbers import luhn_ok
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.notifications import Category, declare
from bot.services.outbox import enqueue
from bot.services.refunds import CardSnapshot

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)

CARD_LIMIT = 5
HOLD_AMOUNT_MINOR = 100  # $1.00
HOLD_CURRENCY = "USD"
HOLD_RELEASE_AFTER = timedelta(0)  # on the sweeper's next tick; we promise "within a day"
HOLD_RETRY_AFTER = timedelta(minutes=5)
HOLDER_MAX = 26
# Card checks a user may start per hour: adding cards is where stolen numbers get tested.
VERIFY_LIMIT, VERIFY_WINDOW = 10, timedelta(hours=1)
MAX_YEARS_AHEAD = 20
HOLD_RELEASED_KIND = declare("card_hold_released", N_("💳 The card check hold is released"), order=60)  # money news
# a reminder 30 days before the end of the card's expiry month
EXPIRY_KIND = declare("card_expiry", N_("Cards about to expire"), category=Category.reminder, order=61)
EXPIRY_NOTICE = timedelta(days=30)


# -- brands -----------------------------------------------------------------------------------
class Brand(StrEnum):
    mir = "mir"
    visa = "visa"
    mastercard = "mastercard"
    amex = "amex"
    unionpay = "unionpay"
    maestro = "maestro"
    jcb = "jcb"


BRAND_LENGTHS: dict[Brand, tuple[int, ...]] = {
    Brand.mir: (16, 17, 18, 19),
    Brand.visa: (13, 16, 19),
    Brand.mastercard: (16,),
    Brand.amex: (15,),
    Brand.unionpay: (16, 17, 18, 19),
    Brand.maestro: tuple(range(12, 20)),
    Brand.jcb: (16, 17, 18, 19),
}

# (first, last, brand) over prefixes of one length; longer prefixes are tried first, so the most
# specific range wins (Mir 2200–2204 before anything starting with 2, Maestro 6304 before 6…).
_RANGES: tuple[tuple[int, tuple[tuple[int, int, Brand], ...]], ...] = (
    (4, (
        (2200, 2204, Brand.mir),
        (2221, 2720, Brand.mastercard),
        (3528, 3589, Brand.jcb),
        (6304, 6304, Brand.maestro),
    )),
    (3, ((639, 639, Brand.maestro),)),
    (2, (
        (34, 34, Brand.amex),
        (37, 37, Brand.amex),
        (50, 50, Brand.maestro),
        (51, 55, Brand.mastercard),
        (56, 58, Brand.maestro),
        (62, 62, Brand.unionpay),
        (67, 67, Brand.maestro),
    )),
    (1, ((4, 4, Brand.visa),)),
)


def detect_brand(digits: str) -> Brand | None:
    """The brand from the number's prefix, most specific first; None for a card we don't take."""
    for length, ranges in _RANGES:
        if len(digits) < length or not digits[:length].isdigit():
            continue
        prefix = int(digits[:length])
        for first, last, brand in ranges:
            if first <= prefix <= last:
                return brand
    return None


# -- errors -----------------------------------------------------------------------------------
class InvalidCardNumber(InvalidInput):
    msgid = N_("There is no such card: the number has a typo. Check it digit by digit and send it again.")


class InvalidExpiry(InvalidInput):
    msgid = N_("Send the expiry date as it is on the card: month and year, for example 05/28.")


class InvalidHolder(InvalidInput):
    msgid = N_("Type the name as it is printed on the card, in Latin letters, for example IVAN PETROV.")


class HolderNeedsLatin(InvalidHolder):
    msgid = N_("The name on a bank card is in Latin letters (A–Z). Type it as it is printed on your card.")

    def __init__(self, offer: str | None) -> None:
        super().__init__()
        self.offer = offer  # a transliteration the user may take with one tap


class InvalidCvc(InvalidInput):
    msgid = N_("The CVC is the 3 digits on the back of the card, next to the signature strip.")


class CardNotFound(NotFound):
    msgid = N_("This card is no longer available.")


class CardAlreadyDeleted(NotFound):
    msgid = N_("This card has already been deleted.")


class CardLimitReached(DomainError):
    msgid = N_("You already have {limit} cards, the most a wallet can hold. Delete one to add another.")

    def __init__(self) -> None:
        super().__init__(limit=CARD_LIMIT)


class CardAlreadySaved(DomainError):
    msgid = N_("This card is already in your wallet. If the bank reissued it with a new expiry date, "
               "open it and choose Replace.")


class CardSessionExpired(DomainError):
    msgid = N_("For your safety the card number is kept only for a few minutes, and it is gone now. "
               "Please send the card number again.")


class TooManyChecks(DomainError):
    msgid = N_("Too many card checks in a short time. For your safety, please try again in an hour.")


class AlreadyDefault(DomainError):
    msgid = N_("This card is already your default.")


class ExpiredCard(DomainError):
    msgid = N_("This card has expired. Add a new card, or replace this one.")


_DECLINE_MSGIDS: dict[DeclineReason, str] = {
    DeclineReason.insufficient_funds: N_("The bank declined the card: there isn't enough money on it."),
    DeclineReason.declined: N_("The bank declined the card. Your bank can tell you why: call the number on the back of the card."),
    DeclineReason.expired_card: N_("The bank says this card has expired."),
    DeclineReason.incorrect_cvc: N_("The bank says the CVC is wrong."),
    DeclineReason.processing_error: N_("The payment service did not answer. Nothing was charged; please try again in a few minutes."),
}


class PaymentDeclined(DomainError):
    def __init__(self, reason: DeclineReason) -> None:
        super().__init__(_DECLINE_MSGIDS[reason])
        self.reason = reason

    @property
    def may_retry(self) -> bool:
        """Send the CVC again (a wrong CVC, a temporary failure) rather than another card."""
        return self.reason in (DeclineReason.incorrect_cvc, DeclineReason.processing_error)


# -- input ------------------------------------------------------------------------------------
_NUMBER_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.]")
_DIGIT_RUN = re.compile(r"\d(?:[\s\-]?\d){11,}")


class CardNumber:
    """A card number on its way to the gateway. Its digits never show in repr, str or logs."""

    __slots__ = ("_digits", "brand")

    def __init__(self, digits: str, brand: Brand) -> None:
        self._digits = digits
        self.brand = brand

    @property
    def last4(self) -> str:
        return self._digits[-4:]

    def reveal(self) -> str:
        """The digits, for the gateway only."""
        return self._digits

    def __repr__(self) -> str:
        return f"CardNumber({self.brand.value} •••• {self.last4})"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("a card number is not serialised")


def looks_like_card_number(text: str) -> bool:
    """True when the text holds a run of 12 or more digits (spaces or dashes between them)."""
    return bool(_DIGIT_RUN.search(text))


def parse_number(text: str) -> CardNumber:
    raw = _NUMBER_SEPARATORS.sub("", text.strip())
    if not raw or not (raw.isascii() and raw.isdigit()):
        raise InvalidCardNumber(N_("A card number is made of digits; spaces and dashes between them are fine. "
                                   "It is on the front of the card: 16 digits on most cards."))
    if not 12 <= len(raw) <= 19:
        raise InvalidCardNumber(N_("A card number has 12 to 19 digits, and this one has {count}. "
                                   "Check it and send it again."), count=len(raw))
    if not luhn_ok(raw):
        raise InvalidCardNumber()
    brand = detect_brand(raw)
    if brand is None:
        raise InvalidCardNumber(N_("There is no such card among those we accept: Mir, Visa, Mastercard, "
                                   "American Express, UnionPay, Maestro and JCB."))
    if len(raw) not in BRAND_LENGTHS[brand]:
        raise InvalidCardNumber(N_("There is no such card: numbers that start like this one have {lengths} digits, "
                                   "and this one has {count}."),
                                lengths="/".join(map(str, BRAND_LENGTHS[brand])), count=len(raw))
    return CardNumber(raw, brand)


_EXPIRY_PATTERNS = (
    re.compile(r"(?P<m>[0-9]{1,2})\s*[/\\.\-\s]\s*(?P<y>[0-9]{2}|[0-9]{4})"),
    re.compile(r"(?P<m>[0-9]{2})(?P<y>[0-9]{2}|[0-9]{4})"),
)


def valid_until(exp_month: int, exp_year: int) -> datetime:
    """The first moment the card is no longer valid: the start of the month after its expiry (UTC)."""
    return datetime(exp_year + exp_month // 12, exp_month % 12 + 1, 1, tzinfo=UTC)


async def plan_expiry_reminder(conn: AsyncConnection, *, user_id: int, card_id: int, brand: str, last4: str,
                               exp_month: int, exp_year: int, now: datetime) -> None:
    """The card's expiry reminder (30 days before the end of its month), re-planned as a whole: none
    when that moment has passed already."""
    end = valid_until(exp_month, exp_year)
    due = end - EXPIRY_NOTICE
    wanted = [reminders.Reminder(
        EXPIRY_KIND.key, f"card:{card_id}:expiry", due_at=due, expires_at=end,
        payload={"card_id": card_id, "brand": brand, "last4": last4, "exp_month": exp_month,
                 "exp_year": exp_year},
    )] if due > now else []
    await reminders.replan(conn, user_id=user_id, prefix=f"card:{card_id}:", reminders=wanted, now=now)


def is_expired(exp_month: int, exp_year: int, now: datetime) -> bool:
    """A card is valid to the end of its month."""
    return (exp_year, exp_month) < (now.year, now.month)


def parse_expiry(text: str, now: datetime) -> tuple[int, int]:
    """05/28, 0528, 5/2028, 05-28, 05.2028 → (month, year)."""
    raw = text.strip()
    for pattern in _EXPIRY_PATTERNS:
        match = pattern.fullmatch(raw)
        if match:
            break
    else:
        raise InvalidExpiry()
    month, year = int(match["m"]), int(match["y"])
    if len(match["y"]) == 2:
        year += 2000
    if not 1 <= month <= 12:
        raise InvalidExpiry(N_("There is no month {month}. Send the month and the year as on the card, "
                               "for example 05/28."), month=match["m"])
    if is_expired(month, year, now):
        raise InvalidExpiry(N_("This card expired at the end of {expiry}. Please use a card that is still valid."),
                            expiry=f"{month:02d}/{year}")
    if year > now.year + MAX_YEARS_AHEAD:
        raise InvalidExpiry(N_("Cards are not issued for that long: check the year. "
                               "Send the month and the year as on the card, for example 05/28."))
    return month, year


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
    if not _holder_ok(name):
        raise InvalidHolder(N_("Use only Latin letters, spaces, hyphens, apostrophes and dots, as on the card, "
                               "for example IVAN PETROV."))
    return name


def cvc_length(brand: str | None) -> int:
    return 4 if brand == Brand.amex else 3


def parse_cvc(text: str, brand: str | None) -> str:
    code = "".join(text.split())
    if not (code.isascii() and code.isdigit() and len(code) == cvc_length(brand)):
        if brand == Brand.amex:
            raise InvalidCvc(N_("An American Express card has a 4-digit code (CID) on its front, above the number."))
        raise InvalidCvc()
    return code


# -- what the service returns -----------------------------------------------------------------
REPLACEMENTS_FOLLOWED = 12  # a chain of reissues a card's refund status follows (bounded)


class CardStatus(StrEnum):
    active = "active"
    expired = "expired"
    deleted = "deleted"


@dataclass(frozen=True, slots=True)
class Card:
    id: int
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder: str
    is_default: bool
    created_at: datetime
    expired: bool


@dataclass(frozen=True, slots=True)
class NumberAccepted:
    session_id: str
    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class AddOutcome:
    card: Card
    hold_minor: int
    hold_currency: str
    is_default: bool  # the new card is the default now
    replaced: Card | None = None


@dataclass(frozen=True, slots=True)
class AddRefused:
    """The card was verified but not saved (the limit or a duplicate, found at the last moment);
    its hold is released all the same."""

    error: DomainError
    hold_minor: int
    hold_currency: str


@dataclass(frozen=True, slots=True)
class Deleted:
    card: Card
    new_default: Card | None  # the card that took over as the default, if any


@dataclass(frozen=True, slots=True)
class CardUsageSummary:
    """Orders paid with a card that are not finished: refunds for them still go to that card."""

    in_delivery: int = 0
    in_dispute: int = 0
    refund_pending: int = 0

    @property
    def total(self) -> int:
        return self.in_delivery + self.in_dispute + self.refund_pending


class CardUsage(Protocol):
    """The orders section answers this for the delete warning."""

    async def pending_orders(self, user_id: int, card_id: int) -> CardUsageSummary: ...


class NoCardUsage:
    """Until orders are wired in: no card is used by an unfinished order."""

    async def pending_orders(self, user_id: int, card_id: int) -> CardUsageSummary:
        return CardUsageSummary()


def _card(row: CardRow, now: datetime) -> Card:
    return Card(row.id, row.brand, row.last4, row.exp_month, row.exp_year, row.holder,
                bool(row.is_default), row.created_at, is_expired(row.exp_month, row.exp_year, now))


def _next_default(rows: list[CardRow], now: datetime) -> CardRow | None:
    """After the default is gone: the most recently added remaining card that is still valid,
    else the most recently added one."""
    newest_first = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)
    valid = [r for r in newest_first if not is_expired(r.exp_month, r.exp_year, now)]
    return (valid or newest_first or [None])[0]


class CardService:
    def __init__(self, db: Database, clock: Clock, gateway: PaymentGateway,
                 usage: CardUsage | None = None) -> None:
        self.db = db
        self.clock = clock
        self.gateway = gateway
        self.usage: CardUsage = usage or NoCardUsage()
        self._checks: dict[int, list[datetime]] = {}  # user → recent card checks (this process)

    def _count_check(self, user_id: int) -> None:
        """At most VERIFY_LIMIT card checks per user per VERIFY_WINDOW (kept in memory: a restart
        forgets them, which only ever errs on the user's side)."""
        now = self.clock.now()
        recent = [t for t in self._checks.get(user_id, ()) if t > now - VERIFY_WINDOW]
        if len(recent) >= VERIFY_LIMIT:
            self._checks[user_id] = recent
            raise TooManyChecks()
        recent.append(now)
        self._checks[user_id] = recent
        if len(self._checks) > 10_000:  # forget users with nothing recent
            self._checks = {u: ts for u, ts in self._checks.items() if ts and ts[-1] > now - VERIFY_WINDOW}

    # -- reading ------------------------------------------------------------------------------
    async def wallet(self, user_id: int) -> list[Card]:
        rows = await repo.active_hot(self.db, user_id)  # one statement through the driver
        now = self.clock.now()
        return [_card(r, now) for r in rows]

    async def get(self, user_id: int, card_id: int) -> Card:
        async with self.db.read() as conn:
            row = await repo.get(conn, user_id, card_id)
        if row is None:
            raise CardNotFound()
        return _card(row, self.clock.now())

    async def status(self, user_id: int, card_id: int) -> CardStatus:
        """active, expired or deleted; NotFound for a card that is not this user's. A card
        replaced by the same card reissued (Replace with the same number) has the status of its
        replacement: it is still in the wallet, with a new expiry."""
        async with self.db.read() as conn:
            row = await repo.get(conn, user_id, card_id, deleted_too=True)
            for _ in range(REPLACEMENTS_FOLLOWED):
                if row is None or row.deleted_at is None:
                    break
                successor = await repo.replaced_by(conn, user_id, row.id)
                if successor is None:
                    break
                replacement = await repo.get(conn, user_id, successor, deleted_too=True)
                if replacement is None:
                    break
                row = replacement
        if row is None:
            raise CardNotFound()
        if row.deleted_at is not None:
            return CardStatus.deleted
        if is_expired(row.exp_month, row.exp_year, self.clock.now()):
            return CardStatus.expired
        return CardStatus.active

    async def snapshot(self, user_id: int, card_id: int) -> CardSnapshot:
        """Brand, last 4 and expiry of a card, deleted or not (an order shows where its refund
        goes); NotFound for a card that is not this user's."""
        async with self.db.read() as conn:
            row = await repo.get(conn, user_id, card_id, deleted_too=True)
        if row is None:
            raise CardNotFound()
        return CardSnapshot(row.id, row.brand, row.last4, row.exp_month, row.exp_year)

    async def pending_orders(self, user_id: int, card_id: int) -> CardUsageSummary:
        await self.get(user_id, card_id)  # through the user first
        return await self.usage.pending_orders(user_id, card_id)

    # -- changing -----------------------------------------------------------------------------
    async def set_default(self, user_id: int, card_id: int) -> Card:
        now = self.clock.now()
        async with self.db.write() as conn:
            row = await repo.get(conn, user_id, card_id)
            if row is None:
                raise CardNotFound()
            if row.is_default:
                raise AlreadyDefault()
            if is_expired(row.exp_month, row.exp_year, now):
                raise ExpiredCard()
            if not await repo.make_default(conn, user_id, card_id):
                raise AlreadyDefault()
            fresh = await repo.get(conn, user_id, card_id)
        assert fresh is not None
        return _card(fresh, now)

    async def delete(self, user_id: int, card_id: int) -> Deleted:
        """Soft delete: the card leaves the wallet; its row stays for the orders it paid. When it
        was the default, the most recently added remaining card takes over."""
        now = self.clock.now()
        async with self.db.write() as conn:
            row = await repo.get(conn, user_id, card_id, deleted_too=True)
            if row is None:
                raise CardNotFound()
            if row.deleted_at is not None or not await repo.soft_delete(conn, user_id, card_id, now):
                raise CardAlreadyDeleted()
            await reminders.cancel(conn, user_id=user_id, prefix=f"card:{card_id}:", now=now)
            new_default = None
            if row.is_default:
                pick = _next_default(await repo.active(conn, user_id), now)
                if pick is not None:
                    await repo.make_default(conn, user_id, pick.id)
                    new_default = await repo.get(conn, user_id, pick.id)
        return Deleted(_card(row, now), _card(new_default, now) if new_default else None)

    # -- adding: the card session -------------------------------------------------------------
    async def has_room(self, user_id: int, *, replaces: int | None = None) -> bool:
        async with self.db.read() as conn:
            return await repo.count_active(conn, user_id, besides=replaces) < CARD_LIMIT

    async def ensure_room(self, user_id: int, *, replaces: int | None = None) -> None:
        """Refuse a sixth card early, before the user types anything (counted again on saving)."""
        if not await self.has_room(user_id, replaces=replaces):
            raise CardLimitReached()

    async def enter_number(self, user_id: int, session_id: str | None, text: str, *,
                           replaces: int | None = None) -> NumberAccepted:
        """Check the number and hand it to the gateway (a new session when there is none or the
        gateway forgot it). Raises InvalidCardNumber, CardAlreadySaved."""
        number = parse_number(text)
        preview = None
        if session_id:
            try:
                preview = await self.gateway.submit_number(session_id, number.reveal())
            except SessionNotFound:
                preview = None
        if preview is None:
            session_id = await self.gateway.start_card_session()
            preview = await self.gateway.submit_number(session_id, number.reveal())
        del number
        assert session_id is not None
        async with self.db.read() as conn:
            same = await repo.by_fingerprint(conn, user_id, preview.fingerprint)
        if same is not None and same.id != replaces:
            await self.gateway.cancel_session(session_id)  # the number leaves the gateway too
            raise CardAlreadySaved()
        return NumberAccepted(session_id, preview.brand, preview.last4)

    async def card_session(self, session_id: str | None) -> CardSession:
        if not session_id:
            raise CardSessionExpired()
        try:
            return await self.gateway.get_session(session_id)
        except SessionNotFound:
            raise CardSessionExpired() from None

    async def enter_expiry(self, session_id: str | None, text: str) -> CardSession:
        month, year = parse_expiry(text, self.clock.now())
        session = await self.card_session(session_id)
        await self.gateway.submit_expiry(session.id, month, year)
        return await self.card_session(session.id)

    async def enter_holder(self, session_id: str | None, text: str) -> CardSession:
        holder = parse_holder(text)
        session = await self.card_session(session_id)
        await self.gateway.submit_holder(session.id, holder)
        return await self.card_session(session.id)

    async def cancel_session(self, session_id: str | None) -> None:
        if session_id:
            await self.gateway.cancel_session(session_id)

    async def verify(self, user_id: int, session_id: str | None, cvc_text: str, *,
                     replaces: int | None = None, for_wallet: bool = True) -> VerifiedCard:
        """Check the card with the CVC and a $1 hold. The CVC goes to the gateway and nowhere
        else. Raises InvalidCvc, PaymentDeclined, CardSessionExpired, CardLimitReached (only
        `for_wallet`: a card used once for a payment takes no place in the wallet),
        CardAlreadySaved, TooManyChecks. No transaction is open while the gateway works."""
        session = await self.card_session(session_id)
        cvc = parse_cvc(cvc_text, session.brand)
        if not session.complete:
            raise CardSessionExpired()
        if for_wallet:
            await self.ensure_room(user_id, replaces=replaces)
        self._count_check(user_id)
        try:
            return await self.gateway.verify(
                session.id, cvc, amount_minor=HOLD_AMOUNT_MINOR, currency=HOLD_CURRENCY,
                idempotency_key=f"verify:{session.id}",
            )
        except SessionNotFound:
            raise CardSessionExpired() from None
        except CardDeclined as exc:
            raise PaymentDeclined(exc.reason) from None

    async def save(self, user_id: int, verified: VerifiedCard, *,
                   replaces: int | None = None) -> AddOutcome | AddRefused:
        """Save a verified card. Joins the caller's unit of work, so the flow can end in the same
        transaction. The limit and duplicates are counted here, inside the transaction. With
        `replaces`, the old card is removed in the same transaction and the new one takes its
        default status. A card refused here is not saved, but its hold is recorded all the same
        (the sweeper releases it and the gateway forgets the token)."""
        now = self.clock.now()
        hold = verified.hold
        async with self.db.write() as conn:
            seen = await repo.hold_by_gateway_id(conn, hold.id)
            if seen is not None:  # this verification was saved before (a redelivered update)
                row = await repo.get(conn, user_id, seen.card_id) if seen.card_id else None
                if row is None:
                    return AddRefused(CardAlreadySaved(), hold.amount_minor, hold.currency)
                return AddOutcome(_card(row, now), hold.amount_minor, hold.currency, bool(row.is_default))
            old = await repo.get(conn, user_id, replaces) if replaces else None
            refusal: DomainError | None = None
            same = await repo.by_fingerprint(conn, user_id, verified.fingerprint)
            if same is not None and (old is None or same.id != old.id):
                refusal = CardAlreadySaved()
            elif await repo.count_active(conn, user_id, besides=old.id if old else None) >= CARD_LIMIT:
                refusal = CardLimitReached()
            if refusal is not None:
                await self._record_hold(conn, user_id, None, verified, now, orphan=True)
                return AddRefused(refusal, hold.amount_minor, hold.currency)
            if old is not None:
                await repo.soft_delete(conn, user_id, old.id, now)
                await reminders.cancel(conn, user_id=user_id, prefix=f"card:{old.id}:", now=now)
            current = next((r for r in await repo.active(conn, user_id) if r.is_default), None)
            becomes_default = (
                (old is not None and old.is_default)
                or current is None
                or is_expired(current.exp_month, current.exp_year, now)
            )
            card_id = await repo.insert(
                conn, user_id=user_id, gateway=self.gateway.name, token=verified.token,
                fingerprint=verified.fingerprint, brand=verified.brand, last4=verified.last4,
                exp_month=verified.exp_month, exp_year=verified.exp_year, holder=verified.holder,
                is_default=False, now=now,
            )
            if becomes_default:
                await repo.make_default(conn, user_id, card_id)
            if old is not None and same is not None and same.id == old.id:
                # the same number reissued: orders paid with the old card refund to this one
                await repo.set_replaced_by(conn, user_id, old.id, card_id)
            await self._record_hold(conn, user_id, card_id, verified, now, orphan=False)
            await plan_expiry_reminder(conn, user_id=user_id, card_id=card_id, brand=verified.brand,
                                       last4=verified.last4, exp_month=verified.exp_month,
                                       exp_year=verified.exp_year, now=now)
            row = await repo.get(conn, user_id, card_id)
        assert row is not None
        return AddOutcome(_card(row, now), hold.amount_minor, hold.currency, becomes_default,
                          _card(old, now) if old else None)

    async def use_once(self, user_id: int, verified: VerifiedCard) -> None:
        """A verified card the buyer pays with once, without keeping it: it never enters the
        wallet (so a full wallet is no obstacle). Its hold is recorded like any other — the sweeper
        releases it, tells the buyer and has the gateway forget the token. Joins the caller's unit
        of work; a redelivered update records the hold once."""
        now = self.clock.now()
        async with self.db.write() as conn:
            if await repo.hold_by_gateway_id(conn, verified.hold.id) is None:
                await self._record_hold(conn, user_id, None, verified, now, orphan=True)

    async def _record_hold(self, conn: AsyncConnection, user_id: int, card_id: int | None,
                           verified: VerifiedCard, now: datetime, *, orphan: bool) -> None:
        await repo.insert_hold(
            conn, user_id=user_id, card_id=card_id, gateway=self.gateway.name,
            gateway_hold_id=verified.hold.id, orphan_token=verified.token if orphan else None,
            brand=verified.brand, last4=verified.last4, amount_minor=verified.hold.amount_minor,
            currency=verified.hold.currency, now=now, due_at=now + HOLD_RELEASE_AFTER,
        )

    # -- due transitions (the sweeper) --------------------------------------------------------
    async def release_due_holds(self, now: datetime) -> int:
        """Release the verification holds that are due and tell each user (an outbox row).
        Idempotent: a hold is marked released once; a failed release is retried later. The
        gateway is called outside any transaction; the results are written in one."""
        async with self.db.read() as conn:
            due = await repo.due_holds(conn, now, limit=200)
        if not due:
            return 0
        released, failed = [], []
        for hold in due:
            try:
                await self.gateway.release_hold(hold.gateway_hold_id)
                if hold.orphan_token:
                    await self.gateway.detach(hold.orphan_token)
            except Exception as exc:
                log.warning("card hold %s: release failed (%s); will retry", hold.id, type(exc).__name__)
                failed.append(hold)
            else:
                released.append(hold)
        count = 0
        async with self.db.write() as conn:
            for hold in failed:
                await repo.postpone(conn, hold.id, now + HOLD_RETRY_AFTER)
            for hold in released:
                if not await repo.mark_released(conn, hold.id, now):
                    continue
                await enqueue(
                    conn, user_id=hold.user_id, kind=HOLD_RELEASED_KIND.key,
                    payload={"hold_id": hold.id, "card_id": hold.card_id, "brand": hold.brand,
                             "last4": hold.last4, "amount_minor": hold.amount_minor,
                             "currency": hold.currency},
                    dedupe_key=f"card_hold:{hold.id}:released", now=now,
                )
                count += 1
        return count

    async def detach_deleted(self, now: datetime) -> int:
        """Ask the gateway to forget the tokens of deleted cards, then drop them here."""
        async with self.db.read() as conn:
            pending = await repo.to_detach(conn, limit=100)
        done = 0
        for card_id, token in pending:
            try:
                await self.gateway.detach(token)
            except Exception as exc:
                log.warning("card %s: detaching the token failed (%s); will retry", card_id, type(exc).__name__)
                continue
            async with self.db.write() as conn:
                done += await repo.clear_token(conn, card_id, token)
        return done

    # -- for the orders section ---------------------------------------------------------------
    async def charge(self, user_id: int, card_id: int, amount_minor: int, currency: str,
                     idempotency_key: str) -> Charge:
        """Charge a saved card. The same idempotency key (e.g. "order:42:pay") charges once.
        Raises CardNotFound, ExpiredCard, PaymentDeclined. No transaction is open meanwhile."""
        async with self.db.read() as conn:
            row = await repo.get(conn, user_id, card_id)
            token = await repo.token(conn, user_id, card_id)
        if row is None or token is None:
            raise CardNotFound()
        if is_expired(row.exp_month, row.exp_year, self.clock.now()):
            raise ExpiredCard()
        try:
            return await self.gateway.charge(token, amount_minor, currency, idempotency_key)
        except CardDeclined as exc:
            raise PaymentDeclined(exc.reason) from None

    async def charge_once(self, verified: VerifiedCard, amount_minor: int, currency: str,
                          idempotency_key: str) -> Charge:
        """Charge a card verified just now and not kept (`use_once`). Raises PaymentDeclined."""
        try:
            return await self.gateway.charge(verified.token, amount_minor, currency, idempotency_key)
        except CardDeclined as exc:
            raise PaymentDeclined(exc.reason) from None

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        """What a charge request with this key took (None: nothing) — for a request whose answer
        was lost. Raises PaymentError when the gateway can't tell now."""
        return await self.gateway.find_charge(idempotency_key)

    async def refund(self, charge_id: str, amount_minor: int, currency: str, idempotency_key: str) -> Refund:
        """Refund to the card that paid (by the charge, so it works after the card is deleted)."""
        try:
            return await self.gateway.refund(charge_id, amount_minor, currency, idempotency_key)
        except CardDeclined as exc:
            raise PaymentDeclined(exc.reason) from None
