"""The offline console: the real Dispatcher with a fake Telegram in the terminal.

It prints the bot's messages (HTML shown as readable text) with their buttons numbered [1] [2] …;
type text to send it, a button's number to press it (other numbers are sent as text), /quit to leave.
It uses its own database file with demo data, never the real one.

Button numbers are unique across the messages on screen (`Numbering`): a push that arrives below a
screen numbers its buttons after the screen's, so the screen's buttons keep working. The console's
own texts go through gettext in the demo user's language, like the bot's.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from datetime import timedelta
from typing import Any, TextIO

from aiogram import Bot, methods
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from sqlalchemy.engine import make_url

from bot import demo
from bot.app import build_bot, build_dispatcher, build_services, prepare_database
from bot.config import DATA_DIR, Settings
from bot.delivery import Delivery, DeliveryConfig
from bot.fakebot import FakeSession, Player
from bot.runner import build_sweeper
from bot.services.housekeeping import last_update_id
from bot.views.common import Fmt

CONSOLE_DB = DATA_DIR / "console.sqlite3"
DEMO_PHONE = "79161234567"  # shared by a "request_contact" button, as Telegram sends it: no "+"


class Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def accent(self, text: str) -> str:
        return self._wrap("36", text)


def html_to_text(source: str, style: Style) -> str:
    """Telegram HTML → terminal text: bold stays bold, code in backticks, links with their URL."""
    text = re.sub(r"<b>(.*?)</b>", lambda m: style.bold(m.group(1)), source, flags=re.S)
    text = re.sub(r"<strong>(.*?)</strong>", lambda m: style.bold(m.group(1)), text, flags=re.S)
    text = re.sub(r"<code>(.*?)</code>", r"`\1`", text, flags=re.S)
    text = re.sub(r"<pre>(.*?)</pre>", r"\1", text, flags=re.S)
    text = re.sub(r'<a href="([^"]*)">(.*?)</a>', r"\2 (\1)", text, flags=re.S)
    text = re.sub(r"<blockquote[^>]*>(.*?)</blockquote>", lambda m: "│ " + m.group(1).replace("\n", "\n│ "), text, flags=re.S)
    text = re.sub(r"</?(i|em|u|s|tg-spoiler|span)[^>]*>", "", text)
    return html.unescape(text)


class Numbering:
    """Button numbers across the messages on screen, unique, so that "1" never changes meaning
    because a push arrived below the screen:
    - a button labelled with a number ("7" on the second page of a list) is pressed by that number;
    - the other buttons of a message continue after the highest number in use (an edit in place
      keeps the message's numbers when they are still free);
    - what the user types starts a new page of the conversation: the answer's buttons are
      numbered from 1 again (`restart`), as past `LIMIT`; older messages' buttons are forgotten."""

    LIMIT = 99

    def __init__(self) -> None:
        self.blocks: dict[int, dict[int, str]] = {}  # message id → number → callback data

    @staticmethod
    def label_number(label: str) -> int | None:
        text = label.strip()
        if text.isascii() and text.isdigit() and text == str(int(text)) and 1 <= int(text) <= Numbering.LIMIT:
            return int(text)
        return None

    def show(self, message_id: int, buttons: list[tuple[str, str]]) -> list[int]:
        """The message now shows these (label, callback data) buttons (none: no keyboard).
        Returns each button's number."""
        old = self.blocks.pop(message_id, None)
        if not buttons:
            return []
        fixed = [self.label_number(label) for label, _data in buttons]
        for block in self.blocks.values():  # the newest message's numbered labels win
            for number in fixed:
                if number is not None:
                    block.pop(number, None)
        taken = {n for block in self.blocks.values() for n in block} | {n for n in fixed if n is not None}
        count = fixed.count(None)
        start = min((n for n in old if n not in fixed), default=None) if old else None
        if start is None or any(n in taken for n in range(start, start + count)):
            start = max((n for block in self.blocks.values() for n in block), default=0) + 1
            if start + count - 1 > self.LIMIT:
                self.blocks.clear()
                taken = {n for n in fixed if n is not None}
                start = 1
        numbers, block, next_free = [], {}, start
        for (_label, data), number in zip(buttons, fixed, strict=True):
            if number is None:
                while next_free in taken:
                    next_free += 1
                number, next_free = next_free, next_free + 1
            numbers.append(number)
            block[number] = data
        self.blocks[message_id] = block
        return numbers

    def restart(self) -> None:
        self.blocks.clear()

    def forget(self, message_id: int) -> None:
        self.blocks.pop(message_id, None)

    def data(self, number: int) -> str | None:
        for block in reversed(self.blocks.values()):
            if number in block:
                return block[number]
        return None


class Console:
    def __init__(self, settings: Settings, *, locale: str, out: TextIO = sys.stdout,
                 color: bool | None = None, set_locale: bool = True) -> None:
        """`locale`: the demo user's language; `set_locale` (the --lang flag was given): set it for
        this run even when the console database exists with another; otherwise it is only the
        language a new demo user starts with."""
        self.settings = settings
        self.locale = locale
        self.set_locale = set_locale
        self.out = out
        self.style = Style(out.isatty() if color is None else color)
        self.session = FakeSession()
        self.numbering = Numbering()  # the numbered buttons on screen
        self.reply_buttons: list[str] = []
        self.contact_buttons: set[str] = set()  # reply buttons with request_contact
        self._seen = 0
        self.fmt: Fmt | None = None  # the console's own texts, in the demo user's language
        self._message_ids: dict[int, int] = {}  # id() of a send call → the message it made
        for method in (methods.SendMessage, methods.SendPhoto):
            self.session.responders[method] = self._remember_message_id

    def _remember_message_id(self, bot: Bot, method: methods.TelegramMethod[Any]) -> Any:
        message = FakeSession.answer(self.session, bot, method)
        self._message_ids[id(method)] = message.message_id
        return message

    def _(self, msgid: str) -> str:
        return self.fmt._(msgid) if self.fmt is not None else msgid

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def show_new(self) -> None:
        calls = self.session.calls[self._seen :]
        self._seen = len(self.session.calls)
        for call in calls:
            if isinstance(call, methods.SendMessage | methods.EditMessageText | methods.SendPhoto):
                body = call.caption if isinstance(call, methods.SendPhoto) else call.text
                edited = isinstance(call, methods.EditMessageText)
                head = self.style.dim(self._("─ edited ─")) if edited else self.style.dim("─" * 40)
                self.print(head)
                self.print(html_to_text(body or "", self.style))
                self._show_markup(call)
            elif isinstance(call, methods.EditMessageReplyMarkup):
                self.print(self.style.dim(self._("─ buttons changed ─")))
                self._show_markup(call)
            elif isinstance(call, methods.AnswerCallbackQuery) and call.text:
                self.print(self.style.accent("» ") + call.text)
            elif isinstance(call, methods.DeleteMessage):
                self.numbering.forget(int(call.message_id))
                self.print(self.style.dim(self._("(the bot deleted a message)")))
            elif isinstance(call, methods.SetMyCommands):
                continue

    def _show_markup(self, call: methods.SendMessage | methods.EditMessageText | methods.SendPhoto
                     | methods.EditMessageReplyMarkup) -> None:
        markup = call.reply_markup
        if isinstance(call, methods.SendMessage | methods.SendPhoto):
            message_id = self._message_ids.pop(id(call), None)
        else:
            message_id = int(call.message_id) if call.message_id is not None else None
        if isinstance(markup, ReplyKeyboardMarkup):
            self.reply_buttons = [b.text for row in markup.keyboard for b in row]
            self.contact_buttons = {b.text for row in markup.keyboard for b in row if b.request_contact}
            self.print(self.style.dim(self._("keyboard: ")) + " | ".join(self.reply_buttons))
            if self.contact_buttons:
                self.print(self.style.dim(self._("(type the button's text to share the demo phone number)")))
        if message_id is None:
            return
        rows = markup.inline_keyboard if isinstance(markup, InlineKeyboardMarkup) else []
        numbers = iter(self.numbering.show(message_id, [(b.text, b.callback_data or "") for row in rows for b in row]))
        for row in rows:
            cells = []
            for b in row:
                number = next(numbers)
                # a button labelled with its number shows just the number: typing it presses it
                label = "" if Numbering.label_number(b.text) == number else f" {b.text}"
                cells.append(self.style.accent(f"[{number}]") + label)
            self.print("  ".join(cells))

    async def _follow_user(self, services: Any) -> None:
        """The console speaks the demo user's language (it changes when they switch in Settings)."""
        user = await services.users.get(demo.DEMO_USER_ID)
        locale = user.locale if user is not None else self.locale
        if self.fmt is None or self.fmt.locale != locale:
            self.fmt = Fmt(services.i18n, locale)

    async def run(self, lines: Any = None) -> None:
        prepare_database(self.settings)
        services = build_services(self.settings)
        saved = await services.users.get(demo.DEMO_USER_ID)
        if saved is not None and not self.set_locale:
            self.locale = saved.locale  # the demo user's own choice (Settings) stands
        await demo.seed(services, locale=self.locale)
        if self.set_locale:  # --lang: this run speaks that language, whatever was saved before
            await services.settings.set_locale(demo.DEMO_USER_ID, self.locale)
        await self._follow_user(services)
        dp = build_dispatcher(self.settings, services)
        bot = build_bot(self.settings, session=self.session, services=services)
        Player.continue_update_ids_after(await last_update_id(services.db))
        # the due transitions run and the pushes due for the demo user appear after each input, as
        # they would in Telegram (a refund is paid out, a hold released, an unpaid order expires…)
        sweeper = build_sweeper(services)
        delivery = Delivery(services.outbox, bot, services.i18n, services.clock,
                            config=DeliveryConfig(chat_interval=timedelta(0), concurrency=1))
        player = Player(dp, bot, self.session, user_id=demo.DEMO_USER_ID,
                        first_name=demo.DEMO_FIRST_NAME.get(self.locale, "Alex"),
                        language_code=self.locale, username="demo_buyer", strict=False)
        self.print(self.style.bold(self._("Kabinet — offline console")))
        self.print(self.style.dim(
            self._("Type a message, a button's number to press it (=12 sends the text 12), or /quit to "
                   "leave. Demo data lives in {path}.").format(
                       path=self.settings.sqlite_path or make_url(self.settings.database_url).render_as_string())
        ))
        try:
            await player.send("/start")
            await sweeper(services.clock.now())
            await delivery(services.clock.now())
            self.show_new()
            while True:
                line = await self._read(lines)
                if line is None or line.strip() in ("/quit", "/exit"):
                    break
                line = line.strip()
                if not line:
                    continue
                data = self._button(line)
                if data is None:
                    self.numbering.restart()  # typed: the answer's buttons are numbered from 1
                if data is not None:
                    await player.press_data(data)
                elif line.startswith("=") and len(line) > 1:
                    await player.send(line[1:])  # "=12": the text 12, not button 12
                elif line in self.contact_buttons:
                    await player.send_contact(DEMO_PHONE)  # what Telegram sends for request_contact
                else:
                    # other digits are text: a card number, an expiry date, a CVC
                    await player.send(line)
                await sweeper(services.clock.now())
                await services.viewed.flush()
                await delivery(services.clock.now())
                await self._follow_user(services)
                self.show_new()
        finally:
            await services.viewed.flush()
            await services.db.dispose()
            self.print(self.style.dim(self._("Bye!")))

    def _button(self, line: str) -> str | None:
        """"3" presses button 3 when one is shown; "003", "0528" or a number no button has are
        sent as text. Returns the button's callback data."""
        if not (line.isascii() and line.isdigit() and line == str(int(line))):
            return None
        return self.numbering.data(int(line))

    async def _read(self, lines: Any) -> str | None:
        if lines is not None:
            return next(lines, None)
        self.out.write(self.style.accent("you › "))
        self.out.flush()
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return None
        if not sys.stdin.isatty():
            self.print(line.rstrip("\n"))  # echo piped input so the transcript reads well
        return line


def console_settings(settings: Settings, db_path: str | None = None) -> Settings:
    """The console's database: a file (data/console.sqlite3 by default), or a
    postgresql+asyncpg:// URL given as `--db`."""
    path = db_path or str(CONSOLE_DB)
    url = path if path.startswith("postgresql+asyncpg://") else f"sqlite+aiosqlite:///{path}"
    # the demo prices in roubles: without a rate a rouble order bought in the console would earn no
    # points (a deployment sets USD_RATES; one set here for RUB stands)
    from bot.demo.orders import USD_PER_RUB

    rates = {"RUB": USD_PER_RUB, **settings.usd_rates}
    # one local user typing (or piping a script): flood protection has nobody to protect
    return settings.model_copy(update={"database_url": url, "throttle_rate": 0, "usd_rates": rates})
