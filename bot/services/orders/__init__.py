"""Orders: the state machine and what a buyer, a shop and the clock may do with an order.

    awaiting_payment → awaiting_shipment → shipped → completed
    awaiting_payment, awaiting_shipment → cancelled        (a paid order is refunded)
    shipped → in_dispute;  completed → in_dispute          (within the dispute window)
    in_dispute → closed                                     (refunded in full or part, or rejected)

Every transition is a conditional update (`… WHERE status = :expected`) inside one unit of work with
its history row and its push, so a double tap or a race with the sweeper changes state once; the
loser is told what happened ("already cancelled") rather than shown an error.

Nothing here imports aiogram or formats text: errors carry msgids, results are plain data.

    states.py   statuses, tabs, allowed transitions and why not, errors, policy, `transition`
    data.py     what the service returns (pages, the order card, previews, tracking, snapshots)
    base.py     what every side shares (wiring, lookups through the buyer, cancelling, the carrier)
    buyer.py    the buyer's actions            shop.py     the shop's side
    sweeper.py  due transitions (the sweeper)  service.py  OrderService, made of those sides
"""

from __future__ import annotations

from bot.services.orders.base import (
    LevelOf,
    OrderBase,
)
from bot.services.orders.buyer import (
    REFRESH_AT_MOST_EVERY,
    BuyerActions,
)
from bot.services.orders.data import (
    PAGE_SIZE,
    AddressSnapshot,
    CancelPreview,
    DisputeBrief,
    NewItem,
    OrderCard,
    OrderPage,
    Tracking,
    card_snapshot,
    clamp_page,
    page_count,
    search_words,
)
from bot.services.orders.service import (
    OrderService,
)
from bot.services.orders.shop import (
    ShopSide,
)
from bot.services.orders.states import (
    BUYER_CANCEL_REASONS,
    DELETABLE,
    PROTECTION_KIND,
    PROTECTION_NOTICE,
    STAMP,
    STATUS_KIND,
    TAB_STATUSES,
    TRACKING_KIND,
    TRANSITIONS,
    Actor,
    AlreadyDone,
    CancelReason,
    CannotDelete,
    DisputeWindowClosed,
    ForbiddenTransition,
    NoTracking,
    OrderInBin,
    OrderNotFound,
    OrderPolicy,
    OrderTab,
    Status,
    can_transition,
    check_can_delete,
    check_can_dispute,
    check_transition,
    dispute_deadline,
    protection_prefix,
    status_payload,
    transition,
)
from bot.services.orders.sweeper import (
    SweeperJobs,
)

__all__ = [
    "BUYER_CANCEL_REASONS",
    "DELETABLE",
    "PAGE_SIZE",
    "PROTECTION_KIND",
    "PROTECTION_NOTICE",
    "REFRESH_AT_MOST_EVERY",
    "STAMP",
    "STATUS_KIND",
    "TAB_STATUSES",
    "TRACKING_KIND",
    "TRANSITIONS",
    "Actor",
    "AddressSnapshot",
    "AlreadyDone",
    "BuyerActions",
    "CancelPreview",
    "CancelReason",
    "CannotDelete",
    "DisputeBrief",
    "DisputeWindowClosed",
    "ForbiddenTransition",
    "LevelOf",
    "NewItem",
    "NoTracking",
    "OrderBase",
    "OrderCard",
    "OrderInBin",
    "OrderNotFound",
    "OrderPage",
    "OrderPolicy",
    "OrderService",
    "OrderTab",
    "ShopSide",
    "Status",
    "SweeperJobs",
    "Tracking",
    "can_transition",
    "card_snapshot",
    "check_can_delete",
    "check_can_dispute",
    "check_transition",
    "clamp_page",
    "dispute_deadline",
    "page_count",
    "protection_prefix",
    "search_words",
    "status_payload",
    "transition",
]
