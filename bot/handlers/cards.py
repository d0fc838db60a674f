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
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import menu as registry
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.commands import leave_flow
from bot.handlers.common import reply, send_or_edit
from bot.integrations.payments import CardSession
from bot.keyboards.cards import CardAction, CardCb, CardField
from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.services import notifications
from bot.services.cards import (
    HOLD_RELEASED_KIND,
    AddRefused,
    AlreadyDefault,
    CardAlreadySaved,
    CardLimitReached,
    CardService,
    CardSessionExpired,
    HolderNeedsLatin,
    PaymentDeclined,
    contains_card_number,
    looks_like_card_number,
)
from bot.services.errors import N_, DomainError, NotFound
from bot.views import cards as views
from bot.views.common import Fmt, Screen

log = logging.getLogger(__name__)
router = Router(name="cards")
registry.register(registry.MenuEntry("cards", N_("💳 Bank cards"), order=60))
notifications.register_kind(
    notifications.NotificationKind(HOLD_RELEASED_KIND, N_("💳 The $1 card check is released"), order=60)
)


class CardFlow(StatesGroup):
    number = State()
    expiry = State()
    holder = State()
    cvc = State()


ORDER = (CardFlow.number, CardFlow.expiry, CardFlow.holder, CardFlow.cvc)
BY_NAME = {s.state: s for s in ORDER}
# FSM data: the gateway session id, brand and last 4 — never the number or the CVC
SID, BRAND, LAST4 = "sid", "brand", "last4"
REPLACE, EDIT, OFFER = "replace", "edit", "offer"


# -- helpers ----------------------------------------------------------------------------------
async def _delete(message: Message) -> bool:
    """Delete the user's message at once. False when Telegram refused (then we ask them)."""
    try:
        await message.delete()
    except TelegramAPIError as exc:
        log.info("could not delete a message with card details (%s)", type(exc).__name__)
        return False
    return True


async def _replacing(cards: CardService, user_id: int, data: dict[str, Any], f: Fmt) -> str | None:
    card_id = data.get(REPLACE)
    if not card_id:
        return None
    try:
        card = await cards.get(user_id, int(card_id))
    except NotFound:
        return None
    return views.card_label(card.brand, card.last4, f)


async def _session(cards: CardService, data: dict[str, Any]) -> CardSession | None:
    try:
        return await cards.card_session(data.get(SID))
    except CardSessionExpired:
        return None


def _after(step: State, data: dict[str, Any]) -> State:
    """The step after `step`: back to the summary when a field was being edited."""
    if data.get(EDIT):
        return CardFlow.cvc
    return ORDER[min(ORDER.index(step) + 1, len(ORDER) - 1)]


async def _step(step: State, state: FSMContext, db: Database, user: UserRow, cards: CardService,
                f: Fmt, *, error: str | None = None, warning: str | None = None, intro: str | None = None,
                **changes: Any) -> Screen:
    """Put the flow at `step` (with `changes` to its data) and return that step's screen. A step
    after the number needs the gateway's session: when the gateway has forgotten it (a restart,
    or too long a pause), the flow goes back to the number and says why."""
    current_state = await state.get_state()
    current = await state.get_data()
    data = {k: v for k, v in {**current, **changes}.items() if v is not None}
    session = await _session(cards, data)
    if session is None or not session.has_number:
        if step is not CardFlow.number:
            error = f.error(CardSessionExpired())
            step = CardFlow.number
        data = {k: v for k, v in data.items() if k in (REPLACE,)}
    elif step is CardFlow.cvc and not session.complete:
        step = CardFlow.expiry if not session.has_expiry else CardFlow.holder
    if step is CardFlow.cvc:
        data.pop(EDIT, None)
    if step is not CardFlow.holder:
        data.pop(OFFER, None)
    if current_state != step.state or current != data:
        async with db.write():
            await state.set_state(step)
            await state.set_data(data)
    replacing = await _replacing(cards, user.id, data, f)
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


async def _leave(state: FSMContext, db: Database, cards: CardService) -> None:
    """Leave the card flow; the gateway drops the number at once rather than at its expiry."""
    data = await state.get_data()
    if await state.get_state() in BY_NAME:
        await cards.cancel_session(data.get(SID))
    await leave_flow(state, db)


async def _wallet(cards: CardService, user: UserRow, f: Fmt, note: str | None = None) -> Screen:
    return views.wallet(await cards.wallet(user.id), f, note=note)


async def _gone(query: CallbackQuery, exc: DomainError, cards: CardService, user: UserRow, f: Fmt) -> None:
    """A forged or stale card id: say so politely and show the wallet."""
    await send_or_edit(query, await _wallet(cards, user, f, note=f.error(exc)))
    await query.answer(f.error(exc))


# -- the wallet and a card --------------------------------------------------------------------
@router.callback_query(MenuCb.filter(F.section == "cards"))
@router.callback_query(CardCb.filter(F.action == CardAction.wallet))
async def open_wallet(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt) -> None:
    await _leave(state, db, cards)
    await send_or_edit(query, await _wallet(cards, user, f))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.open))
async def open_card(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                    user: UserRow, cards: CardService, f: Fmt) -> None:
    try:
        card = await cards.get(user.id, callback_data.id)
    except NotFound as exc:
        await _gone(query, exc, cards, user, f)
        return
    await _leave(state, db, cards)
    await send_or_edit(query, views.card_screen(card, f))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.set_default))
async def set_default(query: CallbackQuery, callback_data: CardCb, user: UserRow, cards: CardService,
                      f: Fmt) -> None:
    try:
        card = await cards.set_default(user.id, callback_data.id)
    except NotFound as exc:
        await _gone(query, exc, cards, user, f)
        return
    except AlreadyDefault as exc:
        await send_or_edit(query, views.card_screen(await cards.get(user.id, callback_data.id), f))
        await query.answer(f.error(exc))
        return
    except DomainError as exc:  # expired
        await query.answer(f.error(exc), show_alert=True)
        return
    await send_or_edit(query, views.card_screen(card, f))
    await query.answer(f._("⭐ {card} is now your default card.").format(card=views.card_label(card.brand, card.last4, f)))


@router.callback_query(CardCb.filter(F.action == CardAction.delete))
async def ask_delete(query: CallbackQuery, callback_data: CardCb, user: UserRow, cards: CardService,
                     f: Fmt) -> None:
    try:
        card = await cards.get(user.id, callback_data.id)
        usage = await cards.pending_orders(user.id, card.id)
    except NotFound as exc:
        await _gone(query, exc, cards, user, f)
        return
    await send_or_edit(query, views.delete_confirm(card, usage, f))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.delete_ok))
async def delete(query: CallbackQuery, callback_data: CardCb, user: UserRow, cards: CardService,
                 f: Fmt) -> None:
    try:
        deleted = await cards.delete(user.id, callback_data.id)
    except NotFound as exc:  # not theirs, or deleted by an earlier tap
        await _gone(query, exc, cards, user, f)
        return
    note = views.deleted_note(deleted.card, deleted.new_default, f)
    await send_or_edit(query, await _wallet(cards, user, f, note=note))
    await query.answer(f._("Card deleted"))


# -- the add-card flow ------------------------------------------------------------------------
@router.callback_query(CardCb.filter(F.action == CardAction.add))
async def start_add(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                    cards: CardService, f: Fmt) -> None:
    try:
        await cards.ensure_room(user.id)
    except CardLimitReached as exc:
        await send_or_edit(query, await _wallet(cards, user, f, note=f.error(exc)))
        await query.answer(f.error(exc), show_alert=True)
        return
    await _leave(state, db, cards)
    await send_or_edit(query, await _step(CardFlow.number, state, db, user, cards, f))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.replace))
async def start_replace(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                        user: UserRow, cards: CardService, f: Fmt) -> None:
    try:
        card = await cards.get(user.id, callback_data.id)
        usage = await cards.pending_orders(user.id, card.id)
    except NotFound as exc:
        await _gone(query, exc, cards, user, f)
        return
    await _leave(state, db, cards)
    label = views.card_label(card.brand, card.last4, f)
    intro = views.add_intro(f, replacing=label, usage=usage)
    await send_or_edit(query, await _step(CardFlow.number, state, db, user, cards, f, intro=intro, replace=card.id))
    await query.answer()


# 1. the number
@router.message(CardFlow.number, F.text)
async def number_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt) -> None:
    text = message.text or ""
    warning = None
    if any(ch.isdigit() for ch in text) and not await _delete(message):
        warning = views.not_deleted_warning(f)
    data = await state.get_data()
    try:
        accepted = await cards.enter_number(user.id, data.get(SID), text, replaces=data.get(REPLACE) or None)
    except CardAlreadySaved as exc:
        await _leave(state, db, cards)
        note = "\n\n".join(x for x in (warning, f.error(exc)) if x)
        await reply(message, await _wallet(cards, user, f, note=note))
        return
    except DomainError as exc:
        await reply(message, await _step(CardFlow.number, state, db, user, cards, f,
                                         error=f.error(exc), warning=warning))
        return
    await reply(message, await _step(
        _after(CardFlow.number, data), state, db, user, cards, f, warning=warning,
        sid=accepted.session_id, brand=accepted.brand, last4=accepted.last4,
    ))


# 2. the expiry date
@router.message(CardFlow.expiry, F.text)
async def expiry_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt) -> None:
    if await _card_number_in_wrong_step(message, CardFlow.expiry, state, db, user, cards, f):
        return
    data = await state.get_data()
    if await _session(cards, data) is None:  # gone: ask for the number first, not for the date again
        await reply(message, await _step(CardFlow.expiry, state, db, user, cards, f))
        return
    try:
        await cards.enter_expiry(data.get(SID), message.text or "")
    except DomainError as exc:
        await reply(message, await _step(CardFlow.expiry, state, db, user, cards, f, error=f.error(exc)))
        return
    await reply(message, await _step(_after(CardFlow.expiry, data), state, db, user, cards, f))


# 3. the cardholder's name
@router.message(CardFlow.holder, F.text)
async def holder_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt) -> None:
    if await _card_number_in_wrong_step(message, CardFlow.holder, state, db, user, cards, f):
        return
    await reply(message, await _take_holder(message.text or "", state, db, user, cards, f))


@router.callback_query(StateFilter(CardFlow.holder), CardCb.filter(F.action == CardAction.offer))
async def holder_offer(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                       cards: CardService, f: Fmt) -> None:
    offer = (await state.get_data()).get(OFFER)
    if not offer:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await send_or_edit(query, await _take_holder(str(offer), state, db, user, cards, f))
    await query.answer()


async def _take_holder(text: str, state: FSMContext, db: Database, user: UserRow, cards: CardService,
                       f: Fmt) -> Screen:
    data = await state.get_data()
    if await _session(cards, data) is None:
        return await _step(CardFlow.holder, state, db, user, cards, f)
    try:
        await cards.enter_holder(data.get(SID), text)
    except HolderNeedsLatin as exc:
        return await _step(CardFlow.holder, state, db, user, cards, f, error=f.error(exc), offer=exc.offer)
    except DomainError as exc:
        return await _step(CardFlow.holder, state, db, user, cards, f, error=f.error(exc), offer=None)
    return await _step(_after(CardFlow.holder, data), state, db, user, cards, f)


# 4. the CVC: the gateway verifies the card with a $1 hold
@router.message(CardFlow.cvc, F.text)
async def cvc_sent(message: Message, state: FSMContext, db: Database, user: UserRow,
                   cards: CardService, f: Fmt) -> None:
    warning = None if await _delete(message) else views.not_deleted_warning(f)
    data = await state.get_data()
    replaces = int(data[REPLACE]) if data.get(REPLACE) else None
    try:
        verified = await cards.verify(user.id, data.get(SID), message.text or "", replaces=replaces)
    except CardSessionExpired:
        await reply(message, await _step(CardFlow.cvc, state, db, user, cards, f, warning=warning))
        return
    except PaymentDeclined as exc:
        if exc.may_retry and await _session(cards, data) is not None:
            await reply(message, await _step(CardFlow.cvc, state, db, user, cards, f,
                                             error=f.error(exc), warning=warning))
            return
        await _leave(state, db, cards)
        screen = views.declined(f.error(exc), f)
        await reply(message, Screen(warning + "\n\n" + screen.text, screen.reply_markup) if warning else screen)
        return
    except (CardLimitReached, CardAlreadySaved) as exc:
        await _leave(state, db, cards)
        await reply(message, await _wallet(cards, user, f, note="\n\n".join(x for x in (warning, f.error(exc)) if x)))
        return
    except DomainError as exc:  # a malformed code
        await reply(message, await _step(CardFlow.cvc, state, db, user, cards, f, error=f.error(exc), warning=warning))
        return
    async with db.write():  # save and leave the flow atomically
        outcome = await cards.save(user.id, verified, replaces=replaces)
        await state.clear()
    if isinstance(outcome, AddRefused):
        note = views.refused_note(f.error(outcome.error), outcome.hold_minor, outcome.hold_currency, f)
    else:
        note = views.added_note(outcome, f)
    await reply(message, await _wallet(cards, user, f, note="\n\n".join(x for x in (warning, note) if x)))


# -- every step: what is not the expected input -----------------------------------------------
async def _card_number_in_wrong_step(message: Message, step: State, state: FSMContext, db: Database,
                                     user: UserRow, cards: CardService, f: Fmt) -> bool:
    """A card number sent where the date or the name is expected: delete it and ask again."""
    if not looks_like_card_number(message.text or ""):
        return False
    deleted = await _delete(message)
    warning = views.removed_card_number_warning(f) if deleted else views.not_deleted_warning(f)
    await reply(message, await _step(step, state, db, user, cards, f, warning=warning))
    return True


@router.message(StateFilter(CardFlow))
async def not_text(message: Message, state: FSMContext, db: Database, user: UserRow,
                   cards: CardService, f: Fmt) -> None:
    """A sticker, a photo, a voice message… in any step: explain and ask again. A picture (of the
    card, perhaps) or a caption with digits is deleted."""
    warning = None
    if message.photo or message.document or any(ch.isdigit() for ch in message.caption or ""):
        warning = views.removed_photo_warning(f) if await _delete(message) else views.not_deleted_warning(f)
    step = BY_NAME.get(await state.get_state() or "", CardFlow.number)
    await reply(message, await _step(step, state, db, user, cards, f, error=views.expected(step.state, f),
                                     warning=warning))


@router.callback_query(StateFilter(CardFlow), NavCb.filter(F.action == NavAction.back))
async def back(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
               cards: CardService, f: Fmt) -> None:
    step = BY_NAME.get(await state.get_state() or "", CardFlow.number)
    if step is CardFlow.number:  # back out of the flow, to where it started
        replace = (await state.get_data()).get(REPLACE)
        await _leave(state, db, cards)
        screen = None
        if replace:
            try:
                screen = views.card_screen(await cards.get(user.id, int(replace)), f)
            except NotFound:
                screen = None
        await send_or_edit(query, screen or await _wallet(cards, user, f))
    else:
        previous = ORDER[ORDER.index(step) - 1]
        await send_or_edit(query, await _step(previous, state, db, user, cards, f, edit=None))
    await query.answer()


@router.callback_query(StateFilter(CardFlow), CardCb.filter(F.action == CardAction.keep))
async def keep(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
               cards: CardService, f: Fmt) -> None:
    """Keep what the session already has for this step, and go on."""
    step = BY_NAME.get(await state.get_state() or "", CardFlow.number)
    data = await state.get_data()
    session = await _session(cards, data)
    has = session is not None and {
        CardFlow.number.state: session.has_number,
        CardFlow.expiry.state: session.has_expiry,
        CardFlow.holder.state: session.holder is not None,
    }.get(step.state, False)
    await send_or_edit(query, await _step(_after(step, data) if has else step, state, db, user, cards, f))
    await query.answer()


@router.callback_query(StateFilter(CardFlow.cvc), CardCb.filter(F.action == CardAction.edit))
async def edit(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
               user: UserRow, cards: CardService, f: Fmt) -> None:
    step = {
        CardField.number: CardFlow.number, CardField.expiry: CardFlow.expiry, CardField.holder: CardFlow.holder,
    }.get(callback_data.field, CardFlow.cvc)
    await send_or_edit(query, await _step(step, state, db, user, cards, f, edit=True))
    await query.answer()


# -- a card number sent outside the flow ------------------------------------------------------
@router.message(StateFilter(None), F.text.func(contains_card_number))
async def card_number_outside_flow(message: Message, f: Fmt) -> None:
    await reply(message, views.card_number_outside_flow(f, deleted=await _delete(message)))

