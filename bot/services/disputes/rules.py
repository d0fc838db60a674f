"""Disputes' rules, pure: what a buyer may ask for and how, the states and why a dispute moves or
refuses to, what the store types (a reason, a return address), and the days that close it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.services import loyalty
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.notifications import declare
from bot.services.orders import (
    AlreadyDone,
)

__all__ = [
    "DESCRIPTION_MAX",
    "DESCRIPTION_MIN",
    "DISPUTE_KIND",
    "MAX_PHOTOS",
    "REASON_MAX",
    "REASON_MIN",
    "RETURN_ADDRESS_MAX",
    "RETURN_ADDRESS_MIN",
    "RETURN_KIND",
    "AnswerTooLate",
    "Closing",
    "DisputeDraft",
    "DisputeMovedOn",
    "DisputeNotFound",
    "DisputeReason",
    "DisputeState",
    "NotSentBackYet",
    "NothingToSendBack",
    "OfferTooLarge",
    "Outcome",
    "ProblemTooLate",
    "ReasonTooLong",
    "ReasonTooShort",
    "Resolution",
    "ReturnAddressRequired",
    "SellerAnswer",
    "SendBackTooLate",
    "SentBackAlready",
    "check_amount",
    "check_offer",
    "check_outcome",
    "check_partial_amount",
    "check_return_address",
    "clean_description",
    "clean_reason",
    "decision_deadline",
    "outcomes_for",
    "receive_by",
    "requested_amount",
    "return_closing",
    "unanswered_after_its_day",
]


DISPUTE_KIND = declare("dispute", N_("Disputes and returns"), order=12)
# a return the store accepted: where to send the item and by when — the buyer must act on it, so it
# is never held by a toggle (a return not sent in time closes without a refund)
RETURN_KIND = declare("dispute_return", order=12)
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 1000
RETURN_ADDRESS_MIN, RETURN_ADDRESS_MAX = 10, 1000
REASON_MIN, REASON_MAX = 5, 1000  # the store's reason: for rejecting, or that a return did not come back
MAX_PHOTOS = 3


class DisputeReason(StrEnum):
    not_received = "not_received"
    not_as_described = "not_as_described"
    damaged = "damaged"
    wrong_item = "wrong_item"
    other = "other"


class Outcome(StrEnum):
    full_refund = "full_refund"
    partial_refund = "partial_refund"
    return_refund = "return_refund"  # send the item back, get the money back


class DisputeState(StrEnum):
    open = "open"  # waiting for the seller
    answered = "answered"  # the seller rejected or offered: the buyer's turn
    escalated = "escalated"  # the platform decides
    returning = "returning"  # the store accepted a return: the item goes back, then the refund
    closed = "closed"


class SellerAnswer(StrEnum):
    accept = "accept"
    reject = "reject"
    offer = "offer"


class Resolution(StrEnum):
    refunded_full = "refunded_full"
    refunded_partial = "refunded_partial"
    rejected = "rejected"
    not_returned = "not_returned"  # a return the buyer did not send back in time


class Closing(StrEnum):
    """Why a dispute closes, when it is not the plain answer or decision: what the pushes say."""

    plain = "plain"
    overdue = "overdue"  # the store did not answer by the decision day: decided for the buyer
    sent_back = "sent_back"  # (until 2026-12-07 a fast refund closed the return when it was sent: history notes)
    unconfirmed = "unconfirmed"  # the store did not confirm the returned item came back in time
    not_sent = "not_sent"  # the buyer did not send the returned item back in time


class DisputeNotFound(NotFound, msgid=N_("This dispute is no longer available.")): ...


class AnswerTooLate(AlreadyDone, msgid=N_("The day to answer this dispute has passed: the platform decides it "
                                           "for the buyer.")): ...


class DisputeMovedOn(DomainError, msgid=N_("The dispute has moved on since; here is where it stands now.")): ...


class NothingToSendBack(InvalidInput, msgid=N_("An item that did not arrive can't be sent back: choose a full or a partial refund.")): ...


class NotSentBackYet(DomainError, msgid=N_("The buyer has not sent the item back yet.")): ...


class ProblemTooLate(AlreadyDone, msgid=N_("The days to confirm this return are over: the buyer is refunded.")): ...


class SentBackAlready(AlreadyDone, msgid=N_("You have already sent this item back.")): ...


class SendBackTooLate(AlreadyDone, msgid=N_("The day to send this item back has passed.")): ...


class ReasonTooShort(InvalidInput, msgid=N_("Please give the buyer a reason of at least {min} characters.")):
    def __init__(self) -> None:
        super().__init__(min=REASON_MIN)


class ReasonTooLong(InvalidInput, msgid=N_("Please keep the reason under {max} characters (now {length}).")): ...


def _lines(text: str | None) -> str:
    """What a person typed, its lines' trailing spaces and the blank start and end dropped."""
    return "\n".join(line.rstrip() for line in (text or "").strip().splitlines()).strip()


# -- validation of what the buyer and the store type (pure) -----------------------------------------
def clean_description(text: str | None) -> str:
    cleaned = _lines(text)
    if len(cleaned) < DESCRIPTION_MIN:
        raise InvalidInput(N_("Please describe the problem in at least {min} characters."), min=DESCRIPTION_MIN)
    if len(cleaned) > DESCRIPTION_MAX:
        raise InvalidInput(N_("Please keep the description under {max} characters (now {length})."),
                           max=DESCRIPTION_MAX, length=len(cleaned))
    return cleaned


class OfferTooLarge(InvalidInput, msgid=N_("A partial refund must be less than what accepting the dispute would refund; to refund that much, accept the dispute.")): ...


def check_offer(amount_minor: int, accept_minor: int) -> int:
    """A partial refund offered: more than zero and less than what accepting would refund (what
    the buyer asked for, at most what is left of the order to refund)."""
    if amount_minor <= 0:
        raise InvalidInput(N_("The amount must be more than zero."))
    if amount_minor >= accept_minor:
        raise OfferTooLarge()
    return amount_minor


class ReturnAddressRequired(InvalidInput, msgid=N_("To accept a return, give the buyer the address to send the item back to (at least {min} characters).")):
    def __init__(self) -> None:
        super().__init__(min=RETURN_ADDRESS_MIN)


def clean_reason(text: str | None) -> str:
    """The store's reason, which the buyer reads: for rejecting a dispute, or that a returned item
    did not come back as it was sent."""
    reason = _lines(text)
    if len(reason) < REASON_MIN:
        raise ReasonTooShort()
    if len(reason) > REASON_MAX:
        raise ReasonTooLong(max=REASON_MAX, length=len(reason))
    return reason


def check_return_address(text: str | None) -> str:
    """Where a returned item goes, as the store types it (the answer's note on an accepted return)."""
    cleaned = _lines(text)
    if len(cleaned) < RETURN_ADDRESS_MIN:
        raise ReturnAddressRequired()
    if len(cleaned) > RETURN_ADDRESS_MAX:
        raise InvalidInput(N_("Please keep the return address under {max} characters (now {length})."),
                           max=RETURN_ADDRESS_MAX, length=len(cleaned))
    return cleaned


def check_amount(amount_minor: int, max_minor: int) -> int:
    if amount_minor <= 0:
        raise InvalidInput(N_("The amount must be more than zero."))
    if amount_minor > max_minor:
        raise InvalidInput(N_("The amount can't be more than you paid and was not refunded yet."))
    return amount_minor


def check_partial_amount(amount_minor: int, max_minor: int) -> int:
    """A partial refund's amount: more than zero, less than all that is left to refund (all of it
    is a full refund, and said so)."""
    check_amount(amount_minor, max_minor)
    if amount_minor == max_minor:
        raise InvalidInput(N_("That is all that is left to refund: go back and choose “Full refund” instead."))
    return amount_minor


@dataclass(frozen=True, slots=True)
class DisputeDraft:
    reason: DisputeReason
    description: str
    outcome: Outcome
    amount_minor: int | None = None  # a partial refund's amount
    photos: tuple[str, ...] = ()


def outcomes_for(reason: str | None, left_minor: int | None = None) -> tuple[Outcome, ...]:
    """What a buyer may ask for with this reason: not a return of an item that never arrived; and
    no partial refund when what is left to refund (`left_minor`, when known) has no part smaller
    than itself (one cent)."""
    outcomes = (Outcome.full_refund, Outcome.partial_refund) if reason == DisputeReason.not_received else tuple(Outcome)
    if left_minor is not None and left_minor < 2:
        outcomes = tuple(o for o in outcomes if o != Outcome.partial_refund)
    return outcomes


def check_outcome(reason: str, outcome: str) -> None:
    if outcome not in outcomes_for(reason):
        raise NothingToSendBack()


def requested_amount(draft: DisputeDraft, max_minor: int) -> int:
    if draft.outcome == Outcome.partial_refund:
        return check_partial_amount(draft.amount_minor or 0, max_minor)
    return max_minor


def unanswered_after_its_day(state: str, decide_by: datetime, now: datetime) -> bool:
    """The store has not answered and its decision day has passed: it can't answer any more, and
    the sweeper decides the dispute for the buyer (`repo.overdue` finds these by the same rule)."""
    return state == DisputeState.open and now >= decide_by


def return_closing(state: str, return_by: datetime | None, returned_at: datetime | None, now: datetime,
                   receive_days: int) -> Closing | None:
    """A return past its day, and how the sweeper closes it: the buyer did not send the item back
    by `return_by` (no refund), or the store did not confirm it came back within `receive_days` of
    the sending (refunded). None: not a return, or not yet (`repo.returns_due` finds these)."""
    if state != DisputeState.returning:
        return None
    if returned_at is None:
        return Closing.not_sent if return_by is not None and now >= return_by else None
    return Closing.unconfirmed if now >= returned_at + timedelta(days=receive_days) else None


def receive_by(returned_at: datetime | None, receive_days: int) -> datetime | None:
    """A return sent back: the day the store confirms it came back by (then it is refunded)."""
    return None if returned_at is None else returned_at + timedelta(days=receive_days)


def decision_deadline(now: datetime, level: int, days: int, priority_days: int) -> tuple[datetime, bool]:
    priority = loyalty.priority_disputes(level)
    return now + timedelta(days=priority_days if priority else days), priority
