"""Shipping addresses through the real Dispatcher, in English and Russian: adding step by step,
wrong answers, sharing a contact, editing with Keep, the default, deleting, the limit, double taps,
forged ids, restarts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiogram.methods import SendMessage
from aiogram.types import ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.fakebot import Player
from bot.services.addresses import AddressDraft, AddressService
from bot.services.users import Contact
from tests.conftest import App

L = {
    "en": {
        "section": "📍 Shipping addresses", "add": "➕ Add an address", "save": "✅ Save",
        "skip": "⏭ Skip", "keep": "✅ Keep", "back": "‹ Back", "cancel": "✖ Cancel",
        "default": "⭐ Make default", "delete": "🗑 Delete", "yes": "🗑 Yes, delete", "edit": "✏️ Edit",
        "share": "📱 Share my number", "street": "✏️ Street and house", "gone": "This address is no longer available.",
        "stale": "This button is no longer active.", "cancelled": "Cancelled. Nothing was saved.",
        "Russia": "🇷🇺 Russia", "US": "🇺🇸 United States",
    },
    "ru": {
        "section": "📍 Адреса доставки", "add": "➕ Добавить адрес", "save": "✅ Сохранить",
        "skip": "⏭ Пропустить", "keep": "✅ Оставить", "back": "‹ Назад", "cancel": "✖ Отмена",
        "default": "⭐ Сделать основным", "delete": "🗑 Удалить", "yes": "🗑 Да, удалить", "edit": "✏️ Изменить",
        "share": "📱 Поделиться номером", "street": "✏️ Улица и дом", "gone": "Этого адреса больше нет.",
        "stale": "Эта кнопка больше не действует.", "cancelled": "Отменено. Ничего не сохранено.",
        "Russia": "🇷🇺 Россия", "US": "🇺🇸 Соединённые Штаты",
    },
}

MOSCOW = AddressDraft(
    country="RU", recipient="Анна Смирнова", phone="+79161234567", region="Москва", city="Москва",
    street="ул. Тверская, д. 7", apartment="12", postal_code="125009",
)
BOSTON = AddressDraft(
    country="US", recipient="John Smith", phone="+16175550123", region="MA", city="Boston",
    street="1 Main St", postal_code="02110",
)


async def open_section(p: Player, lang: str) -> None:
    await p.send("/start")
    await p.press(L[lang]["section"])


async def saved(app: App, p: Player) -> list:
    return await app.services.addresses.list(p.user.id)


async def seed(app: App, p: Player, *drafts: AddressDraft) -> list:
    await app.services.users.touch(Contact(p.user.id, p.user.first_name, None, p.user.language_code))
    out = []
    for draft in drafts:
        app.clock.advance(minutes=1)
        out.append(await app.services.addresses.add(p.user.id, draft))
    return out


def sent_markups(app: App, p: Player) -> list:
    return [c.reply_markup for c in app.session.calls_of(SendMessage) if c.chat_id == p.user.id]


# --- adding -------------------------------------------------------------------------------------

async def test_full_add_for_russia(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    await open_section(user, lang)
    assert ("Сохранённых адресов пока нет" if lang == "ru" else "You have no saved addresses yet") in user.last_text
    await user.press(t["add"])
    assert ("шаг 1 из 8" if lang == "ru" else "step 1 of 8") in user.last_text
    await user.press(t["Russia"])
    assert "Анна Смирнова" in user.last_text or "Anna Smirnova" in user.last_text  # the example
    await user.send("  Иван   Петров ")
    # the phone question comes with the reply keyboard "Share my number"
    keyboard = sent_markups(app, user)[-2]
    assert isinstance(keyboard, ReplyKeyboardMarkup)
    assert keyboard.keyboard[0][0].text == t["share"] and keyboard.keyboard[0][0].request_contact
    assert "+7 912 345-67-89" in user.last_text
    await user.send("8 (916) 123-45-67")
    assert isinstance(sent_markups(app, user)[-2], ReplyKeyboardRemove)  # removed after the phone
    assert user.bot_messages[-2].text == "📞 +7 916 123-45-67"
    assert ("Страница 1 из 11" if lang == "ru" else "Page 1 of 11") in user.last_text
    await user.send("моск")  # several match: buttons
    assert {label for label, _ in user.buttons()} >= (
        {"Москва", "Московская область"} if lang == "ru" else {"Moscow", "Moscow Oblast"}
    )
    await user.press("Москва" if lang == "ru" else "Moscow")
    await user.send("Москва")
    await user.send("ул. Тверская, д. 7")
    await user.send("12")
    assert "103375" in user.last_text  # a Moscow postal code as the example
    await user.send("125009")
    summary = user.last_text
    assert "Иван Петров\nул. Тверская, д. 7, кв. 12\nМосква\n125009\n" in summary
    assert "📞 +7 916 123-45-67" in summary
    await user.press(t["save"])
    assert ("✅ Адрес сохранён. Это ваш основной адрес." if lang == "ru"
            else "✅ Address saved. It is your default address.") in user.last_text
    (address,) = await saved(app, user)
    assert (address.country, address.recipient, address.phone, address.region, address.city, address.street,
            address.apartment, address.postal_code, address.is_default) == (
        "RU", "Иван Петров", "+79161234567", "Москва", "Москва", "ул. Тверская, д. 7", "12", "125009", True)


async def test_full_add_for_the_united_states(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    await open_section(user, lang)
    await user.press(t["add"])
    await user.send("США" if lang == "ru" else "usa")
    await user.send("John O'Neill")
    assert "+1 201-555-0123" in user.last_text
    await user.send("(650) 253-0000")
    await user.send("calif")
    await user.send("Mountain View")
    await user.send("1600 Amphitheatre Pkwy")
    await user.press(t["skip"])  # no apartment
    await user.send("10001")  # a New York ZIP
    assert user.last_text.startswith(
        "⚠️ Индекс 10001 не относится к штату California. Индексы там такие: 90000." if lang == "ru"
        else "⚠️ The ZIP code 10001 is not in California. ZIP codes there look like 90000."
    )
    await user.send("94043")
    assert "John O'Neill\n1600 Amphitheatre Pkwy\nMountain View, CA 94043\n" in user.last_text
    await user.press(t["save"])
    (address,) = await saved(app, user)
    assert (address.country, address.region, address.postal_code, address.apartment, address.phone) == (
        "US", "CA", "94043", "", "+16502530000")


# --- wrong answers ------------------------------------------------------------------------------

async def test_every_wrong_answer_is_explained_and_nothing_is_lost(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    ru = lang == "ru"
    await open_section(user, lang)
    await user.press(t["add"])
    await user.send("Нарния")
    assert user.last_text.startswith("⚠️ Не знаю такой страны." if ru else "⚠️ I don't know this country.")
    await user.send_sticker()
    assert user.last_text.startswith("⚠️ Пожалуйста, напишите название" if ru else "⚠️ Please type the name")
    await user.send("Россия")
    expectations = [
        ("   ", "⚠️ Это поле не может быть пустым." if ru else "⚠️ This can't be empty."),
        ("Я" * 61, "⚠️ Слишком длинно. Не больше 60 символов." if ru else "⚠️ That's too long. At most 60 characters."),
        ("🙂🙂🙂", "⚠️ Пожалуйста, напишите имя получателя буквами." if ru else "⚠️ Please type the recipient's name in letters."),
        ("<b>Bob</b>", "⚠️ Пожалуйста, без символов «&lt;» и «&gt;»." if ru else "⚠️ Please leave out the “&lt;” and “&gt;” characters."),
        ("R2-D2", "⚠️ В имени могут быть только буквы" if ru else "⚠️ A name may contain only letters"),
    ]
    for typed, error in expectations:
        await user.send(typed)
        assert user.last_text.startswith(error), user.last_text
        assert ("шаг 2 из 8" if ru else "step 2 of 8") in user.last_text  # asked again
    await user.send_photo()
    assert user.last_text.startswith("⚠️ Пожалуйста, ответьте текстом" if ru else "⚠️ Please answer with text")
    await user.send("Иван Петров")
    await user.send("12345")
    assert user.last_text.startswith(
        "⚠️ Это не похоже на номер телефона — в России он выглядит так: +7 912 345-67-89" if ru
        else "⚠️ This doesn't look like a phone number in Russia. Example: +7 912 345-67-89"
    )
    await user.send("+1 650 253 0000")
    assert user.last_text.startswith(
        "⚠️ Это американский номер, а адрес — в России. Укажите местный номер" if ru
        else "⚠️ This is a number from the United States, but the address is in Russia."
    )
    await user.send_sticker()
    assert user.last_text.startswith("⚠️ Пожалуйста, напишите номер" if ru else "⚠️ Please type the number")
    await user.send("+7 916 123-45-67")
    await user.send("Нарния")
    assert user.last_text.startswith(
        "⚠️ Не нахожу такого региона в России. Выберите его кнопкой или напишите название, "
        "например Московская область." if ru
        else "⚠️ I don't know this region in Russia. Choose a button or type its name, for example "
        "Moscow Oblast."
    )
    await user.send("Москва")
    await user.send("🏙🏙")
    assert user.last_text.startswith(
        "⚠️ Пожалуйста, используйте буквы или цифры" if ru else "⚠️ Please use letters or digits"
    )
    await user.send("Москва")
    await user.send("ул. Тверская <script>")
    assert user.last_text.startswith("⚠️ Пожалуйста, без символов" if ru else "⚠️ Please leave out")
    await user.send("x" * 121)
    assert user.last_text.startswith("⚠️ Слишком длинно. Не больше 120 символов." if ru
                                     else "⚠️ That's too long. At most 120 characters.")
    await user.send("Smith & Sons \"A\", 5")
    await user.send("1" * 21)
    assert user.last_text.startswith("⚠️ Слишком длинно. Не больше 20 символов." if ru
                                     else "⚠️ That's too long. At most 20 characters.")
    await user.send("12")
    await user.send("1234")
    assert user.last_text.startswith(
        "⚠️ Это не похоже на почтовый индекс — в России он выглядит так: 103375" if ru
        else "⚠️ This doesn't look like a postal code in Russia. Example: 103375"
    )
    await user.send("190000")  # Saint Petersburg's
    assert user.last_text.startswith(
        "⚠️ Индекс 190000 не относится к региону «Москва». Там индексы такие: 103375." if ru
        else "⚠️ The postal code 190000 is not in Moscow. Postal codes there look like 103375."
    )
    await user.send("125009")
    # everything entered survived the wrong answers; user text is escaped
    assert "Иван Петров\nSmith &amp; Sons \"A\", 5, кв. 12\nМосква\n125009" in user.last_text
    await user.send("hello")
    assert user.bot_messages[-2].text.startswith("⚠️ Пожалуйста, нажмите кнопку" if ru else "⚠️ Please use the buttons")
    await user.press(t["save"])
    assert len(await saved(app, user)) == 1


async def test_country_typo_and_several_matches_offer_buttons(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    await open_section(user, lang)
    await user.press(t["add"])
    await user.send("Германя")
    assert ("Может быть, одна из этих?" if lang == "ru" else "Did you mean one of these?") in user.last_text
    await user.send("Конго")
    labels = [label for label, _ in user.buttons()]
    assert len([x for x in labels if x.startswith("🇨🇩") or x.startswith("🇨🇬")]) == 2
    await user.press("🇨🇬")
    assert ("шаг 2 из" if lang == "ru" else "step 2 of") in user.last_text


# --- sharing a contact, Cancel on the phone step ----------------------------------------------------

async def test_share_contact_path(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    await open_section(user, lang)
    await user.press(t["add"])
    await user.press(t["Russia"])
    await user.send("Иван Петров")
    await user.send_contact("79161234567")  # Telegram sends it without the "+"
    assert isinstance(sent_markups(app, user)[-2], ReplyKeyboardRemove)
    assert user.bot_messages[-2].text == "📞 +7 916 123-45-67"
    await user.press(t["back"])  # back to the phone: the keyboard comes again, the number is kept
    assert isinstance(sent_markups(app, user)[-2], ReplyKeyboardMarkup)
    await user.press(t["keep"])
    assert isinstance(sent_markups(app, user)[-2], ReplyKeyboardRemove)
    await user.press(t["back"])
    await user.send_contact("12125550123")  # someone else's, from another country
    assert ("а адрес — в России" if lang == "ru" else "the address is in Russia") in user.last_text


@pytest.mark.parametrize("how", ["button", "command"])
async def test_cancel_on_the_phone_step_removes_the_keyboard(app: App, alex: Player, how: str) -> None:
    await open_section(alex, "en")
    await alex.press("➕ Add an address")
    await alex.press("🇷🇺 Russia")
    await alex.send("Ivan Petrov")
    if how == "button":
        await alex.press("✖ Cancel")
    else:
        await alex.send("/cancel")
    assert any(isinstance(m, ReplyKeyboardRemove) for m in sent_markups(app, alex)[-2:])
    # the Cancel button returns where the form was opened; /cancel goes to the main menu
    assert ("You have no saved addresses yet" if how == "button" else "Choose a section") in alex.last_text
    await alex.send("+79161234567")  # the form is gone
    assert "I respond to buttons and commands" in alex.last_text
    assert await saved(app, alex) == []


async def test_menu_from_the_phone_step_removes_the_keyboard(app: App, masha: Player) -> None:
    await open_section(masha, "ru")
    await masha.press("➕ Добавить адрес")
    await masha.press("🇷🇺 Россия")
    await masha.send("Иван Петров")
    await masha.send("/menu")
    assert isinstance(sent_markups(app, masha)[-2], ReplyKeyboardRemove)
    assert masha.bot_messages[-2].text == "Отменено. Ничего не сохранено."


# --- back, restart ------------------------------------------------------------------------------

async def test_back_keeps_what_was_entered_and_leaves_from_the_first_question(app: App, alex: Player) -> None:
    await open_section(alex, "en")
    await alex.press("➕ Add an address")
    await alex.press("🇩🇪 Germany")
    await alex.send("Hans Müller")
    await alex.press("‹ Back")  # from the phone step: the keyboard goes
    assert isinstance(sent_markups(app, alex)[-2], ReplyKeyboardRemove)
    assert "Now: <b>Hans Müller</b>" in alex.last_text
    await alex.press("‹ Back")
    assert "Now: <b>🇩🇪 Germany</b>" in alex.last_text
    await alex.press("‹ Back")
    assert "You have no saved addresses yet" in alex.last_text


async def test_restart_in_the_middle_resumes_at_the_same_step(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    await open_section(user, lang)
    await user.press(t["add"])
    await user.press(t["Russia"])
    await user.send("Иван Петров")
    await app.restart()
    await user.send("+7 916 123-45-67")
    await app.restart()
    await user.send("спб")
    await user.send("Санкт-Петербург")
    await app.restart()
    await user.send("Невский пр., д. 1")
    await user.press(t["skip"])
    await user.send("191186")
    await app.restart()
    await user.press(t["save"])
    (address,) = await saved(app, user)
    assert (address.recipient, address.phone, address.region, address.postal_code) == (
        "Иван Петров", "+79161234567", "Санкт-Петербург", "191186")


async def stored_as_before_the_engine(app: App, p: Player, step: str, draft: AddressDraft, *, address_id: int = 0,
                                     single: bool = False, keyboard: bool = False) -> None:
    """A form in progress as the form wrote it before it was a table on the flow engine (issue 16):
    the draft nested under "address_form", "single" for one field asked from the summary."""
    from aiogram.fsm.storage.base import StorageKey

    key = StorageKey(bot_id=app.bot.id, chat_id=p.user.id, user_id=p.user.id)
    data: dict = {"address_form": {"draft": draft.as_dict(), "id": address_id, "single": single}}
    if keyboard:
        data["reply_keyboard"] = True
    await app.dp.storage.set_state(key, f"AddressForm:{step}")
    await app.dp.storage.set_data(key, data)


async def test_a_form_stored_before_the_upgrade_resumes_at_its_step(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    await open_section(user, lang)
    await stored_as_before_the_engine(app, user, "phone", AddressDraft(country="RU", recipient="Иван Петров"),
                                      keyboard=True)
    await app.restart()
    await user.send("+7 916 123-45-67")
    assert isinstance(sent_markups(app, user)[-2], ReplyKeyboardRemove)  # the keyboard it showed goes
    assert ("шаг 4 из 8" if lang == "ru" else "step 4 of 8") in user.last_text
    for text in ("Москва", "Москва", "ул. Тверская, д. 7", "12", "125009"):
        await user.send(text)
    assert "Иван Петров\nул. Тверская, д. 7, кв. 12\nМосква\n125009\n" in user.last_text
    await user.press(t["save"])
    (address,) = await saved(app, user)
    assert (address.recipient, address.phone, address.postal_code) == ("Иван Петров", "+79161234567", "125009")


async def test_a_field_edited_from_the_summary_before_the_upgrade_returns_to_the_summary(
        app: App, user: Player, lang: str) -> None:
    t = L[lang]
    (address,) = await seed(app, user, MOSCOW)
    await open_section(user, lang)
    await stored_as_before_the_engine(app, user, "street", MOSCOW, address_id=address.id, single=True)
    await app.restart()
    await user.send("ул. Арбат, д. 1")
    assert user.last_text.startswith("<b>Изменение адреса</b>" if lang == "ru"
                                     else "<b>Editing the address</b>")
    await user.press(t["save"])
    (updated,) = await saved(app, user)
    assert updated.id == address.id and updated.street == "ул. Арбат, д. 1"
    await user.press(t["edit"])
    await stored_as_before_the_engine(app, user, "summary", MOSCOW, address_id=address.id)
    await user.press(t["cancel"])  # Cancel reads the old layout too: back to the address
    assert user.last_text.startswith(t["cancelled"])
    assert "ул. Арбат, д. 1" in user.last_text


# --- editing ------------------------------------------------------------------------------------

async def test_edit_with_keep(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    (address,) = await seed(app, user, MOSCOW)
    await open_section(user, lang)
    await user.press("1. ⭐")
    await user.press(t["edit"])  # the address as it is, a field to change: not the eight steps again
    assert user.last_text.startswith("<b>Изменение адреса</b>" if lang == "ru" else "<b>Editing the address</b>")
    assert "ул. Тверская, д. 7, кв. 12" in user.last_text
    await user.press(t["street"])  # one field from the summary, then back to it
    assert ("Сейчас: <b>ул. Тверская, д. 7</b>" if lang == "ru" else "Now: <b>ул. Тверская, д. 7</b>") in user.last_text
    await user.send("ул. Арбат, д. 1")
    assert "ул. Арбат, д. 1, кв. 12" in user.last_text
    await user.press(t["street"])  # and Keep leaves it as it is
    await user.press(t["keep"])
    assert user.last_text.startswith("<b>Изменение адреса</b>" if lang == "ru" else "<b>Editing the address</b>")
    await user.press(t["save"])
    assert ("✅ Изменения сохранены." if lang == "ru" else "✅ Changes saved.") in user.last_text
    (updated,) = await saved(app, user)
    assert updated == replace(updated, **{**MOSCOW.as_dict(), "street": "ул. Арбат, д. 1"})
    assert updated.id == address.id and updated.is_default


async def test_cancel_while_editing_returns_to_the_address(app: App, user: Player, lang: str) -> None:
    """Cancel in the middle of editing: back to that address as it was, not to the main menu
    (issue 14); Cancel while adding: back to the list."""
    t = L[lang]
    (address,) = await seed(app, user, MOSCOW)
    await open_section(user, lang)
    await user.press("1. ⭐")
    await user.press(t["edit"])
    await user.press("✏️ " + ("Получатель" if lang == "ru" else "Recipient"))
    await user.send("Пётр Иванов")
    await user.press("✏️ " + ("Телефон" if lang == "ru" else "Phone"))
    await user.press(t["cancel"])  # at the phone question: its reply keyboard goes with the note
    assert user.bot_messages[-2].text == t["cancelled"]
    assert isinstance(sent_markups(app, user)[-2], ReplyKeyboardRemove)
    text = user.last_text
    assert text.startswith("<b>📍 Адрес</b>" if lang == "ru" else "<b>📍 Address</b>")
    assert "Анна Смирнова" in text and "Пётр Иванов" not in text
    assert (await saved(app, user))[0] == address
    await user.press(t["edit"])  # the card's buttons work: the form is new
    assert user.last_text.startswith("<b>Изменение адреса</b>" if lang == "ru" else "<b>Editing the address</b>")
    assert "Анна Смирнова" in user.last_text
    await user.press(t["cancel"])  # no reply keyboard: the note is on the card
    assert user.last_text.startswith(t["cancelled"] + "\n\n" + ("<b>📍 Адрес</b>" if lang == "ru" else "<b>📍 Address</b>"))
    await user.press("‹ " + ("Назад" if lang == "ru" else "Back"))
    await user.press(t["add"])
    await user.press(t["cancel"])
    assert ("⭐ — основной адрес" if lang == "ru" else "⭐ marks the default address") in user.last_text


async def test_back_from_offered_countries_and_regions_asks_again(app: App, user: Player, lang: str) -> None:
    """Back on the buttons offered for a typo or several matches returns to that question, with
    the form and its answers kept (issue 14)."""
    t = L[lang]
    await open_section(user, lang)
    await user.press(t["add"])
    await user.send("Германя")
    assert ("Может быть, одна из этих?" if lang == "ru" else "Did you mean one of these?") in user.last_text
    await user.press(t["back"])
    assert ("шаг 1 из 8" if lang == "ru" else "step 1 of 8") in user.last_text  # the country question
    await user.send("Россия")
    await user.send("Иван Петров")
    await user.send("+7 916 123-45-67")
    await user.send("моск")  # Moscow and Moscow Oblast
    assert ("Подходит несколько регионов" if lang == "ru" else "Several regions match") in user.last_text
    await user.press(t["back"])
    assert ("шаг 4 из 8" if lang == "ru" else "step 4 of 8") in user.last_text  # the region question
    await user.send("Москва")
    assert ("шаг 5 из 8" if lang == "ru" else "step 5 of 8") in user.last_text
    await user.send("/cancel")


async def test_changing_the_country_rechecks_the_other_answers(app: App, alex: Player) -> None:
    await seed(app, alex, MOSCOW)
    await open_section(alex, "en")
    await alex.press("1. ⭐")
    await alex.press("✏️ Edit")
    await alex.press("✏️ Country")
    await alex.send("Kazakhstan")  # a new country walks the answers after it again, each with Keep
    await alex.press("✅ Keep")  # the name fits anywhere
    assert "✅ Keep" in str(alex.buttons())  # +7 serves Kazakhstan too
    await alex.press("✅ Keep")
    # the library lists no regions of Kazakhstan: free text, optional — and Moscow's region is not
    # offered to keep: it is one of Russia's
    assert "⏭ Skip" in str(alex.buttons()) and "Keep" not in str(alex.buttons())
    await alex.press("⏭ Skip")
    await alex.send("Алматы")
    await alex.send("пр-т Абая, д. 10")
    await alex.press("✅ Keep")
    assert "✅ Keep: 125009" in str(alex.buttons())  # it does fit Kazakhstan's six digits
    await alex.send("050012")
    await alex.press("✅ Save")
    (address,) = await saved(app, alex)
    assert (address.country, address.region, address.city, address.postal_code) == ("KZ", "", "Алматы", "050012")


async def test_an_address_deleted_while_it_is_edited(app: App, alex: Player) -> None:
    (address,) = await seed(app, alex, MOSCOW)
    await open_section(alex, "en")
    await alex.press("1. ⭐")
    await alex.press("✏️ Edit")
    summary, save = alex.find_button("✅ Save")
    await alex.press_data(f"adr:y:{address.id}")  # deleted from an older message meanwhile
    await alex.press_data(save, summary)
    assert alex.alerts()[-1] == "This address is no longer available."
    assert "You have no saved addresses yet" in alex.last_text
    assert await saved(app, alex) == []
    await alex.send("hello")  # the form is closed
    assert "I respond to buttons and commands" in alex.last_text


async def test_the_warning_about_undelivered_orders(app: App, alex: Player) -> None:
    (address,) = await seed(app, alex, MOSCOW)

    class OneOrder:
        async def open_orders(self, user_id: int, address_id: int) -> int:
            return 1 if address_id == address.id else 0

    app.services.addresses.usage = OneOrder()
    await open_section(alex, "en")
    await alex.press("1. ⭐")
    await alex.press("🗑 Delete")
    assert "1 order that is not delivered yet was placed with this address" in alex.last_text
    await alex.press("‹ No, keep it")
    await alex.press("✏️ Edit")
    assert "does not change that order" in alex.last_text


# --- the default, deleting, the limit -----------------------------------------------------------

async def test_default_switching(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    _first, second = await seed(app, user, MOSCOW, BOSTON)
    await open_section(user, lang)
    assert user.last_text.count("⭐") == 2  # the default's line and the footnote
    await user.press("2. ")
    await user.press(t["default"])
    assert user.alerts()[-1] == ("⭐ Теперь это ваш основной адрес." if lang == "ru" else "⭐ This is now your default address.")
    assert t["default"] not in str(user.buttons())
    await user.press_data(f"adr:d:{second.id}")  # a second tap on the old button
    assert user.alerts()[-1] == ("Это уже ваш основной адрес." if lang == "ru" else "This already is your default address.")
    assert [x.is_default for x in await saved(app, user)] == [False, True]


async def test_deleting_the_default(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    first, second, third = await seed(app, user, MOSCOW, BOSTON, replace(MOSCOW, street="ул. Арбат, д. 1"))
    await open_section(user, lang)
    await user.press("1. ⭐")
    await user.press(t["delete"])
    await user.press(t["yes"])
    assert user.last_text.startswith(
        "🗑 Адрес удалён.\nТеперь основной адрес: Москва, ул. Арбат, д. 1" if lang == "ru"
        else "🗑 Address deleted.\nYour default address is now: Москва, ул. Арбат, д. 1"
    )
    assert [(x.id, x.is_default) for x in await saved(app, user)] == [(second.id, False), (third.id, True)]
    await user.press_data(f"adr:y:{first.id}")  # a second tap on "Yes, delete"
    assert user.alerts()[-1] == t["gone"]


async def test_the_limit(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    book = await seed(app, user, *[replace(MOSCOW, street=f"ул. Тверская, д. {i}") for i in range(1, 6)])
    await open_section(user, lang)
    await user.press(t["add"])
    assert user.last_text.startswith(
        "⚠️ У вас уже 5 адресов — больше хранить нельзя." if lang == "ru"
        else "⚠️ You already have 5 addresses, the most you can keep."
    )
    await user.press("🗑 4.")
    await user.press("‹ Нет, оставить" if lang == "ru" else "‹ No, keep it")  # back to the choice
    assert "⚠️" in user.last_text and len(await saved(app, user)) == 5
    await user.press("🗑 1.")  # the default: the toast says which one is the default now
    await user.press(t["yes"])  # deleted, and the new address's form opens: what the buyer came for
    assert ("Теперь основной адрес:" if lang == "ru" else "Your default address is now:") in user.alerts()[-1]
    assert len(await saved(app, user)) == 4
    assert ("шаг 1 из 8" if lang == "ru" else "step 1 of 8") in user.last_text
    assert book[0].id not in [x.id for x in await saved(app, user)]


async def test_a_double_save_saves_once(app: App, user: Player, lang: str) -> None:
    t = L[lang]
    await seed(app, user, *[replace(MOSCOW, street=f"ул. Тверская, д. {i}") for i in range(1, 5)])
    await open_section(user, lang)
    await user.press(t["add"])
    await user.press(t["US"])
    await user.send("John Smith")
    await user.send("+1 617 555 0123")
    await user.send("Massachusetts")
    await user.send("Boston")
    await user.send("1 Main St")
    await user.press(t["skip"])
    await user.send("02110")
    summary, data = user.find_button(t["save"])
    await user.press_data(data, summary)
    await user.press_data(data, summary)  # the second tap of a double tap
    assert user.alerts()[-1] == (
        "Эта форма уже закрыта: адрес сохранён или ввод отменён." if lang == "ru"
        else "This form is already closed: the address was saved or the form was cancelled."
    )
    assert len(await saved(app, user)) == 5


async def test_forged_ids_across_two_users(app: App, alex: Player, masha: Player) -> None:
    (alexs,) = await seed(app, alex, BOSTON)
    (mashas,) = await seed(app, masha, MOSCOW)
    await open_section(masha, "ru")
    for action in ("o", "d", "x", "y", "e"):
        await masha.press_data(f"adr:{action}:{alexs.id}")
        assert masha.alerts()[-1] == "Этого адреса больше нет."
        assert "<b>📍 Адреса доставки</b>" in masha.last_text and "Анна Смирнова" in masha.last_text
        assert "John Smith" not in masha.last_text
    await masha.press_data("adr:o:999999")
    assert masha.alerts()[-1] == "Этого адреса больше нет."
    assert await saved(app, alex) == [alexs]
    assert await saved(app, masha) == [mashas]
    # a form button pressed outside the form
    await alex.send("/start")
    await alex.press_data("adf:v::0")
    assert alex.alerts()[-1] == "This form is already closed: the address was saved or the form was cancelled."


async def test_a_stale_button_of_an_earlier_question(app: App, alex: Player) -> None:
    await open_section(alex, "en")
    await alex.press("➕ Add an address")
    country_message, data = alex.find_button("🇷🇺 Russia")
    await alex.press("🇷🇺 Russia")
    await alex.send("Ivan Petrov")
    await alex.press_data(data, country_message)  # the country button, now on the phone step
    assert alex.alerts()[-1] == "This button is no longer active."
    await alex.press_data("adf:k:recipient:0")  # Keep of another step
    assert alex.alerts()[-1] == "This button is no longer active."
    await alex.send("+7 916 123 45 67")  # the form goes on
    assert "step 4 of 8" in alex.last_text
    for forged in ("adf:r:RU:999", "adf:r:US:1", "adf:s:region:0"):  # no such region; required here
        await alex.press_data(forged)
        assert alex.alerts()[-1] == "This button is no longer active."
    assert "step 4 of 8" in alex.last_text


async def test_region_pages(app: App, alex: Player) -> None:
    await open_section(alex, "en")
    await alex.press("➕ Add an address")
    await alex.press("🇺🇸 United States")
    await alex.send("John Smith")
    await alex.send("+1 617 555 0123")
    assert "Page 1 of 8" in alex.last_text and "California" not in str(alex.buttons())
    await alex.press("2 ›")
    assert "Page 2 of 8" in alex.last_text
    await alex.press("‹ 1")
    await alex.press("2 ›")
    await alex.press("California")
    assert "step 5 of 8" in alex.last_text
    await alex.press("‹ Back")
    assert "Now: <b>California</b>" in alex.last_text


async def test_the_section_is_in_the_main_menu(app: App, masha: Player) -> None:
    await masha.send("/start")
    assert "📍 Адреса доставки" in [label for label, _ in masha.buttons()]
    await masha.press("📍 Адреса доставки")
    await masha.press("☰ Меню")
    assert "Выберите раздел" in masha.last_text


def test_address_service_is_wired(app: App) -> None:
    assert isinstance(app.services.addresses, AddressService)
    assert app.services.as_workflow_data()["addresses"] is app.services.addresses


# --- one layout for the book and the order card; regions in the script of the address (issue 14) ---

NEW_YORK = AddressDraft(
    country="US", recipient="Alex Smirnov", phone="+12125550123", region="NY", city="New York",
    street="350 5th Ave", apartment="Apt 21B", postal_code="10118",
)


@pytest.mark.parametrize("book", [MOSCOW, NEW_YORK], ids=["moscow", "new_york"])
async def test_the_order_card_shows_the_address_as_the_book_does(app: App, user: Player, lang: str,
                                                                  book: AddressDraft) -> None:
    from bot.keyboards.orders import OrderAction, OrderCb
    from tests.orderkit import EARBUDS

    (address,) = await seed(app, user, book)
    store = await app.services.orders.ensure_store("Nova Electronics")
    placed = await app.services.orders.create(user_id=user.user.id, store_id=store, items=[EARBUDS],
                                              currency="USD", address_id=address.id)
    await open_section(user, lang)
    await user.press("1. ⭐")
    in_book = user.last_text.split("\n\n", 1)[1]
    await user.press_data(OrderCb(action=OrderAction.open, id=placed.id).pack())
    assert in_book in user.last_text
    if book is MOSCOW:
        assert "ул. Тверская, д. 7, кв. 12\nМосква\n125009" in in_book  # "кв." kept, Moscow once
    else:
        assert "350 5th Ave, Apt 21B\nNew York, NY 10118" in in_book


async def test_regions_in_english_and_in_the_script_of_the_address(app: App, alex: Player) -> None:
    await open_section(alex, "en")
    await alex.press("➕ Add an address")
    await alex.send("Russia")
    await alex.send("Anna Smirnova")
    await alex.send("+7 916 123-45-67")
    labels = {label for label, _ in alex.buttons()}
    assert "Altai Republic" in labels and not any("Republits" in x or "'" in x for x in labels)
    await alex.send("moscow obl")
    await alex.send("Химки")
    await alex.send("ул. Ленина, д. 1")
    await alex.send("5")
    await alex.send("141400")
    summary = alex.last_text
    assert "ул. Ленина, д. 1, кв. 5\nХимки\nМосковская область\n141400" in summary  # one script
    assert "Moscow Oblast" not in summary and "Moskovskaya" not in summary
    await alex.press("✅ Save")
    (address,) = await saved(app, alex)
    assert address.region == "Московская область"  # the library's key: the Russian name
    await alex.press("✏️ Edit")
    await alex.press("✏️ City")
    await alex.send("141400")  # the postal code, a step early: asked again, the rest kept
    assert "Please type the name of the town or city in letters, not a postal code." in alex.last_text
    await alex.send("Khimki")
    await alex.press("✏️ Street and house")
    await alex.send("1 Lenina St")
    assert "1 Lenina St, Apt 5\nKhimki\nMoscow Oblast\n141400" in alex.last_text
