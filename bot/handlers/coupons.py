"""My coupons: the wallet's tabs, a coupon's or certificate's card, and "Enter a code"."""

from __future__ import annotations

from typing import NoReturn

from aiogram import F
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import refusals
from bot.handlers.common import show
from bot.handlers.flow import Done, Draft, Retry, question
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb
from bot.keyboards.coupons import CouponAction, CouponCb
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
async def _to_wallet(query: CallbackQuery, user: UserRow, coupons: CouponService, f: Fmt) -> None:
    """Back from the code: the wallet."""
    await show(query, await _wallet(user, coupons, f))


async def _redeem(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database, user: UserRow,
                  coupons: CouponService, clock: Clock) -> NoReturn:
    result: Redeemed | None = None
    error: DomainError | None = None
    async with db.write():  # redeem and leave the flow atomically; a failed try is kept too
        try:
            result = await coupons.redeem_code(user.id, text)
        except DomainError as exc:
            error = exc
        else:
            await state.clear()
    if error is not None or result is None:
        assert error is not None
        raise Retry(views.error_text(error, clock.now(), f))
    raise Done(Screen(views.redeemed_text(result, clock.now(), f)), await _wallet(user, coupons, f))


CODE = question(router, CodeFlow.typing, views.code_prompt, views.CODE_EXPECTED, _redeem, leave=_to_wallet)


@router.callback_query(CouponCb.filter(F.action == CouponAction.code))
async def ask_code(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    await show(query, await CODE.start(state, db, {}, f))
