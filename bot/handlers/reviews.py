"""Review management: Awaiting review, My reviews, a review's card, and the review flow

    rating → text (optional) → photos (optional) → summary → publish

(the additional review: text → photos → summary). Every step has Back and Cancel; the summary has
"Edit <field>" and an edited step returns to the summary. The draft lives in FSM data.
"""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import answered_by, refusals
from bot.handlers.common import send_or_edit, send_photos_then, show
from bot.handlers.flow import Button, Draft, Flow, Go, Retry, Stale, Step, Summary, unchanged
from bot.handlers.photo_steps import photo_step
from bot.handlers.routing import Handlers
from bot.keyboards import reviews as keys
from bot.keyboards.common import MenuCb
from bot.keyboards.reviews import DraftAction, ReviewAction, ReviewCb, ReviewDraftCb
from bot.services.errors import N_, DomainError
from bot.services.reviews import MAX_PHOTOS, EmptyExtra, ReviewService, clean_text, parse_rating
from bot.views import reviews as views
from bot.views.common import Fmt

router = Handlers("reviews", N_("⭐ Reviews"), order=30)


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
    await show(query, views.awaiting_list(await reviews.awaiting(user.id, page), f), note, alert=True)


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
    await show(query, views.my_reviews(await reviews.mine(user.id, callback_data.page), f))


@router.callback_query(_on(ReviewAction.noop))
async def noop(query: CallbackQuery) -> None:
    await query.answer()


async def refused(query: CallbackQuery, error: DomainError, reviews: ReviewService, user: UserRow, f: Fmt) -> None:
    """The section's answer to a refusal (a forged or stale review, one that can't take more): My
    reviews, with why."""
    await show(query, views.my_reviews(await reviews.mine(user.id), f), views.error_text(f, error), alert=True)


async def _to_awaiting(query: CallbackQuery, error: DomainError, reviews: ReviewService, user: UserRow,
                       f: Fmt) -> None:
    """An order or an item that can't be reviewed (now): Awaiting review, with why."""
    await show_awaiting(query, reviews, user, f, note=views.error_text(f, error))


refusals(router.callback_query, refused)


@router.callback_query(_on(ReviewAction.open))
async def open_review(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                      f: Fmt) -> None:
    card = await reviews.review(user.id, callback_data.id)
    await show(query, views.review_card(card, f, callback_data.page))


@router.callback_query(_on(ReviewAction.photos))
async def photos(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                 f: Fmt) -> None:
    card = await reviews.review(user.id, callback_data.id)
    await send_photos_then(query, (*card.review.photos, *card.review.extra_photos),
                           f._("These photos can't be shown any more."),
                           views.review_card(card, f, callback_data.page))


@router.callback_query(_on(ReviewAction.order), flags=answered_by(_to_awaiting))
async def order_reviews(query: CallbackQuery, callback_data: ReviewCb, reviews: ReviewService, user: UserRow,
                        f: Fmt) -> None:
    await show(query, views.order_targets(await reviews.order_targets(user.id, callback_data.id), f))


# -- the flow ------------------------------------------------------------------------------------------
def _star(value: int, draft: Draft, f: Fmt) -> Draft:
    if not 1 <= value <= 5:
        raise Stale
    return {**draft, "rating": value}


def _keep_stars(value: object, draft: Draft, f: Fmt) -> Draft:
    """An additional review's "Keep": the stars as they were (only there is there a "were")."""
    if not draft.get("was"):
        raise Stale
    return {**draft, "rating": int(draft["was"])}


def _stars_typed(text: str, draft: Draft, f: Fmt) -> Draft | Go:
    """The stars typed ("5", "пять", "4 stars", "★★★★★") count like a button. In an additional
    review, words that are not stars are its text: the stars are kept, and the photos come next."""
    rating = parse_rating(text)
    if rating is not None:
        return {**draft, "rating": rating}
    if draft.get("was") and text.strip():
        return Go({**draft, "rating": int(draft["was"]), "text": clean_text(text)}, to=ReviewFlow.photos)
    raise Retry(f._(RATING_EXPECTED))


def _text(text: str, draft: Draft, f: Fmt) -> Draft:
    return {**draft, "text": clean_text(text)}


def _too_many_photos(f: Fmt) -> str:
    return f.ngettext("You have already added {n} photo, the most a review can have.",
                      "You have already added {n} photos, the most a review can have.",
                      MAX_PHOTOS).format(n=MAX_PHOTOS)


async def _back_out(query: CallbackQuery, draft: Draft, reviews: ReviewService, user: UserRow, f: Fmt) -> None:
    """Back from the first step: the review being changed, or Awaiting review."""
    if draft.get("mode") == "extra" or draft.get("review_id"):
        try:
            card = await reviews.review(user.id, int(draft.get("review_id") or 0))
        except DomainError:
            await show_awaiting(query, reviews, user, f)
            return
        await show(query, views.review_card(card, f))
        return
    await show_awaiting(query, reviews, user, f)


async def _publish(query: CallbackQuery, draft: Draft, state: FSMContext, db: Database, reviews: ReviewService,
                   user: UserRow, f: Fmt) -> None:
    extra = draft.get("mode") == "extra"
    photos_ = [str(p) for p in draft.get("photos") or []]
    try:
        async with db.write():  # publish and leave the flow atomically
            if extra:
                card = await reviews.add_extra(user.id, int(draft.get("review_id") or 0),
                                               text=str(draft.get("text") or ""), photos=photos_,
                                               rating=int(draft.get("rating") or 0) or None)
                note = f._("Your additional review is published.")
            else:
                result = await reviews.publish(user.id, int(draft.get("item_id") or 0),
                                               rating=int(draft.get("rating") or 0),
                                               text=str(draft.get("text") or ""), photos=photos_)
                card, note = result.card, views.published(f, result.created, result.points)
            await state.clear()
    except DomainError as exc:
        if isinstance(exc, EmptyExtra):
            await show(query, views.summary(f, draft, error=f.error(exc)))
            return
        async with db.write():
            await state.clear()
        await show_awaiting(query, reviews, user, f, note=views.error_text(f, exc))
        return
    await show(query, views.review_card(card, f), note, alert=True)


TEXT_EXPECTED = N_("Please write the review as a text message, for example: “Good quality, fast delivery”. "
                   "Photos come in the next step.")
RATING_EXPECTED = N_("Please choose from 1 to 5 stars with a button.")

FLOW = Flow(
    ReviewFlow, ReviewDraftCb, leave=_back_out,
    outside=N_("This review draft is no longer active. Open Reviews to start again."),
    steps=(
        Step(ReviewFlow.rating, views.step_rating, RATING_EXPECTED, text=_stars_typed,
             buttons={DraftAction.star: Button(_star), DraftAction.keep_stars: Button(_keep_stars)}),
        Step(ReviewFlow.text, views.step_text,
             TEXT_EXPECTED,
             text=_text, buttons={DraftAction.skip_text: Button(unchanged)}),
        photo_step(ReviewFlow.photos, views.step_photos,
                   N_("Please send a photo (as a photo, not a file), or tap “Done”."),
                   MAX_PHOTOS, _too_many_photos, done=DraftAction.photos_done, clear=DraftAction.photos_clear),
    ),
    summary=Summary(
        ReviewFlow.summary, views.summary, N_("Check the review below: publish it, or edit a field with a button."),
        edit=DraftAction.edit, done=DraftAction.publish, finish=_publish,
        fields={keys.EDIT_RATING: ReviewFlow.rating, keys.EDIT_TEXT: ReviewFlow.text,
                keys.EDIT_PHOTOS: ReviewFlow.photos},
    ),
).install(router)


@router.callback_query(_on(ReviewAction.write), flags=answered_by(_to_awaiting))
async def start(query: CallbackQuery, callback_data: ReviewCb, state: FSMContext, db: Database,
                reviews: ReviewService, user: UserRow, f: Fmt) -> None:
    target = await reviews.target(user.id, callback_data.id)
    review = target.review
    data = {
        "mode": "review", "item_id": target.item.item_id, "title": target.item.title,
        "review_id": review.id if review else 0, "rating": review.rating if review else 0,
        "text": review.text if review else "", "photos": list(review.photos) if review else [],
    }
    await show(query, await FLOW.start(state, db, data, f))


@router.callback_query(_on(ReviewAction.extra))
async def start_extra(query: CallbackQuery, callback_data: ReviewCb, state: FSMContext, db: Database,
                      reviews: ReviewService, user: UserRow, f: Fmt) -> None:
    card = await reviews.check_extra(user.id, callback_data.id)
    data = {"mode": "extra", "review_id": card.review.id, "title": card.review.title, "text": "", "photos": [],
            "rating": card.review.rating, "was": card.review.rating}
    await show(query, await FLOW.start(state, db, data, f))
