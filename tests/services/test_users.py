"""Users: what a new user starts with."""

from __future__ import annotations

import pytest

from bot.services.users import Contact
from tests.conftest import App


@pytest.mark.parametrize(("language_code", "locale", "zone"), [
    ("ru", "ru", "Europe/Moscow"), ("ru-RU", "ru", "Europe/Moscow"), ("en", "en", "UTC"),
    ("de", "en", "UTC"), (None, "en", "UTC"),
])
async def test_a_new_users_time_zone_starts_from_their_language(app: App, language_code: str | None,
                                                                 locale: str, zone: str) -> None:
    user, created = await app.services.users.touch(Contact(7001, "Ann", None, language_code))
    assert created and (user.locale, user.time_zone) == (locale, zone)
    stored = await app.services.users.get(7001)
    assert stored is not None and stored.time_zone == zone


async def test_a_chosen_zone_is_kept_when_the_user_comes_back(app: App) -> None:
    await app.services.users.touch(Contact(7002, "Ann", None, "ru"))
    await app.services.settings.set_time_zone(7002, "Asia/Vladivostok")
    user, created = await app.services.users.touch(Contact(7002, "Anna", None, "ru"))
    assert not created and user.time_zone == "Asia/Vladivostok"
