"""Reviews: the 30- and 150-day windows, ownership, points once per item, reminders, seller replies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db import catalog as catalog_repo
from bot.db import outbox as outbox_repo
from bot.db import reviews as repo
from bot.services.errors import InvalidInput
from bot.services.orders import Status
from bot.services.reviews import (
    ExtraAlreadyAdded,
    FirstReviewKept,
    NotCompleted,
    ReviewNotFound,
    ReviewWindowClosed,
    days_left,
)
from tests.conftest import App
from tests.orderkit import make_order

ALEX, BOB = 701, 702


async def completed_items(app: App, user_id: int = ALEX) -> tuple[int, list[int]]:
    order = await make_order(app.services, app.clock, user_id, Status.completed)
    async with app.services.db.read() as conn:
        refs = await repo.order_items(conn, user_id, order.id)
    return order.id, [r.item_id for r in refs]


def test_days_left_rounds_up() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert days_left(now + timedelta(days=30), now) == 30
    assert days_left(now + timedelta(hours=23), now) == 1
    assert days_left(now + timedelta(days=1, minutes=1), now) == 2
    assert days_left(now - timedelta(minutes=1), now) == 0


async def test_awaiting_lists_items_with_the_soonest_deadline_first(app: App) -> None:
    _, first = await completed_items(app)
    app.clock.advance(days=3)
    _, second = await completed_items(app)
    page = await app.services.reviews.awaiting(ALEX)
    assert [r.item.item_id for r in page.rows] == first + second[:3]
    assert page.total == 4 and page.rows[0].days_left < page.rows[-1].days_left


async def test_the_30_day_window_boundaries(app: App) -> None:
    _, (item, other) = await completed_items(app)
    completed = app.clock.now()
    app.clock.set(completed + timedelta(days=29, hours=23))
    assert {r.item.item_id for r in (await app.services.reviews.awaiting(ALEX)).rows} == {item, other}
    published = await app.services.reviews.publish(ALEX, item, rating=5, text="Great sound")
    assert published.created and published.points == 5
    app.clock.set(completed + timedelta(days=30, minutes=1))
    assert (await app.services.reviews.awaiting(ALEX)).total == 0
    with pytest.raises(ReviewWindowClosed) as caught:
        await app.services.reviews.publish(ALEX, other, rating=4)
    assert caught.value.deadline == completed + timedelta(days=30)
    with pytest.raises(ReviewWindowClosed):  # editing ends with the same 30 days
        await app.services.reviews.publish(ALEX, item, rating=1)
    with pytest.raises(ReviewWindowClosed):
        await app.services.reviews.target(ALEX, other)


async def test_an_orders_reviews_list_the_written_ones_after_the_window_and_nothing_new(app: App) -> None:
    order_id, (item, other) = await completed_items(app)
    completed = app.clock.now()
    reviews = await app.services.reviews.order_targets(ALEX, order_id)
    assert reviews.open and [t.item.item_id for t in reviews.writable] == [item, other]
    review_id = (await app.services.reviews.publish(ALEX, item, rating=5)).card.review.id
    reviews = await app.services.reviews.order_targets(ALEX, order_id)
    assert [t.item.item_id for t in reviews.writable] == [other]
    assert [t.item.review_id for t in reviews.targets] == [review_id, None]
    app.clock.set(completed + timedelta(days=30, minutes=1))
    reviews = await app.services.reviews.order_targets(ALEX, order_id)
    assert not reviews.open and reviews.writable == ()  # the unreviewed one can't be written any more
    assert reviews.deadline == completed + timedelta(days=30)
    bare_id, _items = await completed_items(app)
    app.clock.advance(days=31)
    with pytest.raises(ReviewWindowClosed):  # nothing written and nothing to write: the window's end
        await app.services.reviews.order_targets(ALEX, bare_id)
    with pytest.raises(ReviewNotFound):  # never someone else's
        await app.services.reviews.order_targets(BOB, order_id)


async def test_editing_within_the_window_credits_no_more_points(app: App) -> None:
    _, (item, _) = await completed_items(app)
    await app.services.reviews.publish(ALEX, item, rating=3, text="ok")
    app.clock.advance(days=2)
    edited = await app.services.reviews.publish(ALEX, item, rating=4, text="Better after a week", photos=["p1"])
    assert not edited.created and edited.points == 0
    assert edited.card.review.rating == 4 and edited.card.review.photos == ("p1",)
    info = await app.services.loyalty.info(ALEX)
    assert info.points == 5 + 37 + 5  # daily bonus, the order, one review


async def test_the_additional_review_within_150_days_once(app: App) -> None:
    _, (item, _) = await completed_items(app)
    completed = app.clock.now()
    review = (await app.services.reviews.publish(ALEX, item, rating=5)).card.review
    app.clock.set(completed + timedelta(days=149, hours=23))
    card = await app.services.reviews.add_extra(ALEX, review.id, text="Still works after five months")
    assert card.review.extra_text == "Still works after five months" and not card.can_add_extra
    with pytest.raises(ExtraAlreadyAdded):
        await app.services.reviews.add_extra(ALEX, review.id, text="again")


async def test_the_additional_review_closes_after_150_days(app: App) -> None:
    _, (item, _) = await completed_items(app)
    completed = app.clock.now()
    review = (await app.services.reviews.publish(ALEX, item, rating=5)).card.review
    for same in ({}, {"rating": 5}):  # nothing added: no text, no photo, the same stars
        with pytest.raises(InvalidInput):
            await app.services.reviews.add_extra(ALEX, review.id, **same)
    app.clock.set(completed + timedelta(days=150, minutes=1))
    with pytest.raises(ReviewWindowClosed) as caught:
        await app.services.reviews.add_extra(ALEX, review.id, text="late")
    assert caught.value.deadline == completed + timedelta(days=150)


async def test_an_additional_review_may_change_the_stars_and_keeps_the_first_on_record(app: App) -> None:
    _, (item, _) = await completed_items(app)
    review = (await app.services.reviews.publish(ALEX, item, rating=5, text="Great at first")).card.review
    app.clock.advance(days=40)
    card = await app.services.reviews.add_extra(ALEX, review.id, rating=2)  # new stars alone are enough
    assert (card.review.rating, card.review.extra_rating, card.review.extra_text) == (5, 2, "")
    other = (await app.services.reviews.publish(ALEX, (await completed_items(app))[1][0], rating=4)).card.review
    card = await app.services.reviews.add_extra(ALEX, other.id, text="Still fine", rating=4)  # the same stars
    assert card.review.extra_rating is None


async def test_once_added_to_the_first_review_stays_as_written_even_within_30_days(app: App) -> None:
    _, (item, _) = await completed_items(app)
    review = (await app.services.reviews.publish(ALEX, item, rating=4, text="Good")).card.review
    app.clock.advance(days=2)
    card = await app.services.reviews.add_extra(ALEX, review.id, rating=2, text="Broke already")
    assert not card.can_edit
    for edit in (app.services.reviews.publish(ALEX, item, rating=2), app.services.reviews.target(ALEX, item)):
        with pytest.raises(FirstReviewKept):
            await edit
    kept = (await app.services.reviews.review(ALEX, review.id)).review
    assert (kept.rating, kept.text, kept.extra_rating) == (4, "Good", 2)


async def test_someone_elses_item_or_review_is_impossible(app: App) -> None:
    _, (item, _) = await completed_items(app, ALEX)
    with pytest.raises(ReviewNotFound):
        await app.services.reviews.publish(BOB, item, rating=1, text="forged")
    with pytest.raises(ReviewNotFound):
        await app.services.reviews.target(BOB, item)
    with pytest.raises(ReviewNotFound):
        await app.services.reviews.publish(ALEX, 999_999, rating=5)
    review = (await app.services.reviews.publish(ALEX, item, rating=5)).card.review
    with pytest.raises(ReviewNotFound):
        await app.services.reviews.review(BOB, review.id)
    with pytest.raises(ReviewNotFound):
        await app.services.reviews.add_extra(BOB, review.id, text="forged")
    assert (await app.services.reviews.mine(BOB)).total == 0


async def test_an_order_not_completed_cannot_be_reviewed(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    async with app.services.db.read() as conn:
        (item, *_) = await repo.order_items(conn, ALEX, order.id)
    with pytest.raises(NotCompleted):
        await app.services.reviews.publish(ALEX, item.item_id, rating=5)


async def test_bad_input_is_refused(app: App) -> None:
    _, (item, _) = await completed_items(app)
    for rating in (0, 6, -1):
        with pytest.raises(InvalidInput):
            await app.services.reviews.publish(ALEX, item, rating=rating)
    with pytest.raises(InvalidInput):
        await app.services.reviews.publish(ALEX, item, rating=5, text="x" * 1001)
    assert (await app.services.reviews.publish(ALEX, item, rating=5, text="x" * 1000)).created


async def test_reminders_are_planned_at_completion_and_cancelled_by_the_review(app: App) -> None:
    _, (item, other) = await completed_items(app)
    completed = app.clock.now()
    async with app.services.db.read() as conn:
        rows = [r for r in await outbox_repo.for_user(conn, ALEX) if r.kind == "review_deadline"]
    assert sorted((r.dedupe_key, r.due_at) for r in rows) == sorted([
        (f"review_due:{item}:7d", completed + timedelta(days=23)),
        (f"review_due:{item}:1d", completed + timedelta(days=29)),
        (f"review_due:{other}:7d", completed + timedelta(days=23)),
        (f"review_due:{other}:1d", completed + timedelta(days=29)),
    ])
    await app.services.reviews.publish(ALEX, item, rating=5)
    async with app.services.db.read() as conn:
        pending = {r.dedupe_key for r in await outbox_repo.for_user(conn, ALEX)
                   if r.kind == "review_deadline" and r.state == "pending"}
    assert pending == {f"review_due:{other}:7d", f"review_due:{other}:1d"}


async def test_a_seller_reply_is_pushed(app: App) -> None:
    _, (item, _) = await completed_items(app)
    review = (await app.services.reviews.publish(ALEX, item, rating=2, text="Too quiet")).card.review
    replied = await app.services.reviews.seller_reply(review.id, "We will send <b>a new pair</b>")
    assert replied.reply_text == "We will send <b>a new pair</b>"
    async with app.services.db.read() as conn:
        (push,) = [r for r in await outbox_repo.for_user(conn, ALEX) if r.kind == "review_reply"]
    assert push.payload["review_id"] == review.id
    app.clock.advance(minutes=1)
    await app.services.reviews.seller_reply(review.id, " We will send <b>a new pair</b> ")  # a retry: no 2nd push
    await app.services.reviews.seller_reply(review.id, "We sent a new pair today")  # a changed answer: told
    async with app.services.db.read() as conn:
        assert len([r for r in await outbox_repo.for_user(conn, ALEX) if r.kind == "review_reply"]) == 2
    with pytest.raises(ReviewNotFound):
        await app.services.reviews.seller_reply(999_999, "hello")
    with pytest.raises(InvalidInput):
        await app.services.reviews.seller_reply(review.id, "  ")
    page = await app.services.reviews.mine(ALEX)
    assert page.total == 1 and page.rows[0].review.reply_text


async def test_the_buyers_stars_move_the_products_rating(app: App) -> None:
    """A review of a catalog product counts in its rating (the stars shown on its card and the search
    order): one more review, an edit and an additional review's new stars; the shop's own starting
    rating is where the average goes on from. An order item that is no catalog product moves none."""
    from dataclasses import replace as with_

    from tests.orderkit import CABLE, EARBUDS

    store = await app.services.orders.ensure_store("Nova Electronics")
    catalog = app.services.catalog
    rated = await catalog.upsert(store, EARBUDS.title, price_minor=2599, currency="USD", rating_x10=40,
                                 reviews_count=3)  # 3 reviews elsewhere, 4.0 on average
    fresh = await catalog.upsert(store, "Lamp", price_minor=1000, currency="USD")

    async def rating(product_id: int) -> tuple[int, int]:
        p = (await catalog.product(0, product_id, record=False)).product
        return p.rating_x10, p.reviews_count

    order = await make_order(app.services, app.clock, ALEX, Status.completed, items=[
        with_(EARBUDS, product_id=rated), with_(CABLE, title="Lamp", product_id=fresh), CABLE])
    async with app.services.db.read() as conn:
        first, second, plain = [r.item_id for r in await repo.order_items(conn, ALEX, order.id)]
    review = (await app.services.reviews.publish(ALEX, first, rating=5)).card.review
    assert await rating(rated) == (43, 4)  # (4.0 × 3 + 5) / 4 = 4.25
    await app.services.reviews.publish(ALEX, second, rating=2)
    assert await rating(fresh) == (20, 1)
    await app.services.reviews.publish(ALEX, first, rating=1)  # an edit: the same review, other stars
    assert await rating(rated) == (33, 4)  # (12 + 1) / 4 = 3.25
    await app.services.reviews.publish(ALEX, plain, rating=5)  # no catalog product: nothing moves
    assert await rating(rated) == (33, 4) and await rating(fresh) == (20, 1)
    await app.services.reviews.add_extra(ALEX, review.id, rating=3, text="Better after an update")
    assert await rating(rated) == (38, 4)  # (12 + 3) / 4 = 3.75


async def test_the_buyers_stars_move_their_stores_rating_whatever_the_item(app: App) -> None:
    """A store's rating is the average of the stars its orders' items got — catalog products or not —
    with an edit and an additional review's new stars moving it; another store's stays as it was."""
    from tests.orderkit import CABLE, EARBUDS

    async def store_rating(name: str) -> tuple[int, int]:
        store_id = await app.services.orders.ensure_store(name)
        async with app.services.db.read() as conn:
            row = await catalog_repo.store(conn, store_id)
        assert row is not None
        return row.rating_x10, row.reviews_count

    order = await make_order(app.services, app.clock, ALEX, Status.completed, items=[EARBUDS, CABLE])
    other = await make_order(app.services, app.clock, ALEX, Status.completed, store="Zeta Home", items=[CABLE])
    async with app.services.db.read() as conn:
        first, second = [r.item_id for r in await repo.order_items(conn, ALEX, order.id)]
        (elsewhere,) = [r.item_id for r in await repo.order_items(conn, ALEX, other.id)]
    assert await store_rating("Nova Electronics") == (0, 0)  # no stars before the first review
    review = (await app.services.reviews.publish(ALEX, first, rating=5)).card.review
    await app.services.reviews.publish(ALEX, second, rating=2)
    assert await store_rating("Nova Electronics") == (35, 2)
    await app.services.reviews.publish(ALEX, first, rating=4)  # an edit: (4 + 2) / 2
    assert await store_rating("Nova Electronics") == (30, 2)
    await app.services.reviews.add_extra(ALEX, review.id, rating=1, text="Broke in a week")
    assert await store_rating("Nova Electronics") == (15, 2)  # (1 + 2) / 2, half up
    await app.services.reviews.publish(ALEX, elsewhere, rating=4)
    assert await store_rating("Nova Electronics") == (15, 2) and await store_rating("Zeta Home") == (40, 1)


async def test_a_rating_is_the_exact_average_however_many_reviews(app: App) -> None:
    """The sum of the stars is kept, not rebuilt from the rounded rating: after twelve reviews of
    4, 4, 5 … the store shows 4.3 (4.33), not the 4.5 that rounding at every review drifted to."""
    from dataclasses import replace as with_

    from tests.orderkit import CABLE

    items = [with_(CABLE, title=f"Cable {n}") for n in range(12)]
    order = await make_order(app.services, app.clock, ALEX, Status.completed, items=items)
    async with app.services.db.read() as conn:
        item_ids = [r.item_id for r in await repo.order_items(conn, ALEX, order.id)]
    for n, item in enumerate(item_ids):
        await app.services.reviews.publish(ALEX, item, rating=5 if n % 3 == 2 else 4)
    async with app.services.db.read() as conn:
        row = await catalog_repo.store(conn, order.store_id)
    assert row is not None and (row.rating_x10, row.reviews_count) == (43, 12)


async def test_the_migration_counts_the_reviews_written_before_ratings_moved(app: App) -> None:
    """0029: a review written before reviews moved ratings is counted once, with the stars in force
    — so an edit of it later moves an average it is in."""
    from dataclasses import replace as with_

    from alembic import command

    from bot.db.migrate import alembic_config
    from tests.orderkit import EARBUDS

    store = await app.services.orders.ensure_store("Nova Electronics")
    rated = await app.services.catalog.upsert(store, EARBUDS.title, price_minor=2599, currency="USD", rating_x10=40,
                                              reviews_count=3)
    order = await make_order(app.services, app.clock, ALEX, Status.completed,
                             items=[with_(EARBUDS, product_id=rated)])
    async with app.services.db.read() as conn:
        (item,) = [r.item_id for r in await repo.order_items(conn, ALEX, order.id)]
    review = (await app.services.reviews.publish(ALEX, item, rating=5)).card.review
    await app.services.reviews.add_extra(ALEX, review.id, rating=2, text="It broke")
    app.sqlite("UPDATE products SET rating_x10 = 40, reviews_count = 3 WHERE id = ?", (rated,))  # as before
    app.sqlite("UPDATE stores SET rating_x10 = 0 WHERE id = ?", (store,))  # nothing rated stores before 0031
    url = app.settings.database_url
    command.downgrade(alembic_config(url), "0028_additional_rating")
    command.upgrade(alembic_config(url), "head")
    assert app.sqlite("SELECT rating_x10, reviews_count FROM products WHERE id = ?", (rated,)) == [(35, 4)]
    # 0031: and the store's, which nothing had rated before: (2 stars in force) / 1
    assert app.sqlite("SELECT rating_x10, reviews_count FROM stores WHERE id = ?", (store,)) == [(20, 1)]
