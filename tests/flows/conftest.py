"""Fixtures shared by the flows' tests."""

from __future__ import annotations

import pytest

from bot.fakebot import Player
from tests.conftest import App


@pytest.fixture(params=["en", "ru"])
def lang(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs once per locale (a test's own `parametrize("lang", …)` wins)."""
    return request.param


@pytest.fixture
def user(app: App, lang: str) -> Player:
    """A user who writes in `lang`: Alex in English, Маша in Russian."""
    if lang == "en":
        return app.player(1001, first_name="Alex", language_code="en")
    return app.player(2002, first_name="Маша", language_code="ru")


@pytest.fixture
def seller_a(app: App, lang: str) -> Player:
    """A seller (of the store a test makes them one of) who writes in `lang`."""
    return app.player(3001, first_name="Sam", language_code=lang)


@pytest.fixture
def seller_b(app: App, lang: str) -> Player:
    """A seller of another store, in `lang`."""
    return app.player(3002, first_name="Bea", language_code=lang)
