"""The wallet and a card: make default, delete (replace starts the add flow: add_flow.py)."""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import answered_by
from bot.handlers.cards.steps import leave, read_flow, refused, router, wallet_screen
from bot.handlers.common import show
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
    await show(query, await wallet_screen(flow))


@router.callback_query(CardCb.filter(F.action == CardAction.open))
async def open_card(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                    user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    card = await cards.get(user.id, callback_data.id)
    await leave(flow)
    await show(query, views.card_screen(card, f))


async def _not_default(query: CallbackQuery, error: DomainError, state: FSMContext, db: Database, user: UserRow,
                       cards: CardService, f: Fmt, raw_state: str | None) -> None:
    """A double tap (already the default) or an expired card: the screen stays, with why."""
    if isinstance(error, NotFound):
        await refused(query, error, state, db, user, cards, f, raw_state)
        return
    await query.answer(f.error(error), show_alert=not isinstance(error, AlreadyDefault))


@router.callback_query(CardCb.filter(F.action == CardAction.set_default), flags=answered_by(_not_default))
async def set_default(query: CallbackQuery, callback_data: CardCb, user: UserRow, cards: CardService,
                      f: Fmt) -> None:
    card = await cards.set_default(user.id, callback_data.id)
    await show(query, views.card_screen(card, f), views.default_note(card, f))


@router.callback_query(CardCb.filter(F.action == CardAction.delete))
async def ask_delete(query: CallbackQuery, callback_data: CardCb, user: UserRow, cards: CardService,
                     f: Fmt) -> None:
    card = await cards.get(user.id, callback_data.id)
    usage = await cards.pending_orders(user.id, card.id)
    await show(query, views.delete_confirm(card, usage, f))


@router.callback_query(CardCb.filter(F.action == CardAction.delete_ok))
async def delete(query: CallbackQuery, callback_data: CardCb, state: FSMContext, db: Database,
                 user: UserRow, cards: CardService, f: Fmt, raw_state: str | None) -> None:
    flow = await read_flow(state, db, user, cards, f, raw_state)
    deleted = await cards.delete(user.id, callback_data.id)  # not theirs, or an earlier tap: refused
    note = views.deleted_note(deleted.card, deleted.new_default, f)
    await show(query, await wallet_screen(flow, note=note), f._("Card deleted"))


