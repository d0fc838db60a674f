"""Paying an unpaid order from its card: choose a saved card (the default first; expired cards are
not offered) or a new one → confirm the amount → pay. A new card goes through the add-card flow
(bot/handlers/cards/), which pays at its end, saving the card or using it just this once."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers import cards as card_flow
from bot.handlers.common import send_or_edit
from bot.handlers.orders import order_refused
from bot.keyboards.orders import OrderAction, OrderCb
from bot.keyboards.pay import PayAction, PayCb
from bot.services.cards import CardLimitReached, CardService, PaymentDeclined
from bot.services.errors import DomainError, NotFound
from bot.services.orders import OrderService
from bot.services.pay import PaymentBeingChecked, PayService
from bot.views import orders as order_views
from bot.views import pay as views
from bot.views.common import Fmt

router = Router(name="pay")


def _on(action: PayAction):
    return PayCb.filter(F.action == action)


def _order_cb(cb: PayCb) -> OrderCb:
    return OrderCb(action=OrderAction.open, id=cb.id, tab=cb.tab, page=cb.page)


async def _refused(query: CallbackQuery, exc: DomainError, cb: PayCb, orders: OrderService, user: UserRow,
                   f: Fmt, state: FSMContext) -> None:
    """The order can't be paid (paid already, cancelled, not theirs): the order card or the list."""
    await order_refused(query, exc, _order_cb(cb), orders, user, f, state)


async def _choose(query: CallbackQuery, cb: PayCb, pay: PayService, orders: OrderService, user: UserRow,
                  f: Fmt, state: FSMContext, note: str | None = None) -> None:
    try:
        options = await pay.options(user.id, cb.id)
    except DomainError as exc:
        await _refused(query, exc, cb, orders, user, f, state)
        return
    await send_or_edit(query, views.choose(options, f, cb.tab, cb.page, note=note))
    await query.answer(note, show_alert=bool(note))


@router.callback_query(_on(PayAction.choose))
async def choose(query: CallbackQuery, callback_data: PayCb, pay: PayService, orders: OrderService,
                 user: UserRow, f: Fmt, state: FSMContext) -> None:
    await _choose(query, callback_data, pay, orders, user, f, state)


@router.callback_query(_on(PayAction.card))
async def card_chosen(query: CallbackQuery, callback_data: PayCb, pay: PayService, orders: OrderService,
                      user: UserRow, f: Fmt, state: FSMContext) -> None:
    try:
        order, card = await pay.check(user.id, callback_data.id, callback_data.card)
    except DomainError as exc:
        await _card_refused(query, exc, callback_data, pay, orders, user, f, state)
        return
    await send_or_edit(query, views.confirm(order, card, f, callback_data.tab, callback_data.page))
    await query.answer()


async def _card_refused(query: CallbackQuery, exc: DomainError, cb: PayCb, pay: PayService,
                        orders: OrderService, user: UserRow, f: Fmt, state: FSMContext) -> None:
    """A card that can't pay (gone, not theirs, expired): the choice again, with why. An order that
    can't be paid: the order card."""
    try:
        await pay.options(user.id, cb.id)
    except DomainError as order_exc:
        await _refused(query, order_exc, cb, orders, user, f, state)
        return
    await _choose(query, cb, pay, orders, user, f, state, note=f.error(exc))


@router.callback_query(_on(PayAction.confirm))
async def confirm(query: CallbackQuery, callback_data: PayCb, pay: PayService, orders: OrderService,
                  user: UserRow, f: Fmt, state: FSMContext) -> None:
    cb = callback_data
    try:
        paid = await pay.pay(user.id, cb.id, cb.card)
    except PaymentDeclined as exc:
        order = await orders.card(user.id, cb.id)
        await send_or_edit(query, views.declined(cb.id, order.order.number, f.error(exc), f, cb.tab, cb.page))
        await query.answer()
        return
    except PaymentBeingChecked as exc:  # the card may be charged: the order, and that we are checking
        card = await orders.card(user.id, cb.id)
        await send_or_edit(query, views.with_note("⏳ " + f.error(exc), order_views.order_card(card, f, _order_cb(cb))))
        await query.answer()
        return
    except NotFound as exc:
        if await _order_is_theirs(orders, user, cb.id):  # the card is gone
            await _card_refused(query, exc, cb, pay, orders, user, f, state)
        else:
            await _refused(query, exc, cb, orders, user, f, state)
        return
    except DomainError as exc:  # already paid (a double press), cancelled meanwhile, expired card…
        await _card_refused(query, exc, cb, pay, orders, user, f, state)
        return
    card = await orders.card(user.id, cb.id)
    note = views.paid_note(paid, f)
    await send_or_edit(query, views.with_note(note, order_views.order_card(card, f, _order_cb(cb))))
    await query.answer(f._("Paid"))


async def _order_is_theirs(orders: OrderService, user: UserRow, order_id: int) -> bool:
    try:
        await orders.card(user.id, order_id)
    except NotFound:
        return False
    return True


@router.callback_query(_on(PayAction.new))
async def new_card(query: CallbackQuery, callback_data: PayCb, pay: PayService, cards: CardService,
                   orders: OrderService, user: UserRow, f: Fmt, state: FSMContext) -> None:
    try:
        options = await pay.options(user.id, callback_data.id)
    except DomainError as exc:
        await _refused(query, exc, callback_data, orders, user, f, state)
        return
    full = not await cards.has_room(user.id)  # it can still pay once: such a card takes no place in the wallet
    await send_or_edit(query, views.new_card(options.order, f, callback_data.tab, callback_data.page,
                                             wallet_full=full))
    await query.answer()


@router.callback_query(_on(PayAction.new_go))
async def new_card_go(query: CallbackQuery, callback_data: PayCb, pay: PayService, cards: CardService,
                      orders: OrderService, user: UserRow, f: Fmt, state: FSMContext, db: Database,
                      raw_state: str | None) -> None:
    cb = callback_data
    try:
        options = await pay.options(user.id, cb.id)
        if cb.save:
            await cards.ensure_room(user.id)
    except CardLimitReached as exc:
        await _choose(query, cb, pay, orders, user, f, state, note=f.error(exc))
        return
    except DomainError as exc:
        await _refused(query, exc, cb, orders, user, f, state)
        return
    order = options.order
    screen = await card_flow.start_for_order(
        state, db, user, cards, f, raw_state, order_id=order.id, number=order.number,
        amount_minor=order.total_minor, currency=order.currency, save=cb.save, tab=cb.tab.value, page=cb.page,
    )
    await send_or_edit(query, screen)
    await query.answer()
