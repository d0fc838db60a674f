"""/start, the menu, help, text outside a flow, stale buttons."""

from __future__ import annotations

from aiogram.methods import SendMessage

from bot.db import users as users_repo
from tests.conftest import App


async def test_start_in_english_registers_and_greets(app: App, alex) -> None:
    await alex.send("/start")
    assert alex.last_text.startswith("Hello, Alex! 👋")
    labels = [t for t, _ in alex.buttons()]
    assert labels[-2:] == ["⚙️ Settings", "❓ Help"]  # sections come before them
    assert "💳 Bank cards" in labels
    async with app.services.db.read() as conn:
        user = await users_repo.get(conn, alex.user.id)
    assert user is not None and user.locale == "en" and user.first_name == "Alex"


async def test_start_in_russian(app: App, masha) -> None:
    await masha.send("/start")
    assert masha.last_text.startswith("Здравствуйте, Маша! 👋")
    labels = [t for t, _ in masha.buttons()]
    assert labels[-2:] == ["⚙️ Настройки", "❓ Помощь"]
    assert "💳 Банковские карты" in labels


async def test_other_language_codes_get_the_default(app: App) -> None:
    hans = app.player(3003, first_name="Hans", language_code="de")
    await hans.send("/start")
    assert hans.last_text.startswith("Hello, Hans!")


async def test_name_with_html_is_escaped(app: App) -> None:
    evil = app.player(3004, first_name="<b>Bob</b> & co", language_code="en")
    await evil.send("/start")
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in evil.last_text


async def test_name_change_is_refreshed(app: App) -> None:
    p = app.player(3005, first_name="Old", language_code="en")
    await p.send("/start")
    p.user = p.user.model_copy(update={"first_name": "New", "username": "newname"})
    await p.send("/menu")
    user = await app.services.users.get(3005)
    assert user is not None and (user.first_name, user.username) == ("New", "newname")


async def test_menu_help_and_back(app: App, alex) -> None:
    await alex.send("/start")
    await alex.press("❓ Help")
    assert "<b>Help</b>" in alex.last_text and "/cancel" in alex.last_text
    assert "I don't see my orders" in alex.last_text
    await alex.press("☰ Menu")
    assert "Choose a section" in alex.last_text


async def test_help_command_in_russian(app: App, masha) -> None:
    await masha.send("/help")
    assert "<b>Помощь</b>" in masha.last_text
    assert "/settings — Язык, часовой пояс, уведомления" in masha.last_text


async def test_text_outside_a_flow_gets_a_hint(app: App, alex) -> None:
    await alex.send("hello there")
    assert "I respond to buttons and commands" in alex.last_text
    assert [t for t, _ in alex.buttons()] == ["☰ Menu"]


async def test_odd_input_is_answered_politely(app: App, masha) -> None:
    await masha.send_sticker()
    assert "Я отвечаю на кнопки и команды" in masha.last_text
    await masha.send_photo()
    await masha.send("<script>alert(1)</script> 🙂" * 200)
    assert "Я отвечаю на кнопки и команды" in masha.last_text


async def test_stale_or_forged_button_gets_a_polite_answer(app: App, alex) -> None:
    await alex.send("/start")
    await alex.press_data("zz:unknown:1")
    await alex.press_data("st:sz:999")  # a time zone index that does not exist
    assert alex.alerts()[-2:] == ["This button is no longer active."] * 2


async def test_edit_of_a_deleted_message_sends_a_new_one(app: App, alex) -> None:
    from aiogram.exceptions import TelegramBadRequest
    from aiogram.methods import EditMessageText

    await alex.send("/start")

    def gone(bot, method):
        raise TelegramBadRequest(method=method, message="Bad Request: message to edit not found")

    app.session.responders[EditMessageText] = gone
    before = len(app.session.calls_of(SendMessage))
    await alex.press("❓ Help")
    assert len(app.session.calls_of(SendMessage)) == before + 1
    assert "<b>Help</b>" in alex.last_text


async def test_fake_telegram_refuses_bad_html_like_telegram(app: App, alex) -> None:
    """Every test runs against this check: a screen with broken HTML fails where Telegram would."""
    import pytest
    from aiogram.exceptions import TelegramBadRequest

    await alex.send("/start")
    for bad in ("<b>unclosed", "a < b", "<div>x</div>", "Tom & Jerry"):
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await app.bot.send_message(alex.user.id, bad)
    await app.bot.send_message(alex.user.id, "a &lt; b &amp; <b>ok</b> <code>x</code>")
    await app.bot.send_message(alex.user.id, "a < b", parse_mode=None)


async def test_leaving_a_half_filled_flow_by_the_menu_says_the_draft_is_dropped(app: App, alex) -> None:
    await alex.send("/start")
    await alex.press("📍 Shipping addresses")
    await alex.press("➕ Add an address")
    await alex.send("Germany")
    await alex.press_data("nav:m")  # ☰ Menu on an earlier screen: said in the answer to the press
    assert alex.alerts()[-1] == "Cancelled. Nothing was saved."
    await alex.press("📍 Shipping addresses")
    await alex.press("➕ Add an address")
    await alex.send("Germany")
    await alex.send("/menu")  # the command: said in a message above the menu
    assert alex.bot_messages[-2].text == "Cancelled. Nothing was saved."
    assert await app.services.addresses.list(alex.user.id) == []
    await alex.send("/menu")  # nothing under way: nothing to say
    assert alex.bot_messages[-2].text != "Cancelled. Nothing was saved."
