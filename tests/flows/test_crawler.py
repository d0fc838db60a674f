"""The screen crawler (issue 14): from the demo buyer's main menu, press every button to depth 4 in
both locales, type each step's example input where a step asks for text, and check every screen
the bot shows: the language is the user's, no ".." or "г..", at most 4,096 characters, HTML that
Telegram parses, every callback answered, no unhandled errors.

User data (store names, product titles, names, addresses, codes, the user's own notes) is not
text of ours: it is stripped before the language checks, from what the demo seeding wrote and from
what the crawler typed.

Each main-menu section is crawled from the same seeded database (restored from a template), so a
Delete pressed in one section does not hide screens from another. Screens are de-duplicated by
their text and buttons (and the flow step they are at), so a screen reached twice is checked once
and expanded once.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, Update
from babel import Locale
from babel.core import get_global

from bot import demo
from bot.fakebot import Player, TelegramHtml
from bot.handlers.flow import FLOW_ID
from bot.services.addresses import (
    COMMON_COUNTRIES,
    country_rules,
    phone_example,
    postal_example,
    region_example,
)
from bot.views.addresses import CITY_EXAMPLES, STREET_EXAMPLES, apartment_text
from tests import figures
from tests.conftest import App

MAX_DEPTH = 4  # presses from the main menu
MAX_TEXT_STEPS = 12  # typed answers along one path (a form's questions do not count as depth)
TELEGRAM_LIMIT = 4096

RU_USER_ID = demo.DEMO_USER_ID + 1


# -- what the crawler types where a step asks for text ------------------------------------------
EXAMPLES: dict[str, dict[str, str]] = {
    "en": {
        "CardFlow:number": "2223 0031 2200 3222",  # a sandbox card the demo wallet lacks
        "CardFlow:expiry": "12/29",
        "CardFlow:holder": "ALEX JOHNSON",
        "CardFlow:cvc": "123",
        "CodeFlow:typing": "WELCOME10",
        "ReviewFlow:text": "Great quality, arrived quickly.",
        "ZoneFlow:typing": "Europe/London",
        "DisputeFlow:description": "The item arrived broken and does not work.",
        "OrderSearch:query": "lamp",
        "AddressForm:country": "Germany",
        "AddressForm:recipient": "Alex Johnson",
        "AddressForm:apartment": "12",
    },
    "ru": {
        "CardFlow:number": "2223 0031 2200 3222",  # a sandbox card the demo wallet lacks
        "CardFlow:expiry": "12/29",
        "CardFlow:holder": "ALEKSEI IVANOV",
        "CardFlow:cvc": "123",
        "CodeFlow:typing": "WELCOME10",
        "ReviewFlow:text": "Отличное качество, пришло быстро.",
        "ZoneFlow:typing": "Москва",
        "DisputeFlow:description": "Товар пришёл сломанным и не работает.",
        "OrderSearch:query": "лампа",
        "AddressForm:country": "Германия",
        "AddressForm:recipient": "Алексей Иванов",
        "AddressForm:apartment": "12",
    },
}


def example(locale: str, state: str | None, data: dict[str, Any]) -> str | None:
    """What to type at this step: the table's example, or for an address's country-specific
    fields one that fits the country (and region) chosen so far."""
    if state in EXAMPLES[locale]:
        return EXAMPLES[locale][state]
    country, region = data.get("country") or "", data.get("region") or ""
    if not state or not state.startswith("AddressForm:") or not country:
        return None
    field_name = state.split(":", 1)[1]
    if field_name == "phone":
        return phone_example(country)
    if field_name == "region":
        return region_example(country)
    if field_name == "city":
        return CITY_EXAMPLES.get(country, "Springfield")
    if field_name == "street":
        return STREET_EXAMPLES.get(country, "1 Main Street")
    if field_name == "postal_code":
        return postal_example(country, region)
    return None


# -- user data: text that is not ours, stripped before the language checks --------------------
USER_DATA_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("first_name", "username"),
    "stores": ("name",),
    "products": ("title",),
    "orders": ("number", "first_title", "track_number", "paid_card_brand"),
    "order_items": ("title",),
    "order_status_history": ("note",),
    "tracking_events": ("location", "description"),
    "addresses": ("recipient", "phone", "region", "city", "street", "apartment", "postal_code"),
    "cards": ("brand", "holder"),
    "card_holds": ("brand",),
    "coupon_codes": ("code", "store_name", "category_name", "title"),
    "store_coupon_offers": ("store_name", "title"),
    "coupons": ("store_name", "category_name", "title"),
    "gift_certificates": ("title",),
    "disputes": ("description", "seller_note"),
    "refunds": ("card_brand",),
    "reviews": ("text", "extra_text", "reply_text"),
}
USER_DATA_JSON = {"order_items": ("options",), "orders": ("shipping_address",)}

# Names that are the same in both languages: card brands, carriers, units and abbreviations a
# Russian text writes in Latin letters.
LATIN_IN_RUSSIAN = frozenset({
    "Visa", "Mastercard", "MasterCard", "Mir", "UnionPay", "JCB", "Maestro", "American", "Express",
    "Amex", "Telegram", "CVC", "CVV", "CVC2", "ID", "USB", "LED", "TWS", "PIN", "SMS", "HTML", "Bluetooth",
    "Cainiao", "cainiao", "UTC", "GMT",
    "Apt",  # an address outside the Cyrillic countries is laid out as its post expects: "Apt 12"
    "XL", "XXL",  # clothing sizes, as marked on the labels
})
# A language's own name on the language buttons, and the example of a card holder's name, which
# is typed in Latin letters
NOT_TRANSLATED = ("English", "Русский", "IVAN PETROV")

CURRENCY_CODES = frozenset(get_global("all_currencies"))
COUNTRY_CODES = frozenset(code for code in Locale.parse("en").territories if code.isalpha())
ZONE_NAME = re.compile(r"\b[A-Z][a-z]+/[A-Za-z_]+(?:/[A-Za-z_]+)?\b")

DATE = re.compile(r"\d+ [а-яё]+\. \d+")  # "6 дек. 2026": one finding for every date
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")
TAG = re.compile(r"<[^>]*>")
URL = re.compile(r"(?:https?://|tg://|t\.me/)\S+")
ALIAS = re.compile(r"#[0-9A-F]{4}\b")  # a buyer's alias in a conversation ("Buyer #A7F3"): a code
COMMAND = re.compile(r"/[a-z_]+")


async def user_data(app: App) -> set[str]:
    """Every piece of user or seller text the demo wrote, and its parts (lines, comma pieces)."""
    from sqlalchemy import text

    found: set[str] = set()

    def add(value: object) -> None:
        if isinstance(value, str) and value.strip():
            found.add(value.strip())
            for part in re.split(r"[,\n;]", value):
                if part.strip():
                    found.add(part.strip())
        elif isinstance(value, dict):
            for v in value.values():
                add(v)
        elif isinstance(value, list | tuple):
            for v in value:
                add(v)

    async with app.services.db.read() as conn:
        for table, columns in USER_DATA_COLUMNS.items():
            for column in columns:
                for (value,) in (await conn.execute(text(f"SELECT {column} FROM {table}"))).all():
                    add(value)
        for table, columns in USER_DATA_JSON.items():
            for column in columns:
                for (value,) in (await conn.execute(text(f"SELECT {column} FROM {table}"))).all():
                    add(json.loads(value) if value else None)
        # an apartment number is shown with the word its country's post expects ("кв. 12")
        for country, apartment in (await conn.execute(text("SELECT country, apartment FROM addresses"))).all():
            for script in ("ru", "en"):
                add(apartment_text(country, apartment, script))
    found.update(place_names())
    return found


def place_names() -> set[str]:
    """Places an address names as its country writes them: the regions of the address library
    (in Latin letters outside Cyrillic countries, by design) and the cities and streets the form
    gives as examples for a country."""
    names: set[str] = set(CITY_EXAMPLES.values()) | set(STREET_EXAMPLES.values())
    for country in {*COMMON_COUNTRIES, "DE"}:
        for region in country_rules(country).regions:
            names.update((region.key, region.name, region.latin))
    return {n for n in names if n}


def plain(text: str) -> str:
    """What a reader sees of a Telegram HTML text."""
    import html

    return html.unescape(TAG.sub(" ", text))


@dataclass
class Failure:
    problem: str
    text: str
    path: str


@dataclass
class Node:
    message: Message
    fsm: tuple[str | None, dict[str, Any]]
    depth: int
    typed: int
    path: tuple[str, ...]
    reply_buttons: tuple[tuple[str, bool], ...] = ()  # (label, request_contact)


@dataclass
class Crawler:
    app: App
    player: Player
    locale: str
    user_data: set[str]
    seen_screens: dict[tuple[object, ...], int] = field(default_factory=dict)  # → the least depth
    checked_texts: set[tuple[str, str]] = field(default_factory=set)
    pressed: dict[tuple[object, ...], int] = field(default_factory=dict)  # → the least depth
    failures: dict[tuple[str, str], Failure] = field(default_factory=dict)
    presses: int = 0
    typed_at: dict[str, int] = field(default_factory=dict)  # flow step → answers typed there
    current_fsm: tuple[str | None, dict[str, Any]] = (None, {})
    texts_sent: int = 0

    # -- the checks -------------------------------------------------------------------------
    def __post_init__(self) -> None:
        self.user_data = self.user_data | set(NOT_TRANSLATED)
        # a long title is cut short on a button ("Tiny Tots To…"): its beginnings are user data too
        self.prefixes = {v[:n].rstrip() for v in self.user_data for n in range(3, len(v))}
        self.values = sorted((v for v in self.user_data if len(v) >= 2), key=len, reverse=True)

    def strip_user_data(self, text: str) -> str:
        text = ALIAS.sub(" ", ZONE_NAME.sub(" ", URL.sub(" ", COMMAND.sub(" ", text))))
        # first what was cut short, then whole values (a shorter value may be inside the cut one)
        while (cut := text.find("…")) >= 0:
            head = text[:cut]
            for start in range(max(0, cut - 60), cut - 2):
                if (start == 0 or not head[start - 1].isalnum()) and head[start:].strip() in self.prefixes:
                    head = head[:start]
                    break
            text = head + " " + text[cut + 1:]
        for value in self.values:
            if value in text:
                text = text.replace(value, " ")
        return text

    def fail(self, problem: str, text: str, path: tuple[str, ...], needle: str = "") -> None:
        """One finding per problem and offending line: the same sentence on 25 order cards (digits
        aside) is one thing to fix."""
        line = next((ln for ln in text.splitlines() if needle and needle in ln), text)
        key = (problem, re.sub(r"\d+", "#", DATE.sub("#", line)))
        if key not in self.failures:
            self.failures[key] = Failure(problem, line, " › ".join(path))

    def check_text(self, text: str, path: tuple[str, ...], locale: str, *, html: bool = True) -> None:
        if (locale, text) in self.checked_texts:
            return
        self.checked_texts.add((locale, text))
        if len(text) > TELEGRAM_LIMIT:
            self.fail(f"{len(text)} characters, over Telegram's {TELEGRAM_LIMIT}", text[:300], path)
        if html:
            for problem in TelegramHtml.problems_of(text):
                self.fail(f"invalid HTML: {problem}", text, path)
        shown = plain(text) if html else text
        own = self.strip_user_data(shown).replace("...", "…")
        for pattern in ("г..", ".."):
            if pattern in own:
                self.fail(f"{pattern!r} in the text", shown, path, pattern)
                break
        if locale == "en":
            if found := CYRILLIC.search(own):
                word = re.search(r"\S*" + re.escape(found.group()) + r"\S*", own)
                self.fail("Cyrillic in an English screen", shown, path, word.group() if word else found.group())
        else:
            words = [w for w in LATIN_WORD.findall(own) if w not in LATIN_IN_RUSSIAN
                     and w not in CURRENCY_CODES and w not in COUNTRY_CODES]
            if words:
                self.fail(f"English words in a Russian screen: {', '.join(dict.fromkeys(words))}",
                          shown, path, words[0])

    def check_calls(self, calls: list[Any], path: tuple[str, ...], locale: str) -> None:
        for call in calls:
            if isinstance(call, SendMessage | EditMessageText):
                self.check_text(call.text, path, locale)
            elif isinstance(call, SendPhoto) and call.caption:
                self.check_text(call.caption, path, locale)
            elif isinstance(call, AnswerCallbackQuery) and call.text:
                self.check_text(call.text, path, locale, html=False)
            markup = getattr(call, "reply_markup", None)
            if isinstance(markup, InlineKeyboardMarkup):
                for row in markup.inline_keyboard:
                    for b in row:
                        self.check_text(b.text, (*path, "[button]"), locale, html=False)
            elif isinstance(markup, ReplyKeyboardMarkup):
                for row in markup.keyboard:
                    for b in row:
                        self.check_text(b.text, (*path, "[keyboard]"), locale, html=False)

    # -- driving the bot ----------------------------------------------------------------------
    def state(self) -> Any:
        return self.app.dp.fsm.get_context(bot=self.app.bot, chat_id=self.player.user.id,
                                           user_id=self.player.user.id)

    async def fsm(self) -> tuple[str | None, dict[str, Any]]:
        state = self.state()
        return await state.get_state(), await state.get_data()

    async def after_step(self) -> tuple[str, tuple[str | None, dict[str, Any]]]:
        """The user's language and flow step now, in one read."""
        if self.app.services.redis is not None:  # the flow is in Redis (KABINET_SUITE_REDIS=1)
            row = await self.app.services.db.fetch_one("SELECT locale FROM users WHERE id = ?",
                                                       (self.player.user.id,))
            return row[0], await self.fsm()
        row = await self.app.services.db.fetch_one(
            "SELECT u.locale, f.state, f.data FROM users u LEFT JOIN fsm_states f"
            " ON f.user_id = u.id AND f.chat_id = u.id AND f.destiny = 'default' WHERE u.id = ?",
            (self.player.user.id,))
        return row[0], (row[1], json.loads(row[2]) if row[2] else {})

    async def act(self, node: Node | None, label: str, do: Callable[[], Awaitable[Any]],
                  query_id: str | None = None) -> list[Node]:
        path = (*node.path, label) if node else (label,)
        if node is not None:
            if node.fsm != self.current_fsm:  # back to the flow step the screen was shown at
                state = self.state()
                await state.set_state(node.fsm[0])
                # a form's draft carries its id, and its Save saves once per id (a repeated Save
                # finds it saved): a branch resumed from a step of a form that another branch
                # saved is, to the bot, another form — as it would be for a person starting anew
                data = node.fsm[1]
                await state.set_data({**data, FLOW_ID: uuid.uuid4().hex} if FLOW_ID in data else data)
            self.player.log.messages[node.message.message_id] = node.message
        before = dict(self.player.log.messages)
        start = len(self.app.session.calls)
        errors = len(self.app.errors.errors)
        try:
            result = await do()
            if result is UNHANDLED:
                self.fail("the update was not handled", label, path)
        except Exception as error:
            self.fail(f"crashed: {type(error).__name__}: {error}", label, path)
        for error in self.app.errors.errors[errors:]:
            self.fail(f"the error handler was called: {type(error).__name__}: {error}", label, path)
        self.app.expected_errors = len(self.app.errors.errors)  # reported above, as findings
        calls = self.app.session.calls[start:]
        if query_id is not None and not any(
                isinstance(c, AnswerCallbackQuery) and c.callback_query_id == query_id for c in calls):
            self.fail("the callback query was not answered", label, path)
        # the texts are in the language the user has after this step (Settings › Language
        # switches it); a screen in the other language is checked as such and not followed
        locale, fsm = await self.after_step()
        self.current_fsm = fsm
        self.check_calls(calls, path, locale)
        if locale != self.locale:
            await self.app.services.settings.set_locale(self.player.user.id, self.locale)
            return []

        # the screens this step showed: the bot's messages it sent or edited
        shown = [m for i, m in self.player.log.messages.items()
                 if m.from_user and m.from_user.is_bot and before.get(i) is not m]
        # a reply keyboard's buttons are pressed at the step that showed it ("Share my number")
        reply: tuple[tuple[str, bool], ...] = ()
        for call in calls:
            markup = getattr(call, "reply_markup", None)
            if isinstance(call, SendMessage) and isinstance(markup, ReplyKeyboardMarkup):
                reply = tuple((b.text, bool(b.request_contact)) for row in markup.keyboard for b in row)
        depth = node.depth + 1 if node else 0
        typed = node.typed if node else 0
        children = []
        for message in shown:
            has_buttons = isinstance(message.reply_markup, InlineKeyboardMarkup)
            if has_buttons or message is shown[-1]:
                children.append(Node(message, fsm, depth, typed, path, reply))
        return children

    async def press(self, node: Node, label: str, data: str) -> list[Node]:
        self.presses += 1
        query_id = f"q{self.presses}"

        async def do() -> Any:
            query = CallbackQuery(id=query_id, from_user=self.player.user, chat_instance="ci",
                                  message=node.message, data=data).as_(self.player.bot)
            return await self.player.feed(Update(update_id=next(Player._update_ids), callback_query=query))

        return await self.act(node, f"[{label}]", do, query_id)

    async def type(self, node: Node, text: str, *, contact: bool = False) -> list[Node]:
        self.texts_sent += 1
        step = node.fsm[0] or ""
        self.typed_at[step] = self.typed_at.get(step, 0) + 1
        if text not in self.user_data:  # what the user typed is user data from now on
            self.user_data = self.user_data | {text}
            self.values = sorted({*self.values, text}, key=len, reverse=True)
        if contact:
            children = await self.act(node, "(shares the phone)", lambda: self.player.send_contact("447946000958"))
        else:
            children = await self.act(node, f"«{text}»", lambda: self.player.send(text))
        for child in children:
            child.depth, child.typed = node.depth, node.typed + 1
        return children

    def key(self, node: Node) -> tuple[object, ...]:
        m = node.message
        buttons = tuple(b.callback_data for row in m.reply_markup.inline_keyboard for b in row) \
            if isinstance(m.reply_markup, InlineKeyboardMarkup) else ()
        return (m.text or m.caption, buttons, node.fsm[0], node.reply_buttons)

    async def crawl(self, node: Node) -> None:
        # a screen is expanded once, from the least depth it was reached at (and so the most
        # presses left); reached again as deep or deeper, it is not expanded again
        key = self.key(node)
        if self.seen_screens.get(key, MAX_DEPTH + 1) <= node.depth:
            return
        self.seen_screens[key] = node.depth
        children: list[Node] = []
        m = node.message
        if node.depth < MAX_DEPTH and isinstance(m.reply_markup, InlineKeyboardMarkup):
            for row in m.reply_markup.inline_keyboard:
                for b in row:
                    # the same button in the same flow step does the same: pressed once
                    once = (b.callback_data, node.fsm[0], repr(sorted(node.fsm[1].items())))
                    if b.callback_data and self.pressed.get(once, MAX_DEPTH + 1) > node.depth:
                        self.pressed[once] = node.depth
                        children += await self.press(node, b.text, b.callback_data)
        if node.typed < MAX_TEXT_STEPS:
            answer = example(self.locale, node.fsm[0], node.fsm[1])
            if answer is not None:
                children += await self.type(node, answer)
            for label, contact in node.reply_buttons:
                children += await self.type(node, label, contact=contact)
        for child in children:
            await self.crawl(child)


# -- the test -----------------------------------------------------------------------------------
def copy_database(source: Path, target: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(source, target)


async def restore(crawler: Crawler, template: Path, db_path: Path) -> None:
    """The seeded database again, under a new process (engine, dispatcher); Telegram's chat stays."""
    app, player = crawler.app, crawler.player
    await app.services.db.dispose()
    copy_database(template, db_path)
    app.start()
    player.dp, player.bot = app.dp, app.bot
    crawler.current_fsm = await crawler.fsm()


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_crawl_every_screen(app: App, locale: str, db_path: Path, tmp_path: Path,
                                  request: pytest.FixtureRequest) -> None:
    await demo.seed(app.services, locale=locale)
    player = app.player(demo.DEMO_USER_ID, first_name=demo.DEMO_FIRST_NAME[locale],
                        language_code=locale, username="demo_buyer")
    template = tmp_path / "seeded.sqlite3"
    await app.services.db.dispose()  # checkpoints the WAL into the file
    copy_database(db_path, template)
    app.start()
    player.dp, player.bot = app.dp, app.bot
    crawler = Crawler(app, player, locale, await user_data(app))

    (menu,) = await crawler.act(None, "/start", lambda: player.send("/start"))
    crawler.seen_screens[crawler.key(menu)] = 0
    assert isinstance(menu.message.reply_markup, InlineKeyboardMarkup)
    sections = [(b.text, b.callback_data or "") for row in menu.message.reply_markup.inline_keyboard for b in row]
    assert len(sections) >= 8
    for label, data in sections:  # each section from the seeded database
        await restore(crawler, template, db_path)
        for child in await crawler.press(menu, label, data):
            await crawler.crawl(child)

    figures.report(request, f"screen crawler ({locale}): {len(crawler.seen_screens)} screens, "
                            f"{len(crawler.checked_texts)} texts checked, {crawler.presses} presses, "
                            f"{crawler.texts_sent} typed answers, {len(crawler.failures)} failures")
    # the crawl itself went everywhere: every section's screens and every flow's typed steps
    assert len(crawler.seen_screens) > 300, crawler.seen_screens
    assert set(EXAMPLES[locale]) - {"AddressForm:country"} <= set(crawler.typed_at), crawler.typed_at
    report = "\n".join(f"- {f.path}\n    {f.problem}: {f.text!r}" for f in crawler.failures.values())
    if crawler.failures:
        pytest.fail(f"{len(crawler.failures)} problems on the {locale} screens:\n{report}", pytrace=False)


def test_the_checks_find_what_they_look_for_and_let_user_data_be() -> None:
    crawler = Crawler(None, None, "ru", {"Northwind Outdoor", "Shenzhen sorting center"})  # type: ignore[arg-type]
    bad = {
        "'г..' in the text": ("Спор можно открыть до 6 дек. 2026\u202fг..", "ru"),
        "'..' in the text": ("Order cancelled..", "en"),
        "English words in a Russian screen: cancelled": ("Заказ cancelled", "ru"),
        "Cyrillic in an English screen": ("Order отменён", "en"),
        "invalid HTML: unclosed tag \"b\"": ("<b>Заказ", "ru"),
        "4097 characters, over Telegram's 4096": ("я" * 4097, "ru"),
    }
    for problem, (text, locale) in bad.items():
        crawler.failures.clear()
        crawler.check_text(text, ("screen",), locale)
        assert [f.problem for f in crawler.failures.values()] == [problem], text
    crawler.failures.clear()
    for text in ("🏬 Northwind Outdoor · Shenzhen sorting cen…", "Карта Visa •••• 4242, валюта USD, код DE",
                 "Пояс Europe/Moscow, UTC+3", "Отправьте /cancel", "Подробнее…", "English"):
        crawler.check_text(text, ("screen",), "ru")
    crawler.check_text("🏬 Northwind Outdoor", ("screen",), "en")
    assert not crawler.failures, crawler.failures
