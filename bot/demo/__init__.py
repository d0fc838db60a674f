"""Demo data for the offline console and for trying the bot: idempotent. Each section has a
seeder here (`bot/demo/<section>.py`) that adds its part for the demo user, played through the
real services on a clock that walks through the past; `seed` runs them in order. Then
`deliver_history` delivers the pushes that history wrote the way the bot would have, each when
it fell due, so the message centre tells the story truthfully."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.demo.addresses import seed_addresses
from bot.demo.cards import seed_cards
from bot.demo.catalog import seed_catalog
from bot.demo.coupons import seed_coupons
from bot.demo.orders import seed_orders
from bot.demo.reviews import seed_reviews
from bot.services.clock import FakeClock
from bot.services.messages import MessageService
from bot.services.users import Contact

if TYPE_CHECKING:
    from bot.app import Services

DEMO_USER_ID = 100000001
DEMO_FIRST_NAME = {"en": "Alex", "ru": "Алексей"}
# where the demo buyer lives: the English demo ships to New York, the Russian one to Moscow
DEMO_TIME_ZONE = {"en": "America/New_York", "ru": "Europe/Moscow"}


async def _coupons(services: Services, user_id: int) -> None:
    user = await services.users.get(user_id)
    await seed_coupons(services.coupons, user_id, user.locale if user is not None else "en")


# in this order: the wallet and the address book before the orders, which are paid with the demo
# Visa and shipped to one of the addresses; the reviews after, on orders of their own
SEEDERS: tuple[Callable[[Services, int], Awaitable[None]], ...] = (
    lambda services, user_id: seed_cards(services.cards, user_id),
    lambda services, user_id: seed_addresses(services.addresses, user_id),
    seed_orders,
    seed_reviews,
    _coupons,
    seed_catalog,
)


async def seed(services: Services, *, locale: str = "en", user_id: int = DEMO_USER_ID) -> None:
    _user, created = await services.users.touch(
        Contact(user_id, DEMO_FIRST_NAME.get(locale, "Alex"), "demo_buyer", locale)
    )
    if created:  # a zone they might live in (a returning demo user keeps the one they chose)
        await services.settings.set_time_zone(user_id, DEMO_TIME_ZONE.get(locale, DEMO_TIME_ZONE["en"]))
    before = await services.outbox.last_id()
    for seeder in SEEDERS:
        await seeder(services, user_id)
    await deliver_history(services, user_id, after_id=before, until=services.clock.now())


async def deliver_history(services: Services, user_id: int, *, after_id: int, until: datetime) -> int:
    """The user's pushes written after row `after_id` (by the seeders' walk through the past) go
    through the delivery rules at the moments they fell due, oldest first — sent then (and read
    since: they are history), held by quiet hours or merged into the day's reminder, dropped when
    expired before they could go — as if the bot had been running. What falls due after `until`
    stays pending and arrives as usual. Returns the rows marked sent."""
    from bot.handlers import sections

    sections()  # importing the sections registers their push views: the kinds delivery knows (as in the bot)
    outbox = services.outbox
    sent = 0
    # rounds at the moments rows fall due; a reminder held for later (quiet hours, one a day)
    # falls due again in a later pass
    while times := await outbox.due_times(user_id, until, after_id=after_id):
        progress = 0
        for at in times:
            claimed = await outbox.claim(at, limit=500, lease=timedelta(minutes=2), per_user=500,
                                         history=(user_id, after_id))
            sent += await outbox.sent_all(claimed.jobs, at)
            progress += claimed.rows
        if not progress:
            break
    # the demo user has seen them all (the message centre shows what is new from now on)
    await MessageService(services.db, FakeClock(until)).mark_all_read(user_id)
    return sent
