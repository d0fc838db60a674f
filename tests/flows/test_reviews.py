"""Review management and the Privilege centre through the real Dispatcher, in both locales."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.methods import DeleteMessage

from bot.db import outbox as outbox_repo
from bot.db import reviews as repo
from bot.keyboards.reviews import DraftAction, ReviewAction, ReviewCb, ReviewDraftCb
from bot.services.orders import Status
from bot.services.reviews import ReviewNotFound
from bot.views import reviews as review_views
from bot.views.pushes import render_one
from tests.conftest import App
from tests.orderkit import make_order


async def items_of(app: App, user_id: int, order_id: int) -> list[int]:
    async with app.services.db.read() as conn:
        return [r.item_id for r in await repo.order_items(conn, user_id, order_id)]


async def test_write_edit_and_add_to_a_review(app: App, alex) -> None:
    order = await make_order(app.services, app.clock, alex.user.id, Status.completed)
    item, _ = await items_of(app, alex.user.id, order.id)
    await alex.send("/start")
    await alex.press("⭐ Reviews")
    assert "Review management" in alex.last_text
    await alex.press("✍️ Awaiting review (2)")
    text = alex.last_text
    assert "Wireless earbuds TWS Pro 5" in text and "30 days left" in text
    await alex.press("1. ✍️ Wireless earbuds TWS Pro 5")
    assert "Step 1 of 3" in alex.last_text
    await alex.send("great")  # text where a button is expected (a number of stars would do)
    assert "Please choose from 1 to 5 stars with a button." in alex.last_text
    await alex.press("4")
    assert "Step 2 of 3" in alex.last_text
    await alex.send_sticker()
    assert "Please write the review as a text message" in alex.last_text
    await alex.send("x" * 1001)
    assert "at most 1000 characters long; yours has 1001" in alex.last_text
    await alex.send("Good <b>bass</b> & long battery")
    assert "Step 3 of 3" in alex.last_text
    await alex.send("a photo?")
    assert "Please send a photo" in alex.last_text
    await alex.send_photo("ph-1")
    assert "Added: 1 photo." in alex.last_text
    await alex.press("✅ Done")
    summary = alex.last_text
    assert "Rating: ★★★★☆" in summary and "&lt;b&gt;bass&lt;/b&gt; &amp; long" in summary and "Photos: 1" in summary
    await alex.press("✏️ Rating")
    await alex.press("5")
    assert "Rating: ★★★★★" in alex.last_text  # an edit returns to the summary
    await alex.press("📣 Publish")
    assert alex.alerts()[-1] == "Thank you! Your review is published: +5 points."
    assert "★★★★★" in alex.last_text and "📷 1 photo" in alex.last_text
    # a second tap on the old Publish button: the draft is gone
    await alex.press_data(ReviewDraftCb(action=DraftAction.publish).pack())
    assert "no longer active" in alex.alerts()[-1]
    # edit within the window
    await alex.press("✏️ Edit the review")
    await alex.press("3")
    await alex.press("Keep ›")
    await alex.press("✅ Done")
    await alex.press("📣 Publish")
    assert alex.alerts()[-1] == "Your review is updated."
    assert "★★★☆☆" in alex.last_text
    # the additional review
    await alex.press("➕ Additional review")
    assert "Step 1 of 3. Has your opinion of the item changed?" in alex.last_text
    await alex.press("Keep ★★★☆☆ ›")
    assert "Step 2 of 3" in alex.last_text
    await alex.send("Two weeks later: the left earbud crackles.")
    await alex.press("✅ Done")
    assert "Rating: ★★★☆☆, unchanged" in alex.last_text
    await alex.press("✏️ Rating")
    await alex.press("2")  # the opinion changed after all
    assert "Rating: ★★★☆☆ → ★★☆☆☆" in alex.last_text
    await alex.press("📣 Publish")
    assert alex.alerts()[-1] == "Your additional review is published."
    assert "Additional review" in alex.last_text and "crackles" in alex.last_text
    assert "Stars changed: ★★★☆☆ → ★★☆☆☆" in alex.last_text
    assert "➕ Additional review" not in [label for label, _ in alex.buttons()]
    # the first review stays as it was written, now that one was added to it (an older Edit button too)
    assert "✏️ Edit the review" not in [label for label, _ in alex.buttons()]
    assert "You can change the rating" not in alex.last_text
    await alex.press_data(ReviewCb(action=ReviewAction.write, id=item).pack())
    assert alex.alerts()[-1] == "You have added to this review: the first one stays as you wrote it."
    # the seller replies: escaped on screen, a push row
    async with app.services.db.read() as conn:
        review = await repo.by_item(conn, item)
    assert review is not None
    await app.services.reviews.seller_reply(review.id, "Thanks! <3 & see you")
    await alex.send("/menu")
    await alex.press("⭐ Reviews")
    await alex.press("🗂 My reviews (1)")
    assert "The seller's reply" in alex.last_text and "Thanks! &lt;3 &amp; see you" in alex.last_text
    async with app.services.db.read() as conn:
        (push,) = [r for r in await outbox_repo.for_user(conn, alex.user.id) if r.kind == "review_reply"]
    rendered = render_one(push.kind, push.payload, alex_fmt(app))
    assert "The seller answered your review" in rendered.screen.text and rendered.button is not None


def alex_fmt(app: App, locale: str = "en"):
    from bot.views.common import Fmt

    return Fmt(app.services.i18n, locale, "UTC")


async def test_the_order_card_leads_to_the_review_and_the_window_closes(app: App, alex) -> None:
    order = await make_order(app.services, app.clock, alex.user.id, Status.completed)
    _item, _ = await items_of(app, alex.user.id, order.id)
    await alex.send("/start")
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("⭐ Leave a review")
    assert f"Reviews of order #{order.number}" in alex.last_text
    app.clock.advance(days=30, minutes=1)
    await alex.press("✍️ Wireless earbuds TWS Pro 5")  # the old button after the window
    assert alex.alerts()[-1] == "The time for a review ended on Jan 5, 2027."
    assert "Nothing to review right now" in alex.last_text
    # the order card no longer offers it
    await alex.send("/menu")
    await alex.press("📦 My orders")
    await alex.press("1")
    assert "⭐ Leave a review" not in [label for label, _ in alex.buttons()]


async def test_forged_ids_never_reach_someone_elses_items(app: App, alex, masha) -> None:
    order = await make_order(app.services, app.clock, masha.user.id, Status.completed)
    item, _ = await items_of(app, masha.user.id, order.id)
    review = (await app.services.reviews.publish(masha.user.id, item, rating=5, text="Отлично")).card.review
    await alex.send("/start")
    for data in (ReviewCb(action=ReviewAction.write, id=item), ReviewCb(action=ReviewAction.order, id=order.id),
                 ReviewCb(action=ReviewAction.open, id=review.id), ReviewCb(action=ReviewAction.extra, id=review.id),
                 ReviewCb(action=ReviewAction.photos, id=review.id)):
        await alex.press_data(data.pack())
        assert "no longer available" in alex.alerts()[-1]
        assert "Отлично" not in alex.last_text
    async with app.services.db.read() as conn:
        assert (await repo.by_item(conn, item)).rating == 5  # type: ignore[union-attr]


async def test_russian_reviews_and_plurals(app: App, masha) -> None:
    await masha.send("/start")
    order = await make_order(app.services, app.clock, masha.user.id, Status.completed)
    await masha.send("/menu")
    await masha.press("⭐ Управление отзывами")
    await masha.press("✍️ Ждут отзыва (2)")
    assert "Осталось 30 дней" in masha.last_text
    app.clock.advance(days=29, hours=1)
    await masha.send("/menu")
    await masha.press("⭐ Управление отзывами")
    await masha.press("✍️ Ждут отзыва (2)")
    assert "Остался 1 день" in masha.last_text
    await masha.press("1. ✍️ Wireless earbuds TWS Pro 5")
    await masha.press("5")
    await masha.press("Пропустить ›")
    await masha.press("✅ Готово")
    await masha.press("📣 Опубликовать")
    assert masha.alerts()[-1] == "Спасибо! Отзыв опубликован: +5 баллов."
    assert order.number


def test_russian_day_plurals(app: App) -> None:
    f = alex_fmt(app, "ru")
    assert [review_views.days_left(f, n) for n in (1, 2, 5, 11, 21, 22, 25)] == [
        "Остался 1 день", "Осталось 2 дня", "Осталось 5 дней", "Осталось 11 дней", "Остался 21 день",
        "Осталось 22 дня", "Осталось 25 дней",
    ]
    en = alex_fmt(app)
    assert [review_views.days_left(en, n) for n in (1, 2, 21)] == ["1 day left", "2 days left", "21 days left"]


async def test_privilege_centre_in_both_locales(app: App, alex, masha) -> None:
    await make_order(app.services, app.clock, alex.user.id, Status.completed)
    await alex.send("/start")
    await alex.press("🏆 Privilege centre")
    text = alex.last_text
    assert "Level 1 · Bronze" in text and "Points in the last 365 days: 42 points" in text
    assert "158 more points to Level 2 · Silver" in text
    assert "🔒 Faster refunds: from Level 3 · Gold" in text
    assert "✅ Price-drop alerts: You are told when a product in My wishes or the cart gets cheaper." in text
    await alex.press("📜 Points history")
    assert "+37 · Order completed" in alex.last_text and "+5 · First purchase of the day" in alex.last_text
    await alex.press("‹ Back")
    assert "Privilege centre" in alex.last_text
    await masha.send("/start")
    await masha.press("🏆 Центр привилегий")
    text = masha.last_text
    assert "Уровень 1 · Бронзовый" in text and "Баллы за последние 365 дней: 0 баллов" in text
    assert "Ещё 200 баллов до следующего уровня: Уровень 2 · Серебряный" in text


async def test_level_push_renders(app: App) -> None:
    for locale in ("en", "ru"):
        f = alex_fmt(app, locale)
        up = render_one("level_changed", {"level": 3, "previous": 2, "points": 400}, f)
        down = render_one("level_changed", {"level": 1, "previous": 3, "points": 10, "cause": "ageing"}, f)
        back = render_one("level_changed", {"level": 1, "previous": 3, "points": 10, "cause": "points"}, f)
        assert len({up.screen.text, down.screen.text, back.screen.text}) == 3 and up.button is not None
        assert "365" in down.screen.text and "365" not in back.screen.text
        deadline = render_one("review_deadline", {"item_id": 1, "order_id": 1, "number": "A1", "title": "Cable <USB-C> & case",
                                                  "deadline": "2026-12-25T12:00:00+00:00"}, f)
        assert "Cable &lt;USB-C&gt; &amp; case" in deadline.screen.text
    assert timedelta(days=1)


async def test_operator_review_reply(app: App) -> None:
    import main
    from bot.cli.common import perform

    order = await make_order(app.services, app.clock, 3003, Status.completed)
    item, _ = await items_of(app, 3003, order.id)
    review = (await app.services.reviews.publish(3003, item, rating=4, text="Nice")).card.review
    out = await perform(main.parse_args(["review", "reply", str(review.id), "Thank you & welcome!"]),
                             app.services)
    assert out == f"review {review.id} (Wireless earbuds TWS Pro 5, order {order.number}): replied"
    assert (await app.services.reviews.review(3003, review.id)).review.reply_text == "Thank you & welcome!"
    with pytest.raises(ReviewNotFound):
        await perform(main.parse_args(["review", "reply", "999999", "x"]), app.services)


async def test_demo_user_is_on_level_3_with_reviews_to_write(app: App) -> None:
    from bot import demo

    await demo.seed(app.services, locale="en")
    await demo.seed(app.services, locale="en")  # idempotent
    info = await app.services.loyalty.info(demo.DEMO_USER_ID)
    assert info.level == 3
    awaiting = await app.services.reviews.awaiting(demo.DEMO_USER_ID)
    assert awaiting.rows[0].days_left == 1
    mine = await app.services.reviews.mine(demo.DEMO_USER_ID)
    assert mine.total == 2 and all(card.review.reply_text for card in mine.rows)
    assert any(card.review.extra_text for card in mine.rows)


async def to_the_photos(app: App, alex, stars: str, text: str) -> None:
    """A completed order's first item, reviewed with `stars` and `text`: the photo step is next."""
    await make_order(app.services, app.clock, alex.user.id, Status.completed)
    await alex.send("/start")
    await alex.press("⭐ Reviews")
    await alex.press("✍️ Awaiting review (2)")
    await alex.press("1. ✍️ Wireless earbuds TWS Pro 5")
    await alex.press(stars)
    await alex.send(text)


async def test_a_restart_mid_review_and_stale_buttons(app: App, alex) -> None:
    await to_the_photos(app, alex, "2", "Decent for the price 👍 <i>really</i>")
    await app.restart()  # the draft survives a restart
    await alex.send_photo("ph-a")
    await alex.send_photo("ph-b")
    assert "Added: 2 photos." in alex.last_text
    await alex.press_data(ReviewDraftCb(action=DraftAction.star, value=5).pack())  # a button of another step
    assert "another step" in alex.alerts()[-1]
    await alex.press("‹ Back")
    assert "Step 2 of 3" in alex.last_text and "Decent for the price" in alex.last_text
    await alex.press("‹ Back")
    await alex.press("‹ Back")  # out of the flow: the list
    assert "Awaiting review" in alex.last_text
    await alex.press("1. ✍️ Wireless earbuds TWS Pro 5")
    await alex.press("✖ Cancel")
    assert (await app.services.reviews.mine(alex.user.id)).total == 0


async def test_points_history_pages(app: App, alex) -> None:
    for _ in range(5):
        await make_order(app.services, app.clock, alex.user.id, Status.completed)
        app.clock.advance(days=1)
    await alex.send("/start")
    await alex.press("🏆 Privilege centre")
    assert "Level 2 · Silver" in alex.last_text  # 5 × (37 + 5) = 210
    await alex.press("📜 Points history")
    assert "1/2" in [label for label, _ in alex.buttons()]
    await alex.press("›")
    assert "2/2" in [label for label, _ in alex.buttons()]


async def test_long_reviews_fit_in_a_message(app: App, alex) -> None:
    """Five reviews with the longest texts, additional reviews and replies full of & and <: the
    list and the card stay valid HTML under Telegram's 4096 characters."""
    uid = alex.user.id
    for _ in range(3):
        order = await make_order(app.services, app.clock, uid, Status.completed)
        for item in await items_of(app, uid, order.id):
            review = (await app.services.reviews.publish(uid, item, rating=1, text="<&>" * 333)).card.review
            await app.services.reviews.add_extra(uid, review.id, text="&<" * 500)
            await app.services.reviews.seller_reply(review.id, "<b>&</b>" * 250)
    await alex.send("/start")
    await alex.press("⭐ Reviews")
    await alex.press("🗂 My reviews (6)")
    assert len(plain(alex.last_text)) < 4096  # Telegram counts the text after parsing the HTML
    await alex.press("1. USB-C cable 1 m")
    assert "&lt;&amp;&gt;" in alex.last_text and len(plain(alex.last_text)) < 4096


def plain(text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def test_an_album_of_more_photos_than_a_review_takes(app: App, alex) -> None:
    """An album arrives as one message per photo: the step keeps the first five, tells the sixth it
    was not kept, and waits for Done instead of moving on while the album is still arriving. The
    album leaves one screen: each photo's answer replaces the one before."""
    await to_the_photos(app, alex, "4", "Good sound, long battery life")
    before, deleted = len(alex.bot_messages), len(app.session.calls_of(DeleteMessage))
    await alex.send_album(*(("photo", f"ph-{n}") for n in range(1, 7)))
    said = [m.text or "" for m in alex.bot_messages[before:]]
    assert len(said) == 1 and len(app.session.calls_of(DeleteMessage)) - deleted == 5  # the 1st to 5th answer
    assert "You have already added 5 photos, the most a review can have." in said[0]
    assert "Check the review below" not in said[0]  # no photo landed on the summary
    assert "Added: 5 photos." in alex.last_text and "✅ Done" in str(alex.buttons())
    await alex.send_album(("photo", "ph-7"), ("photo", "ph-8"))  # another album: a screen of its own
    assert len(alex.bot_messages) == before + 2
    await alex.press("✅ Done")
    assert "Photos: 5" in alex.last_text
    await alex.press("📣 Publish")
    assert "📷 5 photos" in alex.last_text


async def test_an_albums_screen_stays_the_newest_and_survives_a_failed_delete(app: App, alex) -> None:
    """Something else between an album's photos (a video of the album) gets its answer, and the
    album's next photo answers below it with the count as it is; an answer that can't be deleted
    (the person deleted it already) is left, and no photo is lost."""
    from aiogram.exceptions import TelegramBadRequest

    await to_the_photos(app, alex, "4", "Good sound, long battery life")
    await alex.send_album(("photo", "ph-1"), ("video", "v-1"), ("photo", "ph-2"))
    assert "Added: 2 photos." in alex.last_text

    def gone(bot, method):
        raise TelegramBadRequest(method=method, message="Bad Request: message to delete not found")

    app.session.responders[DeleteMessage] = gone
    before = len(alex.bot_messages)
    await alex.send_album(("photo", "ph-3"), ("photo", "ph-4"))
    assert len(alex.bot_messages) == before + 2  # the delete failed: both answers stay
    assert "Added: 4 photos." in alex.last_text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_order_card_leads_to_reviews_written_once_every_item_has_one(app: App, user, lang: str) -> None:
    """A fully reviewed order's card no longer offers to "leave" a review: it leads to the reviews
    written (to edit or add to), also after the 30 days when no new one can be written."""
    _ = {"en": lambda en, ru: en, "ru": lambda en, ru: ru}[lang]
    await user.send("/start")
    order = await make_order(app.services, app.clock, user.user.id, Status.completed)
    first, second = await items_of(app, user.user.id, order.id)
    await app.services.reviews.publish(user.user.id, first, rating=4, text="ok")
    await user.press(_("📦 My orders", "📦 Мои заказы"))
    await user.press("1")
    assert _("⭐ Your reviews", "⭐ Ваши отзывы") not in [label for label, _d in user.buttons()]
    await user.press(_("⭐ Leave a review", "⭐ Оставить отзыв"))
    labels = [label for label, _d in user.buttons()]
    assert "⭐ Wireless earbuds TWS Pro 5" in labels  # reviewed: opens its review
    assert [label for label in labels if label.startswith("✍️")] == ["✍️ USB-C cable 1 m"]
    assert _("Reviews can be left until", "Отзывы можно оставить до") in user.last_text
    await app.services.reviews.publish(user.user.id, second, rating=5)
    await user.send("/menu")
    await user.press(_("📦 My orders", "📦 Мои заказы"))
    await user.press("1")
    labels = [label for label, _d in user.buttons()]
    assert _("⭐ Leave a review", "⭐ Оставить отзыв") not in labels
    await user.press(_("⭐ Your reviews", "⭐ Ваши отзывы"))
    assert _("You have reviewed every item of this order", "Вы оценили все товары") in user.last_text
    assert not [label for label, _d in user.buttons() if label.startswith("✍️")]
    await user.press("⭐ USB-C cable 1 m")
    assert "★★★★★" in user.last_text
    assert _("✏️ Edit the review", "✏️ Изменить отзыв") in [label for label, _d in user.buttons()]


async def test_after_the_window_the_card_shows_the_reviews_written_and_no_new_one(app: App, alex) -> None:
    order = await make_order(app.services, app.clock, alex.user.id, Status.completed)
    first, _second = await items_of(app, alex.user.id, order.id)
    await app.services.reviews.publish(alex.user.id, first, rating=3, text="so-so")
    app.clock.advance(days=31)
    await alex.send("/start")
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("⭐ Your reviews")
    assert "The time for a review ended on Jan 5, 2027." in alex.last_text
    assert [label for label, _d in alex.buttons() if label.startswith(("⭐", "✍️"))] == [
        "⭐ Wireless earbuds TWS Pro 5"]
    await alex.press("⭐ Wireless earbuds TWS Pro 5")
    assert "➕ Additional review" in [label for label, _d in alex.buttons()]  # 150 days for that
