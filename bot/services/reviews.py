"""Reviews of the items of completed orders.

- A review (stars 1–5, text up to 1000 characters, up to 5 photos) can be left — and its rating,
  text and photos edited — within 30 days after the order was completed (the deadline is the
  completion moment + 30 days exactly). Publishing credits 5 points once per item.
- An additional review (text and photos, and new stars when the buyer's opinion changed), once per
  review, within 150 days after completion; the first stars stay on record beside the new ones.
- A seller's reply (the operator command now, the seller relay later) is pushed to the buyer.
- Reminders 7 days and 1 day before the 30-day window closes, for items not reviewed yet: planned
  when the order completes (`on_order_completed`, inside the completion's unit of work) and
  cancelled when the item is reviewed.

Every item and review id is looked up through the user: a review of someone else's item is
impossible.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import catalog as catalog_repo
from bot.db import reviews as repo
from bot.db import seller as seller_repo
from bot.db.engine import Database
from bot.db.orders import OrderRow
from bot.db.reviews import ItemRef, ReviewRow
from bot.services import loyalty, reminders, seller_news, webhook_events
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError, InvalidInput, NotFound
from bot.services.notifications import Category, declare
from bot.services.outbox import enqueue
from bot.services.seller_news import News

REVIEW_WINDOW = timedelta(days=30)
EXTRA_WINDOW = timedelta(days=150)
TEXT_MAX = 1000
REPLY_MAX = 2000
MAX_PHOTOS = 5
PAGE_SIZE = 5
REMIND_BEFORE = (timedelta(days=7), timedelta(days=1))
REPLY_KIND = declare("review_reply", N_("Replies to my reviews"), category=Category.message, order=45)
REMINDER_KIND = declare("review_deadline", N_("Review reminders"), category=Category.reminder, order=46)


class ReviewAnsweredAlready(DomainError, msgid=N_("This review has been answered already, by you or another seller of the store.")): ...


class ReviewNotFound(NotFound, msgid=N_("This item is no longer available for a review.")): ...


class ReviewWindowClosed(DomainError):
    """The 30 (or 150) days have passed; the view states the date."""

    msgid = N_("The time for a review ended on {date}.")

    def __init__(self, deadline: datetime, extra: bool = False) -> None:
        super().__init__(N_("The time for an additional review ended on {date}.") if extra else None)
        self.deadline = deadline


class NotCompleted(DomainError, msgid=N_("A review can be left once the order is completed.")): ...


class ExtraAlreadyAdded(DomainError, msgid=N_("You have already added an additional review to this one.")): ...


class FirstReviewKept(DomainError, msgid=N_("You have added to this review: the first one stays as you wrote it.")):
    """An additional review speaks after the first; editing the first then would rewrite what it answered."""


class TextTooLong(InvalidInput, msgid=N_("A review can be at most {max} characters long; yours has {length}.")): ...


class ReplyTooLong(InvalidInput, msgid=N_("A reply can be at most {max} characters long; yours has {length}.")): ...


class BadRating(InvalidInput, msgid=N_("Please choose from 1 to 5 stars.")): ...


class EmptyExtra(InvalidInput, msgid=N_("An additional review needs some text, a photo or new stars.")): ...


def deadline_of(completed_at: datetime) -> datetime:
    return completed_at + REVIEW_WINDOW


def extra_deadline_of(completed_at: datetime) -> datetime:
    return completed_at + EXTRA_WINDOW


def days_left(deadline: datetime, now: datetime) -> int:
    """Whole days left, rounded up (23 hours left is "1 day left")."""
    return max(0, -(-(deadline - now) // timedelta(days=1)))


def clean_text(text: str | None, limit: int = TEXT_MAX, too_long: type[InvalidInput] = TextTooLong) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise too_long(max=limit, length=len(text))
    return text


# Number words for 1–5 as people type them at the stars question, in English and Russian
# (as a count, an ordinal-free adjective or a school mark).
_RATING_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "один": 1, "одна": 1, "одну": 1, "единица": 1, "кол": 1,
    "два": 2, "две": 2, "двойка": 2,
    "три": 3, "тройка": 3,
    "четыре": 4, "четверка": 4,
    "пять": 5, "пятерка": 5,
}
_STAR_WORDS = frozenset({"star", "stars", "звезда", "звезды", "звезд", "звезду", "из", "of", "5", "пяти", "five"})


def parse_rating(text: str | None) -> int | None:
    """A rating typed at the stars question: "5", "пять", "5 stars", "4 звезды", "★★★★★",
    "4/5", "4 из 5". None when it is not one."""
    raw = unicodedata.normalize("NFKC", text or "").casefold().replace("ё", "е").strip()
    if not raw or len(raw) > 30:
        return None
    stars = [ch for ch in raw if not ch.isspace()]
    if stars and all(ch in "★⭐\ufe0f" for ch in stars):
        count = sum(ch in "★⭐" for ch in stars)
        return count if 1 <= count <= 5 else None
    words = re.sub(r"[/,.!]", " ", raw).split()
    if not words:
        return None
    first = words[0]
    rating = int(first) if first.isdigit() and len(first) == 1 else _RATING_WORDS.get(first)
    if rating is None or not 1 <= rating <= 5 or any(w not in _STAR_WORDS for w in words[1:]):
        return None
    return rating


def check_rating(rating: int) -> int:
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise BadRating()
    return rating


@dataclass(frozen=True, slots=True)
class AwaitingItem:
    item: ItemRef
    deadline: datetime
    days_left: int


@dataclass(frozen=True, slots=True)
class AwaitingPage:
    rows: tuple[AwaitingItem, ...]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class ReviewTarget:
    """An item about to be reviewed (or its review edited)."""

    item: ItemRef
    deadline: datetime
    review: ReviewRow | None


@dataclass(frozen=True, slots=True)
class OrderReviews:
    """An order's items, reviewed or not, and whether new reviews can still be written."""

    number: str
    deadline: datetime
    open: bool  # the 30 days have not passed
    targets: tuple[ReviewTarget, ...]

    @property
    def writable(self) -> tuple[ReviewTarget, ...]:
        return tuple(t for t in self.targets if t.item.review_id is None) if self.open else ()


@dataclass(frozen=True, slots=True)
class ReviewCard:
    review: ReviewRow
    deadline: datetime  # the 30-day window: edits
    extra_deadline: datetime
    can_edit: bool
    can_add_extra: bool


@dataclass(frozen=True, slots=True)
class ReviewPage:
    rows: tuple[ReviewCard, ...]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class Published:
    card: ReviewCard
    created: bool  # False: an edit
    points: int  # credited now


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


async def on_order_completed(conn: AsyncConnection, order: OrderRow, now: datetime) -> None:
    """Plan the review reminders of the order's items, inside the completion's unit of work."""
    if order.completed_at is None:
        return
    deadline = deadline_of(order.completed_at)
    for ref in await repo.order_items(conn, order.user_id, order.id):
        if ref.review_id is not None:
            continue
        await reminders.replan(conn, user_id=order.user_id, prefix=_prefix(ref.item_id), reminders=[
            reminders.Reminder(REMINDER_KIND.key, f"{_prefix(ref.item_id)}{before.days}d", deadline - before, {
                "item_id": ref.item_id, "order_id": ref.order_id, "number": ref.number, "title": ref.title,
                "deadline": deadline.isoformat(),
            }, expires_at=deadline)
            for before in REMIND_BEFORE if deadline - before > now
        ], now=now)


def _prefix(item_id: int) -> str:
    return f"review_due:{item_id}:"


class ReviewService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _card(self, review: ReviewRow, now: datetime) -> ReviewCard:
        completed = review.completed_at or review.created_at
        deadline, extra = deadline_of(completed), extra_deadline_of(completed)
        return ReviewCard(review, deadline, extra, can_edit=now < deadline and review.extra_at is None,
                          can_add_extra=review.extra_at is None and now < extra)

    async def _item(self, conn: AsyncConnection, user_id: int, item_id: int) -> ItemRef:
        ref = await repo.item(conn, user_id, item_id)
        if ref is None:
            raise ReviewNotFound()
        if ref.completed_at is None:
            raise NotCompleted()
        return ref

    # -- reading ----------------------------------------------------------------------------------
    async def awaiting(self, user_id: int, page: int = 0) -> AwaitingPage:
        now = self.clock.now()
        since = now - REVIEW_WINDOW
        async with self.db.read() as conn:
            rows, total = await repo.awaiting(conn, user_id, since, offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE)
            if not rows and total:
                page = _pages(total) - 1
                rows, total = await repo.awaiting(conn, user_id, since, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        items = []
        for ref in rows:
            assert ref.completed_at is not None
            deadline = deadline_of(ref.completed_at)
            items.append(AwaitingItem(ref, deadline, days_left(deadline, now)))
        return AwaitingPage(tuple(items), total, min(max(page, 0), _pages(total) - 1), _pages(total))

    async def counts(self, user_id: int) -> tuple[int, int]:
        """(items awaiting a review, reviews written) for the section's home."""
        async with self.db.read() as conn:
            _, awaiting = await repo.awaiting(conn, user_id, self.clock.now() - REVIEW_WINDOW, offset=0, limit=0)
            mine = await repo.count(conn, user_id)
        return awaiting, mine

    async def order_targets(self, user_id: int, order_id: int) -> OrderReviews:
        """The items of one order as the order card's review button shows them: those reviewed (their
        `item.review_id` set), and those still to be reviewed (while the 30 days last)."""
        now = self.clock.now()
        async with self.db.read() as conn:
            refs = await repo.order_items(conn, user_id, order_id)
        if not refs:
            raise ReviewNotFound()
        completed = refs[0].completed_at
        if completed is None:
            raise NotCompleted()
        deadline = deadline_of(completed)
        if now >= deadline and all(r.review_id is None for r in refs):
            raise ReviewWindowClosed(deadline)
        return OrderReviews(refs[0].number, deadline, now < deadline,
                            tuple(ReviewTarget(r, deadline, None) for r in refs))

    async def target(self, user_id: int, item_id: int) -> ReviewTarget:
        """The item to review, if its window is open (for a new review or an edit)."""
        now = self.clock.now()
        async with self.db.read() as conn:
            ref = await self._item(conn, user_id, item_id)
            review = await repo.by_item(conn, item_id) if ref.review_id else None
        assert ref.completed_at is not None
        deadline = deadline_of(ref.completed_at)
        if now >= deadline:
            raise ReviewWindowClosed(deadline)
        if review is not None and review.extra_at is not None:
            raise FirstReviewKept()
        return ReviewTarget(ref, deadline, review)

    async def review(self, user_id: int, review_id: int) -> ReviewCard:
        async with self.db.read() as conn:
            review = await repo.get(conn, review_id, user_id)
        if review is None:
            raise ReviewNotFound()
        return self._card(review, self.clock.now())

    async def mine(self, user_id: int, page: int = 0) -> ReviewPage:
        now = self.clock.now()
        async with self.db.read() as conn:
            rows, total = await repo.page(conn, user_id, offset=max(page, 0) * PAGE_SIZE, limit=PAGE_SIZE)
            if not rows and total:
                page = _pages(total) - 1
                rows, total = await repo.page(conn, user_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        return ReviewPage(tuple(self._card(r, now) for r in rows), total, min(max(page, 0), _pages(total) - 1),
                          _pages(total))

    # -- writing ----------------------------------------------------------------------------------
    async def publish(self, user_id: int, item_id: int, *, rating: int, text: str = "",
                      photos: Sequence[str] = ()) -> Published:
        """Publish a review of an item, or edit it while the 30-day window is open."""
        rating = check_rating(rating)
        text = clean_text(text)
        photos = tuple(str(p) for p in photos)[:MAX_PHOTOS]
        now = self.clock.now()
        async with self.db.write() as conn:
            ref = await self._item(conn, user_id, item_id)
            assert ref.completed_at is not None
            deadline = deadline_of(ref.completed_at)
            if now >= deadline:
                raise ReviewWindowClosed(deadline)
            existing = await repo.by_item(conn, item_id)
            points = 0
            if existing is not None and existing.extra_at is not None:
                raise FirstReviewKept()
            if existing is not None:
                await repo.edit(conn, existing.id, user_id, rating=rating, text=text, photos=photos, now=now)
                review_id = existing.id  # no additional review yet: the first stars are the ones in force
                await catalog_repo.rate(conn, item_id, was=existing.rating, now=rating)
            else:
                review_id = await repo.insert(conn, user_id=user_id, order_id=ref.order_id, item_id=item_id,
                                              rating=rating, text=text, photos=photos, now=now)
                await loyalty.on_review_published(conn, user_id=user_id, item_id=item_id, now=now)
                await catalog_repo.rate(conn, item_id, was=None, now=rating)
                points = loyalty.REVIEW_POINTS
                await reminders.cancel(conn, user_id=user_id, prefix=_prefix(item_id), now=now)
                await seller_news.tell(conn, store_id=ref.store_id, buyer_id=user_id, news=News.review,
                                       item_id=review_id, number=ref.number, now=now, title=ref.title, rating=rating)
            review = await repo.get(conn, review_id, user_id)
            assert review is not None
            await webhook_events.order_event(conn, ref.order_id, webhook_events.REVIEW_WRITTEN, {"review": {
                "id": review_id, "item_id": item_id, "rating": rating, "text": text, "photos": len(photos),
                "edited": existing is not None, "additional": False}}, now)
        return Published(self._card(review, now), existing is None, points)

    async def add_extra(self, user_id: int, review_id: int, *, text: str = "",
                        photos: Sequence[str] = (), rating: int | None = None) -> ReviewCard:
        """The additional review; `rating`: the stars now, when the buyer's opinion changed (the
        same stars as before are no change)."""
        text = clean_text(text)
        photos = tuple(str(p) for p in photos)[:MAX_PHOTOS]
        rating = check_rating(rating) if rating else None
        now = self.clock.now()
        async with self.db.write() as conn:
            review = await repo.get(conn, review_id, user_id)
            if review is None:
                raise ReviewNotFound()
            card = self._card(review, now)
            if review.extra_at is not None:
                raise ExtraAlreadyAdded()
            if now >= card.extra_deadline:
                raise ReviewWindowClosed(card.extra_deadline, extra=True)
            rating = rating if rating != review.rating else None
            if not text and not photos and rating is None:
                raise EmptyExtra()
            if not await repo.add_extra(conn, review_id, user_id, text=text, photos=photos, now=now, rating=rating):
                raise ExtraAlreadyAdded()
            if rating is not None:  # the opinion changed: so does the product's rating
                await catalog_repo.rate(conn, review.item_id, was=review.rating, now=rating)
            review = await repo.get(conn, review_id, user_id)
            assert review is not None
            await webhook_events.order_event(conn, review.order_id, webhook_events.REVIEW_WRITTEN, {"review": {
                "id": review_id, "item_id": review.item_id, "rating": review.extra_rating or review.rating,
                "first_rating": review.rating, "text": text,
                "photos": len(photos), "edited": False, "additional": True}}, now)
        return self._card(review, now)

    async def check_extra(self, user_id: int, review_id: int) -> ReviewCard:
        """Whether an additional review can be started (the button)."""
        card = await self.review(user_id, review_id)
        if card.review.extra_at is not None:
            raise ExtraAlreadyAdded()
        if self.clock.now() >= card.extra_deadline:
            raise ReviewWindowClosed(card.extra_deadline, extra=True)
        return card

    # -- the seller's side (operator command now, the seller relay later) ---------------------------
    async def of_store(self, review_id: int) -> ReviewRow:
        """A review as its store reads it (the caller checks the store is theirs: the shop API)."""
        async with self.db.read() as conn:
            review = await repo.get(conn, review_id)
        if review is None:
            raise ReviewNotFound()
        return review

    async def seller_reply(self, review_id: int, text: str, *, seller_id: int | None = None,
                           first: bool = False) -> ReviewRow:
        """The seller answers a review (or changes the answer); the buyer gets a push. `seller_id`:
        a seller in seller mode — only a review of a store they sell for (else ReviewNotFound); the
        operator command passes none. `first`: only when nobody answered it yet (seller mode: two
        sellers of a store answering at once — the second is told, and nothing is overwritten)."""
        text = (text or "").strip()
        if not text:
            raise InvalidInput(N_("A reply needs some text."))
        text = clean_text(text, REPLY_MAX, ReplyTooLong)
        now = self.clock.now()
        async with self.db.write() as conn:
            review = await repo.get(conn, review_id)
            if review is None or (seller_id is not None and not await seller_repo.owns_order(
                    conn, seller_id, review.order_id)):
                raise ReviewNotFound()
            if review.reply_text == text and not first:  # the same answer again (a shop's retry): nothing new
                return review
            if not await repo.set_reply(conn, review_id, text, now, first=first):
                raise ReviewAnsweredAlready()
            await enqueue(conn, user_id=review.user_id, kind=REPLY_KIND.key, payload={
                "review_id": review.id, "item_id": review.item_id, "title": review.title,
                "store": review.store, "number": review.number, "rating": review.rating,
            }, dedupe_key=f"review:{review.id}:reply:{now.isoformat()}", now=now)
            if seller_id is not None:  # answered in seller mode: the shop hears of it
                await webhook_events.order_event(conn, review.order_id, webhook_events.REVIEW_REPLIED, {
                    "review": {"id": review.id, "item_id": review.item_id, "reply": text}}, now)
            fresh = await repo.get(conn, review_id)
        assert fresh is not None
        return fresh
