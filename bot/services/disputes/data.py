"""What the disputes service returns: plain data for the screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.disputes import DisputeLine, DisputeRow
from bot.db.refunds import RefundRow
from bot.services import refunds
from bot.services.disputes.rules import (
    DisputeState,
)

__all__ = [
    "DisputeCard",
    "DisputePage",
    "DisputeStart",
]


# -- plain data out ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DisputeStart:
    """What the "open a dispute" flow needs to know about the order."""

    order_id: int
    number: str
    currency: str
    max_refund_minor: int  # paid and not refunded yet
    priority: bool
    decide_by: datetime
    return_days: int  # a return the store accepts: the days to send the item back in
    fast_refund: bool = False  # the buyer's level refunds a return as soon as it is sent back


@dataclass(frozen=True, slots=True)
class DisputeCard:
    dispute: DisputeRow
    number: str
    store: str
    order_status: str
    refunds: tuple[RefundRow, ...]
    now: datetime
    offer_refund: refunds.RefundPreview | None = None  # where the seller's offer would be paid to
    receive_by: datetime | None = None  # a return sent back: the store confirms it came back by then
    fast_refund: bool = False  # the buyer's level refunds a return as soon as it is sent back

    @property
    def state(self) -> DisputeState:
        return DisputeState(self.dispute.state)

    @property
    def can_answer(self) -> bool:
        """The buyer's turn: accept the seller's answer or escalate."""
        return self.state == DisputeState.answered

    @property
    def send_back_missed(self) -> bool:
        """A return not sent back, and its day to send it by has passed (the sweeper closes it)."""
        d = self.dispute
        return d.returned_at is None and d.return_by is not None and self.now >= d.return_by

    @property
    def refunded_on_sending(self) -> bool:
        """A return refunded when it was sent back (fast refunds), still open: the store confirms it
        came back, or says it did not (then the platform decides; the refund is not taken back)."""
        return self.state == DisputeState.returning and any(r.dispute_id == self.dispute.id for r in self.refunds)

    @property
    def can_send_back(self) -> bool:
        """A return the buyer has still to send back, before its day."""
        d = self.dispute
        return (self.state == DisputeState.returning and d.returned_at is None
                and d.return_by is not None and not self.send_back_missed)


@dataclass(frozen=True, slots=True)
class DisputePage:
    rows: tuple[DisputeLine, ...]
    total: int
    current: int
    page: int
    pages: int
