"""How the screens read (issue 14, "Texts"): an order named in a sentence takes the sentence's
case, a card's brand is in the user's language everywhere, a date never ends in "г..", one date and
one date-time format per locale — rendered through the real Dispatcher, in both languages."""

from __future__ import annotations

import re

import pytest

from bot.db import outbox as outbox_repo
from bot.services.orders import Status
from bot.services.refunds import CardSnapshot
from bot.views.common import Fmt
from bot.views.countries import country_in, country_name, number_from
from bot.views.pushes import render_one
from tests.conftest import App
from tests.orderkit import make_order

NNBSP = "\u202f"
MIR = CardSnapshot(card_id=9, brand="Mir", last4="0004", exp_month=12, exp_year=2030)
# one date format and one date-time format per locale
RU_DATE = r"\d{1,2} [а-я]+\.? \d{4}\u202fг\."
RU_WHEN = RU_DATE + r", \d{2}:\d{2}"
EN_DATE = r"[A-Z][a-z]{2} \d{1,2}, \d{4}"
EN_WHEN = EN_DATE + r", \d{1,2}:\d{2}\u202f[AP]M"


def clean(text: str) -> str:
    """The text, after checking what no screen may contain."""
    assert ".." not in text, text
    assert not re.search(r"[а-яё,:] Заказ №", text), text  # "Заказ №" only starts a sentence
    assert not re.search(r"\d{1,2}/\d{1,2}/\d{2}\b|\d{2}\.\d{2}\.\d{4}", text), text  # no numeric dates
    return text


async def open_first_order(player, menu: str) -> str:
    await player.send("/menu")
    await player.press(menu)
    await player.press("1")
    return clean(player.last_text)


async def test_order_card_and_its_questions_in_russian(app: App, masha) -> None:
    await masha.send("/start")
    order = await make_order(app.services, app.clock, masha.user.id, Status.shipped, card=MIR)
    text = await open_first_order(masha, "📦 Мои заказы")
    assert text.startswith(f"<b>Заказ № {order.number}</b>")
    assert "💳 Оплачен картой Мир •••• 0004" in text and "Mir" not in text
    assert re.search(rf"Статус: <b>🚚 Отправлен</b> · {RU_WHEN}\n", text), text
    assert re.search(rf"Оформлен {RU_DATE}\n", text), text
    await masha.press("✅ Подтвердить получение")
    assert clean(masha.last_text).startswith(f"Подтвердить получение <b>заказа № {order.number}</b>?")
    await masha.press("‹ Ещё нет")
    await masha.press("📍 Отследить посылку")
    assert clean(masha.last_text).startswith(f"<b>Посылка по заказу № {order.number}</b>")
    await masha.press("‹ Назад")
    await masha.press("⚠️ Открыть спор")
    assert clean(masha.last_text).startswith(f"<b>Спор по заказу № {order.number}</b> · шаг 1 из 5")


async def test_cancel_question_in_both_languages(app: App, alex, masha) -> None:
    for player, menu, cancel, question in (
        (alex, "📦 My orders", "✖️ Cancel order", "Why do you want to cancel <b>order #{}</b>?"),
        (masha, "📦 Мои заказы", "✖️ Отменить заказ", "Почему вы хотите отменить <b>заказ № {}</b>?"),
    ):
        await player.send("/start")
        order = await make_order(app.services, app.clock, player.user.id, Status.awaiting_shipment, card=MIR)
        text = await open_first_order(player, menu)
        assert ("Mir •••• 0004" if player is alex else "Мир •••• 0004") in text
        await player.press(cancel)
        assert clean(player.last_text) == question.format(order.number)


async def test_dates_that_end_a_sentence_in_russian(app: App, masha) -> None:
    """"Спор можно открыть до 20 дек. 2026 г..", "Дополнить отзыв можно до 4 мая 2027 г..",
    "Ожидается до 8 дек. 2026 г.." — each screen where a date ends a sentence."""
    await masha.send("/start")
    await make_order(app.services, app.clock, masha.user.id, Status.completed, card=MIR)
    text = await open_first_order(masha, "📦 Мои заказы")
    assert re.search(rf"Что-то не так\? До {RU_DATE} можно открыть спор\.", text), text
    # a review: the card says until when it can be changed and added to
    await masha.send("/menu")
    await masha.press("⭐ Управление отзывами")
    await masha.press("✍️ Ждут отзыва (2)")
    await masha.press("1. ✍️ Wireless earbuds TWS Pro 5")
    await masha.press("5")
    await masha.press("Пропустить ›")
    await masha.press("✅ Готово")
    await masha.press("📣 Опубликовать")
    text = clean(masha.last_text)
    assert re.search(rf"До {RU_DATE} отзыв можно дополнить\.", text), text
    assert re.search(rf"Изменить оценку, текст и фото можно до {RU_WHEN}\.", text), text
    # a paid order cancelled: the refund's push and the cancel preview
    await make_order(app.services, app.clock, masha.user.id, Status.awaiting_shipment, card=MIR)
    await masha.send("/menu")
    await masha.press("📦 Мои заказы")
    await masha.press("1")
    await masha.press("✖️ Отменить заказ")
    await masha.press("Заказ больше не нужен")
    text = clean(masha.last_text)
    assert re.search(rf"Деньги поступят до {RU_DATE}\n", text + "\n"), text
    assert "Деньги вернутся на карту Мир •••• 0004." in text
    await masha.press("✖️ Да, отменить заказ")
    async with app.services.db.read() as conn:
        rows = [r for r in await outbox_repo.for_user(conn, masha.user.id) if r.kind in ("refund", "order_status")]
    f = Fmt(app.services.i18n, "ru", "Europe/Moscow")
    texts = [clean(render_one(r.kind, r.payload, f).screen.text) for r in rows]
    refund = next(t for t in texts if t.startswith("💸"))
    assert re.fullmatch(rf"💸 Возврат 37,99\xa0\$ за заказ № \d+ отправлен на Мир •••• 0004\. "
                        rf"Деньги поступят до {RU_DATE}", refund), refund


async def test_one_date_format_in_english(app: App, alex) -> None:
    await alex.send("/start")
    order = await make_order(app.services, app.clock, alex.user.id, Status.completed, card=MIR)
    text = await open_first_order(alex, "📦 My orders")
    assert text.startswith(f"<b>Order #{order.number}</b>")
    assert "💳 Paid with Mir •••• 0004" in text
    assert re.search(rf"Status: <b>✅ Completed</b> · {EN_WHEN}\n", text), text
    assert re.search(rf"Something wrong\? You can open a dispute until {EN_DATE}\.", text), text
    await alex.press("⭐ Leave a review")
    assert f"Reviews of order #{order.number}" in alex.last_text
    assert re.search(rf"Reviews can be left until {EN_WHEN}\.", clean(alex.last_text)), alex.last_text


@pytest.mark.parametrize(("locale", "code", "inside", "number"), [
    ("ru", "RU", "в России", "российский номер"),
    ("ru", "BY", "в Беларуси", "белорусский номер"),
    ("ru", "US", "в США", "американский номер"),
    ("ru", "GH", "в стране «Гана»", "номер из страны «Гана»"),  # not in the table: no declension needed
    ("en", "US", "in the United States", "a number from the United States"),
    ("en", "BY", "in Belarus", "a number from Belarus"),
])
def test_countries_inside_a_sentence(app: App, locale: str, code: str, inside: str, number: str) -> None:
    f = Fmt(app.services.i18n, locale, "UTC")
    assert country_in(f, code) == inside
    assert number_from(f, code) == number


def test_russian_country_names_keep_yo(app: App) -> None:
    assert country_name(Fmt(app.services.i18n, "ru", "UTC"), "US") == "Соединённые Штаты"
    assert country_name(Fmt(app.services.i18n, "en", "UTC"), "US") == "United States"
