"""Bank cards: the wallet, a card (make default, replace, delete) and the add-card flow.

The flow (one StatesGroup, top to bottom): number → expiry → cardholder → CVC. The messages with
the number and with the CVC are deleted at once; the number goes straight into the gateway's card
session and the CVC straight into its verification. FSM data holds only the session id, the brand,
the last 4 digits, and the flow's own bookkeeping (the card being replaced, an "editing" flag, a
transliteration offered for the name). After a restart the flow resumes at its step; when the
gateway no longer knows the session, the user is told and asked for the number again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from aiogram import F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import menu as registry
from bot.db.engine import Database
from bot.db.fsm import FlowWatcher
from bot.db.users import UserRow
from bot.handlers.common import reply, send_or_edit
from bot.handlers.routing import Handlers
from bot.integrations.payments import CardSession
from bot.keyboards.cards import CardAction, CardCb, CardField
from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.keyboards.orders import OrderAction, OrderCb, Tab
from bot.middlewares.card_guard import asks_again, takes_card_numbers
from bot.services.cards import (
    AddRefused,
    AlreadyDefault,
    CardAlreadySaved,
    CardLimitReached,
    CardService,
    CardSessionExpired,
    HolderNeedsLatin,
    PaymentDeclined,
    TooManyChecks,
    looks_like_card_number,
)
from bot.services.errors import N_, DomainError, NotFound
from bot.services.orders import OrderService
from bot.services.pay import Paid, PaymentBeingChecked, PayService
from bot.views import cards as views
from bot.views import orders as order_views
from bot.views import pay as pay_views
from bot.views.common import Fmt, Screen

log = logging.getLogger(__name__)
router = Handlers("cards")
registry.register(registry.MenuEntry("cards", N_("💳 Bank cards"), order=60))


class CardFlow(StatesGroup):
    number = State()
    expiry = State()
    holder = State()
    cvc = State()


ORDER = (CardFlow.number, CardFlow.expiry, CardFlow.holder, CardFlow.cvc)
# a card number anywhere else is removed by the guard (bot/middlewares/card_guard.py); here it is
# the answer (also when the flow pays an order with a new card)
takes_card_numbers(CardFlow.number)
BY_NAME = {s.state: s for s in ORDER}
# FSM data: the gateway session id, brand and last 4 — never the number or the CVC
SID, BRAND, LAST4 = "sid", "brand", "last4"
REPLACE, EDIT, OFFER = "replace", "edit", "offer"
# when the flow runs to pay an order (bot/handlers/pay.py): the order, whether to keep the card,
# what to show on each step (number, amount, currency) and the list page to go back to
PAY, PAY_SAVE, PAY_NUMBER, PAY_AMOUNT, PAY_CURRENCY, PAY_TAB, PAY_PAGE = (
    "pay", "pay_save", "pay_no", "pay_amt", "pay_cur", "pay_tab", "pay_page")
PAY_KEYS = (PAY, PAY_SAVE, PAY_NUMBER, PAY_AMOUNT, PAY_CURRENCY, PAY_TAB, PAY_PAGE)
KEPT_ON_RESTART = (REPLACE, *PAY_KEYS)  # what survives the gateway forgetting the session


# -- helpers ----------------------------------------------------------------------------------
@dataclass
class Flow:
    """What a handler of this section works with: the FSM state and data, read once per update."""

    state: FSMContext
    db: Database
    user: UserRow
    cards: CardService
    f: Fmt
    raw_state: str | None
    data: dict[str, Any]

    @property
    def step(self) -> State:
        return BY_NAME.get(self.raw_state or "", CardFlow.number)

    @property
    def replaces(self) -> int | None:
        return int(self.data[REPLACE]) if self.data.get(REPLACE) else None

    @property
    def pays(self) -> int | None:
        """The order this new card pays for, when the flow was started from Pay."""
        return int(self.data[PAY]) if self.data.get(PAY) else None

    @property
    def pay_tab(self) -> Tab:
        try:
            return Tab(str(self.data.get(PAY_TAB, Tab.all.value)))
        except ValueError:
            return Tab.all

    @property
    def pay_page(self) -> int:
        page = self.data.get(PAY_PAGE, 0)
        return page if isinstance(page, int) else 0


async def _flow(state: FSMContext, db: Database, user: UserRow, cards: CardService, f: Fmt,
                raw_state: str | None) -> Flow:
    data = await state.get_data() if raw_state is not None else {}
    return Flow(state, db, user, cards, f, raw_state, data)


async def _delete(message: Message) -> bool:
    """Delete the user's message at once. False when Telegram refused (then we ask them)."""
    try:
        await message.delete()
    except TelegramAPIError as exc:
        log.info("could not delete a message with card details (%s)", type(exc).__name__)
        return False
    return True


async def _session(flow: Flow) -> CardSession | None:
    try:
        return await flow.cards.card_session(flow.data.get(SID))
    except CardSessionExpired:
        return None


async def _replacing(flow: Flow) -> str | None:
    if flow.replaces is None:
        return None
    try:
        card = await flow.cards.get(flow.user.id, flow.replaces)
    except NotFound:
        return None
    return views.card_label(card.brand, card.last4, flow.f)


def _after(step: State, flow: Flow) -> State:
    """The step after `step`: back to the summary when a field was being edited."""
    if flow.data.get(EDIT):
        return CardFlow.cvc
    return ORDER[min(ORDER.index(step) + 1, len(ORDER) - 1)]


async def _step(step: State, flow: Flow, *, error: str | None = None, warning: str | None = None,
                intro: str | None = None, **changes: Any) -> Screen:
    """Put the flow at `step` (with `changes` to its data; None removes a key) and return that
    step's screen. A step after the number needs the gateway's session: when the gateway has
    forgotten it (a restart, or too long a pause), the flow goes back to the number and says why."""
    f = flow.f
    data = {k: v for k, v in {**flow.data, **changes}.items() if v is not None}
    session = await _session(Flow(flow.state, flow.db, flow.user, flow.cards, f, flow.raw_state, data))
    if session is None or not session.has_number:
        if step is not CardFlow.number:
            error = f.error(CardSessionExpired())
            step = CardFlow.number
        data = {k: v for k, v in data.items() if k in KEPT_ON_RESTART}
    elif step is CardFlow.cvc and not session.complete:
        step = CardFlow.expiry if not session.has_expiry else CardFlow.holder
    if step is CardFlow.cvc:
        data.pop(EDIT, None)
    if step is not CardFlow.holder:
        data.pop(OFFER, None)
    if flow.raw_state != step.state or flow.data != data:
        async with flow.db.write():  # one transaction; only what changed
            if flow.raw_state != step.state:
                await flow.state.set_state(step)
            if flow.data != data:
                await flow.state.set_data(data)
        flow.raw_state, flow.data = step.state, data
    screen = await _step_screen(step, flow, session, error=error, warning=warning, intro=intro)
    if data.get(PAY):
        paying = pay_views.paying_line(str(data.get(PAY_NUMBER, "")), int(data.get(PAY_AMOUNT, 0)),
                                       str(data.get(PAY_CURRENCY, "USD")), bool(data.get(PAY_SAVE)), f)
        screen = pay_views.with_note(paying, screen)
    return screen


async def _step_screen(step: State, flow: Flow, session: CardSession | None, *, error: str | None,
                       warning: str | None, intro: str | None) -> Screen:
    f, data = flow.f, flow.data
    replacing = await _replacing(flow)
    if step is CardFlow.number:
        keep = (session.brand or "", session.last4 or "") if session and session.has_number else None
        return views.number_prompt(f, error=error, warning=warning, replacing=replacing, intro=intro, keep=keep)
    assert session is not None and session.brand and session.last4
    if step is CardFlow.expiry:
        keep_expiry = (session.exp_month, session.exp_year) if session.has_expiry else None
        return views.expiry_prompt(f, session.brand, session.last4, error=error, warning=warning,
                                   replacing=replacing, keep=keep_expiry)  # type: ignore[arg-type]
    if step is CardFlow.holder:
        return views.holder_prompt(f, error=error, warning=warning, replacing=replacing,
                                   offer=data.get(OFFER), keep=session.holder)
    return views.cvc_prompt(f, session, error=error, warning=warning, replacing=replacing)


def ends_card_sessions(cards: CardService) -> FlowWatcher:
    """The FSM storage's watcher (wired in bot/app.py): whenever the add-card flow is left, by any
    way out — /cancel, /menu, /start, Menu, Cancel, Back, another flow begun from an older message —
    or its session id is replaced, the gateway's card session (with the number in it) is ended at
    once rather than at its expiry."""

    async def watcher(old_state: str | None, old_data: dict[str, Any], new_state: str | None,
                      new_data: dict[str, Any]) -> None:
        sid = old_data.get(SID) if old_state in BY_NAME else None
        if sid and (new_state not in BY_NAME or new_data.get(SID) != sid):
            await cards.cancel_session(str(sid))

    return watcher


async def _leave(flow: Flow) -> None:
    """Leave whatever flow is open (the gateway session goes with it: see ends_card_sessions)."""
    if flow.raw_state is not None or flow.data:
        async with flow.db.write():
            await flow.state.clear()
    flow.raw_state, flow.data = None, {}


async def _wallet(flow: Flow, note: str | None = None) -> Screen:
    return views.wallet(await flow.cards.wallet(flow.user.id), flow.f, note=note)


async def _gone(query: CallbackQuery, exc: DomainError, flow: Flow) -> None:
    """A forged or stale card id: say so politely and show the wallet."""
    await send_or_edit(query, await _wallet(flow, note=flow.f.error(exc)))
    await query.answer(flow.f.error(exc))


def _join(*parts: str | None) -> str:
    return "\n\n".join(p for p in parts if p)


# -- paying an order with a new card (started from bot/handlers/pay.py) -----------------------
async def start_for_order(state: FSMContext, db: Database, user: UserRow, cards: CardService, f: Fmt,
                          raw_state: str | None, *, order_id: int, number: str, amount_minor: int,
                          currency: str, save: bool, tab: str, page: int) -> Screen:
    """Start the add-card flow to pay an order; at its end the card pays (and is kept or not)."""
    flow = await _flow(state, db, user, cards, f, raw_state)
    await _leave(flow)
    return await _step(CardFlow.number, flow, **{
        PAY: order_id, PAY_SAVE: save, PAY_NUMBER: number, PAY_AMOUNT: amount_minor,
        PAY_CURRENCY: currency, PAY_TAB: tab, PAY_PAGE: page,
    })


async def _pay_choice(flow: Flow, pay: PayService, order_id: int, tab: Tab, page: int,
                      note: str | None = None) -> Screen:
    """Back to choosing a card for the order (or the wallet, when the order can't be paid now)."""
    try:
        options = await pay.options(flow.user.id, order_id)
    except DomainError as exc:
        return await _wallet(flow, note=_join(note, flow.f.error(exc)))
    return pay_views.choose(options, flow.f, tab, page, note=note)


async def _pay_with_new_card(flow: Flow, orders: OrderService, order_id: int, paying: Awaitable[Paid],
                             tab: Tab, page: int, note: str | None) -> Screen:
    """The new card is verified (and saved, or used just this once): `paying` charges it."""
    f = flow.f
    back = OrderCb(action=OrderAction.open, id=order_id, tab=tab, page=page)
    try:
        paid = await paying
    except PaymentDeclined as exc:
        number = str(flow.data.get(PAY_NUMBER, ""))
        screen = pay_views.declined(order_id, number, f.error(exc), f, tab, page)
        return pay_views.with_note(note, screen) if note else screen
    except DomainError as exc:  # paid meanwhile, cancelled by the clock…
        try:
            card = await orders.card(flow.user.id, order_id)
        except NotFound:
            return await _wallet(flow, note=_join(note, f.error(exc)))
        icon = "⏳ " if isinstance(exc, PaymentBeingChecked) else "⚠️ "  # (being checked: it may be charged)
        return pay_views.with_note(_join(note, icon + f.error(exc)), order_views.order_card(card, f, back))
    card = await orders.card(flow.user.id, order_id)
    return pay_views.with_note(_join(note, pay_views.paid_note(paid, f)), order_views.order_card(card, f, back))


# -- the wallet and a card --------------------------------------------------------------------
@router.callback_query(MenuCb.filter(F.section == "cards"))
@router.callback_query(CardCb.filter(F.action == CardAction.wallet))
async def open_wallet(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    await _leave(flow)
    await send_or_edit(query, await _wallet(flow))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.open))
async def open_card(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                    user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    try:
        card = await cards.get(user.id, callback_data.id)
    except NotFound as exc:
        await _gone(query, exc, flow)
        return
    await _leave(flow)
    await send_or_edit(query, views.card_screen(card, f))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.set_default))
async def set_default(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                      user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    try:
        card = await cards.set_default(user.id, callback_data.id)
    except NotFound as exc:
        await _gone(query, exc, flow)
        return
    except AlreadyDefault as exc:  # a double tap
        await query.answer(f.error(exc))
        return
    except DomainError as exc:  # expired
        await query.answer(f.error(exc), show_alert=True)
        return
    await send_or_edit(query, views.card_screen(card, f))
    await query.answer(f._("⭐ {card} is now your default card.").format(card=views.card_label(card.brand, card.last4, f)))


@router.callback_query(CardCb.filter(F.action == CardAction.delete))
async def ask_delete(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                     user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    try:
        card = await cards.get(user.id, callback_data.id)
        usage = await cards.pending_orders(user.id, card.id)
    except NotFound as exc:
        await _gone(query, exc, flow)
        return
    await send_or_edit(query, views.delete_confirm(card, usage, f))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.delete_ok))
async def delete(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                 user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    try:
        deleted = await cards.delete(user.id, callback_data.id)
    except NotFound as exc:  # not theirs, or deleted by an earlier tap
        await _gone(query, exc, flow)
        return
    await send_or_edit(query, await _wallet(flow, note=views.deleted_note(deleted.card, deleted.new_default, f)))
    await query.answer(f._("Card deleted"))


# -- the add-card flow ------------------------------------------------------------------------
@router.callback_query(CardCb.filter(F.action == CardAction.add))
async def start_add(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                    cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    try:
        await cards.ensure_room(user.id)
    except CardLimitReached as exc:
        await send_or_edit(query, await _wallet(flow, note=f.error(exc)))
        await query.answer(f.error(exc), show_alert=True)
        return
    await _leave(flow)
    await send_or_edit(query, await _step(CardFlow.number, flow))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.replace))
async def start_replace(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                        user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    try:
        card = await cards.get(user.id, callback_data.id)
        usage = await cards.pending_orders(user.id, card.id)
    except NotFound as exc:
        await _gone(query, exc, flow)
        return
    await _leave(flow)
    intro = views.add_intro(f, replacing=views.card_label(card.brand, card.last4, f), usage=usage)
    await send_or_edit(query, await _step(CardFlow.number, flow, intro=intro, replace=card.id))
    await query.answer()


# 1. the number
@router.message(CardFlow.number, F.text)
async def number_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, pay: PayService, f: Fmt, raw_state: str | None) -> None:
    text = message.text or ""
    warning = None
    if any(ch.isdigit() for ch in text) and not await _delete(message):
        warning = views.not_deleted_warning(f)
    flow = await _flow(state, db, user, cards, f, raw_state)
    try:
        accepted = await cards.enter_number(user.id, flow.data.get(SID), text, replaces=flow.replaces)
    except CardAlreadySaved as exc:
        order_id, tab, page = flow.pays, flow.pay_tab, flow.pay_page
        await _leave(flow)
        if order_id:  # paying: it is in the wallet already, so offer the wallet's cards
            await reply(message, await _pay_choice(flow, pay, order_id, tab, page, note=_join(warning, f.error(exc))))
            return
        await reply(message, await _wallet(flow, note=_join(warning, f.error(exc))))
        return
    except DomainError as exc:
        await reply(message, await _step(CardFlow.number, flow, error=f.error(exc), warning=warning))
        return
    await reply(message, await _step(
        _after(CardFlow.number, flow), flow, warning=warning,
        sid=accepted.session_id, brand=accepted.brand, last4=accepted.last4,
    ))


# 2. the expiry date
@router.message(CardFlow.expiry, F.text)
async def expiry_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    if await _card_number_in_wrong_step(message, flow):
        return
    if await _session(flow) is None:  # gone: ask for the number first, not for the date again
        await reply(message, await _step(CardFlow.expiry, flow))
        return
    try:
        await cards.enter_expiry(flow.data.get(SID), message.text or "")
    except DomainError as exc:
        await reply(message, await _step(CardFlow.expiry, flow, error=f.error(exc)))
        return
    await reply(message, await _step(_after(CardFlow.expiry, flow), flow))


# 3. the cardholder's name
@router.message(CardFlow.holder, F.text)
async def holder_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    if await _card_number_in_wrong_step(message, flow):
        return
    await reply(message, await _take_holder(message.text or "", flow))


@router.callback_query(StateFilter(CardFlow.holder), CardCb.filter(F.action == CardAction.offer))
async def holder_offer(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                       cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    offer = flow.data.get(OFFER)
    if not offer:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await send_or_edit(query, await _take_holder(str(offer), flow))
    await query.answer()


async def _take_holder(text: str, flow: Flow) -> Screen:
    if await _session(flow) is None:
        return await _step(CardFlow.holder, flow)
    try:
        await flow.cards.enter_holder(flow.data.get(SID), text)
    except HolderNeedsLatin as exc:
        return await _step(CardFlow.holder, flow, error=flow.f.error(exc), offer=exc.offer)
    except DomainError as exc:
        return await _step(CardFlow.holder, flow, error=flow.f.error(exc), offer=None)
    return await _step(_after(CardFlow.holder, flow), flow)


# 4. the CVC: the gateway verifies the card with a $1 hold
@router.message(CardFlow.cvc, F.text)
async def cvc_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                   cards: CardService, pay: PayService, orders: OrderService, f: Fmt,
                   raw_state: str | None) -> None:
    warning = None if await _delete(message) else views.not_deleted_warning(f)
    flow = await _flow(state, db, user, cards, f, raw_state)
    replaces = flow.replaces
    order_id, tab, page = flow.pays, flow.pay_tab, flow.pay_page
    save = bool(flow.data.get(PAY_SAVE, True))
    once = bool(order_id) and not save  # pay with it, don't keep it: it takes no place in the wallet
    try:
        verified = await cards.verify(user.id, flow.data.get(SID), message.text or "", replaces=replaces,
                                      for_wallet=not once)
    except CardSessionExpired:
        await reply(message, await _step(CardFlow.cvc, flow, warning=warning))
        return
    except PaymentDeclined as exc:
        if exc.may_retry and await _session(flow) is not None:
            await reply(message, await _step(CardFlow.cvc, flow, error=f.error(exc), warning=warning))
            return
        number = str(flow.data.get(PAY_NUMBER, ""))
        await _leave(flow)
        if order_id:
            screen = pay_views.declined(order_id, number, f.error(exc) + "\n" + f._("The card was not saved."), f, tab, page)
        else:
            screen = views.declined(f.error(exc), f)
        await reply(message, Screen(_join(warning, screen.text), screen.reply_markup))
        return
    except (CardLimitReached, CardAlreadySaved, TooManyChecks) as exc:
        await _leave(flow)
        if order_id:
            await reply(message, await _pay_choice(flow, pay, order_id, tab, page, note=_join(warning, f.error(exc))))
            return
        await reply(message, await _wallet(flow, note=_join(warning, f.error(exc))))
        return
    except DomainError as exc:  # a malformed code
        await reply(message, await _step(CardFlow.cvc, flow, error=f.error(exc), warning=warning))
        return
    if once:
        async with db.write():  # its hold is recorded (to be released) as the flow ends
            await cards.use_once(user.id, verified)
            await state.clear()
        await reply(message, await _pay_with_new_card(flow, orders, order_id, pay.pay_once(user.id, order_id, verified),
                                                      tab, page, note=warning))
        return
    async with db.write():  # save and leave the flow atomically
        outcome = await cards.save(user.id, verified, replaces=replaces)
        await state.clear()
    if isinstance(outcome, AddRefused):
        note = views.refused_note(f.error(outcome.error), outcome.hold_minor, outcome.hold_currency, f)
        if order_id:
            await reply(message, await _pay_choice(flow, pay, order_id, tab, page, note=_join(warning, note)))
            return
    else:
        note = views.added_note(outcome, f)
        if order_id:
            paying = pay.pay(user.id, order_id, outcome.card.id)
            await reply(message, await _pay_with_new_card(flow, orders, order_id, paying, tab, page,
                                                          note=_join(warning, note)))
            return
    await reply(message, await _wallet(flow, note=_join(warning, note)))


# -- every step: what is not the expected input -----------------------------------------------
@asks_again(CardFlow.expiry, CardFlow.holder, CardFlow.cvc)
async def card_number_removed(message: Message, state: FSMContext, db: Database, user: UserRow,
                              cards: CardService, f: Fmt, raw_state: str | None, warning: str) -> None:
    """The guard removed a card number sent after the number step: the step asks again."""
    flow = await _flow(state, db, user, cards, f, raw_state)
    await reply(message, await _step(flow.step, flow, warning=warning))


async def _card_number_in_wrong_step(message: Message, flow: Flow) -> bool:
    """Something like a card number (a long run of digits, even one that fails the check the guard
    makes) sent where the date or the name is expected: delete it and ask again."""
    if not looks_like_card_number(message.text or ""):
        return False
    deleted = await _delete(message)
    warning = views.removed_card_number_warning(flow.f) if deleted else views.not_deleted_warning(flow.f)
    await reply(message, await _step(flow.step, flow, warning=warning))
    return True


@router.message(StateFilter(CardFlow))
async def not_text(message: Message, state: FSMContext, db: Database, user: UserRow,
                   cards: CardService, f: Fmt, raw_state: str | None) -> None:
    """A sticker, a photo, a voice message… in any step: explain and ask again. A picture (of the
    card, perhaps) or a caption with digits is deleted."""
    warning = None
    if message.photo or message.document or any(ch.isdigit() for ch in message.caption or ""):
        warning = views.removed_photo_warning(f) if await _delete(message) else views.not_deleted_warning(f)
    flow = await _flow(state, db, user, cards, f, raw_state)
    await reply(message, await _step(flow.step, flow, error=views.expected(flow.step.state, f), warning=warning))


@router.callback_query(StateFilter(CardFlow), NavCb.filter(F.action == NavAction.back))
async def back(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
               cards: CardService, pay: PayService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    step = flow.step
    if flow.data.get(EDIT):  # editing one field from the summary: back to the summary
        await send_or_edit(query, await _step(CardFlow.cvc, flow))
    elif step is CardFlow.number and flow.pays:  # back to choosing a card for the order
        order_id, tab, page = flow.pays, flow.pay_tab, flow.pay_page
        await _leave(flow)
        await send_or_edit(query, await _pay_choice(flow, pay, order_id, tab, page))
    elif step is CardFlow.number:  # back out of the flow, to where it started
        replaces = flow.replaces
        await _leave(flow)
        screen = None
        if replaces:
            try:
                screen = views.card_screen(await cards.get(user.id, replaces), f)
            except NotFound:
                screen = None
        await send_or_edit(query, screen or await _wallet(flow))
    else:
        await send_or_edit(query, await _step(ORDER[ORDER.index(step) - 1], flow, edit=None))
    await query.answer()


@router.callback_query(StateFilter(CardFlow), CardCb.filter(F.action == CardAction.keep))
async def keep(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
               cards: CardService, f: Fmt, raw_state: str | None) -> None:
    """Keep what the session already has for this step, and go on."""
    flow = await _flow(state, db, user, cards, f, raw_state)
    session = await _session(flow)
    has = session is not None and {
        CardFlow.number.state: session.has_number,
        CardFlow.expiry.state: session.has_expiry,
        CardFlow.holder.state: session.holder is not None,
    }.get(flow.step.state, False)
    await send_or_edit(query, await _step(_after(flow.step, flow) if has else flow.step, flow))
    await query.answer()


@router.callback_query(StateFilter(CardFlow.cvc), CardCb.filter(F.action == CardAction.edit))
async def edit(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
               user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await _flow(state, db, user, cards, f, raw_state)
    step = {
        CardField.number: CardFlow.number, CardField.expiry: CardFlow.expiry, CardField.holder: CardFlow.holder,
    }.get(callback_data.field, CardFlow.cvc)
    await send_or_edit(query, await _step(step, flow, edit=True))
    await query.answer()
