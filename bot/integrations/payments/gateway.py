"""The payment gateway's Protocol, shaped like real payment providers, and what it returns and raises.

A card is added through a **card session** (a provider's tokenization form or setup intent):

    start_card_session() → submit_number → submit_expiry → submit_holder
        → verify(cvc, a $1 hold) → a token for the card

The number lives only inside the gateway. The bot passes it on the moment it arrives and keeps
the session id, the brand and the last 4 digits; the CVC goes straight into `verify` and is never
kept anywhere. What the bot stores afterwards is the gateway's token and fingerprint. Then:
`release_hold`, `charge` (with an idempotency key: the same key never charges twice),
`find_charge` (what a key charged, for a charge whose answer was lost), `refund` and `detach`
(forget a deleted card's token). The sandbox (`sandbox.py`) is the default implementation.

In production a real provider's adapter implements the same Protocol. The safest production path
collects the number and CVC in the provider's own form (a web page or a Telegram payment) rather
than in chat; the adapter then starts the session with that form and the bot never sees the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

__all__ = [
    "CardDeclined", "CardPreview", "CardSession", "Charge", "DeclineReason", "Hold", "IdempotencyConflict",
    "InvalidRequest", "PaymentError", "PaymentGateway", "Refund", "RefundStatus", "SessionNotFound",
    "UnknownPayment", "VerifiedCard",
]

# -- errors: none of them carries card data ----------------------------------------------------
class PaymentError(Exception):
    """Something the gateway refused. Messages name what happened, never the card's data."""


class SessionNotFound(PaymentError):
    """The card session is unknown: it expired, or the process that held it restarted."""


class InvalidRequest(PaymentError):
    """The request itself is wrong (a programming error or tampered data)."""


class UnknownPayment(PaymentError):
    """The token, hold or charge is not known to the gateway."""


class IdempotencyConflict(PaymentError):
    """The idempotency key was used before with different parameters."""


class DeclineReason(StrEnum):
    insufficient_funds = "insufficient_funds"
    declined = "declined"
    expired_card = "expired_card"
    incorrect_cvc = "incorrect_cvc"
    processing_error = "processing_error"


class CardDeclined(PaymentError):
    def __init__(self, reason: DeclineReason) -> None:
        self.reason = reason
        super().__init__(f"declined: {reason.value}")

    @property
    def temporary(self) -> bool:
        return self.reason is DeclineReason.processing_error


# -- what the gateway returns -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CardPreview:
    """What the gateway tells after taking the number: enough to show and to spot duplicates."""

    brand: str
    last4: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class CardSession:
    id: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    holder: str | None
    expires_at: datetime
    cvc_tries_left: int | None = None  # how many more wrong CVCs the session takes (None: not told)

    @property
    def has_number(self) -> bool:
        return self.last4 is not None

    @property
    def has_expiry(self) -> bool:
        return self.exp_month is not None and self.exp_year is not None

    @property
    def complete(self) -> bool:
        return self.has_number and self.has_expiry and self.holder is not None


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class VerifiedCard:
    token: str
    fingerprint: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder: str
    hold: Hold


@dataclass(frozen=True, slots=True)
class Charge:
    id: str
    token: str
    amount_minor: int
    currency: str


class RefundStatus(StrEnum):
    pending = "pending"  # accepted; the provider is still sending it (ask again later)
    succeeded = "succeeded"  # sent back to the card's bank
    failed = "failed"  # the provider could not return it (the card's account closed, say)


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    charge_id: str
    amount_minor: int
    currency: str
    status: RefundStatus = RefundStatus.succeeded


class PaymentGateway(Protocol):
    name: str

    async def start_card_session(self) -> str:
        """A new card session; returns its id."""
        ...

    async def submit_number(self, session_id: str, number: str) -> CardPreview:
        """Hand the card number (digits) to the session; replaces a number given before."""
        ...

    async def submit_expiry(self, session_id: str, month: int, year: int) -> None: ...

    async def submit_holder(self, session_id: str, holder: str) -> None: ...

    async def get_session(self, session_id: str) -> CardSession:
        """What the session holds (never the number). Raises SessionNotFound."""
        ...

    async def verify(self, session_id: str, cvc: str, *, amount_minor: int, currency: str,
                     idempotency_key: str) -> VerifiedCard:
        """Check the card with the CVC and a hold of `amount_minor`; on success the session is
        closed and the card has a token. Raises CardDeclined (the session stays open only for a
        wrong CVC or a temporary failure), SessionNotFound."""
        ...

    async def cancel_session(self, session_id: str) -> None: ...

    async def release_hold(self, hold_id: str) -> None:
        """Release a verification hold; releasing twice is fine."""
        ...

    async def detach(self, token: str) -> None:
        """Forget a card's token (the card was deleted); twice is fine."""
        ...

    async def charge(self, token: str, amount_minor: int, currency: str,
                     idempotency_key: str) -> Charge:
        """Charge a saved card. The same idempotency key charges once and returns the same Charge."""
        ...

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        """The charge made with this idempotency key, or None when the key took no money (never
        received, or declined). For an attempt whose answer was lost (a timeout, a crash, a
        database error right after the charge). Raises PaymentError when the gateway can't tell
        now. Providers keep keys for at least a day; the sweeper asks within minutes."""
        ...

    async def refund(self, charge_id: str, amount_minor: int, currency: str,
                     idempotency_key: str) -> Refund:
        """Refund (part of) a charge to the card that paid. Idempotent by key: the same key returns
        the same refund (with its current status) and never refunds twice."""
        ...

    async def get_refund(self, refund_id: str) -> Refund:
        """A refund's current status. Raises UnknownPayment."""
        ...
