"""What the card service returns (a card and its status, the steps of adding one, a deletion), and
how the orders section says which orders a card pays (`CardUsage`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.db.cards import CardRow
from bot.services.cards.expiry import is_expired
from bot.services.errors import DomainError

if TYPE_CHECKING:
    pass

__all__ = [
    "AddOutcome",
    "AddRefused",
    "Card",
    "CardStatus",
    "CardUsageSummary",
]


REPLACEMENTS_FOLLOWED = 12  # a chain of reissues a card's refund status follows (bounded)


class CardStatus(StrEnum):
    active = "active"
    expired = "expired"
    deleted = "deleted"


@dataclass(frozen=True, slots=True)
class Card(CardRow):
    """A saved card: the repository's row, and whether it had expired when it was read."""

    expired: bool


@dataclass(frozen=True, slots=True)
class NumberAccepted:
    session_id: str
    brand: str
    last4: str
    reissue_of: int | None = None  # the wallet's expired card with this number: the bank reissued it


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


def card_of(row: CardRow, now: datetime) -> Card:
    return Card(row.id, row.user_id, row.brand, row.last4, row.exp_month, row.exp_year, row.holder,
                bool(row.is_default), row.created_at, row.deleted_at, is_expired(row.exp_month, row.exp_year, now))


def next_default(rows: list[CardRow], now: datetime) -> CardRow | None:
    """After the default is gone: the most recently added remaining card that is still valid,
    else the most recently added one."""
    newest_first = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)
    valid = [r for r in newest_first if not is_expired(r.exp_month, r.exp_year, now)]
    return (valid or newest_first or [None])[0]
