"""Demo reviews and points: items awaiting a review (one with a day left), reviews with the
seller's replies and an additional review, and a points history that puts the demo user on
level 3 (Gold). Played through the real services on a walking clock, after the demo orders; the
pushes it writes are delivered as the bot would have (`bot/demo/__init__.py`, `deliver_history`)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.db import reviews as reviews_repo
from bot.demo.orders import ADDRESS, USD_PER_RUB, VISA, _price, demo_history
from bot.services.orders import NewItem
from bot.services.reviews import ReviewService

if TYPE_CHECKING:
    from bot.app import Services

STORE = "HomeNest"

# (completed this long ago, [(title en, title ru, price in US cents)], review or None)
# review: (days after completion, stars, text en, text ru, seller reply en, reply ru, additional en, additional ru)
PLAN = (
    (timedelta(days=200), [("Cordless stick vacuum V8", "Беспроводной пылесос V8", 9900)],
     (3, 5, "Quiet, and it finds its way back to the dock every time.",
      "Тихий и всегда сам находит дорогу к базе.",
      "Thank you for the kind words! Enjoy the clean floors.", "Спасибо за тёплые слова! Пусть полы будут чистыми.",
      None, None)),
    (timedelta(days=90), [("27-inch 4K monitor", "Монитор 27\" 4K", 24900)],
     (2, 4, "Sharp picture; the stand wobbles a little.", "Чёткая картинка, подставка немного шатается.",
      "Sorry about the stand! Write to us and we will send a stiffer one.",
      "Извините за подставку! Напишите нам — пришлём более жёсткую.",
      "Two months later: the new stand fixed it. Five stars now.",
      "Через два месяца: новая подставка всё исправила. Теперь пять звёзд.")),
    (timedelta(days=29, hours=2), [("Ceramic pour-over coffee set", "Керамический набор для пуровера", 3450)], None),
    (timedelta(days=4), [("Silicone baking mats, set of 3", "Силиконовые коврики для выпечки, 3 шт.", 1290),
                         ("Bamboo utensil set", "Набор бамбуковых лопаток", 1540)], None),
)


async def seed_reviews(services: Services, user_id: int) -> None:
    async with services.db.read() as conn:
        if await reviews_repo.count(conn, user_id):
            return  # already seeded
    locale, currency, clock, orders = await demo_history(services, user_id)
    now = clock.now()
    reviews = ReviewService(services.db, clock)
    store_id = await orders.ensure_store(STORE)
    for ago, lines, review in PLAN:
        completed = now - ago
        clock.set(completed - timedelta(days=9, minutes=10))
        items = [NewItem(ru if locale == "ru" else en, 1, _price(cents, locale)) for en, ru, cents in lines]
        order = await orders.create(user_id=user_id, store_id=store_id, items=items, currency=currency,
                                    address=ADDRESS[locale], usd_rate=USD_PER_RUB if currency == "RUB" else None)
        clock.advance(minutes=10)
        await orders.mark_paid(user_id, order.id, VISA)
        clock.advance(days=1)
        await orders.ship(user_id, order.id, f"HN{order.id:08d}CN", "cainiao")
        clock.set(completed)
        await orders.confirm_receipt(user_id, order.id)
        if review is None:
            continue
        after, stars, text_en, text_ru, reply_en, reply_ru, extra_en, extra_ru = review
        async with services.db.read() as conn:
            (item, *_) = await reviews_repo.order_items(conn, user_id, order.id)
        clock.set(completed + timedelta(days=after))
        published = await reviews.publish(user_id, item.item_id, rating=stars,
                                          text=text_ru if locale == "ru" else text_en)
        clock.advance(days=1, hours=3)
        await reviews.seller_reply(published.card.review.id, reply_ru if locale == "ru" else reply_en)
        if extra_en:
            clock.advance(days=60)
            await reviews.add_extra(user_id, published.card.review.id, rating=5,  # as its words say: five stars
                                    text=(extra_ru if locale == "ru" else extra_en) or "")

