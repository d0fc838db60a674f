"""The offline console: the real Dispatcher with a fake Telegram in the terminal.

It prints the bot's messages (HTML shown as readable text) with their buttons numbered [1] [2] …;
type text to send it, a button's number to press it (other numbers are sent as text), /quit to leave. It uses its own database file
with demo data, never the real one.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from datetime import timedelta
from typing import Any, TextIO

from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageText,
    SendMessage,
    SendPhoto,
    SetMyCommands,
)
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot import demo
from bot.app import build_bot, build_dispatcher, build_services, prepare_database
from bot.config import DATA_DIR, Settings
from bot.delivery import Delivery, DeliveryConfig
from bot.fakebot import FakeSession, Player
from bot.runner import build_sweeper
from bot.services.housekeeping import last_update_id

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


class Console:
    def __init__(self, settings: Settings, *, locale: str, out: TextIO = sys.stdout,
                 color: bool | None = None) -> None:
        self.settings = settings
        self.locale = locale
        self.out = out
        self.style = Style(out.isatty() if color is None else color)
        self.session = FakeSession()
        self.buttons: list[str] = []  # callback data of the numbered buttons on screen
        self.reply_buttons: list[str] = []
        self.contact_buttons: set[str] = set()  # reply buttons with request_contact
        self._seen = 0

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def show_new(self) -> None:
        calls = self.session.calls[self._seen :]
        self._seen = len(self.session.calls)
        numbered: list[str] = []
        reply_labels: list[str] = []
        for call in calls:
            if isinstance(call, SendMessage | EditMessageText | SendPhoto):
                body = call.caption if isinstance(call, SendPhoto) else call.text
                head = self.style.dim("─ edited ─") if isinstance(call, EditMessageText) else self.style.dim("─" * 40)
                self.print(head)
                self.print(html_to_text(body or "", self.style))
                markup = call.reply_markup
                if isinstance(markup, InlineKeyboardMarkup):
                    numbered = []
                    for row in markup.inline_keyboard:
                        cells = []
                        for b in row:
                            numbered.append(b.callback_data or "")
                            cells.append(self.style.accent(f"[{len(numbered)}]") + f" {b.text}")
                        self.print("  ".join(cells))
                elif isinstance(markup, ReplyKeyboardMarkup):
                    reply_labels = [b.text for row in markup.keyboard for b in row]
                    self.contact_buttons = {b.text for row in markup.keyboard for b in row if b.request_contact}
                    self.print(self.style.dim("keyboard: ") + " | ".join(reply_labels))
                    if self.contact_buttons:
                        self.print(self.style.dim("(type the button's text to share the demo phone number)"))
            elif isinstance(call, AnswerCallbackQuery) and call.text:
                self.print(self.style.accent("» ") + call.text)
            elif isinstance(call, DeleteMessage):
                self.print(self.style.dim("(the bot deleted a message)"))
            elif isinstance(call, SetMyCommands):
                continue
        if numbered:
            self.buttons = numbered
        if reply_labels:
            self.reply_buttons = reply_labels

    async def run(self, lines: Any = None) -> None:
        prepare_database(self.settings)
        services = build_services(self.settings)
        await demo.seed(services, locale=self.locale)
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
        self.print(self.style.bold("Kabinet — offline console"))
        self.print(self.style.dim(
            "Type a message, a button's number to press it (=12 sends the text 12), or /quit to leave. "
            f"Demo data lives in {self.settings.sqlite_path}."
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
                if self._is_button(line):
                    await player.press_data(self.buttons[int(line) - 1])
                elif line.startswith("=") and len(line) > 1:
                    await player.send(line[1:])  # "=12": the text 12, not button 12
                elif line in self.contact_buttons:
                    await player.send_contact(DEMO_PHONE)  # what Telegram sends for request_contact
                else:
                    # other digits are text: a card number, an expiry date, a CVC
                    await player.send(line)
                await sweeper(services.clock.now())
                await delivery(services.clock.now())
                self.show_new()
        finally:
            await services.db.dispose()
            self.print(self.style.dim("Bye!"))

    def _is_button(self, line: str) -> bool:
        """"3" presses button 3 when there is one; "003", "0528" or "123" with fewer buttons are
        sent as text."""
        return line.isdigit() and line == str(int(line)) and 1 <= int(line) <= len(self.buttons)

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
    path = db_path or str(CONSOLE_DB)
    # one local user typing (or piping a script): flood protection has nobody to protect
    return settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{path}", "throttle_rate": 0})
