"""Commands that work everywhere, in any state: /start, /menu, /help, /privacy, /settings, /cancel, and the
shared Menu / Cancel buttons."""

from __future__ import annotations

from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot import menu as registry
from bot.command_menu import show_seller_commands
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import answered_by, refusals, say
from bot.handlers.common import has_own_cancel, reply, reply_keyboard_shown, sent_as_typed, show
from bot.handlers.flow import drops_a_draft
from bot.handlers.routing import Handlers
from bot.handlers.seller import menu_screen as seller_menu_screen
from bot.keyboards.common import NavAction, NavCb
from bot.services.clock import Clock
from bot.services.errors import DomainError
from bot.services.relay.conversations import RelayService
from bot.services.relay.sellers import START_PREFIX, SellerService
from bot.services.seller import SellerModeService
from bot.services.shops import LINK_PREFIX, CustomerService
from bot.views import help as help_views
from bot.views import menu as views
from bot.views import seller as seller_views
from bot.views import settings as settings_views
from bot.views import shops as shop_views
from bot.views.common import Fmt, Screen

router = Handlers("commands")
refusals(router.message, say)


async def leave_flow(state: FSMContext, db: Database) -> str | None:
    """Clear the FSM state and data in one transaction. Returns the state left (None: no flow was
    open)."""
    left = await state.get_state()
    if left is not None or await state.get_data():
        async with db.write():
            await state.clear()
    return left


async def leave_flow_from_message(message: Message, state: FSMContext, db: Database, f: Fmt) -> str | None:
    """leave_flow, saying so when a draft was dropped or a reply keyboard the flow was showing goes
    (its removal needs a message of its own)."""
    shown = await reply_keyboard_shown(state)
    left = await leave_flow(state, db)
    if shown:
        await message.answer(views.cancelled(f), reply_markup=ReplyKeyboardRemove())
    elif drops_a_draft(left):
        await message.answer(views.cancelled(f))
    return left


async def _refused_then_menu(message: Message, error: DomainError, user: UserRow, f: Fmt) -> None:
    """An invitation or a shop's link that can't be used (unknown, used, expired), or /seller from
    an account that sells for no store: the reason, then the main menu."""
    await message.answer(f.error(error))
    await reply(message, views.main_menu(registry.shown(user.is_seller), f))
    if not user.is_seller and (message.text or "").startswith("/seller") and message.bot is not None:
        await show_seller_commands(message.bot, f, message.chat.id, on=False)  # no store any more: no /seller


# `/start s_<token>`: the deep link of `main.py seller invite` (before the plain /start below)
@router.message(CommandStart(deep_link=True, magic=F.args.startswith(START_PREFIX)),
                flags=answered_by(_refused_then_menu))
async def cmd_start_seller(message: Message, command: CommandObject, state: FSMContext, db: Database,
                           user: UserRow, sellers: SellerService, seller_mode: SellerModeService,
                           relay: RelayService, f: Fmt) -> None:
    await leave_flow_from_message(message, state, db, f)
    result = await sellers.redeem(command.args or "", user.id)
    await reply(message, await seller_menu_screen(user.id, seller_mode, relay, f, seller_views.redeemed(result, f)))
    if message.bot is not None:
        await show_seller_commands(message.bot, f, message.chat.id, on=True)


# `/start l_<token>`: a shop's link (POST /api/v1/customers/{id}/link) ties its customer to this user
@router.message(CommandStart(deep_link=True, magic=F.args.startswith(LINK_PREFIX)),
                flags=answered_by(_refused_then_menu))
async def cmd_start_customer(message: Message, command: CommandObject, state: FSMContext, db: Database,
                             user: UserRow, customers: CustomerService, f: Fmt) -> None:
    await leave_flow_from_message(message, state, db, f)
    result = await customers.redeem(command.args or "", user.id)
    await reply(message, shop_views.linked(result, views.main_menu(registry.shown(user.is_seller), f), f))


@router.message(CommandStart())
async def cmd_start(message: Message, state: FSMContext, db: Database, user: UserRow, f: Fmt) -> None:
    await leave_flow_from_message(message, state, db, f)
    await reply(message, views.main_menu(registry.shown(user.is_seller), f, first_name=user.first_name, greet=True))


@router.message(Command("menu"))
async def cmd_menu(message: Message, state: FSMContext, db: Database, user: UserRow, f: Fmt) -> None:
    await leave_flow_from_message(message, state, db, f)
    await reply(message, views.main_menu(registry.shown(user.is_seller), f))


@router.message(Command("seller"), flags=answered_by(_refused_then_menu))
async def cmd_seller(message: Message, state: FSMContext, db: Database, user: UserRow,
                     seller_mode: SellerModeService, relay: RelayService, f: Fmt) -> None:
    await leave_flow_from_message(message, state, db, f)
    await reply(message, await seller_menu_screen(user.id, seller_mode, relay, f))


@router.message(Command("help"))
async def cmd_help(message: Message, user: UserRow, f: Fmt) -> None:
    await reply(message, help_views.help_screen(f, seller=user.is_seller))


@router.message(Command("privacy"))
async def cmd_privacy(message: Message, f: Fmt, privacy_url: str | None = None, forget_days: int = 30) -> None:
    await reply(message, help_views.privacy_screen(f, privacy_url, forget_days))


@router.message(Command("settings"))
async def cmd_settings(
    message: Message, state: FSMContext, db: Database, user: UserRow, f: Fmt, clock: Clock
) -> None:
    await leave_flow_from_message(message, state, db, f)
    await reply(message, settings_views.settings_screen(
        f, locale=user.locale, zone=user.time_zone, now=clock.now()
    ))


@router.message(Command("cancel"))
async def cmd_cancel(message: Message, state: FSMContext, db: Database, user: UserRow, f: Fmt) -> None:
    left = await leave_flow(state, db)
    note = (views.nothing_to_cancel(f) if left is None else views.conversation_left(f) if sent_as_typed(left)
            else views.cancelled(f))
    # a flow may have shown a reply keyboard (e.g. "Share my number"): remove it
    await message.answer(note, reply_markup=ReplyKeyboardRemove())
    await reply(message, views.main_menu(registry.shown(user.is_seller), f))


@router.callback_query(NavCb.filter(F.action == NavAction.menu))
async def nav_menu(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow, f: Fmt) -> None:
    shown = await reply_keyboard_shown(state)
    left = await leave_flow(state, db)
    await _show_menu(query, f, views.main_menu(registry.shown(user.is_seller), f), keyboard_shown=shown,
                     note=views.cancelled(f) if drops_a_draft(left) and not shown else None)


async def _show_menu(query: CallbackQuery, f: Fmt, screen: Screen, *, keyboard_shown: bool,
                     note: str | None = None) -> None:
    """The main menu from a button. A reply keyboard a flow showed goes only with a new message:
    that message says the flow is over, and the menu comes below it."""
    if not keyboard_shown:
        await show(query, screen, note)
        return
    assert query.bot is not None
    await query.bot.send_message(
        chat_id=query.from_user.id, text=views.cancelled(f), reply_markup=ReplyKeyboardRemove()
    )
    await query.bot.send_message(chat_id=query.from_user.id, **screen.as_kwargs())
    await query.answer(note)


@router.callback_query(NavCb.filter(F.action == NavAction.cancel))
async def nav_cancel(query: CallbackQuery, state: FSMContext, raw_state: str | None, db: Database, user: UserRow,
                     f: Fmt) -> None:
    if has_own_cancel(raw_state):
        raise SkipHandler()  # the flow's own Cancel returns where it was opened
    shown = await reply_keyboard_shown(state)
    was_in_flow = await leave_flow(state, db)
    screen = views.main_menu(registry.shown(user.is_seller), f)
    if was_in_flow and not shown:
        screen = Screen(views.cancelled(f) + "\n\n" + screen.text, screen.reply_markup)
    await _show_menu(query, f, screen, keyboard_shown=shown, note=views.cancelled(f) if was_in_flow or shown else None)
