"""The wallet and a card: make default, delete (replace starts the add flow: add_flow.py)."""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.cards.steps import gone, leave, read_flow, router, wallet_screen
from bot.handlers.common import send_or_edit
from bot.keyboards.cards import CardAction, CardCb
from bot.keyboards.common import MenuCb
from bot.services.cards import AlreadyDefault, CardService
from bot.services.errors import DomainError, NotFound
from bot.views import cards as views
from bot.views.common import Fmt


@router.callback_query(MenuCb.filter(F.section == "cards"))
@router.callback_query(CardCb.filter(F.action == CardAction.wallet))
async def open_wallet(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                      cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    await leave(flow)
    await send_or_edit(query, await wallet_screen(flow))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.open))
async def open_card(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                    user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    try:
        card = await cards.get(user.id, callback_data.id)
    except NotFound as exc:
        await gone(query, exc, flow)
        return
    await leave(flow)
    await send_or_edit(query, views.card_screen(card, f))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.set_default))
async def set_default(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                      user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    try:
        card = await cards.set_default(user.id, callback_data.id)
    except NotFound as exc:
        await gone(query, exc, flow)
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
    flow = await read_flow(state, db, user, cards, f, raw_state)
    try:
        card = await cards.get(user.id, callback_data.id)
        usage = await cards.pending_orders(user.id, card.id)
    except NotFound as exc:
        await gone(query, exc, flow)
        return
    await send_or_edit(query, views.delete_confirm(card, usage, f))
    await query.answer()


@router.callback_query(CardCb.filter(F.action == CardAction.delete_ok))
async def delete(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                 user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    try:
        deleted = await cards.delete(user.id, callback_data.id)
    except NotFound as exc:  # not theirs, or deleted by an earlier tap
        await gone(query, exc, flow)
        return
    await send_or_edit(query, await wallet_screen(flow, note=views.deleted_note(deleted.card, deleted.new_default, f)))
    await query.answer(f._("Card deleted"))


