"""Random sequences of what a person can do — press any visible button, type anything, send a
sticker, /cancel, restart — never crash a flow, never go unhandled, and every button press is
answered. HYPOTHESIS_PROFILE=long runs many more examples."""

from __future__ import annotations

import asyncio

from aiogram.methods import AnswerCallbackQuery
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.services.clock import FakeClock
from tests.conftest import TEST_FINGERPRINT_KEY, App

actions = st.lists(
    st.one_of(
        st.tuples(st.just("press"), st.integers(min_value=0, max_value=40)),
        st.tuples(st.just("text"), st.text(min_size=0, max_size=300)),
        st.tuples(st.sampled_from(["/start", "/menu", "/help", "/settings", "/cancel"]), st.none()),
        st.tuples(st.just("sticker"), st.none()),
        st.tuples(st.just("restart"), st.none()),
        st.tuples(st.just("stale"), st.text(max_size=60)),
    ),
    min_size=1,
    max_size=14,
)


@settings(deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=actions, language=st.sampled_from(["en", "ru"]))
def test_random_sessions_never_break(database_copies, tmp_path_factory, steps, language) -> None:
    asyncio.run(_session(database_copies(tmp_path_factory.mktemp("prop")), steps, language))


async def _session(database_url: str, steps, language: str) -> None:
    app = App(Settings(_env_file=None, database_url=database_url,  # type: ignore[call-arg]
                       card_fingerprint_key=TEST_FINGERPRINT_KEY), FakeClock())
    app.players = []
    player = app.player(4242, first_name="Prop", language_code=language)
    try:
        await player.send("/start")
        for kind, arg in steps:
            presses = len(app.session.calls_of(AnswerCallbackQuery))
            if kind == "press":
                buttons = [data for _text, data in player.buttons()]
                if buttons:
                    await player.press_data(buttons[arg % len(buttons)])
                    assert len(app.session.calls_of(AnswerCallbackQuery)) == presses + 1
            elif kind == "text":
                await player.send(arg or " ")
            elif kind == "sticker":
                await player.send_sticker()
            elif kind == "restart":
                await app.restart()
            elif kind == "stale":
                await player.press_data(arg or "x")
                assert len(app.session.calls_of(AnswerCallbackQuery)) == presses + 1
            else:
                await player.send(kind)
        assert not app.errors.errors
    finally:
        await app.close()
