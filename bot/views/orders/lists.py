"""The order lists: the tabs, search and its results, Deleted orders."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.orders import SummaryRow
from bot.keyboards.disputes import DisputeAction, DisputeCb
from bot.keyboards.orders import ORDER_TABS, OrderAction, OrderCb, Tab, list_cb, order_cb
from bot.services.orders import OrderPage
from bot.views.common import Fmt, Screen, button, chunk, flow_row, markup, nav_row, pager_row
from bot.views.orders.texts import (
    EMPTY_TAB,
    TAB_LABELS,
    list_heading,
    shorten,
    status_label,
    tab_from_service,
    tab_to_service,
)

__all__ = [
    "deleted_list",
    "order_list",
    "search_expired",
    "search_prompt",
    "search_results",
]


def _summary_lines(f: Fmt, index: int, row: SummaryRow) -> list[str]:
    first = hd.quote(shorten(row.first_title))
    more = row.item_lines - 1
    if more > 0:
        first += " " + f.ngettext("+{n} more item", "+{n} more items", more).format(n=more)
    return [
        list_heading(f, index, row.number, row.created_at),
        first,
        f"<b>{f.money(row.total_minor, row.currency)}</b> · {status_label(f, row.status)}",
    ]


def _page_lines(f: Fmt, page: OrderPage) -> list[str]:
    """A page's orders, numbered from the page's offset, a blank line after each."""
    return [line for i, row in enumerate(page.rows, page.offset + 1) for line in (*_summary_lines(f, i, row), "")]


def _pager(page: OrderPage, back: Tab) -> list:
    return pager_row(page.page, page.pages, lambda n: list_cb(back, n), OrderCb(action=OrderAction.noop))


def _open_buttons(page: OrderPage, back: OrderCb) -> list:
    return [
        button(str(page.offset + i), order_cb(OrderAction.open, row.id, back))
        for i, row in enumerate(page.rows, 1)
    ]


def order_list(page: OrderPage, f: Fmt) -> Screen:
    """A tab of My orders: tabs with counts, one page of 5, the pager, search and the other lists."""
    assert page.tab is not None
    tab = tab_from_service(page.tab)
    head = f._("<b>My orders</b> · {tab}").format(tab=f._(TAB_LABELS[tab]))
    lines = [head, ""]
    if page.rows:
        lines += _page_lines(f, page)
        lines.append(f._("Tap a number to open the order."))
    else:
        lines.append(f._(EMPTY_TAB[tab]))
    tabs = []
    for t in ORDER_TABS:
        count = page.counts.get(tab_to_service(t), 0)
        if t == Tab.in_dispute and not count and t != tab:  # most buyers have none: the usual six tabs
            continue
        label = f"{f._(TAB_LABELS[t])} · {count}"
        tabs.append(button(("• " + label) if t == tab else label, list_cb(t)))
    back = list_cb(tab, page.page)
    rows = [*chunk(tabs, 3), _open_buttons(page, back), _pager(page, tab)]
    extra = [button(f._("🔍 Search"), OrderCb(action=OrderAction.search, tab=tab, page=page.page))]
    extra.append(button(f._("↩️ Disputes"), DisputeCb(action=DisputeAction.list)))
    if page.deleted_count:
        extra.append(button(f._("🗑 Deleted · {n}").format(n=page.deleted_count), list_cb(Tab.deleted)))
    rows += [extra, nav_row(f)]
    return Screen("\n".join(lines).rstrip(), markup(rows))


def search_results(page: OrderPage, f: Fmt, origin: OrderCb | None = None) -> Screen:
    """`origin`: the list the search was started from, where Back leads ("All" when not known)."""
    lines = [f._("<b>Search</b> · “{query}”").format(query=hd.quote(shorten(page.query, 64))), ""]
    if page.rows:
        lines.append(f.ngettext("Found {n} order.", "Found {n} orders.", page.total).format(n=page.total))
        lines.append("")
        lines += _page_lines(f, page)
    else:
        lines.append(f._("Nothing found. Try an order number or another word from the product title."))
    back = list_cb(Tab.search, page.page)
    rows = [
        _open_buttons(page, back), _pager(page, Tab.search),
        [button(f._("🔍 New search"), OrderCb(action=OrderAction.search, tab=Tab.search)),
         button(f._("✖️ Clear search"), OrderCb(action=OrderAction.clear_search))],
        nav_row(f, back=origin or list_cb()),
    ]
    return Screen("\n".join(lines).rstrip(), markup(rows))


def search_prompt(f: Fmt, error: str | None = None) -> Screen:
    text = f._("Type an order number (for example <code>261125000042</code>) or a word from a product "
               "title (for example <i>earbuds</i>).")
    if error:
        text = f"{error}\n\n{text}"
    return Screen(text, markup([flow_row(f)]))


def search_expired(f: Fmt) -> str:
    return f._("That search is over; here are all your orders.")


def deleted_list(page: OrderPage, f: Fmt) -> Screen:
    lines = [f._("<b>Deleted orders</b>"), ""]
    if page.rows:
        lines.append(f._("Deleted orders are out of your lists. Open one to restore it or delete it for good."))
        lines.append("")
        lines += _page_lines(f, page)
    else:
        lines.append(f._("Nothing here. Orders you delete from My orders wait here until you restore "
                         "them or delete them for good."))
    back = list_cb(Tab.deleted, page.page)
    rows = [_open_buttons(page, back), _pager(page, Tab.deleted),
            [button(f._("📦 My orders"), list_cb())], nav_row(f)]
    return Screen("\n".join(lines).rstrip(), markup(rows))
