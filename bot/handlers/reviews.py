"""Review management: Awaiting review, My reviews, a review's card, and the review flow

    rating → text (optional) → photos (optional) → summary → publish

(the additional review: text → photos → summary). Every step has Back and Cancel; the summary has
"Edit <field>" and an edited step returns to the summary. The draft lives in FSM data.
"""

from __future__ import annotations

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
from bot.keyboards.reviews import (
    EDIT_PHOTOS,
    EDIT_RATING,
    EDIT_TEXT,
    DraftAction,
    ReviewAction,
    ReviewCb,
    ReviewDraftCb,
)
from bot.middlewares.card_guard import asks_again
from bot.services.errors import N_, DomainError
from bot.services.reviews import MAX_PHOTOS, EmptyExtra, ReviewCard, ReviewService, clean_text, parse_rating
from bot.views import reviews as views
from bot.views.common import Fmt, Screen

router = Handlers("reviews")
registry.register(registry.MenuEntry("reviews", N_("⭐ Reviews"), order=30))


class ReviewFlow(StatesGroup):
    rating = State()
    text = State()
    photos = State()
    summary = State()


def _on(action: ReviewAction):
    return ReviewCb.filter(F.action == action)


# -- home, lists and a review's card ----------------------------------------------------------------
async def show_home(query: CallbackQuery, reviews: ReviewService, user: UserRow, f: Fmt) -> None:
    awaiting, mine = await reviews.counts(user.id)
    await send_or_edit(query, views.home(f, awaiting, mine))


async def show_awaiting(query: CallbackQuery, reviews: ReviewService, user: UserRow, f: Fmt, page: int = 0,
                        note: str | None = None) -> None:
    await send_or_edit(query, views.awaiting_list(await reviews.awaiting(user.id, page), f))
    await query.answer(note, show_alert=bool(note))


@router.callback_query(MenuCb.filter(F.section == "reviews"))
@router.callback_query(_on(ReviewAction.home))
async def open_home(query: CallbackQuery, reviews: ReviewService, user: UserRow, f: Fmt) -> None:
    await show_home(query, reviews, user, f)
    await query.answer()


@router.callback_query(_on(ReviewAction.awaiting))
async def open_awaiting(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                        f: Fmt) -> None:
    await show_awaiting(query, reviews, user, f, callback_data.page)


@router.callback_query(_on(ReviewAction.mine))
async def open_mine(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                    f: Fmt) -> None:
    await send_or_edit(query, views.my_reviews(await reviews.mine(user.id, callback_data.page), f))
    await query.answer()


@router.callback_query(_on(ReviewAction.noop))
async def noop(query: CallbackQuery) -> None:
    await query.answer()


async def _review_or_list(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                          f: Fmt) -> ReviewCard | None:
    """The review the button names; a forged or stale one: the list, with why."""
    try:
        return await reviews.review(user.id, callback_data.id)
    except DomainError as exc:
        await send_or_edit(query, views.my_reviews(await reviews.mine(user.id), f))
        await query.answer(views.error_text(f, exc), show_alert=True)
        return None


@router.callback_query(_on(ReviewAction.open))
async def open_review(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                      f: Fmt) -> None:
    card = await _review_or_list(query, callback_data, reviews, user, f)
    if card is not None:
        await send_or_edit(query, views.review_card(card, f, callback_data.page))
        await query.answer()


@router.callback_query(_on(ReviewAction.photos))
async def photos(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                 f: Fmt) -> None:
    card = await _review_or_list(query, callback_data, reviews, user, f)
    if card is not None:
        await send_photos_then(query, (*card.review.photos, *card.review.extra_photos),
                               f._("These photos can't be shown any more."),
                               views.review_card(card, f, callback_data.page))


@router.callback_query(_on(ReviewAction.order))
async def order_reviews(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                        f: Fmt) -> None:
    try:
        number, targets = await reviews.order_targets(user.id, callback_data.id)
    except DomainError as exc:
        await show_awaiting(query, reviews, user, f, note=views.error_text(f, exc))
        return
    await send_or_edit(query, views.order_targets(targets, number, f))
    await query.answer()


# -- the flow ------------------------------------------------------------------------------------------
async def _go(target: State, state: FSMContext, db: Database, data: dict[str, Any], f: Fmt) -> Screen:
    if target == ReviewFlow.summary:
        data["editing"] = False
    async with db.write():
        await state.set_state(target)
        await state.set_data(data)
    return _screen(target, data, f)


def _screen(step: State | str | None, data: dict[str, Any], f: Fmt, error: str | None = None) -> Screen:
    name = step.state if isinstance(step, State) else step
    screens = {
        ReviewFlow.rating.state: views.step_rating, ReviewFlow.text.state: views.step_text,
        ReviewFlow.photos.state: views.step_photos, ReviewFlow.summary.state: views.summary,
    }
    return screens.get(name or "", views.summary)(f, data, error)


def _after(step: State, data: dict[str, Any]) -> State:
    if data.get("editing"):
        return ReviewFlow.summary
    return {ReviewFlow.rating: ReviewFlow.text, ReviewFlow.text: ReviewFlow.photos}.get(step, ReviewFlow.summary)


def _before(step: str | None, data: dict[str, Any]) -> State | None:
    if data.get("editing") and step != ReviewFlow.summary.state:
        return ReviewFlow.summary
    extra = data.get("mode") == "extra"
    return {
        ReviewFlow.text.state: None if extra else ReviewFlow.rating,
        ReviewFlow.photos.state: ReviewFlow.text,
        ReviewFlow.summary.state: ReviewFlow.photos,
    }.get(step or "")


@asks_again(ReviewFlow)
async def card_number_removed(message: Message, state: FSMContext, raw_state: str | None, f: Fmt,
                              warning: str) -> None:
    """The guard removed a card number typed into the review: the step asks again, the draft as it was."""
    await reply(message, _screen(raw_state, await state.get_data(), f, error=warning))


@router.callback_query(_on(ReviewAction.write))
async def start(query: CallbackQuery, callback_data: ReviewCb, state: FSMContext, db: Database,
                reviews: ReviewService, user: UserRow, f: Fmt) -> None:
    try:
        target = await reviews.target(user.id, callback_data.id)
    except DomainError as exc:
        await show_awaiting(query, reviews, user, f, note=views.error_text(f, exc))
        return
    review = target.review
    data = {
        "mode": "review", "item_id": target.item.item_id, "title": target.item.title,
        "review_id": review.id if review else 0, "rating": review.rating if review else 0,
        "text": review.text if review else "", "photos": list(review.photos) if review else [],
    }
    await send_or_edit(query, await _go(ReviewFlow.rating, state, db, data, f))
    await query.answer()


@router.callback_query(_on(ReviewAction.extra))
async def start_extra(query: CallbackQuery, callback_data: ReviewCb, state: FSMContext, db: Database,
                      reviews: ReviewService, user: UserRow, f: Fmt) -> None:
    try:
        card = await reviews.check_extra(user.id, callback_data.id)
    except DomainError as exc:
        await send_or_edit(query, views.my_reviews(await reviews.mine(user.id), f))
        await query.answer(views.error_text(f, exc), show_alert=True)
        return
    data = {"mode": "extra", "review_id": card.review.id, "title": card.review.title, "text": "", "photos": []}
    await send_or_edit(query, await _go(ReviewFlow.text, state, db, data, f))
    await query.answer()


# step 1: the stars
@router.callback_query(StateFilter(ReviewFlow.rating), ReviewDraftCb.filter(F.action == DraftAction.star))
async def star_chosen(query: CallbackQuery, callback_data: ReviewDraftCb, state: FSMContext, db: Database,
                      f: Fmt) -> None:
    if not 1 <= callback_data.value <= 5:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    data = {**await state.get_data(), "rating": callback_data.value}
    await send_or_edit(query, await _go(_after(ReviewFlow.rating, data), state, db, data, f))
    await query.answer()


@router.message(ReviewFlow.rating)
async def rating_expected(message: Message, state: FSMContext, db: Database, f: Fmt) -> None:
    """The stars typed ("5", "пять", "4 stars", "★★★★★") count like a button; anything else is
    asked again."""
    rating = parse_rating(message.text)
    if rating is None:
        await reply(message, views.step_rating(f, await state.get_data(),
                                               error=f._("Please choose from 1 to 5 stars with a button.")))
        return
    data = {**await state.get_data(), "rating": rating}
    await reply(message, await _go(_after(ReviewFlow.rating, data), state, db, data, f))


# step 2: the text
@router.message(ReviewFlow.text, F.text)
async def text_typed(message: Message, state: FSMContext, db: Database, f: Fmt) -> None:
    data = await state.get_data()
    try:
        text = clean_text(message.text)
    except DomainError as exc:
        await reply(message, views.step_text(f, data, error=f.error(exc)))
        return
    data["text"] = text
    await reply(message, await _go(_after(ReviewFlow.text, data), state, db, data, f))


@router.callback_query(StateFilter(ReviewFlow.text), ReviewDraftCb.filter(F.action == DraftAction.skip_text))
async def text_skipped(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    data = await state.get_data()
    await send_or_edit(query, await _go(_after(ReviewFlow.text, data), state, db, data, f))
    await query.answer()


@router.message(ReviewFlow.text)
async def text_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    error = f._("Please write the review as a text message, for example: “Good quality, fast delivery”. Photos come in the next step.")
    await reply(message, views.step_text(f, await state.get_data(), error=error))


# step 3: photos
@router.message(ReviewFlow.photos, F.photo)
async def photo_sent(message: Message, state: FSMContext, db: Database, f: Fmt) -> None:
    data = await state.get_data()
    photos = list(data.get("photos") or [])
    if len(photos) >= MAX_PHOTOS:
        error = f.ngettext("You have already added {n} photo, the most a review can have.",
                           "You have already added {n} photos, the most a review can have.",
                           MAX_PHOTOS).format(n=MAX_PHOTOS)
        await reply(message, views.step_photos(f, data, error=error))
        return
    assert message.photo
    photos.append(message.photo[-1].file_id)
    data["photos"] = photos
    target = ReviewFlow.summary if len(photos) >= MAX_PHOTOS else ReviewFlow.photos
    await reply(message, await _go(target, state, db, data, f))


@router.message(ReviewFlow.photos)
async def photo_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    error = f._("Please send a photo (as a photo, not a file), or tap “Done”.")
    await reply(message, views.step_photos(f, await state.get_data(), error=error))


@router.callback_query(StateFilter(ReviewFlow.photos), ReviewDraftCb.filter(F.action == DraftAction.photos_done))
async def photos_done(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    await send_or_edit(query, await _go(ReviewFlow.summary, state, db, await state.get_data(), f))
    await query.answer()


@router.callback_query(StateFilter(ReviewFlow.photos), ReviewDraftCb.filter(F.action == DraftAction.photos_clear))
async def photos_clear(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    data = {**await state.get_data(), "photos": []}
    await send_or_edit(query, await _go(ReviewFlow.photos, state, db, data, f))
    await query.answer(f._("Photos removed."))


# the summary
@router.message(ReviewFlow.summary)
async def summary_expected(message: Message, state: FSMContext, f: Fmt) -> None:
    await reply(message, views.summary(f, await state.get_data(),
                                       error=f._("Check the review below: publish it, or edit a field with a button.")))


@router.callback_query(StateFilter(ReviewFlow.summary), ReviewDraftCb.filter(F.action == DraftAction.edit))
async def edit_field(query: CallbackQuery, callback_data: ReviewDraftCb, state: FSMContext, db: Database,
                     f: Fmt) -> None:
    data = await state.get_data()
    steps = {EDIT_TEXT: ReviewFlow.text, EDIT_PHOTOS: ReviewFlow.photos}
    if data.get("mode") != "extra":
        steps[EDIT_RATING] = ReviewFlow.rating
    target = steps.get(callback_data.value)
    if target is None:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    data["editing"] = True
    await send_or_edit(query, await _go(target, state, db, data, f))
    await query.answer()


@router.callback_query(StateFilter(ReviewFlow.summary), ReviewDraftCb.filter(F.action == DraftAction.publish))
async def publish(query: CallbackQuery, state: FSMContext, db: Database, reviews: ReviewService, user: UserRow,
                  f: Fmt) -> None:
    data = await state.get_data()
    extra = data.get("mode") == "extra"
    photos_ = [str(p) for p in data.get("photos") or []]
    try:
        async with db.write():  # publish and leave the flow atomically
            if extra:
                card = await reviews.add_extra(user.id, int(data.get("review_id") or 0),
                                               text=str(data.get("text") or ""), photos=photos_)
                note = f._("Your additional review is published.")
            else:
                result = await reviews.publish(user.id, int(data.get("item_id") or 0),
                                               rating=int(data.get("rating") or 0),
                                               text=str(data.get("text") or ""), photos=photos_)
                card, note = result.card, views.published(f, result.created, result.points)
            await state.clear()
    except DomainError as exc:
        if isinstance(exc, EmptyExtra):
            await send_or_edit(query, views.summary(f, data, error=f.error(exc)))
            await query.answer()
            return
        async with db.write():
            await state.clear()
        await show_awaiting(query, reviews, user, f, note=views.error_text(f, exc))
        return
    await send_or_edit(query, views.review_card(card, f))
    await query.answer(note, show_alert=True)


# Back on any step
@router.callback_query(StateFilter(ReviewFlow), NavCb.filter(F.action == NavAction.back))
async def back(query: CallbackQuery, state: FSMContext, db: Database, reviews: ReviewService, user: UserRow,
               f: Fmt) -> None:
    data = await state.get_data()
    previous = _before(await state.get_state(), data)
    if previous is None:  # the first step: back where the flow started
        async with db.write():
            await state.clear()
        if data.get("mode") == "extra" or data.get("review_id"):
            try:
                card = await reviews.review(user.id, int(data.get("review_id") or 0))
            except DomainError:
                await show_awaiting(query, reviews, user, f)
                return
            await send_or_edit(query, views.review_card(card, f))
            await query.answer()
            return
        await show_awaiting(query, reviews, user, f)
        return
    await send_or_edit(query, await _go(previous, state, db, data, f))
    await query.answer()


@router.callback_query(StateFilter(ReviewFlow), ReviewDraftCb.filter())
async def other_step_button(query: CallbackQuery, state: FSMContext, f: Fmt) -> None:
    await send_or_edit(query, _screen(await state.get_state(), await state.get_data(), f))
    await query.answer(f._("This button belongs to another step; here is the current one."))


@router.callback_query(ReviewDraftCb.filter())
async def draft_outside_flow(query: CallbackQuery, f: Fmt) -> None:
    await query.answer(f._("This review draft is no longer active. Open Reviews to start again."), show_alert=True)
