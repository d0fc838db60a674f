"""Seller mode: the seller's menu (/seller, or "🏪 Seller mode" in the main menu, shown to sellers
only), reviews to answer, disputes to answer and orders to ship, and their steps as flow tables:

    answer a review:        reply text → published
    reject a dispute:       reason → sent          offer a partial refund: amount → sent
    mark an order shipped:  track number → carrier (buttons) → shipped

Becoming a seller (`/start s_<token>`) and `/seller` are commands (bot/handlers/commands.py).
The menu's Conversations button belongs to the relay (bot/handlers/relay.py).

Every id from a button goes through `SellerModeService`, which looks it up through the seller: a
review, dispute or order of another store (or a forged id) is "no longer available" and the list;
an account that sells for no store is told so and gets the main menu.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import NoReturn, TypeVar

from aiogram import F
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery

from bot import menu as registry
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import refusals
from bot.handlers.common import show
from bot.handlers.flow import Button, Draft, Flow, Stale, Step, finish
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb
from bot.keyboards.seller import SellerAction, SellerCb, SellerStepCb, StepAction
from bot.middlewares.card_guard import takes_track_numbers
from bot.services import money
from bot.services.disputes import SellerAnswer, check_return_address, clean_reason
from bot.services.errors import DomainError, NotFound
from bot.services.relay.conversations import RelayService
from bot.services.seller import (
    NotASeller,
    SellerModeService,
    UnknownCarrier,
    check_carrier,
    check_offer,
)
from bot.services.track_numbers import check_track
from bot.views import menu as menu_views
from bot.views import seller as views
from bot.views.common import Fmt, Screen, noted

router = Handlers("seller", views.MENU_LABEL, order=90, sellers_only=True)


class ReplyFlow(StatesGroup):
    text = State()


class DisputeAnswerFlow(StatesGroup):
    reason = State()
    amount = State()
    address = State()  # accepting a return: where the item goes back to
    problem = State()  # a return that did not come back as sent: the store's reason


PROBLEM = "problem"  # the dispute step's draft: a return that did not come back as sent


class ShipFlow(StatesGroup):
    track = State()
    carrier = State()


takes_track_numbers(ShipFlow.track)  # Russian Post's 14 digits are not a card number here


def _on(*actions: SellerAction):
    return SellerCb.filter(F.action.in_(set(actions)))


# -- screens the handlers share ------------------------------------------------------------------------
async def menu_screen(user_id: int, seller_mode: SellerModeService, relay: RelayService, f: Fmt,
                      note: str | None = None) -> Screen:
    """The seller's menu (NotASeller when the account sells for no store)."""
    home = await seller_mode.home(user_id)
    return views.seller_menu(home, await relay.unread(user_id, as_seller=True), f, note)


_LISTS = {
    SellerAction.reviews: (SellerModeService.reviews, views.reviews_list),
    SellerAction.disputes: (SellerModeService.disputes, views.disputes_list),
    SellerAction.orders: (SellerModeService.orders, views.orders_list),
}
# the list each screen (and each step) belongs to
_SECTION = {
    SellerAction.review: SellerAction.reviews, SellerAction.answer: SellerAction.reviews,
    SellerAction.dispute: SellerAction.disputes, SellerAction.accept: SellerAction.disputes,
    SellerAction.accept_ok: SellerAction.disputes, SellerAction.reject: SellerAction.disputes,
    SellerAction.offer: SellerAction.disputes, SellerAction.received: SellerAction.disputes,
    SellerAction.received_ok: SellerAction.disputes, SellerAction.problem: SellerAction.disputes,
    SellerAction.order: SellerAction.orders, SellerAction.ship: SellerAction.orders,
}
_FLOW_SECTION = {ReplyFlow.__full_group_name__: SellerAction.reviews,
                 DisputeAnswerFlow.__full_group_name__: SellerAction.disputes,
                 ShipFlow.__full_group_name__: SellerAction.orders}


async def list_screen(action: SellerAction, user_id: int, seller_mode: SellerModeService, f: Fmt, page: int = 0,
                      note: str | None = None) -> Screen:
    read, view = _LISTS[action]
    return view(await read(seller_mode, user_id, page), f, note)  # type: ignore[operator]


async def item_screen(action: SellerAction, item_id: int, user_id: int, seller_mode: SellerModeService, f: Fmt,
                      page: int = 0) -> Screen:
    """A review, dispute or order of the seller's, by the list it belongs to."""
    if action == SellerAction.reviews:
        return views.review_screen(await seller_mode.review(user_id, item_id), f, page)
    if action == SellerAction.disputes:
        return views.dispute_screen(await seller_mode.dispute(user_id, item_id), f, page)
    return views.order_screen(await seller_mode.order(user_id, item_id), f, page)


async def _leave_flow(state: FSMContext, db: Database, raw_state: str | None) -> None:
    if raw_state is not None and raw_state.split(":", 1)[0] in _FLOW_SECTION:
        async with db.write():
            await state.clear()


async def refusal_screen(error: DomainError, section: SellerAction | None, item_id: int, page: int, user: UserRow,
                         seller_mode: SellerModeService, relay: RelayService, f: Fmt) -> tuple[Screen, str]:
    """Seller mode's one answer to a refusal, as (screen, note): not a seller → the main menu; a
    review, dispute or order that is not (or no longer) the seller's → its list; anything else (the
    dispute moved on, the order shipped meanwhile) → the item as it is now, with why."""
    note = f.error(error)
    if not isinstance(error, NotASeller):
        if section is not None and item_id and not isinstance(error, NotFound):
            with suppress(NotFound):
                return await item_screen(section, item_id, user.id, seller_mode, f, page), note
        with suppress(NotASeller):
            if section is not None:
                return await list_screen(section, user.id, seller_mode, f, page), note
            return await menu_screen(user.id, seller_mode, relay, f), note
    # not a seller (or unlinked meanwhile)
    return menu_views.main_menu(registry.shown(False), f), views.not_a_seller(f)


async def refused(query: CallbackQuery, error: DomainError, state: FSMContext, db: Database,
                  raw_state: str | None, seller_mode: SellerModeService, relay: RelayService, user: UserRow,
                  f: Fmt, callback_data: CallbackData | None = None) -> None:
    """A refused press: the refusal's screen with the reason in an alert; a step in progress is left."""
    section = _FLOW_SECTION.get((raw_state or "").split(":", 1)[0])
    item_id, page = 0, 0
    if isinstance(callback_data, SellerCb):
        action = callback_data.action
        section = _SECTION.get(action) or (action if action in _LISTS else None)
        item_id, page = callback_data.id, callback_data.page
    elif section is not None:  # a step's button: the item of the step
        draft = await state.get_data()
        item_id, page = int(draft.get("id") or 0), int(draft.get("page") or 0)
    await _leave_flow(state, db, raw_state)
    screen, note = await refusal_screen(error, section, item_id, page, user, seller_mode, relay, f)
    await show(query, screen, note, alert=True)


Item = TypeVar("Item")  # a review, a dispute or an order of the seller's


async def _finish(draft: Draft, f: Fmt, state: FSMContext, db: Database, seller_mode: SellerModeService,
                  relay: RelayService, user: UserRow, act: Callable[[int], Awaitable[Item]],
                  screen: Callable[[Item, Fmt, int], Screen], note: Callable[[Item], str]) -> NoReturn:
    """The last step of a flow saves — `act` on the item of the draft, then its `screen` with
    `note` — and a refusal other than a wrong answer leaves the step for the item (or its list)
    with why."""

    async def save() -> Screen:
        item = await act(int(draft["id"]))
        return noted(screen(item, f, int(draft.get("page") or 0)), note(item))

    async def refused(error: DomainError) -> Screen:
        section = SellerAction(str(draft.get("section", SellerAction.reviews.value)))
        shown, why = await refusal_screen(error, section, int(draft.get("id") or 0), int(draft.get("page") or 0),
                                          user, seller_mode, relay, f)
        return noted(shown, why)

    await finish(state, db, save, refused)


refusals(router.callback_query, refused)


# -- the menu and the lists -----------------------------------------------------------------------------
@router.callback_query(MenuCb.filter(F.section == "seller"))
@router.callback_query(_on(SellerAction.menu))
async def open_menu(query: CallbackQuery, seller_mode: SellerModeService, relay: RelayService, user: UserRow,
                    f: Fmt) -> None:
    await show(query, await menu_screen(user.id, seller_mode, relay, f))


@router.callback_query(_on(*_LISTS))
async def open_list(query: CallbackQuery, callback_data: SellerCb, seller_mode: SellerModeService, user: UserRow,
                    f: Fmt) -> None:
    await show(query, await list_screen(callback_data.action, user.id, seller_mode, f, callback_data.page))


@router.callback_query(_on(SellerAction.noop))
async def noop(query: CallbackQuery) -> None:
    await query.answer()


@router.callback_query(_on(SellerAction.review, SellerAction.dispute, SellerAction.order))
async def open_item(query: CallbackQuery, callback_data: SellerCb, seller_mode: SellerModeService, user: UserRow,
                    f: Fmt) -> None:
    section = _SECTION[callback_data.action]
    await show(query, await item_screen(section, callback_data.id, user.id, seller_mode, f, callback_data.page))


# -- answering a review ---------------------------------------------------------------------------------
async def _back_to_item(query: CallbackQuery, draft: Draft, seller_mode: SellerModeService, user: UserRow,
                        f: Fmt) -> None:
    """Back from a flow's first step, or its Cancel: the review, dispute or order it was about."""
    section = SellerAction(str(draft.get("section", SellerAction.reviews.value)))
    page = int(draft.get("page") or 0)
    try:
        screen = await item_screen(section, int(draft.get("id") or 0), user.id, seller_mode, f, page)
    except NotFound:
        screen = await list_screen(section, user.id, seller_mode, f, page)
    await show(query, screen)


async def _published(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database,
                     seller_mode: SellerModeService, relay: RelayService, user: UserRow) -> Draft:
    await _finish(draft, f, state, db, seller_mode, relay, user,
                  lambda review_id: seller_mode.answer_review(user.id, review_id, text),
                  views.review_screen, lambda _: views.reply_sent(f))


def _item_flow(group: type[StatesGroup], *steps: Step, strays: bool = False) -> Flow:
    """A seller's flow about one review, dispute or order: Back from its first step and Cancel
    return to the item; its last step saves (`_finish`), so there is no summary."""
    return Flow(group, SellerStepCb, steps=steps, summary=None, leave=_back_to_item, cancel=_back_to_item,
                outside=views.STEP_OVER, strays=strays).install(router)


REPLY = _item_flow(ReplyFlow, Step(ReplyFlow.text, views.step_reply, views.REPLY_EXPECTED, text=_published))


@router.callback_query(_on(SellerAction.answer))
async def answer_review(query: CallbackQuery, callback_data: SellerCb, state: FSMContext, db: Database,
                        seller_mode: SellerModeService, user: UserRow, f: Fmt) -> None:
    review = await seller_mode.review(user.id, callback_data.id)
    if review.answered:
        await show(query, views.review_screen(review, f, callback_data.page), views.already_answered(f), alert=True)
        return
    draft = {"section": SellerAction.reviews.value, "id": review.id, "page": callback_data.page,
             "title": review.title}
    await show(query, await REPLY.start(state, db, draft, f))


# -- answering a dispute --------------------------------------------------------------------------------
async def _dispute_done(draft: Draft, answer: SellerAnswer, f: Fmt, state: FSMContext, db: Database,
                        seller_mode: SellerModeService, relay: RelayService, user: UserRow, *,
                        offer: int | None = None, note: str | None = None) -> NoReturn:
    await _finish(draft, f, state, db, seller_mode, relay, user,
                  lambda dispute_id: seller_mode.answer_dispute(user.id, dispute_id, answer, offer_minor=offer,
                                                                note=note),
                  views.dispute_screen, lambda dispute: views.dispute_answered(f, answer, dispute.is_return))


async def _reason(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database, seller_mode: SellerModeService,
                  relay: RelayService, user: UserRow) -> Draft:
    await _dispute_done(draft, SellerAnswer.reject, f, state, db, seller_mode, relay, user, note=clean_reason(text))


async def _offer(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database, seller_mode: SellerModeService,
                 relay: RelayService, user: UserRow) -> Draft:
    most = int(draft.get("most") or draft.get("asked") or 0)
    amount = check_offer(money.parse_amount(text, str(draft.get("currency", "USD"))), most)
    await _dispute_done(draft, SellerAnswer.offer, f, state, db, seller_mode, relay, user, offer=amount)


async def _return_address(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database,
                          seller_mode: SellerModeService, relay: RelayService, user: UserRow) -> Draft:
    await _dispute_done(draft, SellerAnswer.accept, f, state, db, seller_mode, relay, user,
                        note=check_return_address(text))


async def _problem(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database,
                   seller_mode: SellerModeService, relay: RelayService, user: UserRow) -> Draft:
    reason = clean_reason(text)
    await _finish(draft, f, state, db, seller_mode, relay, user,
                  lambda dispute_id: seller_mode.return_problem(user.id, dispute_id, reason),
                  views.dispute_screen, lambda _: views.problem_reported(f))


DISPUTE = _item_flow(
    DisputeAnswerFlow,
    Step(DisputeAnswerFlow.reason, views.step_reason, views.REASON_EXPECTED, text=_reason,
         when=lambda draft: draft.get("answer") == SellerAnswer.reject.value),
    Step(DisputeAnswerFlow.amount, views.step_offer, views.AMOUNT_EXPECTED, text=_offer,
         when=lambda draft: draft.get("answer") == SellerAnswer.offer.value),
    Step(DisputeAnswerFlow.address, views.step_return_address, views.ADDRESS_EXPECTED, text=_return_address,
         when=lambda draft: draft.get("answer") == SellerAnswer.accept.value),
    Step(DisputeAnswerFlow.problem, views.step_problem, views.REASON_EXPECTED, text=_problem,
         when=lambda draft: draft.get("answer") == PROBLEM),
)


@router.callback_query(_on(SellerAction.accept, SellerAction.reject, SellerAction.offer))
async def answer_dispute(query: CallbackQuery, callback_data: SellerCb, state: FSMContext, db: Database,
                         seller_mode: SellerModeService, user: UserRow, f: Fmt) -> None:
    dispute = await seller_mode.dispute(user.id, callback_data.id)
    page = callback_data.page
    if not dispute.can_answer or (callback_data.action == SellerAction.offer and not dispute.can_offer):
        await show(query, views.dispute_screen(dispute, f, page), views.moved_on(f), alert=True)
        return
    if callback_data.action == SellerAction.accept and not dispute.is_return:
        await show(query, views.accept_confirm(dispute, f, page))
        return
    answer = {SellerAction.accept: SellerAnswer.accept, SellerAction.reject: SellerAnswer.reject,
              SellerAction.offer: SellerAnswer.offer}[callback_data.action]
    draft = {"section": SellerAction.disputes.value, "id": dispute.id, "page": page, "answer": answer.value,
             "number": dispute.number, "currency": dispute.currency, "asked": dispute.amount_minor,
             "most": dispute.accept_minor}
    await show(query, await DISPUTE.start(state, db, draft, f))


@router.callback_query(_on(SellerAction.accept_ok))
async def accept_dispute(query: CallbackQuery, callback_data: SellerCb, seller_mode: SellerModeService,
                         user: UserRow, f: Fmt) -> None:
    dispute = await seller_mode.answer_dispute(user.id, callback_data.id, SellerAnswer.accept)
    await show(query, views.dispute_screen(dispute, f, callback_data.page), views.dispute_answered(
        f, SellerAnswer.accept, refunded=bool(dispute.refund_minor)))


@router.callback_query(_on(SellerAction.problem))
async def report_problem(query: CallbackQuery, callback_data: SellerCb, state: FSMContext, db: Database,
                         seller_mode: SellerModeService, user: UserRow, f: Fmt) -> None:
    dispute = await seller_mode.dispute(user.id, callback_data.id)
    if not dispute.can_report_problem:
        await show(query, views.dispute_screen(dispute, f, callback_data.page), views.moved_on(f), alert=True)
        return
    draft = {"section": SellerAction.disputes.value, "id": dispute.id, "page": callback_data.page,
             "answer": PROBLEM, "number": dispute.number}
    await show(query, await DISPUTE.start(state, db, draft, f))


@router.callback_query(_on(SellerAction.received))
async def confirm_received(query: CallbackQuery, callback_data: SellerCb, seller_mode: SellerModeService,
                           user: UserRow, f: Fmt) -> None:
    dispute = await seller_mode.dispute(user.id, callback_data.id)
    if not dispute.can_confirm_return:
        await show(query, views.dispute_screen(dispute, f, callback_data.page), views.moved_on(f), alert=True)
        return
    await show(query, views.received_confirm(dispute, f, callback_data.page))


@router.callback_query(_on(SellerAction.received_ok))
async def received(query: CallbackQuery, callback_data: SellerCb, seller_mode: SellerModeService,
                   user: UserRow, f: Fmt) -> None:
    dispute = await seller_mode.return_received(user.id, callback_data.id)
    await show(query, views.dispute_screen(dispute, f, callback_data.page), views.refunded_on_return(f, dispute))


# -- shipping an order ----------------------------------------------------------------------------------
def _track(text: str, draft: Draft, f: Fmt) -> Draft:
    return {**draft, "track": check_track(text)}


async def _carrier(value: str, draft: Draft, f: Fmt, state: FSMContext, db: Database,
                   seller_mode: SellerModeService, relay: RelayService, user: UserRow) -> Draft:
    try:
        carrier = check_carrier(value)
    except UnknownCarrier:
        raise Stale from None  # a forged value: the engine says the button is no longer active
    await _finish(draft, f, state, db, seller_mode, relay, user,
                  lambda order_id: seller_mode.ship(user.id, order_id, str(draft.get("track", "")), carrier),
                  views.order_screen, lambda _: views.shipped(f))


SHIP = _item_flow(
    ShipFlow,
    Step(ShipFlow.track, views.step_track, views.TRACK_EXPECTED, text=_track),
    Step(ShipFlow.carrier, views.step_carrier, views.CARRIER_EXPECTED, buttons={StepAction.carrier: Button(_carrier)}),
    strays=True,
)


@router.callback_query(_on(SellerAction.ship))
async def ship(query: CallbackQuery, callback_data: SellerCb, state: FSMContext, db: Database,
               seller_mode: SellerModeService, user: UserRow, f: Fmt) -> None:
    order = await seller_mode.check_can_ship(user.id, callback_data.id)
    draft = {"section": SellerAction.orders.value, "id": order.id, "page": callback_data.page,
             "number": order.number}
    await show(query, await SHIP.start(state, db, draft, f))


