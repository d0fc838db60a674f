"""The offline console (bot/console.py): button numbers, its own texts in the user's language, and
--lang on an existing console database."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest

from bot import demo
from bot.app import build_services
from bot.config import Settings
from bot.console import Console, Numbering, console_settings
from bot.services.outbox import enqueue
from bot.services.users import Contact
from tests.pushkit import demo_kinds

Step = str | Callable[[str], str]


def script(out: StringIO, steps: list[Step]) -> Iterator[str]:
    """The console's input; a callable step reads what the console printed so far."""
    for step in steps:
        yield step(out.getvalue()) if callable(step) else step


def number_of(label: str) -> Callable[[str], str]:
    """The number the console printed last for the button whose label contains `label`."""
    def find(printed: str) -> str:
        found = re.findall(r"\[(\d+)\] ([^\[\n]*)", printed)
        return [n for n, text in found if label in text][-1]
    return find


def console_db(template_db: Path, tmp_path: Path) -> Settings:
    db = tmp_path / "console.sqlite3"
    if not db.exists():
        shutil.copy(template_db, db)
    return console_settings(Settings(_env_file=None), str(db))  # type: ignore[call-arg]


async def run(settings: Settings, steps: list[Step], *, locale: str = "en", set_locale: bool = True,
              console: Console | None = None) -> str:
    out = StringIO()
    console = console or Console(settings, locale=locale, out=out, color=False, set_locale=set_locale)
    console.out = out
    await console.run(script(out, [*steps, "/quit"]))
    return out.getvalue()


# -- numbering ----------------------------------------------------------------------------------------

def test_numbers_are_unique_across_messages_and_labels_that_are_numbers_keep_them() -> None:
    n = Numbering()
    assert n.show(1, [("Orders", "o"), ("Coupons", "c"), ("Menu", "m")]) == [1, 2, 3]
    assert n.show(2, [("Open order", "push")]) == [4]  # a push below the screen
    assert (n.data(1), n.data(3), n.data(4)) == ("o", "m", "push")  # the screen's buttons still work
    # the screen is edited in place into a list: "1" and "2" are its items, the rest come after
    assert n.show(1, [("1", "i1"), ("2", "i2"), ("›", "next"), ("Menu", "m")]) == [1, 2, 5, 6]
    # its second page: items 7 and 8 are pressed by 7 and 8, as the list says
    numbers = n.show(1, [("7", "i7"), ("8", "i8"), ("‹", "prev"), ("Menu", "m")])
    assert numbers[:2] == [7, 8] and (n.data(7), n.data(8)) == ("i7", "i8")
    assert len(set(numbers)) == 4 and 4 not in numbers and n.data(4) == "push"
    n.forget(2)  # the bot deleted the push
    assert n.data(4) is None


def test_numbering_starts_again_after_typed_text() -> None:
    n = Numbering()
    n.show(1, [("Orders", "o"), ("Coupons", "c")])
    n.restart()  # the user typed /menu: the answer is a new page of the conversation
    assert n.show(2, [("Orders", "o2"), ("Coupons", "c2")]) == [1, 2] and n.data(1) == "o2"


def test_numbering_starts_again_past_the_limit() -> None:
    n = Numbering()
    for message in range(1, 40):
        numbers = n.show(message, [("A", f"a{message}"), ("B", f"b{message}"), ("C", f"c{message}")])
        assert max(numbers) <= Numbering.LIMIT
    assert n.data(numbers[0]) == "a39"


async def test_a_push_does_not_take_the_screens_numbers(template_db: Path, tmp_path: Path) -> None:
    settings = console_db(template_db, tmp_path)
    with demo_kinds():
        services = build_services(settings)
        try:
            await services.users.touch(Contact(demo.DEMO_USER_ID, "Alex", None, "en"))
            async with services.db.write() as conn:
                await enqueue(conn, user_id=demo.DEMO_USER_ID, kind="t_order", payload={"n": 1, "order": 42},
                              dedupe_key="console:1", now=datetime.now(UTC))
        finally:
            await services.db.dispose()
        # the main menu, then the push below it: its button is numbered after the menu's
        text = await run(settings, [number_of("Coupons")])
    menu, after = text.split("Order #42 update 1", 1)
    menu_numbers = [int(x) for x in re.findall(r"\[(\d+)\]", menu)]
    assert menu_numbers == list(range(1, len(menu_numbers) + 1))
    assert f"[{len(menu_numbers) + 1}] Open order #42" in after
    # the menu's Coupons button still opens the coupons, though the push came after it
    assert "🎟 My coupons" in after.split("Open order #42", 1)[1]


async def test_the_coupon_list_is_pressed_by_the_numbers_it_shows(template_db: Path, tmp_path: Path) -> None:
    settings = console_db(template_db, tmp_path)
    text = await run(settings, [number_of("Coupons"), number_of("›"), "7"])
    pager = re.search(r"\[\d+\] 2/\d+", text)  # the pager's middle button on page two
    assert pager, text
    page_two = text[:pager.start()].rsplit("My coupons", 1)[1]
    assert "<b>" not in page_two and "7. " in page_two
    keys = text[:pager.start()].rsplit("\n", 2)[-2]  # the items' buttons, just above the pager
    assert keys.startswith("[7]  [8]"), keys
    assert "[1] 7" not in text
    # "7" opened the seventh coupon (its card has a Back button to the list)
    assert text.rstrip().endswith("Bye!") and "‹ Back" in text[pager.end():]


# -- the console's own texts --------------------------------------------------------------------------

async def test_the_russian_console_speaks_russian(template_db: Path, tmp_path: Path) -> None:
    from bot import menu as registry
    from bot.handlers import sections

    sections()  # importing the sections registers their menu entries
    entries = registry.entries()
    layout = [e.section for e in entries if e.wide] + [e.section for e in entries if not e.wide]
    cards_button = str(layout.index("cards") + 1)
    settings = console_db(template_db, tmp_path)
    text = await run(settings, [cards_button, "3", "2200000000000004", "0530", "IVAN PETROV", "123"],
                     locale="ru")
    assert "Карта добавлена" in text
    assert text.count("(бот удалил сообщение)") == 2
    assert "Кабинет — офлайн-консоль" in text and "До свидания!" in text
    for english in ("the bot deleted", "offline console", "Type a message", "Bye!", "edited"):
        assert english not in text


# -- --lang -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("first", ["en", "ru"])
async def test_lang_sets_the_language_of_an_existing_console_database(template_db: Path, tmp_path: Path,
                                                                       first: str) -> None:
    other = "ru" if first == "en" else "en"
    hello = {"en": "Hello, Alex!", "ru": "Здравствуйте, Алексей!"}
    settings = console_db(template_db, tmp_path)
    # `make run` without --lang: the environment's language for a new demo user
    assert hello[first] in await run(settings, [], locale=first, set_locale=False)
    # --lang other: that language for this run, though the database exists
    text = await run(settings, [], locale=other)
    assert hello[other] in text and hello[first] not in text
    # without the flag the saved language stays (the environment's does not override it)
    assert hello[other] in await run(settings, [], locale=first, set_locale=False)
    # switched back with the flag
    assert hello[first] in await run(settings, [], locale=first)


def test_the_console_rates_the_demos_roubles_so_its_orders_earn_points(tmp_path: Path) -> None:
    """The demo prices in roubles; a rouble order bought in the console earns points at the demo's
    rate — unless USD_RATES says otherwise, which stands."""
    from decimal import Decimal

    from bot.demo.orders import USD_PER_RUB

    plain = console_settings(Settings(_env_file=None), str(tmp_path / "a.sqlite3"))  # type: ignore[call-arg]
    assert plain.usd_rates["RUB"] == USD_PER_RUB
    own = Settings(_env_file=None, usd_rates={"RUB": Decimal("0.012"), "EUR": Decimal("1.08")})  # type: ignore[call-arg]
    assert console_settings(own, str(tmp_path / "b.sqlite3")).usd_rates == {"RUB": Decimal("0.012"),
                                                                           "EUR": Decimal("1.08")}
