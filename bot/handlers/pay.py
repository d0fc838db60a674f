"""Paying an unpaid order from its card: choose a saved card (the default first; expired cards are
not offered) or a new one → confirm the amount → pay. A new card goes through the add-card flow
(bot/handlers/cards/), which pays at its end, saving the card or using it just this once."""

from __future__ import annotations

from aiogram import F
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers import cards as card_flow
from bot.handlers.answers import refusals
from bot.handlers.common import show
from bot.handlers.orders import order_refused
from bot.handlers.routing import Handlers
from bot.keyboards.orders import OrderAction, OrderCb
from bot.keyboards.pay import PayAction, PayCb
from bot.services.cards import CardService, PaymentDeclined
from bot.services.errors import DomainError
from bot.services.orders import OrderService
from bot.services.pay import PaymentBeingChecked, PayService
from bot.views import orders as order_views
from bot.views import pay as views
from bot.views.common import Fmt

router = Handlers("pay")


def _on(action: PayAction):
    return PayCb.filter(F.action == action)


def _order_cb(cb: PayCb) -> OrderCb:
    return OrderCb(action=OrderAction.open, id=cb.id, tab=cb.tab, page=cb.page)


async def pay_refused(query: CallbackQuery, error: DomainError, callback_data: CallbackData | None, pay: PayService,
                      orders: OrderService, user: UserRow, f: Fmt, state: FSMContext) -> None:
    """A payment step refused. An order that can't be paid (paid already, cancelled, not theirs):
    the order card or the list. A card that can't pay (gone, not theirs, expired, the wallet full
    for a new one): the choice again, with why."""
    if not isinstance(callback_data, PayCb):
        raise error  # not a button of a payment: the error handler's business, as before
    try:
        await pay.options(user.id, callback_data.id)
    except DomainError as order_error:
        await order_refused(query, order_error, _order_cb(callback_data), orders, user, f, state)
        return
    await _choose(query, callback_data, pay, user, f, note=f.error(error))


refusals(router.callback_query, pay_refused)


async def _choose(query: CallbackQuery, cb: PayCb, pay: PayService, user: UserRow, f: Fmt,
                  note: str | None = None) -> None:
    options = await pay.options(user.id, cb.id)
    await show(query, views.choose(options, f, cb.tab, cb.page, note=note), note, alert=bool(note))


@router.callback_query(_on(PayAction.choose))
async def choose(query: CallbackQuery, callback_data: PayCb, pay: PayService, user: UserRow, f: Fmt) -> None:
    await _choose(query, callback_data, pay, user, f)


@router.callback_query(_on(PayAction.card))
async def card_chosen(query: CallbackQuery, callback_data: PayCb, pay: PayService, user: UserRow, f: Fmt) -> None:
    order, card = await pay.check(user.id, callback_data.id, callback_data.card)
    await show(query, views.confirm(order, card, f, callback_data.tab, callback_data.page))


@router.callback_query(_on(PayAction.confirm))
async def confirm(query: CallbackQuery, callback_data: PayCb, pay: PayService, orders: OrderService,
                  user: UserRow, f: Fmt) -> None:
    cb = callback_data
    try:
        paid = await pay.pay(user.id, cb.id, cb.card)
    except PaymentDeclined as exc:  # not a refusal: the bank's answer, with what to do next
        order = await orders.card(user.id, cb.id)
        await show(query, views.declined(cb.id, order.order.number, f.error(exc), f, cb.tab, cb.page))
        return
    except PaymentBeingChecked as exc:  # the card may be charged: the order, and that we are checking
        card = await orders.card(user.id, cb.id)
        await show(query, views.with_note("⏳ " + f.error(exc), order_views.order_card(card, f, _order_cb(cb))))
        return
    # refused (already paid — a double press —, cancelled meanwhile, the card gone or expired): pay_refused
    card = await orders.card(user.id, cb.id)
    note = views.paid_note(paid, f)
    await show(query, views.with_note(note, order_views.order_card(card, f, _order_cb(cb))), f._("Paid"))


@router.callback_query(_on(PayAction.new))
async def new_card(query: CallbackQuery, callback_data: PayCb, pay: PayService, user: UserRow, f: Fmt) -> None:
    options = await pay.options(user.id, callback_data.id)
    await show(query, views.new_card(options.order, f, callback_data.tab, callback_data.page,
                                     wallet_full=options.wallet_full))


@router.callback_query(_on(PayAction.new_go))
async def new_card_go(query: CallbackQuery, callback_data: PayCb, pay: PayService, cards: CardService,
                      user: UserRow, f: Fmt, state: FSMContext, db: Database, raw_state: str | None) -> None:
    cb = callback_data
    options = await pay.options(user.id, cb.id)
    if cb.save:
        await cards.ensure_room(user.id)  # a full wallet: pay_refused offers the choice again, with why
    order = options.order
    screen = await card_flow.start_for_order(
        state, db, user, cards, f, raw_state, order_id=order.id, number=order.number,
        amount_minor=order.card_minor, currency=order.currency, save=cb.save, tab=cb.tab.value, page=cb.page,
    )
    await show(query, screen)
