"""A redelivered update (Telegram sends it again when the process died before confirming it) is
applied once: the update id is recorded by the handler's own unit of work, not by the user
middleware's bookkeeping (a renamed user, a user reachable again)."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot.fakebot import Player
from bot.services.settings import SettingsService
from tests.conftest import App
from tests.flows.steps import fill_in_a_us_address


async def test_a_crash_after_the_touch_wrote_does_not_drop_the_redelivered_update(
    app: App, alex: Player, monkeypatch: pytest.MonkeyPatch
) -> None:
    await alex.send("/settings")
    await alex.press("🕒 Time zone")
    await alex.press("⌨️ Type a zone")
    alex.user = alex.user.model_copy(update={"first_name": "Alexander"})  # the touch will write
    real = SettingsService.set_time_zone
    crashes = [RuntimeError("the process died mid-handler")]

    async def crash_once(self: SettingsService, user_id: int, zone: str):
        if crashes:
            raise crashes.pop()
        return await real(self, user_id, zone)

    monkeypatch.setattr(SettingsService, "set_time_zone", crash_once)
    app.expected_errors = 1
    await alex.send("asia/kolkata")
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.first_name == "Alexander" and user.time_zone == "UTC"
    await alex.redeliver()  # Telegram sends it again: now the change is applied
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.time_zone == "Asia/Kolkata"
    assert "Kolkata (UTC+5:30)" in alex.last_text or "India (UTC+5:30)" in alex.last_text
    await alex.redeliver()  # once applied, a further redelivery changes nothing: the flow is over
    assert "I respond to buttons and commands" in alex.last_text
    saved = [c for c in app.session.calls_of(SendMessage) if c.text == "Time zone saved"]
    assert len(saved) == 1


async def test_a_redelivered_save_after_a_rename_saves_once(app: App, alex: Player) -> None:
    """The handler's write recorded the update id: a redelivery after it committed is dropped,
    though the user middleware writes again first (a rename between the two deliveries)."""
    await alex.send("/start")
    await fill_in_a_us_address(alex)
    await alex.press("✅ Save")
    save = alex.delivered[-1]
    alex.user = alex.user.model_copy(update={"first_name": "Alexander"})
    await alex.send("/menu")  # the rename is written here
    alex.user = alex.user.model_copy(update={"first_name": "Alex"})
    await alex.redeliver(save)  # the touch writes (the old name back), the Save does not repeat
    assert alex.alerts()[-1] == "This form is already closed: the address was saved or the form was cancelled."
    assert len(await app.services.addresses.list(alex.user.id)) == 1
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.first_name == "Alex"


async def test_a_redelivered_press_that_was_applied_is_answered_not_applied_again(app: App, alex: Player) -> None:
    """The process died after the press's change committed and before its answer went out; Telegram
    delivers the press again: nothing changes twice, and the press is answered (no spinning button)."""
    await alex.send("/settings")
    await alex.press("🕒 Time zone")
    await alex.press("UTC±N…")
    await alex.press("UTC+5")
    press = alex.delivered[-1]
    assert press.callback_query is not None
    answered = len(app.session.calls_of(AnswerCallbackQuery))
    saved = alex.alerts().count("Time zone saved")
    await alex.redeliver(press)
    answers = app.session.calls_of(AnswerCallbackQuery)
    assert [a.callback_query_id for a in answers[answered:]] == [press.callback_query.id]
    assert answers[-1].text is None  # a silent answer: not "saved" a second time
    assert alex.alerts().count("Time zone saved") == saved
