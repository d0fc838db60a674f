"""The add-card flow's handlers: start (add, replace), the four steps, and every step's Back, Keep,
Edit and wrong input. The messages with the number and with the CVC are deleted at once; the number
goes straight into the gateway's card session and the CVC straight into its verification."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.cards.paying import new_card_screen, pay_choice
from bot.handlers.cards.steps import (
    EDIT,
    OFFER,
    ORDER,
    PAY_NUMBER,
    PAY_SAVE,
    SID,
    CardFlow,
    Flow,
    after,
    join,
    leave,
    read_flow,
    router,
    session_of,
    show_step,
    wallet_screen,
)
from bot.handlers.common import reply, send_or_edit, show
from bot.keyboards.cards import CardAction, CardCb, CardField
from bot.keyboards.common import NavAction, NavCb
from bot.middlewares.card_guard import asks_again, delete_message
from bot.services.cards import (
    CardAlreadySaved,
    CardLimitReached,
    CardService,
    CardSessionExpired,
    HolderNeedsLatin,
    PaymentDeclined,
    TooManyChecks,
    looks_like_card_number,
)
from bot.services.errors import DomainError, NotFound
from bot.services.orders import OrderService
from bot.services.pay import PayService, pays_once
from bot.views import cards as views
from bot.views import pay as pay_views
from bot.views.common import Fmt, Screen


@router.callback_query(CardCb.filter(F.action == CardAction.add))
async def start_add(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                    cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    await cards.ensure_room(user.id)  # a full wallet: the section's answer (steps.refused)
    await leave(flow)
    await show(query, await show_step(CardFlow.number, flow))


@router.callback_query(CardCb.filter(F.action == CardAction.replace))
async def start_replace(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                        user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    card = await cards.get(user.id, callback_data.id)
    usage = await cards.pending_orders(user.id, card.id)
    await leave(flow)
    intro = views.add_intro(f, replacing=views.card_label(card.brand, card.last4, f), usage=usage)
    await show(query, await show_step(CardFlow.number, flow, intro=intro, replace=card.id))


# 1. the number
@router.message(CardFlow.number, F.text)
async def number_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, pay: PayService, f: Fmt, raw_state: str | None) -> None:
    text = message.text or ""
    warning = None
    if any(ch.isdigit() for ch in text) and not await delete_message(message):
        warning = views.not_deleted_warning(f)
    flow = await read_flow(state, db, user, cards, f, raw_state)
    try:
        accepted = await cards.enter_number(user.id, flow.data.get(SID), text, replaces=flow.replaces)
    except CardAlreadySaved as exc:
        order_id, tab, page = flow.pays, flow.pay_tab, flow.pay_page
        await leave(flow)
        if order_id:  # paying: it is in the wallet already, so offer the wallet's cards
            await reply(message, await pay_choice(flow, pay, order_id, tab, page, note=join(warning, f.error(exc))))
            return
        await reply(message, await wallet_screen(flow, note=join(warning, f.error(exc))))
        return
    except DomainError as exc:
        await reply(message, await show_step(CardFlow.number, flow, error=f.error(exc), warning=warning))
        return
    await reply(message, await show_step(
        after(CardFlow.number, flow), flow, warning=warning,
        sid=accepted.session_id, brand=accepted.brand, last4=accepted.last4,
    ))


# 2. the expiry date
@router.message(CardFlow.expiry, F.text)
async def expiry_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    if await _card_number_in_wrong_step(message, flow):
        return
    if await session_of(flow) is None:  # gone: ask for the number first, not for the date again
        await reply(message, await show_step(CardFlow.expiry, flow))
        return
    try:
        await cards.enter_expiry(flow.data.get(SID), message.text or "")
    except DomainError as exc:
        await reply(message, await show_step(CardFlow.expiry, flow, error=f.error(exc)))
        return
    await reply(message, await show_step(after(CardFlow.expiry, flow), flow))


# 3. the cardholder's name
@router.message(CardFlow.holder, F.text)
async def holder_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    if await _card_number_in_wrong_step(message, flow):
        return
    await reply(message, await _take_holder(message.text or "", flow))


@router.callback_query(StateFilter(CardFlow.holder), CardCb.filter(F.action == CardAction.offer))
async def holder_offer(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                       cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    offer = flow.data.get(OFFER)
    if not offer:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await show(query, await _take_holder(str(offer), flow))


async def _take_holder(text: str, flow: Flow) -> Screen:
    if await session_of(flow) is None:
        return await show_step(CardFlow.holder, flow)
    try:
        await flow.cards.enter_holder(flow.data.get(SID), text)
    except HolderNeedsLatin as exc:
        return await show_step(CardFlow.holder, flow, error=flow.f.error(exc), offer=exc.offer)
    except DomainError as exc:
        return await show_step(CardFlow.holder, flow, error=flow.f.error(exc), offer=None)
    return await show_step(after(CardFlow.holder, flow), flow)


# 4. the CVC: the gateway verifies the card with a $1 hold
@router.message(CardFlow.cvc, F.text)
async def cvc_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                   cards: CardService, pay: PayService, orders: OrderService, f: Fmt,
                   raw_state: str | None) -> None:
    warning = None if await delete_message(message) else views.not_deleted_warning(f)
    flow = await read_flow(state, db, user, cards, f, raw_state)
    replaces = flow.replaces
    order_id, tab, page = flow.pays, flow.pay_tab, flow.pay_page
    save = bool(flow.data.get(PAY_SAVE, True))
    try:
        verified = await cards.verify(user.id, flow.data.get(SID), message.text or "", replaces=replaces,
                                      for_wallet=not pays_once(order_id, save))
    except CardSessionExpired:
        await reply(message, await show_step(CardFlow.cvc, flow, warning=warning))
        return
    except PaymentDeclined as exc:
        if exc.may_retry and await session_of(flow) is not None:
            await reply(message, await show_step(CardFlow.cvc, flow, error=f.error(exc), warning=warning))
            return
        number = str(flow.data.get(PAY_NUMBER, ""))
        await leave(flow)
        if order_id:
            reason = f.error(exc) + "\n" + f._("The card was not saved.")
            screen = pay_views.declined(order_id, number, reason, f, tab, page)
        else:
            screen = views.declined(f.error(exc), f)
        await reply(message, Screen(join(warning, screen.text), screen.reply_markup))
        return
    except (CardLimitReached, CardAlreadySaved, TooManyChecks) as exc:
        await leave(flow)
        if order_id:
            await reply(message, await pay_choice(flow, pay, order_id, tab, page, note=join(warning, f.error(exc))))
            return
        await reply(message, await wallet_screen(flow, note=join(warning, f.error(exc))))
        return
    except DomainError as exc:  # a malformed code
        await reply(message, await show_step(CardFlow.cvc, flow, error=f.error(exc), warning=warning))
        return
    result = await pay.new_card(user.id, verified, order_id=order_id, save=save, replaces=replaces,
                                leave=state.clear)
    await reply(message, await new_card_screen(flow, pay, orders, result, warning))


# -- every step: what is not the expected input -----------------------------------------------
@asks_again(CardFlow.expiry, CardFlow.holder, CardFlow.cvc)
async def card_number_removed(message: Message, state: FSMContext, db: Database, user: UserRow,
                              cards: CardService, f: Fmt, raw_state: str | None, warning: str) -> None:
    """The guard removed a card number sent after the number step: the step asks again."""
    flow = await read_flow(state, db, user, cards, f, raw_state)
    await reply(message, await show_step(flow.step, flow, warning=warning))


async def _card_number_in_wrong_step(message: Message, flow: Flow) -> bool:
    """Something like a card number (a long run of digits, even one that fails the check the guard
    makes) sent where the date or the name is expected: delete it and ask again."""
    if not looks_like_card_number(message.text or ""):
        return False
    deleted = await delete_message(message)
    warning = views.removed_card_number_warning(flow.f) if deleted else views.not_deleted_warning(flow.f)
    await reply(message, await show_step(flow.step, flow, warning=warning))
    return True


@router.message(StateFilter(CardFlow))
async def not_text(message: Message, state: FSMContext, db: Database, user: UserRow,
                   cards: CardService, f: Fmt, raw_state: str | None) -> None:
    """A sticker, a photo, a voice message… in any step: explain and ask again. A picture (of the
    card, perhaps) or a caption with digits is deleted."""
    warning = None
    if message.photo or message.document or any(ch.isdigit() for ch in message.caption or ""):
        warning = views.removed_photo_warning(f) if await delete_message(message) else views.not_deleted_warning(f)
    flow = await read_flow(state, db, user, cards, f, raw_state)
    await reply(message, await show_step(flow.step, flow, error=views.expected(flow.step.state, f), warning=warning))


@router.callback_query(StateFilter(CardFlow), NavCb.filter(F.action == NavAction.back))
async def back(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
               cards: CardService, pay: PayService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    step = flow.step
    if flow.data.get(EDIT):  # editing one field from the summary: back to the summary
        await send_or_edit(query, await show_step(CardFlow.cvc, flow))
    elif step is CardFlow.number and flow.pays:  # back to choosing a card for the order
        order_id, tab, page = flow.pays, flow.pay_tab, flow.pay_page
        await leave(flow)
        await send_or_edit(query, await pay_choice(flow, pay, order_id, tab, page))
    elif step is CardFlow.number:  # back out of the flow, to where it started
        replaces = flow.replaces
        await leave(flow)
        screen = None
        if replaces:
            try:
                screen = views.card_screen(await cards.get(user.id, replaces), f)
            except NotFound:
                screen = None
        await send_or_edit(query, screen or await wallet_screen(flow))
    else:
        await send_or_edit(query, await show_step(ORDER[ORDER.index(step) - 1], flow, edit=None))
    await query.answer()


@router.callback_query(StateFilter(CardFlow), CardCb.filter(F.action == CardAction.keep))
async def keep(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
               cards: CardService, f: Fmt, raw_state: str | None) -> None:
    """Keep what the session already has for this step, and go on."""
    flow = await read_flow(state, db, user, cards, f, raw_state)
    session = await session_of(flow)
    has = session is not None and {
        CardFlow.number.state: session.has_number,
        CardFlow.expiry.state: session.has_expiry,
        CardFlow.holder.state: session.holder is not None,
    }.get(flow.step.state, False)
    await show(query, await show_step(after(flow.step, flow) if has else flow.step, flow))


@router.callback_query(StateFilter(CardFlow.cvc), CardCb.filter(F.action == CardAction.edit))
async def edit(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
               user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    step = {
        CardField.number: CardFlow.number, CardField.expiry: CardFlow.expiry, CardField.holder: CardFlow.holder,
    }.get(callback_data.field, CardFlow.cvc)
    await show(query, await show_step(step, flow, edit=True))

