"""Returns & disputes: the list and a dispute's card (accept the seller's answer, escalate, photos),
the flow that opens a dispute on an order:

    reason → description → outcome (→ amount, for a partial refund) → photos → summary → submit

and, on a return the seller accepted, the step that says the item was sent back (its track number).

Every step has Back and Cancel; the summary has "Edit <field>", and an edited step returns to the
summary. The draft lives in FSM data (JSON primitives) and survives a restart.
"""

from __future__ import annotations

from contextlib import suppress

from aiogram import F
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import answered_by, refusals
from bot.handlers.common import send_photos_then, show
from bot.handlers.flow import EDITING, Button, Draft, Flow, Go, Stale, Step, Summary, finish
from bot.handlers.photo_steps import photo_step
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb
from bot.keyboards.disputes import DisputeAction, DisputeCb, DraftAction, DraftCb, DraftField
from bot.keyboards.orders import list_cb
from bot.middlewares.card_guard import takes_track_numbers
from bot.services import money
from bot.services.disputes import (
    MAX_PHOTOS,
    DisputeDraft,
    DisputeMovedOn,
    DisputeReason,
    DisputeService,
    NothingToSendBack,
    Outcome,
    SendBackTooLate,
    check_partial_amount,
    clean_description,
    outcomes_for,
)
from bot.services.errors import N_, DomainError, NotFound
from bot.services.orders import OrderService
from bot.views import disputes as views
from bot.views import orders as order_views
from bot.views.common import Fmt, Screen, noted

router = Handlers("disputes", N_("↩️ Returns & disputes"), order=20)


class DisputeFlow(StatesGroup):
    reason = State()
    description = State()
    outcome = State()
    amount = State()
    photos = State()
    summary = State()


class SendBackFlow(StatesGroup):
    track = State()


takes_track_numbers(SendBackFlow.track)  # Russian Post's 14 digits are not a card number here


def _on(action: DisputeAction):
    return DisputeCb.filter(F.action == action)


# -- the list and a dispute's card ----------------------------------------------------------------------------
async def show_list(query: CallbackQuery, disputes: DisputeService, user: UserRow, f: Fmt, page: int = 0,
                    note: str | None = None) -> None:
    await show(query, views.disputes_list(await disputes.page(user.id, page), f), note, alert=True)


async def refused(query: CallbackQuery, error: DomainError, disputes: DisputeService, user: UserRow, f: Fmt,
                  callback_data: CallbackData | None = None) -> None:
    """The section's answer to a refusal: a forged or stale id → the list; anything else → the
    dispute's card as it is now, with the reason."""
    if isinstance(callback_data, DisputeCb) and not isinstance(error, NotFound):
        with suppress(NotFound):
            card = await disputes.card(user.id, callback_data.id)
            await show(query, views.dispute_card(card, f, callback_data.page), f.error(error), alert=True)
            return
    await show_list(query, disputes, user, f, note=views.not_found(f))


refusals(router.callback_query, refused)


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
    card = await disputes.card(user.id, callback_data.id)
    await show(query, views.dispute_card(card, f, callback_data.page))


@router.callback_query(_on(DisputeAction.accept))
@router.callback_query(_on(DisputeAction.escalate))
async def confirm_step(query: CallbackQuery, callback_data: DisputeCb, disputes: DisputeService, user: UserRow,
                       f: Fmt) -> None:
    card = await disputes.card(user.id, callback_data.id)
    if not card.can_answer:  # a stale button: the dispute moved on
        await show(query, views.dispute_card(card, f, callback_data.page),
                   f.error(DisputeMovedOn()), alert=True)
        return
    view = views.accept_confirm if callback_data.action == DisputeAction.accept else views.escalate_confirm
    await show(query, view(card, f, callback_data.page))


# the buyer's answer to the seller, confirmed: accept it (the dispute closes), or ask the platform
_ANSWERS = {
    DisputeAction.accept_ok: (DisputeService.accept_answer, N_("The dispute is closed.")),
    DisputeAction.escalate_ok: (DisputeService.escalate, N_("The platform will decide.")),
}


@router.callback_query(DisputeCb.filter(F.action.in_(set(_ANSWERS))))
async def answer_seller(query: CallbackQuery, callback_data: DisputeCb, disputes: DisputeService, user: UserRow,
                        f: Fmt) -> None:
    act, done = _ANSWERS[callback_data.action]
    card = await act(disputes, user.id, callback_data.id)
    await show(query, views.dispute_card(card, f, callback_data.page), f._(done))


@router.callback_query(_on(DisputeAction.photos))
async def photos(query: CallbackQuery, callback_data: DisputeCb, disputes: DisputeService, user: UserRow,
                 f: Fmt) -> None:
    card = await disputes.card(user.id, callback_data.id)
    await send_photos_then(query, card.dispute.photos, views.photos_unavailable(f),
                           views.dispute_card(card, f, callback_data.page))


# -- a return sent back ------------------------------------------------------------------------------------
async def _back_to_dispute(query: CallbackQuery, draft: Draft, disputes: DisputeService, user: UserRow,
                           f: Fmt) -> None:
    """Back or Cancel in the step: the dispute (the list, when it is gone)."""
    try:
        card = await disputes.card(user.id, int(draft.get("id") or 0))
    except NotFound:
        await show_list(query, disputes, user, f, int(draft.get("page") or 0))
        return
    await show(query, views.dispute_card(card, f, int(draft.get("page") or 0)))


async def _sent_back(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database, disputes: DisputeService,
                     user: UserRow) -> Draft:
    """The track number typed: the return is sent back (a wrong number is asked again); any other
    refusal (the day passed, sent already) leaves the step for the dispute, with why."""
    dispute_id, page = int(draft.get("id") or 0), int(draft.get("page") or 0)

    async def save() -> Screen:
        card = await disputes.send_back(user.id, dispute_id, text)
        return noted(views.dispute_card(card, f, page), views.sent_back(card, f))

    async def refused(error: DomainError) -> Screen:
        try:
            return noted(views.dispute_card(await disputes.card(user.id, dispute_id), f, page), f.error(error))
        except NotFound:
            return noted(views.disputes_list(await disputes.page(user.id, page), f), f.error(error))

    await finish(state, db, save, refused)


SEND_BACK = Flow(
    SendBackFlow, DisputeCb, leave=_back_to_dispute, cancel=_back_to_dispute, strays=False,
    outside=N_("This step is over. Open the dispute to start again."),
    steps=(Step(SendBackFlow.track, views.step_send_back, views.TRACK_EXPECTED, text=_sent_back),),
    summary=None,
).install(router)


@router.callback_query(_on(DisputeAction.send_back))
async def send_back(query: CallbackQuery, callback_data: DisputeCb, state: FSMContext, db: Database,
                    disputes: DisputeService, user: UserRow, f: Fmt) -> None:
    card = await disputes.card(user.id, callback_data.id)
    if not card.can_send_back:  # a stale button: sent already, or the day passed
        why = SendBackTooLate() if card.send_back_missed else DisputeMovedOn()
        await show(query, views.dispute_card(card, f, callback_data.page), f.error(why), alert=True)
        return
    draft = {"id": card.dispute.id, "page": callback_data.page, "number": card.number}
    await show(query, await SEND_BACK.start(state, db, draft, f))


# -- opening a dispute ----------------------------------------------------------------------------------------
async def _order_card_with(query: CallbackQuery, orders: OrderService, user: UserRow, f: Fmt, order_id: int,
                           note: str) -> None:
    """Back to the order (or My orders when it is gone) with a note."""
    try:
        card = await orders.card(user.id, order_id)
    except NotFound:
        await show(query, order_views.order_list(await orders.page(user.id), f), order_views.not_found(f), alert=True)
        return
    await show(query, order_views.order_card(card, f, list_cb()), note or None, alert=True)


def _choose_reason(value: str, draft: Draft, f: Fmt) -> Draft | Go:
    if value not in {r.value for r in DisputeReason}:
        raise Stale
    draft = {**draft, "reason": value}
    if draft.get("outcome") and draft["outcome"] not in outcomes_for(value):  # a return of what never came
        draft["outcome"] = Outcome.full_refund.value  # the nearest there is; shown to be changed, even from
        return Go(draft, to=DisputeFlow.outcome)  # the summary (Back there keeps it: the draft stays whole)
    return draft


def _described(text: str, draft: Draft, f: Fmt) -> Draft:
    return {**draft, "description": clean_description(text)}


def _choose_outcome(value: str, draft: Draft, f: Fmt) -> Draft:
    if value not in outcomes_for(draft.get("reason"), int(draft["max"]) if "max" in draft else None):
        raise Stale
    draft = {**draft, "outcome": value}
    if value != Outcome.partial_refund:
        draft.pop("amount", None)
    return draft


def _amount(text: str, draft: Draft, f: Fmt) -> Draft:
    amount = money.parse_amount(text, str(draft.get("currency", "USD")))
    check_partial_amount(amount, int(draft.get("max", 0)))
    return {**draft, "amount": amount}


def _too_many_photos(f: Fmt) -> str:
    return f.ngettext("You have already added {n} photo, the most a dispute can have.",
                      "You have already added {n} photos, the most a dispute can have.",
                      MAX_PHOTOS).format(n=MAX_PHOTOS)


def _partial(draft: Draft) -> bool:
    return draft.get("outcome") == Outcome.partial_refund


async def _back_to_order(query: CallbackQuery, draft: Draft, orders: OrderService, user: UserRow, f: Fmt) -> None:
    await _order_card_with(query, orders, user, f, int(draft.get("order_id") or 0), "")


async def _submit(query: CallbackQuery, draft: Draft, state: FSMContext, db: Database, disputes: DisputeService,
                  orders: OrderService, user: UserRow, f: Fmt) -> None:
    try:
        dispute_draft = DisputeDraft(
            reason=DisputeReason(draft.get("reason")), description=str(draft.get("description", "")),
            outcome=Outcome(draft.get("outcome")), amount_minor=draft.get("amount"),
            photos=tuple(str(p) for p in draft.get("photos") or []),
        )
        order_id = int(draft["order_id"])
    except (KeyError, TypeError, ValueError):  # an incomplete draft: go through the steps again
        screen = await FLOW.go(DisputeFlow.reason, state, db, {**draft, EDITING: False}, f)
        await show(query, screen, f._("Some answers are missing; let's go through the steps again."), alert=True)
        return
    try:
        async with db.write():  # open the dispute and leave the flow atomically
            dispute = await disputes.open(user.id, order_id, dispute_draft)
            await state.clear()
    except NothingToSendBack as exc:  # a draft from before the rule: the outcome is asked again
        draft = {**draft, "outcome": Outcome.full_refund.value, EDITING: True}
        await show(query, await FLOW.go(DisputeFlow.outcome, state, db, draft, f, f.error(exc)))
        return
    except DomainError as exc:
        async with db.write():
            await state.clear()
        await _order_card_with(query, orders, user, f, order_id, f.error(exc))
        return
    card = await disputes.card(user.id, dispute.id)
    await show(query, views.dispute_card(card, f), views.submitted(f), alert=True)


FLOW = Flow(
    DisputeFlow, DraftCb, leave=_back_to_order,
    outside=N_("This dispute draft is no longer active. Open the order to start again."),
    steps=(
        Step(DisputeFlow.reason, views.step_reason, N_("Please choose the reason with a button."),
             buttons={DraftAction.reason: Button(_choose_reason)}),
        Step(DisputeFlow.description, views.step_description,
             N_("Please describe the problem in words; you can add photos in a later step."),
             text=_described),
        Step(DisputeFlow.outcome, views.step_outcome, N_("Please choose what you want with a button."),
             buttons={DraftAction.outcome: Button(_choose_outcome)}),
        Step(DisputeFlow.amount, views.step_amount, N_("Please type the amount as a number, for example 12.50."),
             text=_amount, when=_partial, with_previous=True),
        photo_step(DisputeFlow.photos, views.step_photos,
                   N_("Please send a photo (as a photo, not a file), or tap “Continue”."),
                   MAX_PHOTOS, _too_many_photos, done=DraftAction.photos_done, clear=DraftAction.photos_clear),
    ),
    summary=Summary(
        DisputeFlow.summary, views.summary,
        N_("Check the dispute below: submit it, or edit a field with a button."),
        edit=DraftAction.edit, done=DraftAction.submit, finish=_submit,
        fields={DraftField.reason.value: DisputeFlow.reason, DraftField.description.value: DisputeFlow.description,
                DraftField.outcome.value: DisputeFlow.outcome, DraftField.photos.value: DisputeFlow.photos},
    ),
).install(router)


async def _not_now(query: CallbackQuery, error: DomainError, callback_data: DisputeCb, orders: OrderService,
                   user: UserRow, f: Fmt) -> None:
    """A dispute can't be opened on the order (now): back to the order, with why."""
    await _order_card_with(query, orders, user, f, callback_data.id, f.error(error))


@router.callback_query(_on(DisputeAction.start), flags=answered_by(_not_now))
async def start(query: CallbackQuery, callback_data: DisputeCb, state: FSMContext, db: Database,
                disputes: DisputeService, user: UserRow, f: Fmt) -> None:
    info = await disputes.start(user.id, callback_data.id)
    draft = {
        "order_id": info.order_id, "number": info.number, "currency": info.currency,
        "max": info.max_refund_minor, "priority": info.priority, "decide_by": info.decide_by.isoformat(),
        "return_days": info.return_days, "fast": info.fast_refund, "photos": [],
    }
    await show(query, await FLOW.start(state, db, draft, f))
