"""Settings: language, time zone, notifications; flows that survive restarts and /cancel."""

from __future__ import annotations

from tests.conftest import App


async def test_language_switch_rerenders_and_survives_a_restart(app: App, alex) -> None:
    await alex.send("/settings")
    assert "Language: English" in alex.last_text
    await alex.press("🌐 Language")
    await alex.press("Русский")
    assert "<b>Настройки</b>" in alex.last_text and "Язык: Русский" in alex.last_text
    assert alex.alerts()[-1] == "Язык: Русский"
    await app.restart()
    await alex.send("/menu")
    assert "Выберите раздел" in alex.last_text
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.locale == "ru"


async def test_common_zone_button(app: App, masha) -> None:
    await masha.send("/settings")
    # a Russian user starts in Moscow time (from their language) until they choose
    assert "Часовой пояс: Москва (UTC+3)" in masha.last_text
    assert "Местное время: 15:00" in masha.last_text  # the fake clock says 12:00 UTC
    await masha.press("🕒 Часовой пояс")
    await masha.press("Владивосток (UTC+10)")
    assert "Часовой пояс: Владивосток (UTC+10)" in masha.last_text
    assert "Местное время: 22:00" in masha.last_text
    user = await app.services.users.get(masha.user.id)
    assert user is not None and user.time_zone == "Asia/Vladivostok"


async def test_offset_button_is_stored_as_an_iana_name(app: App, alex) -> None:
    await alex.send("/settings")
    await alex.press("🕒 Time zone")
    await alex.press("UTC±N…")
    await alex.press("UTC−5")
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.time_zone == "Etc/GMT+5"
    assert "Time zone: UTC−5" in alex.last_text
    assert "Local time: 7:00\u202fAM" in alex.last_text  # Babel: narrow no-break space


async def test_typed_zone_asks_again_until_it_is_right(app: App, alex) -> None:
    await alex.send("/settings")
    await alex.press("🕒 Time zone")
    await alex.press("⌨️ Type a zone")
    assert "Type your time zone" in alex.last_text
    await alex.send("Narnia/Castle")
    assert alex.last_text.startswith("I don't know this time zone.")
    await alex.send_sticker()
    assert alex.last_text.startswith("Please send the time zone as text.")
    await alex.send("UTC+15")
    assert alex.last_text.startswith("The offset must be between UTC−12 and UTC+14.")
    await alex.send("asia/kolkata")
    assert "Time zone: India (UTC+5:30)" in alex.last_text or "Kolkata (UTC+5:30)" in alex.last_text
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.time_zone == "Asia/Kolkata"
    # the flow is over: text is now outside any flow
    await alex.send("hello")
    assert "I respond to buttons and commands" in alex.last_text


async def test_cancel_leaves_the_flow_and_saves_nothing(app: App, alex) -> None:
    await alex.send("/settings")
    await alex.press("🕒 Time zone")
    await alex.press("⌨️ Type a zone")
    await alex.send("/cancel")
    texts = [m.text for m in alex.bot_messages[-2:]]
    assert texts[0] == "Cancelled. Nothing was saved."
    assert "Choose a section" in texts[1]
    await alex.send("UTC+3")  # no longer in the flow
    assert "I respond to buttons and commands" in alex.last_text
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.time_zone == "UTC"


async def test_cancel_button_and_back_button(app: App, alex) -> None:
    await alex.send("/settings")
    await alex.press("🕒 Time zone")
    await alex.press("⌨️ Type a zone")
    await alex.press("‹ Back")
    assert "Choose your time zone" in alex.last_text
    await alex.press("⌨️ Type a zone")
    await alex.press("✖ Cancel")
    assert alex.last_text.startswith("Cancelled. Nothing was saved.")
    await alex.send("/cancel")
    assert alex.bot_messages[-2].text == "Nothing to cancel."


async def test_flow_resumes_after_a_restart(app: App, masha) -> None:
    await masha.send("/settings")
    await masha.press("🕒 Часовой пояс")
    await masha.press("⌨️ Ввести пояс")
    await app.restart()
    await masha.send("UTC+4")
    user = await app.services.users.get(masha.user.id)
    assert user is not None and user.time_zone == "Etc/GMT-4"
    assert "Часовой пояс: UTC+4" in masha.last_text


async def test_notifications_screen_lists_the_registered_kinds(app: App, alex) -> None:
    """Sections register their kinds; each one with a label is a toggle, then quiet hours."""
    from bot.services import notifications

    await alex.send("/settings")
    await alex.press("🔔 Notifications")
    assert "<b>Notifications</b>" in alex.last_text and "🌙 Quiet hours:" in alex.last_text
    toggles = [k for k in notifications.kinds() if k.label]
    assert [t for t, _ in alex.buttons()] == [
        *(f"✅ {k.label}" for k in toggles), "🌙 Quiet hours", "‹ Back", "☰ Menu",
    ]
    await alex.press("‹ Back")
    assert "<b>Settings</b>" in alex.last_text
