"""Flood protection through the Dispatcher: a burst passes, what comes beyond it is dropped before
any handler runs (a press is answered, a message spell gets one notice), other users are not
touched, an open flow carries on once the bucket refills; and the buckets themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

from bot.config import Settings
from bot.fakebot import Player
from bot.middlewares.throttling import Throttle
from tests.conftest import App

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"throttle_rate": 2.0, "throttle_burst": 5})


def sent_to(app: App, user_id: int) -> list[str]:
    return [c.text for c in app.session.calls_of(SendMessage) if int(c.chat_id) == user_id]


async def test_a_burst_passes_and_a_flood_gets_one_notice(app: App, alex: Player, masha: Player) -> None:
    for _ in range(5):
        await alex.send("/menu")
    assert len(sent_to(app, alex.user.id)) == 5
    await alex.send("/menu")
    await alex.send("/menu")
    await alex.send("/menu")
    texts = sent_to(app, alex.user.id)
    assert texts[5:] == ["You are sending messages too fast. I'll answer again in a few seconds; nothing you "
                         "entered so far is lost."]
    await masha.send("/menu")  # another user is not held back
    assert len(sent_to(app, masha.user.id)) == 1
    app.clock.advance(seconds=1)  # two updates' worth
    await alex.send("/menu")
    assert "Choose a section" in alex.last_text and len(sent_to(app, alex.user.id)) == 7
    await alex.send("/menu")
    await alex.send("/menu")  # a new spell: told again, once
    assert sent_to(app, alex.user.id)[-1].startswith("You are sending messages too fast")


async def test_russian_notice_and_hammered_buttons(app: App, masha: Player) -> None:
    await masha.send("/start")
    for _ in range(2):
        await masha.press("⚙️ Настройки")
        await masha.press("☰ Меню")
    edits = len(app.session.calls_of(EditMessageText))
    assert edits == 4 and masha.alerts() == []
    await masha.press("⚙️ Настройки")
    assert masha.alerts() == ["Слишком много нажатий. Подождите секунду."]
    assert len(app.session.calls_of(EditMessageText)) == edits  # dropped: nothing happened
    await masha.send("/menu")
    assert sent_to(app, masha.user.id)[-1].startswith("Вы отправляете сообщения слишком быстро.")
    answered = {c.callback_query_id for c in app.session.calls_of(AnswerCallbackQuery)}
    assert len(answered) == 5  # every press was answered, the dropped one too


async def test_an_open_flow_carries_on_after_the_flood(app: App, alex: Player) -> None:
    await alex.send("/start")
    await alex.press("📍 Shipping addresses")
    await alex.press("➕ Add an address")
    assert "step 1 of" in alex.last_text
    for _ in range(2):
        await alex.send("Narnia")  # wrong answers: the bucket of 5 is empty now
    assert "I don't know this country" in alex.last_text
    await alex.send("United States")
    assert alex.last_text.startswith("You are sending messages too fast")
    app.clock.advance(seconds=3)
    await alex.send("United States")
    assert "step 2 of" in alex.last_text  # the flow went on from where it was


def test_buckets_refill_at_the_rate_and_are_pruned_when_full() -> None:
    throttle = Throttle(rate=2.0, burst=3)
    assert [throttle.allow(1, T0) for _ in range(4)] == [True, True, True, False]
    assert throttle.first_refusal(1) and not throttle.first_refusal(1)
    assert not throttle.allow(1, T0 + timedelta(milliseconds=400))  # 0.8 of a token
    assert throttle.allow(1, T0 + timedelta(milliseconds=500))
    assert not throttle.allow(1, T0 + timedelta(milliseconds=500))
    assert throttle.first_refusal(1)  # refilled in between: a new spell
    later = T0 + timedelta(hours=1)
    assert [throttle.allow(1, later) for _ in range(4)] == [True, True, True, False]  # never more than the burst
    throttle.PRUNE_OVER = 2
    throttle.allow(2, later)
    throttle.allow(3, later + timedelta(seconds=10))  # 1 and 2 are full again by then: forgotten
    assert len(throttle) == 1
    with pytest.raises(ValueError):
        Throttle(rate=0, burst=3)
