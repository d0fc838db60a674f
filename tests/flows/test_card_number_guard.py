"""A card number typed anywhere but the card flow's number step (issue 15, item 4): in order
search, a dispute description, a review, an address field, a photo caption, the card flow's later
steps, outside any flow. Each time the message is deleted, the user is told why (in their
language), nothing of it is in FSM storage, the database file or the log, nothing the bot sent
repeats it, and the flow is still at its step with what was entered so far."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, DeleteMessage, EditMessageText, SendMessage
from aiogram.types import Message, Update

from bot.fakebot import Player
from bot.middlewares.card_guard import guarded_states
from bot.services.orders import Status
from tests.conftest import App
from tests.figures import tally
from tests.flows.steps import rate_a_completed_order
from tests.flows.test_cards_security import leaked_number_runs, wal_pages, windows
from tests.orderkit import make_order
from tests.services_kit import SUITE_PG, postgres_contents

NUMBER = "4111 1111 1111 1111"
DIGITS = NUMBER.replace(" ", "")
TOLD = {
    "en": "⚠️ That looked like a card number, so I deleted it. Send only what is asked below.",
    "ru": "⚠️ Это было похоже на номер карты, поэтому я удалил сообщение. Отправьте только то, что спрошено ниже.",
}
OUTSIDE = {
    "en": "⚠️ That looked like a card number, so I deleted it: card details are not safe in a chat.",
    "ru": "⚠️ Это было похоже на номер карты",
}


@pytest.fixture(autouse=True)
def _placement(request: pytest.FixtureRequest) -> None:
    """Each test here puts a card number in one more place: the figure counts them."""
    if "db_path" in request.fixturenames:  # a placement (the others check the guard's coverage)
        tally(request, "card-number placements (never stored, echoed or logged)", 1)


async def fsm(app: App, p: Player) -> tuple[str | None, dict[str, Any]]:
    row = next((r for r in await app.flows() if r[0] == p.user.id), None)  # SQL or Redis
    return (row[1], json.loads(row[2])) if row else (None, {})


def deleted_ids(app: App, p: Player) -> set[int]:
    return {c.message_id for c in app.session.calls_of(DeleteMessage) if int(c.chat_id) == p.user.id}


def sent_texts(app: App) -> str:
    calls = [c for c in app.session.calls if isinstance(c, SendMessage | EditMessageText | AnswerCallbackQuery)]
    return "\n".join(c.text or "" for c in calls)


async def assert_nothing_kept(app: App, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secrets = windows(DIGITS)
    if SUITE_PG:  # the database's files and its live rows
        files, rows = postgres_contents(app.settings.database_url)
        for name, data in [*files, ("rows", rows)]:
            assert leaked_number_runs(data, secrets) == [], name
    for path in () if SUITE_PG else (db_path, db_path.with_name(db_path.name + "-wal")):
        if path.exists():
            data = path.read_bytes()
            content = wal_pages(data) if path.name.endswith("-wal") and data else data
            assert leaked_number_runs(content, secrets) == [], path
    rows = await app.flows()  # the FSM, in SQL or in Redis
    assert leaked_number_runs(repr(rows).encode(), secrets) == []
    assert leaked_number_runs(sent_texts(app).encode(), secrets) == []  # never echoed
    assert leaked_number_runs(caplog.text.encode(), secrets) == []  # never logged


async def guarded(app: App, p: Player, db_path: Path, caplog: pytest.LogCaptureFixture,
                  send: Callable[[], Awaitable[Message]], *, lang: str = "en") -> str:
    """Send the card number with `send`; check what the guard promises. Returns the screen that
    asks again."""
    before = await fsm(app, p)
    message = await send()
    assert message.message_id in deleted_ids(app, p)
    assert TOLD[lang] in p.last_text, p.last_text
    assert await fsm(app, p) == before  # the same step, the same draft
    await assert_nothing_kept(app, db_path, caplog)
    return p.last_text


@pytest.fixture(autouse=True)
def debug_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


async def test_order_search(app: App, alex: Player, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.send("/start")
    await alex.press("📦 My orders")
    await alex.press("🔍 Search")
    screen = await guarded(app, alex, db_path, caplog, lambda: alex.send(NUMBER))
    assert "Type an order number" in screen and "«" not in screen and "“" not in screen
    assert (await fsm(app, alex))[0] == "OrderSearch:query"
    await alex.send("earbuds")  # the step still works
    assert alex.last_text.startswith("<b>Search</b> · “earbuds”")


async def test_order_search_in_russian(app: App, masha: Player, db_path: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    await masha.send("/start")
    await make_order(app.services, app.clock, masha.user.id, Status.shipped)
    await masha.send("/start")
    await masha.press("📦 Мои заказы")
    await masha.press("🔍 Поиск")
    await guarded(app, masha, db_path, caplog, lambda: masha.send(f"Найти {NUMBER}"), lang="ru")


async def test_dispute_description(app: App, alex: Player, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.send("/start")
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("⚠️ Open a dispute")
    await alex.press("Damaged or doesn't work")
    screen = await guarded(app, alex, db_path, caplog,
                           lambda: alex.send(f"Refund to my card {NUMBER} please, it broke"))
    assert "step 2 of 5" in screen
    await alex.send("The left earbud does not charge at all.")
    assert "step 3 of 5" in alex.last_text


async def test_review_text(app: App, alex: Player, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await rate_a_completed_order(app, alex, "4")
    screen = await guarded(app, alex, db_path, caplog, lambda: alex.send(f"Great! Paid with {NUMBER}"))
    assert "Step 2 of 3" in screen
    assert (await fsm(app, alex))[1].get("rating") == 4  # what was entered stays


async def test_a_photo_caption(app: App, alex: Player, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await rate_a_completed_order(app, alex, "5")
    await alex.send("Good bass")
    assert "Step 3 of 3" in alex.last_text
    await guarded(app, alex, db_path, caplog, lambda: alex.send_photo("card-photo", caption=f"card {NUMBER}"))
    assert not (await fsm(app, alex))[1].get("photos")  # the photo was not taken either
    await alex.send_photo("ok-photo")
    assert "Added: 1 photo." in alex.last_text


async def test_an_address_field(app: App, alex: Player, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    await alex.send("/start")
    await alex.press("📍 Shipping addresses")
    await alex.press("➕ Add an address")
    await alex.send("usa")
    await alex.send("John Smith")
    await alex.send("(650) 253-0000")
    _, data = await fsm(app, alex)
    screen = await guarded(app, alex, db_path, caplog, lambda: alex.send(NUMBER))
    assert data["recipient"] == "John Smith"
    assert "step 4 of" in screen, screen


async def test_the_card_flow_after_the_number(app: App, alex: Player, db_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    await alex.send("/start")
    await alex.press("💳 Bank cards")
    await alex.press("➕ Add a card")
    await alex.send("4242 4242 4242 4242")  # the number step takes it (and deletes the message)
    assert "step 2 of 4" in alex.last_text
    screen = await guarded(app, alex, db_path, caplog, lambda: alex.send(NUMBER))
    assert "step 2 of 4" in screen and "•••• 4242" in screen


async def test_outside_any_flow(app: App, alex: Player, masha: Player, db_path: Path,
                                caplog: pytest.LogCaptureFixture) -> None:
    await alex.send("/start")
    message = await alex.send(f"my card is {NUMBER.replace(' ', '-')}, please save it")
    assert message.message_id in deleted_ids(app, alex)
    assert alex.last_text.startswith(OUTSIDE["en"])
    assert await fsm(app, alex) == (None, {})
    await masha.send("/start")
    message = await masha.send(NUMBER)
    assert message.message_id in deleted_ids(app, masha)
    assert masha.last_text.startswith(OUTSIDE["ru"])
    await assert_nothing_kept(app, db_path, caplog)
    other = await alex.send("order 1234567890123")  # digits, but not a card number
    assert other.message_id not in deleted_ids(app, alex)


async def test_when_it_cannot_be_deleted_the_user_is_asked_to(app: App, alex: Player, db_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    def refuse(bot: Any, method: Any) -> Any:
        raise TelegramBadRequest(method=method, message="Bad Request: message can't be deleted for everyone")

    await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.send("/start")
    await alex.press("📦 My orders")
    await alex.press("🔍 Search")
    app.session.responders[DeleteMessage] = refuse
    await alex.send(NUMBER)
    assert alex.last_text.startswith("⚠️ I couldn't delete your message with the card details.")
    assert (await fsm(app, alex))[0] == "OrderSearch:query"
    await assert_nothing_kept(app, db_path, caplog)


def test_every_step_of_every_flow_is_guarded() -> None:
    """Each state either takes a card number (the card flow's number step) or says how it asks
    again; a new flow that forgets to fails here."""
    from aiogram.fsm.state import StatesGroup

    import bot.handlers as handlers

    handlers.sections()  # imports every section

    def groups(cls: type) -> list[type]:
        return [g for sub in cls.__subclasses__() for g in (sub, *groups(sub))]

    states = {name for group in groups(StatesGroup) if group.__module__.startswith("bot.")
              for name in group.__all_states_names__}
    reask, takes = guarded_states()
    assert takes == {"CardFlow:number"}
    assert states - reask - takes == set()
    assert len(states) >= 25


async def test_a_message_edited_to_hold_a_card_number(app: App, alex: Player, db_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    await make_order(app.services, app.clock, alex.user.id, Status.shipped)
    await alex.send("/start")
    await alex.press("📦 My orders")
    await alex.press("🔍 Search")
    before = await fsm(app, alex)
    edited = alex._user_message(text=f"paid with {NUMBER}")
    await alex.feed(Update(update_id=next(alex._update_ids), edited_message=edited))
    assert edited.message_id in deleted_ids(app, alex)
    assert alex.last_text.startswith(OUTSIDE["en"])
    assert await fsm(app, alex) == before
    await assert_nothing_kept(app, db_path, caplog)


@pytest.mark.parametrize(("path", "prompt"), [
    (("🎟 Coupons", "🔑 Enter a code"), "Type the code of a coupon"),
    (("⚙️ Settings", "🕒 Time zone", "⌨️ Type a zone"), "Type your time zone"),
])
async def test_a_coupon_code_and_a_time_zone(app: App, alex: Player, db_path: Path, caplog: pytest.LogCaptureFixture,
                                             path: tuple[str, ...], prompt: str) -> None:
    await alex.send("/start")
    for label in path:
        await alex.press(label)
    state = (await fsm(app, alex))[0]
    assert state is not None
    screen = await guarded(app, alex, db_path, caplog, lambda: alex.send(NUMBER))
    assert prompt in screen
    assert (await fsm(app, alex))[0] == state
