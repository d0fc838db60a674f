"""Orders screens: the tabs, the order card and its confirmations, tracking, deleted orders.

Texts that other screens share (status names, where a refund goes) live here too, so the disputes
screens and, later, the pushes say the same thing the same way.

    texts.py     status and tab names, cancel reasons, tracking events, dispute states, refund texts
    lists.py     the tabs, search, Deleted orders     card.py      the order card and its buttons
    confirm.py   cancel, confirm receipt, delete       tracking.py  the tracking screen
    pushes.py    the section's pushes (registered on import)
"""

from __future__ import annotations

from bot.views.orders.card import (
    ITEM_DETAILS_SHOWN,
    ITEM_TITLE_SHOWN,
    ITEMS_PER_PAGE,
    REFUNDS_SHOWN,
    TRACKING_BUDGET,
    address_text,
    items_pages,
    order_card,
)
from bot.views.orders.confirm import (
    cancel_confirm,
    cancel_reasons,
    cancelled_note,
    confirm_receipt_prompt,
    delete_confirm,
    purge_confirm,
)
from bot.views.orders.lists import (
    deleted_list,
    order_list,
    search_expired,
    search_prompt,
    search_results,
)
from bot.views.orders.pushes import (
    protection_reminder,
    refund_push,
    status_push,
    tracking_push,
)
from bot.views.orders.texts import (
    CANCEL_REASONS,
    DISPUTE_STATES,
    EMPTY_TAB,
    STATUS_LABELS,
    TAB_LABELS,
    TITLE_MAX,
    TRACKING_EVENTS,
    dispute_state_label,
    not_found,
    number_label,
    refund_explanation,
    refund_line,
    refund_preview_text,
    refund_target,
    shorten,
    status_label,
    tab_from_service,
    tab_to_service,
)
from bot.views.orders.tracking import (
    event_label,
    refreshed_note,
    tracking,
)

__all__ = [
    "CANCEL_REASONS",
    "DISPUTE_STATES",
    "EMPTY_TAB",
    "ITEMS_PER_PAGE",
    "ITEM_DETAILS_SHOWN",
    "ITEM_TITLE_SHOWN",
    "REFUNDS_SHOWN",
    "STATUS_LABELS",
    "TAB_LABELS",
    "TITLE_MAX",
    "TRACKING_BUDGET",
    "TRACKING_EVENTS",
    "address_text",
    "cancel_confirm",
    "cancel_reasons",
    "cancelled_note",
    "confirm_receipt_prompt",
    "delete_confirm",
    "deleted_list",
    "dispute_state_label",
    "event_label",
    "items_pages",
    "not_found",
    "number_label",
    "order_card",
    "order_list",
    "protection_reminder",
    "purge_confirm",
    "refreshed_note",
    "refund_explanation",
    "refund_line",
    "refund_preview_text",
    "refund_push",
    "refund_target",
    "search_expired",
    "search_prompt",
    "search_results",
    "shorten",
    "status_label",
    "status_push",
    "tab_from_service",
    "tab_to_service",
    "tracking",
    "tracking_push",
]
