"""Orders: one callback for the lists, the order card and its actions. Ids are ints, the rest enums;
the tab and page ride along so Back returns to the same list page."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.common import Id, Page


class Tab(str, Enum):
    all = "a"
    unpaid = "u"
    to_ship = "s"
    shipped = "h"
    in_dispute = "p"  # listed when the buyer has an order in dispute (else every order is in a tab but these)
    completed = "c"
    cancelled = "x"
    deleted = "d"  # Deleted orders
    search = "q"  # search results (the term is in FSM data)


ORDER_TABS: tuple[Tab, ...] = (Tab.all, Tab.unpaid, Tab.to_ship, Tab.shipped, Tab.in_dispute, Tab.completed,
                                Tab.cancelled)


class OrderAction(str, Enum):
    list = "l"
    noop = "n"  # the "2/7" button
    open = "o"
    search = "s"
    clear_search = "cs"
    cancel = "c"  # choose a reason
    cancel_reason = "cr"  # a reason chosen: confirm
    cancel_ok = "cy"
    confirm = "r"  # confirm receipt: are you sure?
    confirm_ok = "ry"
    track = "t"
    refresh = "tr"
    delete = "d"
    delete_ok = "dy"
    restore = "rs"
    purge = "p"
    purge_ok = "py"


class OrderCb(CallbackData, prefix="o"):
    action: OrderAction
    id: Id = 0
    tab: Tab = Tab.all
    page: Page = 0
    reason: str = ""


def list_cb(tab: Tab = Tab.all, page: int = 0) -> OrderCb:
    return OrderCb(action=OrderAction.list, tab=tab, page=page)


def order_cb(action: OrderAction, order_id: int, back: OrderCb, reason: str = "") -> OrderCb:
    """An action on an order that remembers the list page it was opened from."""
    return OrderCb(action=action, id=order_id, tab=back.tab, page=back.page, reason=reason)


class OrderItemsCb(CallbackData, prefix="oi"):
    """A page of a long order's items, on its card (`at`); the list page it was opened from in
    `tab` / `page`, as OrderCb keeps it."""

    id: Id
    at: Page = 0
    tab: Tab = Tab.all
    page: Page = 0
