"""The sandbox gateway: a payment provider's test mode in process memory (used by default).

It behaves by test number:

    4242 4242 4242 4242   Visa: succeeds
    5555 5555 5555 4444   Mastercard: succeeds
    2223 0031 2200 3222   Mastercard (2-series): succeeds
    2200 0000 0000 0004   Mir: succeeds
    3782 822463 10005     American Express (15 digits, 4-digit CID): succeeds
    6200 0000 0000 0005   UnionPay: succeeds
    3566 0020 2036 0505   JCB: succeeds
    6759 6498 2643 8453   Maestro: succeeds
    4000 0000 0000 9995   declined: insufficient funds
    4000 0000 0000 0002   declined by the bank
    4000 0000 0000 0069   declined: the card has expired
    4000 0000 0000 0127   declined: wrong CVC (every attempt)
    4000 0000 0000 0119   the provider fails to process (temporary)
    4000 0000 0000 0341   verifies and saves, but every charge is declined for insufficient funds

Any other valid number succeeds. The sandbox keeps an unfinished session only in process memory,
for SESSION_TTL after the last step; a restart forgets it, and the bot then asks for the number
again. Tokens are self-describing ("tok_sbx_ok_…"), so a saved card can still be charged after a
restart; charges, refunds, holds and idempotency keys are remembered for as long as SandboxRetention says
(a charge as long as it can still be refunded; a real provider keeps keys for at least a day), then
forgotten as after a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.integrations.payments.gateway import (
    CardDeclined,
    CardPreview,
    CardSession,
    Charge,
    DeclineReason,
    Hold,
    IdempotencyConflict,
    InvalidRequest,
    Refund,
    RefundStatus,
    SessionNotFound,
    UnknownPayment,
    VerifiedCard,
)
from bot.services.card_numbers import luhn_ok
from bot.services.clock import Clock

__all__ = ["IDEMPOTENCY_TTL", "MAX_CVC_ATTEMPTS", "SANDBOX_CARDS", "SESSION_TTL", "Behaviour", "SandboxGateway",
           "SandboxRetention"]

SESSION_TTL = timedelta(minutes=15)
IDEMPOTENCY_TTL = timedelta(days=1)
MAX_CVC_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class SandboxRetention:
    """How long the sandbox remembers what is done with, so that a long-running process does not
    grow for ever. A charge can be refunded for as long as buyer protection allows (up to a year
    after shipment, then a dispute's decision), so it is kept `charge`; one refunded in full has
    nothing left to refund and goes `refund` after its last refund. A refund (and its idempotency
    key, which keeps a retried refund from paying twice) is kept `refund`, which outlasts every
    retry of a lost answer. A declined charge's key is kept IDEMPOTENCY_TTL, as providers do. A
    released hold is forgotten after `released` (releasing is idempotent); one never released
    after `hold` (a card authorization lapses within days). A detached token is kept `charge`.
    Forgotten charges and refunds are treated as after a restart: a refund of a `ch_sbx_` charge is
    trusted, `get_refund` of a forgotten refund raises UnknownPayment."""

    charge: timedelta = timedelta(days=400)
    refund: timedelta = timedelta(days=30)
    hold: timedelta = timedelta(days=7)
    released: timedelta = timedelta(days=1)
    every: timedelta = timedelta(hours=1)  # how often the memory is swept (on the next call)


# -- the sandbox ------------------------------------------------------------------------------
class Behaviour(StrEnum):
    ok = "ok"
    insufficient_funds = "insufficient_funds"
    declined = "declined"
    expired_card = "expired_card"
    incorrect_cvc = "incorrect_cvc"
    processing_error = "processing_error"
    charge_declined = "charge_declined"


SANDBOX_CARDS: dict[str, Behaviour] = {
    "4242424242424242": Behaviour.ok,
    "5555555555554444": Behaviour.ok,
    "2223003122003222": Behaviour.ok,
    "2200000000000004": Behaviour.ok,
    "378282246310005": Behaviour.ok,
    "6200000000000005": Behaviour.ok,
    "3566002020360505": Behaviour.ok,
    "6759649826438453": Behaviour.ok,
    "4000000000009995": Behaviour.insufficient_funds,
    "4000000000000002": Behaviour.declined,
    "4000000000000069": Behaviour.expired_card,
    "4000000000000127": Behaviour.incorrect_cvc,
    "4000000000000119": Behaviour.processing_error,
    "4000000000000341": Behaviour.charge_declined,
}

_TOKEN_PREFIX = "tok_sbx_"
_TOKEN_KIND = {Behaviour.ok: "ok", Behaviour.charge_declined: "nofunds"}


@dataclass(slots=True)
class _Session:
    id: str
    expires_at: datetime
    number: str = field(default="", repr=False)  # never shown in a repr or a traceback
    brand: str | None = None
    last4: str | None = None
    fingerprint: str | None = field(default=None, repr=False)
    exp_month: int | None = None
    exp_year: int | None = None
    holder: str | None = None
    cvc_attempts: int = 0


class SandboxGateway:
    """A provider's test mode in process memory. `brand_of` names a number's brand (None when the
    number is not a card we accept); `fingerprint_key` keys the HMAC-SHA256 fingerprints."""

    name = "sandbox"

    def __init__(self, clock: Clock, fingerprint_key: bytes, brand_of: Callable[[str], str | None],
                 *, session_ttl: timedelta = SESSION_TTL, retention: SandboxRetention | None = None) -> None:
        self.clock = clock
        self._key = fingerprint_key
        self._brand_of = brand_of
        self.session_ttl = session_ttl
        self.retention = retention or SandboxRetention()
        self._next_sweep = clock.now() + self.retention.every
        self._sessions: dict[str, _Session] = {}
        self._verified: dict[str, tuple[datetime, VerifiedCard]] = {}  # idempotency key → result
        self.holds: dict[str, bool] = {}  # hold id → released
        self.detached: set[str] = set()
        self.charges: list[Charge] = []  # money actually taken, once per idempotency key
        self.refunds: list[Refund] = []
        self._charge_keys: dict[str, Charge | CardDeclined] = {}
        self._refund_keys: dict[str, Refund] = {}
        self._refunds_by_id: dict[str, Refund] = {}
        self._charged: dict[str, Charge] = {}
        self._refunded: dict[str, int] = {}
        # when each thing happened, for the retention sweep (ids and keys → time)
        self._held_at: dict[str, datetime] = {}  # hold id → held, then → released
        self._detached_at: dict[str, datetime] = {}
        self._charged_at: dict[str, datetime] = {}  # charge id → charged, or its last refund if refunded in full
        self._charge_key_at: dict[str, datetime] = {}
        self._refund_at: dict[str, datetime] = {}  # refund id → created

    def __repr__(self) -> str:
        return f"SandboxGateway(sessions={len(self._sessions)})"

    def fingerprint(self, number: str) -> str:
        return hmac.new(self._key, number.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _id(prefix: str) -> str:
        return prefix + secrets.token_hex(12)

    def _purge(self) -> None:
        now = self.clock.now()
        for sid in [s.id for s in self._sessions.values() if s.expires_at <= now]:
            del self._sessions[sid]
        for key in [k for k, (at, _) in self._verified.items() if at < now - IDEMPOTENCY_TTL]:
            del self._verified[key]
        if now >= self._next_sweep:
            self.sweep(now)

    def sweep(self, now: datetime) -> None:
        """Forget what the retention no longer keeps (see SandboxRetention). Runs by itself at most
        every `retention.every`, on the next call to the gateway."""
        keep = self.retention
        self._next_sweep = now + keep.every
        for hold_id, at in list(self._held_at.items()):
            if at < now - (keep.released if self.holds.get(hold_id) else keep.hold):
                del self._held_at[hold_id]
                self.holds.pop(hold_id, None)
        for token, at in list(self._detached_at.items()):
            if at < now - keep.charge:
                del self._detached_at[token]
                self.detached.discard(token)
        for charge_id, at in list(self._charged_at.items()):
            charge = self._charged[charge_id]
            done = self._refunded.get(charge_id, 0) >= charge.amount_minor
            if at < now - (keep.refund if done else keep.charge):
                del self._charged_at[charge_id], self._charged[charge_id]
                self._refunded.pop(charge_id, None)
        for key, at in list(self._charge_key_at.items()):
            previous = self._charge_keys[key]
            if (previous.id not in self._charged if isinstance(previous, Charge)
                    else at < now - IDEMPOTENCY_TTL):
                del self._charge_key_at[key], self._charge_keys[key]
        for refund_id, at in list(self._refund_at.items()):
            if at < now - keep.refund:
                del self._refund_at[refund_id], self._refunds_by_id[refund_id]
        self._refund_keys = {k: r for k, r in self._refund_keys.items() if r.id in self._refunds_by_id}
        self.charges = [c for c in self.charges if c.id in self._charged]
        self.refunds = [r for r in self.refunds if r.id in self._refunds_by_id]

    def _session(self, session_id: str) -> _Session:
        self._purge()
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound("the card session is unknown or expired")
        session.expires_at = self.clock.now() + self.session_ttl
        return session

    async def start_card_session(self) -> str:
        self._purge()
        session = _Session(self._id("cs_sbx_"), self.clock.now() + self.session_ttl)
        self._sessions[session.id] = session
        return session.id

    async def submit_number(self, session_id: str, number: str) -> CardPreview:
        session = self._session(session_id)
        if not (number.isascii() and number.isdigit() and 12 <= len(number) <= 19 and luhn_ok(number)):
            raise InvalidRequest("not a card number")
        brand = self._brand_of(number)
        if brand is None:
            raise InvalidRequest("this card brand is not accepted")
        session.number, session.brand, session.last4 = number, brand, number[-4:]
        session.fingerprint = self.fingerprint(number)
        session.cvc_attempts = 0
        return CardPreview(brand, number[-4:], session.fingerprint)

    async def submit_expiry(self, session_id: str, month: int, year: int) -> None:
        session = self._session(session_id)
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise InvalidRequest("bad expiry")
        session.exp_month, session.exp_year = month, year

    async def submit_holder(self, session_id: str, holder: str) -> None:
        session = self._session(session_id)
        if not (0 < len(holder) <= 26 and holder.isascii()):
            raise InvalidRequest("bad cardholder name")
        session.holder = holder

    async def get_session(self, session_id: str) -> CardSession:
        s = self._session(session_id)
        return CardSession(s.id, s.brand, s.last4, s.exp_month, s.exp_year, s.holder, s.expires_at,
                           cvc_tries_left=MAX_CVC_ATTEMPTS - s.cvc_attempts)

    async def cancel_session(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def verify(self, session_id: str, cvc: str, *, amount_minor: int, currency: str,
                     idempotency_key: str) -> VerifiedCard:
        done = self._verified.get(idempotency_key)
        if done is not None:
            return done[1]
        s = self._session(session_id)
        if not (s.number and s.brand and s.last4 and s.fingerprint and s.exp_month and s.exp_year
                and s.holder):
            raise InvalidRequest("the card session is not complete")
        if not (cvc.isascii() and cvc.isdigit() and len(cvc) == (4 if s.brand == "amex" else 3)):
            raise InvalidRequest("bad CVC format")
        behaviour = SANDBOX_CARDS.get(s.number, Behaviour.ok)
        now = self.clock.now()
        if (s.exp_year, s.exp_month) < (now.year, now.month):
            behaviour = Behaviour.expired_card
        if behaviour is Behaviour.incorrect_cvc:
            s.cvc_attempts += 1
            if s.cvc_attempts >= MAX_CVC_ATTEMPTS:
                del self._sessions[s.id]
            raise CardDeclined(DeclineReason.incorrect_cvc)
        if behaviour is Behaviour.processing_error:
            raise CardDeclined(DeclineReason.processing_error)
        if behaviour not in _TOKEN_KIND:
            del self._sessions[s.id]
            raise CardDeclined(DeclineReason(behaviour.value))
        hold = Hold(self._id("hold_sbx_"), amount_minor, currency)
        self.holds[hold.id] = False
        self._held_at[hold.id] = now
        token = f"{_TOKEN_PREFIX}{_TOKEN_KIND[behaviour]}_{secrets.token_hex(12)}"
        verified = VerifiedCard(token, s.fingerprint, s.brand, s.last4, s.exp_month, s.exp_year,
                                s.holder, hold)
        del self._sessions[s.id]  # the number is gone with the session
        self._verified[idempotency_key] = (now, verified)
        return verified

    async def release_hold(self, hold_id: str) -> None:
        # an unknown hold was released before a restart: releasing is idempotent
        self._purge()
        if self.holds.get(hold_id) is not True:
            self._held_at[hold_id] = self.clock.now()
        self.holds[hold_id] = True

    async def detach(self, token: str) -> None:
        self._purge()
        self._detached_at.setdefault(token, self.clock.now())
        self.detached.add(token)

    async def charge(self, token: str, amount_minor: int, currency: str,
                     idempotency_key: str) -> Charge:
        if not (isinstance(amount_minor, int) and amount_minor > 0):
            raise InvalidRequest("the amount must be a positive integer of minor units")
        if not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
            raise InvalidRequest("the currency must be an ISO 4217 code")
        self._purge()
        previous = self._charge_keys.get(idempotency_key)
        if previous is not None:
            if isinstance(previous, CardDeclined):
                raise previous
            if (previous.token, previous.amount_minor, previous.currency) != (token, amount_minor, currency):
                raise IdempotencyConflict("the key was used for another charge")
            return previous
        if not token.startswith(_TOKEN_PREFIX) or token in self.detached:
            raise UnknownPayment("unknown or detached token")
        if token.startswith(f"{_TOKEN_PREFIX}nofunds_"):
            declined = CardDeclined(DeclineReason.insufficient_funds)
            self._charge_keys[idempotency_key] = declined
            self._charge_key_at[idempotency_key] = self.clock.now()
            raise declined
        charge = Charge(self._id("ch_sbx_"), token, amount_minor, currency)
        self._charge_keys[idempotency_key] = charge
        self._charge_key_at[idempotency_key] = self.clock.now()
        self._charged[charge.id] = charge
        self._charged_at[charge.id] = self.clock.now()
        self.charges.append(charge)
        return charge

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        previous = self._charge_keys.get(idempotency_key)
        return previous if isinstance(previous, Charge) else None

    async def refund(self, charge_id: str, amount_minor: int, currency: str,
                     idempotency_key: str) -> Refund:
        if not (isinstance(amount_minor, int) and amount_minor > 0):
            raise InvalidRequest("the amount must be a positive integer of minor units")
        self._purge()
        previous = self._refund_keys.get(idempotency_key)
        if previous is not None:
            if (previous.charge_id, previous.amount_minor, previous.currency) != (charge_id, amount_minor, currency):
                raise IdempotencyConflict("the key was used for another refund")
            return previous
        charge = self._charged.get(charge_id)
        if charge is None and not charge_id.startswith("ch_sbx_"):
            raise UnknownPayment("unknown charge")
        if charge is not None:
            # (a charge from before a restart is not remembered; the sandbox then trusts the caller)
            if currency != charge.currency:
                raise InvalidRequest("the refund's currency differs from the charge's")
            if self._refunded.get(charge_id, 0) + amount_minor > charge.amount_minor:
                raise InvalidRequest("more than was charged")
        refund = Refund(self._id("re_sbx_"), charge_id, amount_minor, currency, RefundStatus.succeeded)
        if charge is not None:
            self._refunded[charge_id] = self._refunded.get(charge_id, 0) + amount_minor
            if self._refunded[charge_id] >= charge.amount_minor:
                self._charged_at[charge_id] = self.clock.now()  # refunded in full: kept `refund` from now
        self._refund_keys[idempotency_key] = refund
        self._refunds_by_id[refund.id] = refund
        self._refund_at[refund.id] = self.clock.now()
        self.refunds.append(refund)
        return refund

    async def get_refund(self, refund_id: str) -> Refund:
        # the sandbox's refunds succeed at once; one from before a restart (or older than the
        # retention) is not remembered
        self._purge()
        refund = self._refunds_by_id.get(refund_id)
        if refund is None:
            raise UnknownPayment("unknown refund")
        return refund
