"""Returns & disputes: the list and a dispute's card (accept the seller's answer, escalate, photos),
and the flow that opens a dispute on an order:

    reason → description → outcome (→ amount, for a partial refund) → photos → summary → submit

Every step has Back and Cancel; the summary has "Edit <field>", and an edited step returns to the
summary. The draft lives in FSM data (JSON primitives) and survives a restart.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import menu as registry
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.common import reply, send_or_edit, send_photos_then
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.keyboards.disputes import DisputeAction, DisputeCb, DraftAction, DraftCb, DraftField
from bot.keyboards.orders import list_cb
from bot.middlewares.card_guard import asks_again
from bot.services import money
from bot.services.disputes import (
    MAX_PHOTOS,
    DisputeDraft,
    DisputeReason,
    DisputeService,
    Outcome,
    check_amount,
    clean_description,
)
from bot.services.errors import N_, DomainError, NotFound
from bot.services.orders import OrderService
from bot.views import disputes as views
from bot.views import orders as order_views
from bot.views.common import Fmt, Screen

router = Handlers("disputes")
registry.register(registry.MenuEntry("disputes", N_("↩️ Returns & disputes"), order=20))


class DisputeFlow(StatesGroup):
    reason = State()
    description = State()
    outcome = State()
    amount = State()
    photos = State()
    summary = State()


def _on(action: DisputeAction):
    return DisputeCb.filter(F.action == action)


# -- the list and a dispute's card ----------------------------------------------------------------------------
async def show_list(query: CallbackQuery, disputes: DisputeService, user: UserRow, f: Fmt, page: int = 0,
                    note: str | None = None) -> None:
    await send_or_edit(query, views.disputes_list(await disputes.page(user.id, page), f))
    await query.answer(note, show_alert=bool(note))


async def fail(query: CallbackQuery, exc: DomainError, callback_data: DisputeCb, disputes: DisputeService,
               user: UserRow, f: Fmt) -> None:
    """A forged or stale id → the list; anything else → the card as it is now, with the reason."""
    if not isinstance(exc, NotFound):
        with suppress(NotFound):
            card = await disputes.card(user.id, callback_data.id)
            await send_or_edit(query, views.dispute_card(card, f, callback_data.page))
            await query.answer(f.error(exc), show_alert=True)
            return
    await show_list(query, disputes, user, f, note=views.not_found(f))


@router.callback_query(MenuCb.filter(F.section == "disputes"))
async def open_disputes(query: CallbackQuery, disputes: DisputeService, user: UserRow, f: Fmt) -> None:
    await show_list(query, disputes, user, f)


@router.callback_query(_on(DisputeAction.list))
async def open_list(query: CallbackQuery, callback_data: DisputeCb, disputes: DisputeService, user: UserRow,
                    f: Fmt) -> None:
    await show_list(query, disputes, user, f, callback_data.page)


@router.callback_query(_on(DisputeAction.noop))
async def noop(query: CallbackQuery) -> None:
    await query.answer()


@router.callback_query(_on(DisputeAction.open))
async def open_dispute(query: CallbackQuery, callback_data: DisputeCb, disputes: DisputeService, user: UserRow,
                       f: Fmt) -> None:
    try:
        card = await disputes.card(user.id, callback_data.id)
    except DomainError as exc:
        await fail(query, exc, callback_data, disputes, user, f)
        return
    await send_or_edit(query, views.dispute_card(card, f, callback_data.page))
    await query.answer()


@router.callback_query(_on(DisputeAction.accept))
@router.callback_query(_on(DisputeAction.escalate))
async def confirm_step(query: CallbackQuery, callback_data: DisputeCb, disputes: DisputeService, user: UserRow,
                       f: Fmt) -> None:
    try:
        card = await disputes.card(user.id, callback_data.id)
    except DomainError as exc:
        await fail(query, exc, callback_data, disputes, user, f)
        return
    if not card.can_answer:  # a stale button: the dispute moved on
        await send_or_edit(query, views.dispute_card(card, f, callback_data.page))
        await query.answer(f._("The dispute has moved on since; here is where it stands now."), show_alert=True)
        return
    view = views.accept_confirm if callback_data.action == DisputeAction.accept else views.escalate_confirm
    await send_or_edit(query, view(card, f, callback_data.page))
    await query.answer()


# the buyer's answer to the seller, confirmed: accept it (the dispute closes), or ask the platform
_ANSWERS = {
    DisputeAction.accept_ok: (DisputeService.accept_answer, N_("The dispute is closed.")),
    DisputeAction.escalate_ok: (DisputeService.escalate, N_("The platform will decide.")),
}


@router.callback_query(DisputeCb.filter(F.action.in_(set(_ANSWERS))))
async def answer_seller(query: CallbackQuery, callback_data: DisputeCb, disputes: DisputeService, user: UserRow,
                        f: Fmt) -> None:
    act, done = _ANSWERS[callback_data.action]
    try:
        card = await act(disputes, user.id, callback_data.id)
    except DomainError as exc:
        await fail(query, exc, callback_data, disputes, user, f)
        return
    await send_or_edit(query, views.dispute_card(card, f, callback_data.page))
    await query.answer(f._(done))


@router.callback_query(_on(DisputeAction.photos))
async def photos(query: CallbackQuery, callback_data: DisputeCb, disputes: DisputeService, user: UserRow,
                 f: Fmt) -> None:
    try:
        card = await disputes.card(user.id, callback_data.id)
    except DomainError as exc:
        await fail(query, exc, callback_data, disputes, user, f)
        return
    await send_photos_then(query, card.dispute.photos, views.photos_unavailable(f),
                           views.dispute_card(card, f, callback_data.page))


# -- opening a dispute ----------------------------------------------------------------------------------------
async def _order_card_with(query: CallbackQuery, orders: OrderService, user: UserRow, f: Fmt, order_id: int,
                           note: str) -> None:
    """Back to the order (or My orders when it is gone) with a note."""
    try:
        card = await orders.card(user.id, order_id)
    except NotFound:
        await send_or_edit(query, order_views.order_list(await orders.page(user.id), f))
        await query.answer(order_views.not_found(f), show_alert=True)
        return
    await send_or_edit(query, order_views.order_card(card, f, list_cb()))
    await query.answer(note or None, show_alert=bool(note))


@router.callback_query(_on(DisputeAction.start))
async def start(query: CallbackQuery, callback_data: DisputeCb, state: FSMContext, db: Database,
                disputes: DisputeService, orders: OrderService, user: UserRow, f: Fmt) -> None:
    try:
        info = await disputes.start(user.id, callback_data.id)
    except DomainError as exc:
        await _order_card_with(query, orders, user, f, callback_data.id, f.error(exc))
        return
    data = {
        "order_id": info.order_id, "number": info.number, "currency": info.currency,
        "max": info.max_refund_minor, "priority": info.priority, "decide_by": info.decide_by.isoformat(),
        "photos": [],
    }
    async with db.write():
        await state.set_state(DisputeFlow.reason)
        await state.set_data(data)
    await send_or_edit(query, views.step_reason(f, data))
    await query.answer()


async def _go(target: State, state: FSMContext, db: Database, data: dict[str, Any], f: Fmt) -> Screen:
    """Move to a step (writing the draft with it) and return that step's screen."""
    if target == DisputeFlow.summary:
        data["editing"] = False  # an edit ends at the summary
    async with db.write():
        await state.set_state(target)
        await state.set_data(data)
    return _screen(target, data, f)


def _screen(step: State | str | None, data: dict[str, Any], f: Fmt, error: str | None = None) -> Screen:
    name = step.state if isinstance(step, State) else step
    screens = {
        DisputeFlow.reason.state: views.step_reason, DisputeFlow.description.state: views.step_description,
        DisputeFlow.outcome.state: views.step_outcome, DisputeFlow.amount.state: views.step_amount,
        DisputeFlow.photos.state: views.step_photos, DisputeFlow.summary.state: views.summary,
    }
    return screens.get(name or "", views.summary)(f, data, error)


def _after(step: State, data: dict[str, Any]) -> State:
    """The next step; an edit from the summary returns to the summary."""
    if data.get("editing") and step != DisputeFlow.outcome:
        return DisputeFlow.summary
    if step == DisputeFlow.reason:
        return DisputeFlow.description
    if step == DisputeFlow.description:
        return DisputeFlow.outcome
    if step == DisputeFlow.outcome:
        if data.get("outcome") == Outcome.partial_refund:
            return DisputeFlow.amount
        return DisputeFlow.summary if data.get("editing") else DisputeFlow.photos
    if step == DisputeFlow.amount:
        return DisputeFlow.photos
    return DisputeFlow.summary


def _before(step: str | None, data: dict[str, Any]) -> State | None:
    if data.get("editing") and step != DisputeFlow.summary.state:
        return DisputeFlow.summary
    order = {
        DisputeFlow.description.state: DisputeFlow.reason,
        DisputeFlow.outcome.state: DisputeFlow.description,
        DisputeFlow.amount.state: DisputeFlow.outcome,
        DisputeFlow.photos.state: DisputeFlow.amount if data.get("outcome") == Outcome.partial_refund
        else DisputeFlow.outcome,
        DisputeFlow.summary.state: DisputeFlow.photos,
    }
    return order.get(step or "")


@asks_again(DisputeFlow)
async def card_number_removed(message: Message, state: FSMContext, raw_state: str | None, f: Fmt,
                              warning: str) -> None:
    """The guard removed a card number typed into the dispute: the step asks again, the draft as it was."""
    await reply(message, _screen(raw_state, await state.get_data(), f, error=warning))


# step 1: the reason
@router.callback_query(StateFilter(DisputeFlow.reason), DraftCb.filter(F.action == DraftAction.reason))
async def reason_chosen(query: CallbackQuery, callback_data: DraftCb, state: FSMContext, db: Database,
                        f: Fmt) -> None:
    if callback_data.value not in {r.value for r in DisputeReason}:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    data = {**await state.get_data(), "reason": callback_data.value}
    await send_or_edit(query, await _go(_after(DisputeFlow.reason, data), state, db, data, f))
    await query.answer()


@router.message(DisputeFlow.reason)
async def reason_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    await reply(message, views.step_reason(f, await state.get_data(),
                                           error=f._("Please choose the reason with a button.")))


# step 2: the description
@router.message(DisputeFlow.description, F.text)
async def description_typed(message: Message, state: FSMContext, db: Database, f: Fmt) -> None:
    data = await state.get_data()
    try:
        text = clean_description(message.text)
    except DomainError as exc:
        await reply(message, views.step_description(f, data, error=f.error(exc)))
        return
    data["description"] = text
    await reply(message, await _go(_after(DisputeFlow.description, data), state, db, data, f))


@router.message(DisputeFlow.description)
async def description_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    error = f._("Please describe the problem in words; you can add photos in a later step.")
    await reply(message, views.step_description(f, await state.get_data(), error=error))


# step 3: the outcome (and the amount of a partial refund)
@router.callback_query(StateFilter(DisputeFlow.outcome), DraftCb.filter(F.action == DraftAction.outcome))
async def outcome_chosen(query: CallbackQuery, callback_data: DraftCb, state: FSMContext, db: Database,
                         f: Fmt) -> None:
    if callback_data.value not in {o.value for o in Outcome}:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    data = {**await state.get_data(), "outcome": callback_data.value}
    if callback_data.value != Outcome.partial_refund:
        data.pop("amount", None)
    await send_or_edit(query, await _go(_after(DisputeFlow.outcome, data), state, db, data, f))
    await query.answer()


@router.message(DisputeFlow.outcome)
async def outcome_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    await reply(message, views.step_outcome(f, await state.get_data(),
                                            error=f._("Please choose what you want with a button.")))


@router.message(DisputeFlow.amount, F.text)
async def amount_typed(message: Message, state: FSMContext, db: Database, f: Fmt) -> None:
    data = await state.get_data()
    try:
        amount = money.parse_amount(message.text or "", str(data.get("currency", "USD")))
        check_amount(amount, int(data.get("max", 0)))
    except DomainError as exc:
        await reply(message, views.step_amount(f, data, error=f.error(exc)))
        return
    data["amount"] = amount
    await reply(message, await _go(_after(DisputeFlow.amount, data), state, db, data, f))


@router.message(DisputeFlow.amount)
async def amount_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    await reply(message, views.step_amount(f, await state.get_data(),
                                           error=f._("Please type the amount as a number, for example 12.50.")))


# step 4: photos
@router.message(DisputeFlow.photos, F.photo)
async def photo_sent(message: Message, state: FSMContext, db: Database, f: Fmt) -> None:
    data = await state.get_data()
    photos = list(data.get("photos") or [])
    if len(photos) >= MAX_PHOTOS:
        error = f.ngettext("You have already added {n} photo, the most a dispute can have.",
                           "You have already added {n} photos, the most a dispute can have.",
                           MAX_PHOTOS).format(n=MAX_PHOTOS)
        await reply(message, views.step_photos(f, data, error=error))
        return
    assert message.photo
    photos.append(message.photo[-1].file_id)  # the largest size
    data["photos"] = photos
    target = DisputeFlow.summary if len(photos) >= MAX_PHOTOS else DisputeFlow.photos
    await reply(message, await _go(target, state, db, data, f))


@router.message(DisputeFlow.photos)
async def photo_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    error = f._("Please send a photo (as a photo, not a file), or tap “Continue”.")
    await reply(message, views.step_photos(f, await state.get_data(), error=error))


@router.callback_query(StateFilter(DisputeFlow.photos), DraftCb.filter(F.action == DraftAction.photos_done))
async def photos_done(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    data = await state.get_data()
    await send_or_edit(query, await _go(DisputeFlow.summary, state, db, data, f))
    await query.answer()


@router.callback_query(StateFilter(DisputeFlow.photos), DraftCb.filter(F.action == DraftAction.photos_clear))
async def photos_clear(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    data = {**await state.get_data(), "photos": []}
    await send_or_edit(query, await _go(DisputeFlow.photos, state, db, data, f))
    await query.answer(f._("Photos removed."))


# step 5: the summary
@router.message(DisputeFlow.summary)
async def summary_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    await reply(message, views.summary(f, await state.get_data(),
                                       error=f._("Check the dispute below: submit it, or edit a field with a button.")))


@router.callback_query(StateFilter(DisputeFlow.summary), DraftCb.filter(F.action == DraftAction.edit))
async def edit_field(query: CallbackQuery, callback_data: DraftCb, state: FSMContext, db: Database, f: Fmt) -> None:
    steps = {DraftField.reason.value: DisputeFlow.reason, DraftField.description.value: DisputeFlow.description,
             DraftField.outcome.value: DisputeFlow.outcome, DraftField.photos.value: DisputeFlow.photos}
    target = steps.get(callback_data.value)
    if target is None:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    data = {**await state.get_data(), "editing": True}
    await send_or_edit(query, await _go(target, state, db, data, f))
    await query.answer()


@router.callback_query(StateFilter(DisputeFlow.summary), DraftCb.filter(F.action == DraftAction.submit))
async def submit(query: CallbackQuery, state: FSMContext, db: Database, disputes: DisputeService,
                 orders: OrderService, user: UserRow, f: Fmt) -> None:
    data = await state.get_data()
    try:
        draft = DisputeDraft(
            reason=DisputeReason(data.get("reason")), description=str(data.get("description", "")),
            outcome=Outcome(data.get("outcome")), amount_minor=data.get("amount"),
            photos=tuple(str(p) for p in data.get("photos") or []),
        )
        order_id = int(data["order_id"])
    except (KeyError, TypeError, ValueError):  # an incomplete draft: go through the steps again
        await send_or_edit(query, await _go(DisputeFlow.reason, state, db, {**data, "editing": False}, f))
        await query.answer(f._("Some answers are missing; let's go through the steps again."), show_alert=True)
        return
    try:
        async with db.write():  # open the dispute and leave the flow atomically
            dispute = await disputes.open(user.id, order_id, draft)
            await state.clear()
    except DomainError as exc:
        async with db.write():
            await state.clear()
        await _order_card_with(query, orders, user, f, order_id, f.error(exc))
        return
    card = await disputes.card(user.id, dispute.id)
    await send_or_edit(query, views.dispute_card(card, f))
    await query.answer(views.submitted(f), show_alert=True)


# Back on any step
@router.callback_query(StateFilter(DisputeFlow), NavCb.filter(F.action == NavAction.back))
async def back(query: CallbackQuery, state: FSMContext, db: Database, orders: OrderService, user: UserRow,
               f: Fmt) -> None:
    data = await state.get_data()
    previous = _before(await state.get_state(), data)
    if previous is None:  # the first step: back to the order
        async with db.write():
            await state.clear()
        await _order_card_with(query, orders, user, f, int(data.get("order_id") or 0), "")
        return
    await send_or_edit(query, await _go(previous, state, db, data, f))
    await query.answer()


# A button of another step pressed in this one (an older message): show the current step again
@router.callback_query(StateFilter(DisputeFlow), DraftCb.filter())
async def other_step_button(query: CallbackQuery, state: FSMContext, f: Fmt) -> None:
    await send_or_edit(query, _screen(await state.get_state(), await state.get_data(), f))
    await query.answer(f._("This button belongs to another step; here is the current one."))


@router.callback_query(DraftCb.filter())
async def draft_outside_flow(query: CallbackQuery, f: Fmt) -> None:
    await query.answer(f._("This dispute draft is no longer active. Open the order to start again."), show_alert=True)
