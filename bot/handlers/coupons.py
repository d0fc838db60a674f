"""My coupons: the wallet's tabs, a coupon's or certificate's card, and "Enter a code"."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import refusals
from bot.handlers.common import ask, reply, show
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.keyboards.coupons import CouponAction, CouponCb
from bot.middlewares.card_guard import asks_again
from bot.services.clock import Clock
from bot.services.coupons import CouponService, Redeemed, Tab
from bot.services.errors import N_, DomainError
from bot.views import coupons as views
from bot.views.common import Fmt, Screen

router = Handlers("coupons", N_("🎟 Coupons"), order=40)


class CodeFlow(StatesGroup):
    typing = State()


async def _leave_code_flow(state: FSMContext, db: Database) -> None:
    if await state.get_state() == CodeFlow.typing.state:
        async with db.write():
            await state.clear()


async def _wallet(user: UserRow, coupons: CouponService, f: Fmt, tab: Tab = Tab.active,
                  page: int = 0) -> Screen:
    return views.wallet_screen(await coupons.wallet(user.id, tab, page), f)


@router.callback_query(MenuCb.filter(F.section == "coupons"))
async def open_wallet(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                      coupons: CouponService, f: Fmt) -> None:
    await _leave_code_flow(state, db)
    await show(query, await _wallet(user, coupons, f))


@router.callback_query(CouponCb.filter(F.action == CouponAction.tab))
async def open_tab(query: CallbackQuery, callback_data: CouponCb, state: FSMContext, db: Database,
                   user: UserRow, coupons: CouponService, f: Fmt) -> None:
    await _leave_code_flow(state, db)
    await show(query, await _wallet(user, coupons, f, callback_data.tab, callback_data.page))


def _back(callback_data: CouponCb) -> CouponCb:
    return CouponCb(action=CouponAction.tab, tab=callback_data.tab, page=callback_data.page)


async def coupon_refused(query: CallbackQuery, error: DomainError, callback_data: CallbackData | None, user: UserRow,
                         coupons: CouponService, f: Fmt) -> None:
    """A forged or stale id: say so, and show the list it came from."""
    if not isinstance(callback_data, CouponCb):
        raise error  # not a button of the wallet: the error handler's business, as before
    await show(query, await _wallet(user, coupons, f, callback_data.tab, callback_data.page), f.error(error), alert=True)


refusals(router.callback_query, coupon_refused)


@router.callback_query(CouponCb.filter(F.action == CouponAction.coupon))
async def open_coupon(query: CallbackQuery, callback_data: CouponCb, state: FSMContext,
                      db: Database, user: UserRow, coupons: CouponService, clock: Clock,
                      f: Fmt) -> None:
    await _leave_code_flow(state, db)
    coupon = await coupons.coupon(user.id, callback_data.id)
    await show(query, views.coupon_card(coupon, clock.now(), f, back=_back(callback_data),
                                        for_you=await coupons.for_this_buyer(user.id, coupon)))


@router.callback_query(CouponCb.filter(F.action == CouponAction.certificate))
async def open_certificate(query: CallbackQuery, callback_data: CouponCb, state: FSMContext,
                           db: Database, user: UserRow, coupons: CouponService, f: Fmt) -> None:
    await _leave_code_flow(state, db)
    card = await coupons.certificate(user.id, callback_data.id)
    await show(query, views.certificate_card(card, f, back=_back(callback_data)))


# -- Enter a code -------------------------------------------------------------------------------

@router.callback_query(CouponCb.filter(F.action == CouponAction.code))
async def ask_code(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    await ask(query, state, db, CodeFlow.typing, views.code_prompt(f))


@router.message(CodeFlow.typing, F.text)
async def code_typed(message: Message, state: FSMContext, db: Database, user: UserRow,
                     coupons: CouponService, clock: Clock, f: Fmt) -> None:
    result: Redeemed | None = None
    error: DomainError | None = None
    async with db.write():  # redeem and leave the flow atomically; a failed try is kept too
        try:
            result = await coupons.redeem_code(user.id, message.text or "")
        except DomainError as exc:
            error = exc
        else:
            await state.clear()
    if error is not None or result is None:
        assert error is not None
        await reply(message, views.code_prompt(f, error=views.error_text(error, clock.now(), f)))
        return
    await message.answer(views.redeemed_text(result, clock.now(), f))
    await reply(message, await _wallet(user, coupons, f))


@asks_again(CodeFlow)
async def card_number_removed(message: Message, f: Fmt, warning: str) -> None:
    await reply(message, views.code_prompt(f, error=warning))


@router.message(CodeFlow.typing)
async def code_not_text(message: Message, f: Fmt) -> None:
    await reply(message, views.code_not_text(f))


@router.callback_query(StateFilter(CodeFlow.typing), NavCb.filter(F.action == NavAction.back))
async def code_back(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                    coupons: CouponService, f: Fmt) -> None:
    async with db.write():
        await state.clear()
    await show(query, await _wallet(user, coupons, f))
