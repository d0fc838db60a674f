"""The add-card flow, as one table on the flow engine (bot/handlers/flow.py):

    number → expiry → cardholder → CVC (typed; the bank checks the card, and the flow ends)

Each step consults the gateway's card session (steps.arrive: when it is gone, the number is asked
again) and has Keep for what the session already has; the CVC step has "Edit <field>", and an
edited step returns to it. The messages with the number and with the CVC are deleted at once; the
number goes straight into the gateway's card session and the CVC straight into its verification.
"""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers import returns
from bot.handlers.cards.paying import new_card_screen, pay_choice
from bot.handlers.cards.steps import (
    BRAND,
    LAST4,
    OFFER,
    PAY,
    PAY_AMOUNT,
    PAY_CURRENCY,
    PAY_NUMBER,
    PAY_PAGE,
    PAY_SAVE,
    PAY_TAB,
    REISSUE,
    REPLACE,
    SID,
    CardFlow,
    arrive,
    cvc_prompt,
    expiry_prompt,
    holder_prompt,
    join,
    leave,
    number_prompt,
    read_flow,
    router,
    session_of,
    wallet_screen,
)
from bot.handlers.cards.steps import (
    CardContext as Ctx,
)
from bot.handlers.common import show
from bot.handlers.flow import EDITING, STALE, Button, Done, Draft, Flow, Go, Retry, Stale, Step, unchanged
from bot.integrations.payments import CardSession, DeclineReason
from bot.keyboards.cards import CardAction, CardCb, CardField
from bot.middlewares.card_guard import delete_message
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
from bot.services.errors import N_, DomainError, NotFound
from bot.services.orders import OrderService
from bot.services.pay import PayService, pays_once
from bot.views import cards as views
from bot.views import pay as pay_views
from bot.views.common import Fmt, Screen


def _ctx(state: FSMContext, db: Database, user: UserRow, cards: CardService, f: Fmt, draft: Draft) -> Ctx:
    return Ctx(state, db, user, cards, f, None, draft)


async def _end(state: FSMContext, db: Database) -> None:
    """Leave the flow (the gateway session goes with it: see steps.ends_card_sessions)."""
    async with db.write():
        await state.clear()


async def _gone(ctx: Ctx, pay: PayService, note: str) -> Done:
    """Leave the flow for where it was started — the order's choice of a card, or the wallet — with why."""
    order_id, tab, page = ctx.pays, ctx.pay_tab, ctx.pay_page
    await _end(ctx.state, ctx.db)
    if order_id:
        return Done(await pay_choice(ctx, pay, order_id, tab, page, note=note))
    return Done(await wallet_screen(ctx, note=note))


async def _no_card_number(text: str, message: Message, f: Fmt) -> None:
    """Something like a card number (a long run of digits, even one that fails the check the guard
    makes) sent where the date or the name is expected: delete it and ask again."""
    if looks_like_card_number(text):
        deleted = await delete_message(message)
        raise Retry(None, warning=views.removed_card_number_warning(f) if deleted else views.not_deleted_warning(f))


# 1. the number
async def take_number(text: str, draft: Draft, f: Fmt, message: Message, state: FSMContext, db: Database,
                      user: UserRow, cards: CardService, pay: PayService) -> Go:
    warning = None
    if any(ch.isdigit() for ch in text) and not await delete_message(message):
        warning = views.not_deleted_warning(f)
    ctx = _ctx(state, db, user, cards, f, draft)
    try:
        accepted = await cards.enter_number(user.id, draft.get(SID), text, replaces=ctx.replaces)
    except CardAlreadySaved as exc:  # paying: it is in the wallet already, so offer the wallet's cards
        raise await _gone(ctx, pay, join(warning, f.error(exc))) from None
    except DomainError as exc:
        raise Retry(f.error(exc), warning=warning) from None
    taken = {**draft, SID: accepted.session_id, BRAND: accepted.brand, LAST4: accepted.last4}
    taken.pop(REISSUE, None)  # a reissue is the number's: a new number drops it
    if accepted.reissue_of is not None and ctx.replaces is None and not pays_once(ctx.pays, bool(draft.get(PAY_SAVE, True))):
        # the bank's reissue of an expired card in the wallet: saving it replaces that card
        taken[REISSUE] = accepted.reissue_of
        warning = join(warning, views.reissue_note(views.card_label(accepted.brand, accepted.last4, f), f))
    return Go(taken, warning=warning)


# 2. the expiry date
async def take_expiry(text: str, draft: Draft, f: Fmt, message: Message, cards: CardService) -> Draft | Go:
    await _no_card_number(text, message, f)
    if await session_of(cards, draft) is None:  # gone: ask for the number first, not for the date again
        return Go(draft, stay=True)
    await cards.enter_expiry(draft.get(SID), text)  # a DomainError: the date asked again, with why
    return draft


# 3. the cardholder's name: typed, or the transliteration offered
async def take_holder(text: str, draft: Draft, f: Fmt, cards: CardService) -> Draft | Go:
    if await session_of(cards, draft) is None:
        return Go(draft, stay=True)
    try:
        await cards.enter_holder(draft.get(SID), text)
    except HolderNeedsLatin as exc:
        return Go({**draft, OFFER: exc.offer}, stay=True, error=f.error(exc))
    except DomainError as exc:
        return Go({k: v for k, v in draft.items() if k != OFFER}, stay=True, error=f.error(exc))
    return draft


async def type_holder(text: str, draft: Draft, f: Fmt, message: Message, cards: CardService) -> Draft | Go:
    await _no_card_number(text, message, f)
    return await take_holder(text, draft, f, cards)


async def use_offer(value: object, draft: Draft, f: Fmt, cards: CardService) -> Draft | Go:
    if not draft.get(OFFER):
        raise Stale
    return await take_holder(str(draft[OFFER]), draft, f, cards)


# 4. the CVC: the gateway verifies the card with a $1 hold, and the flow ends
async def verify(text: str, draft: Draft, f: Fmt, message: Message, state: FSMContext, db: Database,
                 user: UserRow, cards: CardService, pay: PayService, orders: OrderService, **data: Any) -> Go:
    warning = None if await delete_message(message) else views.not_deleted_warning(f)
    ctx = _ctx(state, db, user, cards, f, draft)
    order_id, tab, page = ctx.pays, ctx.pay_tab, ctx.pay_page
    save = bool(draft.get(PAY_SAVE, True))
    try:
        verified = await cards.verify(user.id, draft.get(SID), text, replaces=ctx.saves_over,
                                      for_wallet=not pays_once(order_id, save))
    except CardSessionExpired:
        return Go(draft, stay=True, warning=warning)  # the number is asked again (steps.arrive)
    except PaymentDeclined as exc:
        session = await session_of(cards, draft) if exc.may_retry else None
        if session is not None:
            left = session.cvc_tries_left if exc.reason == DeclineReason.incorrect_cvc else None
            said = f.error(exc) + (" " + views.cvc_tries_left(left, f) if left else "")
            raise Retry(said, warning=warning) from None
        number = str(draft.get(PAY_NUMBER, ""))
        await _end(state, db)
        if order_id:
            reason = f.error(exc) + "\n" + f._("The card was not saved.")
            screen = pay_views.declined(order_id, number, reason, f, tab, page)
        else:
            screen = views.declined(f.error(exc), f)
        raise Done(Screen(join(warning, screen.text), screen.reply_markup)) from None
    except (CardLimitReached, CardAlreadySaved, TooManyChecks) as exc:
        raise await _gone(ctx, pay, join(warning, f.error(exc))) from None
    except DomainError as exc:  # a malformed code
        raise Retry(f.error(exc), warning=warning) from None
    result = await pay.new_card(user.id, verified, order_id=order_id, save=save, replaces=ctx.saves_over,
                                leave=state.clear)
    if result.saved is not None and await returns.come_back(
            draft, message, result=result.saved.card.id, state=state, db=db, user=user, cards=cards, pay=pay,
            orders=orders, f=f, **data):
        raise Done()  # the flow that opened this one (checkout) goes on, with the new card chosen
    raise Done(await new_card_screen(ctx, pay, orders, result, warning))


# -- every step: Keep, Edit from the CVC step, a picture instead of text, Back out of the flow ---------
def keep(has: Any) -> Button:
    """Keep what the session already has for this step, and go on (else the step again)."""

    async def kept(value: object, draft: Draft, f: Fmt, cards: CardService) -> Draft | Go:
        session = await session_of(cards, draft)
        return draft if session is not None and has(session) else Go(draft, stay=True)

    return Button(kept)


FIELDS = {CardField.number: CardFlow.number, CardField.expiry: CardFlow.expiry, CardField.holder: CardFlow.holder}


def edit(value: object, draft: Draft, f: Fmt, callback_data: CardCb) -> Go:
    """"Edit <field>" on the CVC step: that step, then back to the CVC."""
    return Go({**draft, EDITING: True}, to=FIELDS.get(callback_data.field, CardFlow.cvc))


async def remove_pictures(message: Message, f: Fmt) -> dict[str, str]:
    """A sticker, a photo, a voice message… in any step is explained and the step asked again; a
    picture (of the card, perhaps) or a caption with digits is deleted first."""
    if message.photo or message.document or any(ch.isdigit() for ch in message.caption or ""):
        deleted = await delete_message(message)
        return {"warning": views.removed_photo_warning(f) if deleted else views.not_deleted_warning(f)}
    return {}


async def back_out(query: CallbackQuery, draft: Draft, state: FSMContext, db: Database, user: UserRow,
                   cards: CardService, pay: PayService, f: Fmt, **data: Any) -> None:
    """Back from the number: to choosing a card for the order, or to the card being replaced, or the
    wallet — or to the flow that opened this one (checkout's choice of a card)."""
    if await returns.come_back(draft, query, result=0, state=state, db=db, user=user, cards=cards, pay=pay, f=f,
                               **data):
        return
    ctx = _ctx(state, db, user, cards, f, draft)
    screen = None
    if ctx.pays:
        screen = await pay_choice(ctx, pay, ctx.pays, ctx.pay_tab, ctx.pay_page)
    elif ctx.replaces:
        try:
            screen = views.card_screen(await cards.get(user.id, ctx.replaces), f)
        except NotFound:
            screen = None
    await show(query, screen or await wallet_screen(ctx))


def _has_expiry(session: CardSession) -> bool:
    return session.has_expiry


FLOW = Flow(
    CardFlow, CardCb, arrive=arrive, other=remove_pictures, leave=back_out, summary=None, strays=False,
    outside=STALE,
    steps=(
        Step(CardFlow.number, number_prompt, N_("Please send the card number as a text message."),
             text=take_number, buttons={CardAction.keep: keep(lambda session: session.has_number)}),
        Step(CardFlow.expiry, expiry_prompt, N_("Please send the expiry date as text, for example 05/28."),
             text=take_expiry, buttons={CardAction.keep: keep(_has_expiry)}),
        Step(CardFlow.holder, holder_prompt, N_("Please type the cardholder's name as text, in Latin letters."),
             text=type_holder, buttons={CardAction.keep: keep(lambda session: session.holder is not None),
                                        CardAction.offer: Button(use_offer)}),
        Step(CardFlow.cvc, cvc_prompt, N_("Please send the code as a text message."),
             text=verify, buttons={CardAction.keep: Button(unchanged, stay=True), CardAction.edit: Button(edit)}),
    ),
)


# -- starting it: add, replace, pay an order with a new card ---------------------------------------
@router.callback_query(CardCb.filter(F.action == CardAction.add))
async def start_add(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                    cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    await cards.ensure_room(user.id)  # a full wallet: the section's answer (steps.refused)
    await leave(flow)
    await show(query, await FLOW.go(CardFlow.number, state, db, {}, f, cards=cards, user=user))


@router.callback_query(CardCb.filter(F.action == CardAction.replace))
async def start_replace(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                        user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    card = await cards.get(user.id, callback_data.id)
    usage = await cards.pending_orders(user.id, card.id)
    await leave(flow)
    intro = views.add_intro(f, replacing=views.card_label(card.brand, card.last4, f), usage=usage)
    await show(query, await FLOW.go(CardFlow.number, state, db, {REPLACE: card.id}, f, cards=cards, user=user,
                                    intro=intro))


async def start_for_order(state: FSMContext, db: Database, user: UserRow, cards: CardService, f: Fmt,
                          raw_state: str | None, *, order_id: int, number: str, amount_minor: int,
                          currency: str, save: bool, tab: str, page: int) -> Screen:
    """Start the add-card flow to pay an order; at its end the card pays (and is kept or not)."""
    await leave(await read_flow(state, db, user, cards, f, raw_state))
    draft = {PAY: order_id, PAY_SAVE: save, PAY_NUMBER: number, PAY_AMOUNT: amount_minor,
             PAY_CURRENCY: currency, PAY_TAB: tab, PAY_PAGE: page}
    screen = await FLOW.go(CardFlow.number, state, db, draft, f, cards=cards, user=user)
    assert isinstance(screen, Screen)
    return screen


FLOW.install(router)
