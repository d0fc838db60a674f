"""A button's label typed as text acts as the button (issue 14), in both locales: Skip at the
apartment question, a time zone's name on the zones screen and at "Type a zone", the stars typed
as a digit, a word or stars; and what must not change: free text that is no label, two buttons
that fit one text, an alert of a typed press."""

from __future__ import annotations

import pytest

from bot.fakebot import Player
from bot.middlewares.typed_buttons import LocalKeyboards, Shown, keyed_buttons, label_key, match
from bot.services.orders import Status
from bot.services.reviews import parse_rating
from tests.conftest import App
from tests.orderkit import make_order


async def fsm_data(app: App, p: Player) -> dict:
    from aiogram.fsm.storage.base import StorageKey
    key = StorageKey(bot_id=p.bot.id, chat_id=p.user.id, user_id=p.user.id)
    return await p.dp.storage.get_data(key)


# --- addresses: "Skip" typed is a skip, not an apartment called "Skip" ------------------------------

@pytest.mark.parametrize("typed", ["skip", "⏭ Skip"])
async def test_skip_typed_at_the_apartment_question(app: App, user: Player, lang: str, typed: str) -> None:
    ru = lang == "ru"
    if ru:
        typed = {"skip": "пропустить", "⏭ Skip": "⏭ Пропустить"}[typed]
    await user.send("/start")
    await user.press("📍 Адреса доставки" if ru else "📍 Shipping addresses")
    await user.press("➕ Добавить адрес" if ru else "➕ Add an address")
    for text in ("Россия", "Иван Петров", "+7 916 123-45-67", "Москва", "Москва", "ул. Тверская, д. 7"):
        await user.send(text)
    assert ("Квартира или офис" if ru else "Apartment or office") in user.last_text
    await user.send(typed)
    assert ("шаг 8 из 8" if ru else "step 8 of 8") in user.last_text  # the next question
    await user.send("125009")
    await user.press("✅ Сохранить" if ru else "✅ Save")
    (address,) = await app.services.addresses.list(user.user.id)
    assert address.apartment == "" and address.street == "ул. Тверская, д. 7"


async def test_a_typed_answer_that_is_no_label_is_still_the_answer(app: App, user: Player, lang: str) -> None:
    """"Skip it" is not the label "⏭ Skip": at the apartment question it is the apartment."""
    ru = lang == "ru"
    await user.send("/start")
    await user.press("📍 Адреса доставки" if ru else "📍 Shipping addresses")
    await user.press("➕ Добавить адрес" if ru else "➕ Add an address")
    for text in ("Россия", "Иван Петров", "+7 916 123-45-67", "Москва", "Москва", "ул. Тверская, д. 7", "12Б"):
        await user.send(text)
    assert (await fsm_data(app, user))["apartment"] == "12Б"


# --- settings: a time zone's name ---------------------------------------------------------------

async def test_a_zone_buttons_name_typed_on_the_zones_screen(app: App, user: Player, lang: str) -> None:
    ru = lang == "ru"
    await user.send("/settings")
    await user.press("🕒 Часовой пояс" if ru else "🕒 Time zone")
    await user.send("новосибирск" if ru else "Novosibirsk")
    assert ("Часовой пояс: Новосибирск (UTC+7)" if ru else "Time zone: Novosibirsk (UTC+7)") in user.last_text
    assert (await app.services.users.get(user.user.id)).time_zone == "Asia/Novosibirsk"
    await user.press("🕒 Часовой пояс" if ru else "🕒 Time zone")
    await user.send("Москва (UTC+3)" if ru else "moscow (utc+3)")  # the whole label, any case
    assert (await app.services.users.get(user.user.id)).time_zone == "Europe/Moscow"


async def test_a_city_typed_at_type_a_zone(app: App, user: Player, lang: str) -> None:
    ru = lang == "ru"
    await user.send("/settings")
    await user.press("🕒 Часовой пояс" if ru else "🕒 Time zone")
    await user.press("⌨️ Ввести пояс" if ru else "⌨️ Type a zone")
    await user.send("Самара" if ru else "Samara")
    assert ("Часовой пояс: Самара (UTC+4)" if ru else "Time zone: Samara (UTC+4)") in user.last_text
    await user.press("🕒 Часовой пояс" if ru else "🕒 Time zone")
    await user.press("⌨️ Ввести пояс" if ru else "⌨️ Type a zone")
    await user.send("москва" if ru else "Moscow")
    assert (await app.services.users.get(user.user.id)).time_zone == "Europe/Moscow"
    await user.send("/settings")
    await user.press("🕒 Часовой пояс" if ru else "🕒 Time zone")
    await user.press("⌨️ Ввести пояс" if ru else "⌨️ Type a zone")
    await user.send("Нарния")
    assert ("Не знаю" if ru else "I don't know this time zone") in user.last_text
    assert (await app.services.users.get(user.user.id)).time_zone == "Europe/Moscow"


# --- reviews: the stars typed ---------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "stars"), [
    ("5", "★★★★★"), ("пять", "★★★★★"), ("5 stars", "★★★★★"), ("★★★★★", "★★★★★"), ("4 звезды", "★★★★☆"),
    ("three", "★★★☆☆"), ("⭐⭐", "★★☆☆☆"),
])
async def test_stars_typed(app: App, user: Player, lang: str, typed: str, stars: str) -> None:
    ru = lang == "ru"
    await user.send("/start")
    await make_order(app.services, app.clock, user.user.id, Status.completed)
    await user.press("⭐ Управление отзывами" if ru else "⭐ Reviews")
    await user.press("✍️ Ждут отзыва (2)" if ru else "✍️ Awaiting review (2)")
    await user.press("1. ✍️")
    assert ("Шаг 1 из 3" if ru else "Step 1 of 3") in user.last_text
    await user.send(typed)
    assert ("Шаг 2 из 3" if ru else "Step 2 of 3") in user.last_text
    assert (await fsm_data(app, user))["rating"] == stars.count("★")


@pytest.mark.parametrize("typed", ["6", "0", "пятьдесят", "five hundred", "★★★★★★", "5 apples", "good"])
def test_what_is_not_a_rating(typed: str) -> None:
    assert parse_rating(typed) is None


# --- the mechanism ------------------------------------------------------------------------------

def test_labels_compare_without_case_emoji_and_symbols() -> None:
    assert label_key("⏭ Skip") == label_key("skip") == "skip"
    assert label_key("‹ Назад") == "назад" and label_key("✅ Keep: 12") == "keep: 12"
    assert label_key("UTC+3") != label_key("UTC−3")
    assert label_key("★★★★★") == ""  # nothing left: never a press


async def test_two_buttons_that_fit_one_text_are_no_press() -> None:
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
    memory = LocalKeyboards()
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Keep: 12", callback_data="a"),
        InlineKeyboardButton(text="Keep: 14", callback_data="b"),
        InlineKeyboardButton(text="Moscow (UTC+3)", callback_data="c"),
    ]])
    await memory.shown(0, 1, Shown(10, keyed_buttons(markup)))
    assert await match(memory, 0, 1, "keep") is None and await match(memory, 0, 1, "Keep: 14") == (10, "b")
    assert await match(memory, 0, 1, "Moscow") == (10, "c") and await match(memory, 0, 2, "Moscow") is None
    await memory.gone(0, 1, 11)  # another message: the keyboard stays
    assert await match(memory, 0, 1, "Moscow") == (10, "c")
    await memory.gone(0, 1, 10)
    assert await match(memory, 0, 1, "Moscow") is None


async def test_back_typed_in_a_flow(app: App, alex: Player) -> None:
    await alex.send("/start")
    await alex.press("📍 Shipping addresses")
    await alex.press("➕ Add an address")
    for text in ("Russia", "Ivan Petrov", "+7 916 123-45-67", "Moscow"):  # the region: Moscow
        await alex.send(text)
    assert "Type the city" in alex.last_text
    await alex.send("back")
    assert "Choose the region" in alex.last_text  # Back typed: the previous question


async def test_menu_labels_typed_open_sections(app: App, masha: Player) -> None:
    await masha.send("/start")
    await masha.send("адреса доставки")
    assert "Сохранённых адресов пока нет" in masha.last_text


async def test_a_typed_press_is_answered_by_the_session_an_alert_as_a_message() -> None:
    from aiogram.methods import AnswerCallbackQuery, SendMessage

    from bot.middlewares.typed_buttons import RecordKeyboards
    sent: list = []

    async def make_request(bot, method):
        sent.append(method)
        return True

    middleware = RecordKeyboards(LocalKeyboards())
    toast = AnswerCallbackQuery(callback_query_id="typed:5:1", text="Saved")
    alert = AnswerCallbackQuery(callback_query_id="typed:5:1", text="No longer active", show_alert=True)
    assert await middleware(make_request, None, toast) is True and sent == []
    assert await middleware(make_request, None, alert) is True
    assert [(type(m), m.chat_id, m.text) for m in sent] == [(SendMessage, 5, "No longer active")]
