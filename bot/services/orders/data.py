"""What the order service returns: plain frozen data (a page of a tab, the order card with what
the buyer may do now, a cancel preview, tracking) and the address snapshot an order keeps."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo

from bot.db.orders import DisputeRead, ItemRow, OrderRow, SummaryRow, TrackingRow
from bot.db.refunds import RefundRow
from bot.services import reviews
from bot.services.addresses.fields import PostalAddress
from bot.services.errors import N_, InvalidInput
from bot.services.orders.states import OrderTab, Status
from bot.services.refunds import CardSnapshot, RefundPreview

__all__ = [
    "PAGE_SIZE",
    "AddressSnapshot",
    "CancelPreview",
    "NewItem",
    "OrderCard",
    "OrderPage",
    "Tracking",
    "card_snapshot",
]


PAGE_SIZE = 5


_STORED_AS = {"postal_code": "postcode"}  # an attribute → its key in the orders' JSON snapshots
_READ_AS = {stored: name for name, stored in _STORED_AS.items()}


@dataclass(frozen=True, slots=True)
class AddressSnapshot(PostalAddress):
    """The shipping address as it was when the order was placed (postal_code is stored as
    "postcode", _STORED_AS, the key rows have always had)."""

    def to_json(self) -> str:
        stored = {_STORED_AS.get(k, k): v for k, v in asdict(self).items()}
        return json.dumps(stored, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> AddressSnapshot:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        named = {_READ_AS.get(k, k): v for k, v in data.items()}
        known = {k: str(v) for k, v in named.items() if k in cls.__dataclass_fields__ and v is not None}
        return cls(**known)

    @property
    def empty(self) -> bool:
        return not any(asdict(self).values())


@dataclass(frozen=True, slots=True)
class NewItem:
    title: str
    quantity: int
    unit_price_minor: int
    options: tuple[tuple[str, str], ...] = ()
    product_id: int | None = None


@dataclass(frozen=True, slots=True)
class OrderPage:
    kind: str  # "tab", "search" or "deleted"
    tab: OrderTab | None
    rows: tuple[SummaryRow, ...]
    total: int  # rows in this list
    page: int  # 0-based, clamped to the last page
    pages: int
    counts: dict[OrderTab, int] = field(default_factory=dict)
    deleted_count: int = 0
    query: str = ""

    @property
    def offset(self) -> int:
        return self.page * PAGE_SIZE


@dataclass(frozen=True, slots=True)
class OrderCard:
    order: OrderRow
    store: str
    items: tuple[ItemRow, ...]
    address: AddressSnapshot
    card: CardSnapshot | None
    refunds: tuple[RefundRow, ...]
    dispute: DisputeRead | None  # the order's dispute, as the card's reader found it
    now: datetime
    # what the buyer may do now
    can_cancel: bool
    can_confirm: bool
    can_track: bool
    can_dispute: bool
    dispute_until: datetime | None
    deletable: bool
    dispute_window_days: int = 15
    reviewed_items: int = 0  # items of the order with the buyer's review

    @property
    def in_bin(self) -> bool:
        return self.order.deleted_at is not None

    @property
    def status(self) -> Status:
        return Status(self.order.status)

    def protection_days_left(self, tz: tzinfo) -> int | None:
        """Days until buyer protection ends as a person counts them from the date shown: calendar
        days in the buyer's zone `tz` (0: it ends today). None: no protection running (or it ended,
        and the sweeper completes the order on its next run)."""
        ends = self.order.protection_ends_at
        if self.order.status != Status.shipped or ends is None or ends <= self.now:  # over: completing soon
            return None
        return (ends.astimezone(tz).date() - self.now.astimezone(tz).date()).days

    @property
    def refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds)

    @property
    def can_review(self) -> bool:
        """An item is still to be reviewed and the window is open: the order was completed less than
        `REVIEW_WINDOW` ago."""
        completed_at = self.order.completed_at
        return (completed_at is not None and self.now < reviews.deadline_of(completed_at)
                and self.reviewed_items < len(self.items))

    @property
    def has_reviews(self) -> bool:
        """The buyer reviewed an item of it: the card leads to those reviews (to edit them within
        30 days, to add to them within 150)."""
        return self.reviewed_items > 0


@dataclass(frozen=True, slots=True)
class CancelPreview:
    order: OrderRow
    refund: RefundPreview | None


@dataclass(frozen=True, slots=True)
class Tracking:
    order: OrderRow
    carrier: str  # its code (bot/integrations/carrier.py); the views name it
    events: tuple[TrackingRow, ...]
    new_events: int
    checked_at: datetime | None
    carrier_failed: bool = False  # the carrier did not answer: what we knew is shown


def card_snapshot(order: OrderRow) -> CardSnapshot | None:
    if not order.paid_card_last4:
        return None
    return CardSnapshot(order.paid_card_id, order.paid_card_brand or "", order.paid_card_last4,
                        order.paid_card_exp_month, order.paid_card_exp_year)


def search_words(text: str) -> list[str]:
    """What a person typed → the words `search_text` must all contain. An order number may be typed
    with spaces or a leading #/№."""
    raw = " ".join((text or "").split()).casefold().lstrip("#№ ")
    if raw.replace(" ", "").isdigit():
        raw = raw.replace(" ", "")
    if len(raw) < 2:
        raise InvalidInput(N_("Type at least 2 characters: an order number or a word from a product title."))
    if len(raw) > 64:
        raise InvalidInput(N_("That is too long to search for: type an order number or one word from a product title."))
    words = list(dict.fromkeys(raw.split()))[:5]
    return [w for w in words if len(w) > 1] or words


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def clamp_page(page: int, total: int) -> int:
    return min(max(page, 0), page_count(total) - 1)
