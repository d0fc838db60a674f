"""Demo data for the offline console and for trying the bot: idempotent. Each section registers a
seeder that adds its part for the demo user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.services.users import Contact

if TYPE_CHECKING:
    from bot.app import Services

DEMO_USER_ID = 100000001
DEMO_FIRST_NAME = {"en": "Alex", "ru": "Алексей"}

Seeder = Callable[["Services", int], Awaitable[None]]
_SEEDERS: list[tuple[int, Seeder]] = []


def register_seeder(order: int, seeder: Seeder) -> Seeder:
    _SEEDERS.append((order, seeder))
    return seeder


async def seed(services: Services, *, locale: str = "en", user_id: int = DEMO_USER_ID) -> None:
    await services.users.touch(
        Contact(user_id, DEMO_FIRST_NAME.get(locale, "Alex"), "demo_buyer", locale)
    )
    for _order, seeder in sorted(_SEEDERS, key=lambda s: s[0]):
        await seeder(services, user_id)
