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
