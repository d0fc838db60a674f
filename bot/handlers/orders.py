"""My orders: tabs, search, the order card, cancel, confirm receipt, tracking, deleted orders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from aiogram import F
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery

from bot import menu as registry
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import refusals
from bot.handlers.common import show
from bot.handlers.flow import Done, Draft, Retry, question
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb
from bot.keyboards.orders import OrderAction, OrderCb, OrderItemsCb, Tab, list_cb, order_cb
from bot.services.errors import N_, DomainError, NotFound
from bot.services.orders import OrderNotFound, OrderService, check_can_delete
from bot.views import orders as views
from bot.views.common import Fmt, Screen

router = Handlers("orders", N_("📦 My orders"), order=10, wide=True)
registry.register(registry.MenuEntry("deleted_orders", N_("🗑 Deleted orders"), order=25))

SEARCH_KEY = "orders_search"  # the search term, in FSM data (never in a callback)
SEARCH_FROM = "orders_search_from"  # [tab, page] of the list the search was started from


async def search_origin(state: FSMContext) -> OrderCb:
    """The list a search was started from: where its Back, Clear and the prompt's Back lead."""
    return _origin(await state.get_data())


def _origin(data: Mapping[str, Any]) -> OrderCb:
    origin = data.get(SEARCH_FROM)
    if isinstance(origin, list) and len(origin) == 2:
        try:
            tab, page = Tab(origin[0]), int(origin[1])
        except (ValueError, TypeError):
            return list_cb()
        if tab not in (Tab.search, Tab.deleted):
            return list_cb(tab, max(page, 0))
    return list_cb()


class OrderSearch(StatesGroup):
    query = State()


def _on(action: OrderAction):  # a filter for one action of OrderCb
    return OrderCb.filter(F.action == action)


async def list_screen(orders: OrderService, user: UserRow, f: Fmt, tab: Tab, page: int,
                      state: FSMContext) -> tuple[Screen, str | None]:
    """The list a Back button or a pager leads to; and a note when it is not the one asked for."""
    if tab == Tab.deleted:
        return views.deleted_list(await orders.deleted(user.id, page), f), None
    if tab == Tab.search:
        term = (await state.get_data()).get(SEARCH_KEY)
        if isinstance(term, str):
            try:
                return views.search_results(await orders.search(user.id, term, page), f,
                                            await search_origin(state)), None
            except DomainError:
                pass
        return views.order_list(await orders.page(user.id, views.tab_to_service(Tab.all)), f), views.search_expired(f)
    return views.order_list(await orders.page(user.id, views.tab_to_service(tab), page), f), None


async def show_list(query: CallbackQuery, orders: OrderService, user: UserRow, f: Fmt, state: FSMContext,
                    tab: Tab = Tab.all, page: int = 0, note: str | None = None, alert: bool = False,
                    db: Database | None = None) -> None:
    if db is not None and await state.get_state() == OrderSearch.query.state:
        async with db.write():  # went back to a list instead of typing: the search step is over
            await state.set_state(None)
    screen, fallback_note = await list_screen(orders, user, f, tab, page, state)
    await show(query, screen, note or fallback_note, alert=alert)


async def order_refused(query: CallbackQuery, error: DomainError, callback_data: CallbackData | None, orders: OrderService,
                        user: UserRow, f: Fmt, state: FSMContext) -> None:
    """A refused button: a forged or stale id gets the list; anything else the card as it is now,
    with the reason in an alert. Exactly one answer to the callback either way."""
    if isinstance(callback_data, OrderItemsCb):
        callback_data = order_cb(OrderAction.open, callback_data.id, list_cb(callback_data.tab, callback_data.page))
    if not isinstance(callback_data, OrderCb):
        raise error  # not a button of an order: the error handler's business, as before
    if not isinstance(error, NotFound):
        try:
            card = await orders.card(user.id, callback_data.id)
        except NotFound:
            pass
        else:
            await show(query, views.order_card(card, f, back_of(callback_data)), f.error(error), alert=True)
            return
        error = OrderNotFound()
    await show_list(query, orders, user, f, state, callback_data.tab if callback_data.tab != Tab.search else Tab.all,
                    0, note=f.error(error), alert=True)


refusals(router.callback_query, order_refused)


def back_of(callback_data: OrderCb) -> OrderCb:
    return list_cb(callback_data.tab, callback_data.page)


# -- lists ----------------------------------------------------------------------------------------------
@router.callback_query(MenuCb.filter(F.section == "orders"))
async def open_orders(query: CallbackQuery, orders: OrderService, user: UserRow, f: Fmt, state: FSMContext,
                      db: Database) -> None:
    await show_list(query, orders, user, f, state, db=db)


@router.callback_query(MenuCb.filter(F.section == "deleted_orders"))
async def open_deleted(query: CallbackQuery, orders: OrderService, user: UserRow, f: Fmt, state: FSMContext,
                       db: Database) -> None:
    await show_list(query, orders, user, f, state, Tab.deleted, db=db)


@router.callback_query(_on(OrderAction.list))
async def open_list(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow, f: Fmt,
                    state: FSMContext, db: Database) -> None:
    await show_list(query, orders, user, f, state, callback_data.tab, callback_data.page, db=db)


@router.callback_query(_on(OrderAction.noop))
async def noop(query: CallbackQuery) -> None:
    await query.answer()


# -- search -------------------------------------------------------------------------------------------
async def _back_from_search(query: CallbackQuery, draft: Draft, orders: OrderService, user: UserRow, f: Fmt,
                            state: FSMContext) -> None:
    """Back from the search question, or "Clear search": to the list the search was started from."""
    origin = _origin(draft)
    await show_list(query, orders, user, f, state, origin.tab, origin.page)


async def _searched(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database, orders: OrderService,
                    user: UserRow) -> NoReturn:
    if text.startswith("/"):  # an unknown command inside the step: the question again, the step kept
        raise Retry(None)
    page = await orders.search(user.id, text)  # refused (too short, …): the engine asks again with why
    async with db.write():  # keep the term for the pager; after "Nothing found" the next word searches again
        await state.set_state(OrderSearch.query if not page.rows else None)
        await state.update_data({SEARCH_KEY: text.strip()[:200]})
    raise Done(views.search_results(page, f, await search_origin(state)))


SEARCH = question(router, OrderSearch.query, views.search_prompt, N_("Please type the search as text."), _searched,
                  leave=_back_from_search)


@router.callback_query(_on(OrderAction.search))
async def ask_search(query: CallbackQuery, callback_data: OrderCb, state: FSMContext, db: Database, f: Fmt) -> None:
    from_list = callback_data.tab not in (Tab.search, Tab.deleted)  # not "New search": the list to go back to
    draft = {SEARCH_FROM: [callback_data.tab.value, callback_data.page]} if from_list else {}
    await show(query, await SEARCH.start(state, db, draft, f))


@router.callback_query(_on(OrderAction.clear_search))
async def clear_search(query: CallbackQuery, state: FSMContext, db: Database, orders: OrderService,
                       user: UserRow, f: Fmt) -> None:
    draft = await state.get_data()
    async with db.write():
        await state.clear()
    await _back_from_search(query, draft, orders, user, f, state)


# -- the card -------------------------------------------------------------------------------------------
@router.callback_query(_on(OrderAction.open))
async def open_order(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow, f: Fmt) -> None:
    card = await orders.card(user.id, callback_data.id)
    await show(query, views.order_card(card, f, back_of(callback_data)))


@router.callback_query(OrderItemsCb.filter())
async def items_page(query: CallbackQuery, callback_data: OrderItemsCb, orders: OrderService, user: UserRow,
                     f: Fmt) -> None:
    """A long order's items, a page at a time, on its card."""
    back = list_cb(callback_data.tab, callback_data.page)
    card = await orders.card(user.id, callback_data.id)
    await show(query, views.order_card(card, f, back, items_page=callback_data.at))


# -- cancel ---------------------------------------------------------------------------------------------
@router.callback_query(_on(OrderAction.cancel))
async def cancel_reasons(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                         f: Fmt) -> None:
    await orders.cancel_preview(user.id, callback_data.id)  # refuses early when it can't be done
    card = await orders.card(user.id, callback_data.id)
    await show(query, views.cancel_reasons(card, f, back_of(callback_data)))


@router.callback_query(_on(OrderAction.cancel_reason))
async def cancel_confirm(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                         f: Fmt) -> None:
    preview = await orders.cancel_preview(user.id, callback_data.id)
    await show(query, views.cancel_confirm(preview, callback_data.reason, f, back_of(callback_data)))


@router.callback_query(_on(OrderAction.cancel_ok))
async def cancel_order(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                       f: Fmt) -> None:
    card = await orders.cancel(user.id, callback_data.id, callback_data.reason)
    await show(query, views.order_card(card, f, back_of(callback_data)), views.cancelled_note(f, card), alert=bool(card.refunds))


# -- confirm receipt -----------------------------------------------------------------------------------
@router.callback_query(_on(OrderAction.confirm))
async def confirm_prompt(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                         f: Fmt) -> None:
    card = await orders.confirm_preview(user.id, callback_data.id)  # says why at once when it can't be done
    await show(query, views.confirm_receipt_prompt(card, f, back_of(callback_data)))


@router.callback_query(_on(OrderAction.confirm_ok))
async def confirm_receipt(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                          f: Fmt) -> None:
    card = await orders.confirm_receipt(user.id, callback_data.id)
    await show(query, views.order_card(card, f, back_of(callback_data)), f._("Thank you! The order is completed."))


# -- tracking -------------------------------------------------------------------------------------------
@router.callback_query(_on(OrderAction.track))
async def track(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow, f: Fmt) -> None:
    tracking = await orders.tracking(user.id, callback_data.id)
    await show(query, views.tracking(tracking, f, back_of(callback_data)))


@router.callback_query(_on(OrderAction.refresh))
async def refresh(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow, f: Fmt) -> None:
    tracking = await orders.tracking(user.id, callback_data.id, refresh=True)
    await show(query, views.tracking(tracking, f, back_of(callback_data)), views.refreshed_note(f, tracking.new_events))


# -- deleted orders -------------------------------------------------------------------------------------
@router.callback_query(_on(OrderAction.delete))
async def delete_prompt(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                        f: Fmt) -> None:
    card = await orders.card(user.id, callback_data.id)
    check_can_delete(card.order)  # say why right away when it can't be deleted
    await show(query, views.delete_confirm(card, f, back_of(callback_data)))


@router.callback_query(_on(OrderAction.delete_ok))
async def delete_order(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                       f: Fmt, state: FSMContext) -> None:
    await orders.delete(user.id, callback_data.id)
    back = callback_data.tab if callback_data.tab not in (Tab.deleted,) else Tab.all
    await show_list(query, orders, user, f, state, back, callback_data.page,
                    note=f._("The order is in Deleted orders now."))


@router.callback_query(_on(OrderAction.restore))
async def restore_order(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                        f: Fmt) -> None:
    await orders.restore(user.id, callback_data.id)
    card = await orders.card(user.id, callback_data.id)
    await show(query, views.order_card(card, f, list_cb(Tab.all)), f._("The order is back in My orders."))


@router.callback_query(_on(OrderAction.purge))
async def purge_prompt(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                       f: Fmt) -> None:
    card = await orders.purge_preview(user.id, callback_data.id)
    await show(query, views.purge_confirm(card, f, back_of(callback_data)))


@router.callback_query(_on(OrderAction.purge_ok))
async def purge_order(query: CallbackQuery, callback_data: OrderCb, orders: OrderService, user: UserRow,
                      f: Fmt, state: FSMContext) -> None:
    await orders.purge(user.id, callback_data.id)
    await show_list(query, orders, user, f, state, Tab.deleted, callback_data.page,
                    note=f._("The order is deleted for good."))
