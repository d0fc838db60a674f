"""A button's label typed as text acts as the button (DESIGN §9), in every section and step.

People type what they see: "Skip" at the apartment question, "Moscow" on the time-zone screen,
"5" at the stars. One mechanism serves every screen instead of a rule per step:

- `RecordKeyboards`, installed on the Bot's session (`install`), remembers in a `KeyboardMemory`
  the newest inline keyboard the bot showed in each private chat (sent or edited in; a push's
  keyboard too): its message and its buttons' label keys and callback data.
- `TypedButtonsMiddleware`, an outer middleware on messages, compares a typed text with that
  keyboard's labels (case, emoji, symbols and spaces aside; "Keep: 12" also answers to "Keep",
  "Moscow (UTC+3)" to "Moscow"). When exactly one button fits, the text is handled as a press of
  it: a callback query with that button's data goes through the routers, with the same user,
  state and locale. Nothing else changes: a step that takes free text still gets every text that
  is not a label of the buttons on screen.
- The press is made up, so Telegram knows no such query: the session answers it itself (an alert
  becomes a message, a toast is dropped), and the query's message is "inaccessible", so the
  answer comes as a new message below what the user typed (`send_or_edit` does that already).

Where the memory lives: without Redis in the process (`LocalKeyboards`): after a restart the
labels of the screen on display are recognised again from the next screen the bot shows. With
REDIS_URL in Redis (bot/db/keyboards_redis.py, a key per chat kept 7 days): a screen shown by one
instance is recognised by another that gets the typed label, and a restart forgets nothing. The
matching (`label_key`, `pick`) is the same for both: the memories only keep and give back.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, Protocol

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.base import BaseSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message, TelegramObject

TYPED_PREFIX = "typed:"  # the id of a made-up callback query: typed:<chat id>:<message id>
CHATS_REMEMBERED = 20_000
_DROPPED = frozenset({"So", "Sk", "Cf", "Co", "Cn", "Mn", "Me"})
_PAREN_TAIL = re.compile(r"\s*\([^()]*\)\s*$")


def label_key(text: str) -> str:
    """What a label and a typed text are compared by: casefolded, ё as е, emoji and symbols
    dropped (keeping + − and digits), spaces collapsed, punctuation trimmed at the ends."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    text = "".join(" " if unicodedata.category(ch) in _DROPPED else ch for ch in text)
    text = " ".join(text.split())
    while text and unicodedata.category(text[0])[0] in "PZ":
        text = text[1:]
    while text and unicodedata.category(text[-1])[0] in "PZ" and text[-1] != ")":
        text = text[:-1]
    return text.strip()


def short_key(key: str) -> str:
    """The label without what follows a colon or a trailing "(…)": "keep: 12" → "keep",
    "moscow (utc+3)" → "moscow"."""
    head = key.split(":", 1)[0].strip()
    return _PAREN_TAIL.sub("", head).strip()


Buttons = tuple[tuple[str, str], ...]  # (label key, callback data)


class Shown(NamedTuple):
    """A keyboard on screen: its message and its buttons. A plain tuple of the two (what a memory
    that knows nothing of this module gives back) is as good."""

    message_id: int
    buttons: Buttons


def keyed_buttons(markup: InlineKeyboardMarkup) -> Buttons:
    """The buttons that can be pressed by a typed label: (label key, callback data)."""
    return tuple((label_key(b.text), b.callback_data)
                 for row in markup.inline_keyboard for b in row if b.callback_data)


def pick(shown: tuple[int, Buttons] | None, typed: str) -> tuple[int, str] | None:
    """(message id, callback data) of the one button of `shown` whose label is `typed` (a text's
    `label_key`), or None."""
    if shown is None or not typed:
        return None
    message_id, buttons = shown
    for key_of in (lambda k: k, short_key):
        found = {data for key, data in buttons if key and key_of(key) == typed}
        if len(found) == 1:
            return message_id, found.pop()
        if found:
            return None  # two different buttons fit: it is not a press
    return None


class KeyboardMemory(Protocol):
    """Where the newest keyboard of each chat is kept: this process's memory (`LocalKeyboards`),
    or with REDIS_URL Redis (bot/db/keyboards_redis.py), so that every instance knows it."""

    async def shown(self, bot_id: int, chat_id: int, shown: Shown) -> None:
        """This keyboard is now the newest one in the chat (no buttons: none is)."""

    async def gone(self, bot_id: int, chat_id: int, message_id: int) -> None:
        """That message lost its keyboard (edited without one, or deleted)."""

    async def current(self, bot_id: int, chat_id: int) -> tuple[int, Buttons] | None:
        """The newest keyboard of the chat (message id, buttons), if one is known."""


class LocalKeyboards:
    """In this process: the newest inline keyboard shown in each chat, the least recently used
    chats forgotten (one session serves one bot, so the chat alone is the key)."""

    def __init__(self, size: int = CHATS_REMEMBERED) -> None:
        self.size = size
        self._chats: OrderedDict[int, Shown] = OrderedDict()

    async def shown(self, bot_id: int, chat_id: int, shown: Shown) -> None:
        if not shown.buttons:
            await self.gone(bot_id, chat_id, shown.message_id)
            return
        self._chats[chat_id] = shown
        self._chats.move_to_end(chat_id)
        while len(self._chats) > self.size:
            self._chats.popitem(last=False)

    async def gone(self, bot_id: int, chat_id: int, message_id: int) -> None:
        current = self._chats.get(chat_id)
        if current is not None and current.message_id == message_id:
            del self._chats[chat_id]

    async def current(self, bot_id: int, chat_id: int) -> tuple[int, Buttons] | None:
        return self._chats.get(chat_id)


async def match(memory: KeyboardMemory, bot_id: int, chat_id: int, text: str) -> tuple[int, str] | None:
    """(message id, callback data) of the one button on screen whose label the text is, or None."""
    typed = label_key(text)
    if not typed:
        return None
    return pick(await memory.current(bot_id, chat_id), typed)


class RecordKeyboards(BaseRequestMiddleware):
    """On the Bot's session: remembers the keyboards the bot shows, and answers the made-up
    callback queries of typed labels itself."""

    def __init__(self, memory: KeyboardMemory) -> None:
        self.memory = memory

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> TelegramType:
        if isinstance(method, AnswerCallbackQuery) and method.callback_query_id.startswith(TYPED_PREFIX):
            if method.text and method.show_alert:
                chat_id = int(method.callback_query_id.split(":")[1])
                await make_request(bot, SendMessage(chat_id=chat_id, text=method.text, parse_mode=None))
            return True  # type: ignore[return-value]
        result = await make_request(bot, method)
        try:
            await self._record(bot, method, result)
        except (TypeError, ValueError):  # a chat given by its @username, an inline message: not ours
            pass
        return result

    async def _record(self, bot: Bot, method: TelegramMethod[Any], result: Any) -> None:
        if isinstance(method, SendMessage | SendPhoto | EditMessageText | EditMessageReplyMarkup):
            if method.chat_id is None or not isinstance(result, Message):
                return
            chat_id = int(method.chat_id)
            if isinstance(method.reply_markup, InlineKeyboardMarkup):
                await self.memory.shown(bot.id, chat_id, Shown(result.message_id, keyed_buttons(method.reply_markup)))
            elif isinstance(method, EditMessageText | EditMessageReplyMarkup):
                await self.memory.gone(bot.id, chat_id, result.message_id)
        elif isinstance(method, DeleteMessage):
            await self.memory.gone(bot.id, int(method.chat_id), method.message_id)


def install(session: BaseSession, memory: KeyboardMemory | None = None) -> KeyboardMemory:
    """Remember keyboards on this session; returns the session's memory. Without `memory`, this
    process's: once (a session outlives a rebuilt Bot in tests and the console, and so does what it
    remembers). With one (Redis), it replaces the one installed before: a rebuilt process's client."""
    current = getattr(session, "keyboard_memory", None)
    if memory is None and isinstance(current, LocalKeyboards):
        return current
    for old in [m for m in session.middleware if isinstance(m, RecordKeyboards)]:
        session.middleware.unregister(old)
    memory = memory or LocalKeyboards()
    session.middleware(RecordKeyboards(memory))
    session.keyboard_memory = memory  # type: ignore[attr-defined]
    return memory


class TypedButtonsMiddleware(BaseMiddleware):
    """On messages: a typed label of the keyboard on screen is handled as a press of its button."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        query = await self._as_press(event, data)
        if query is None:
            return await handler(event, data)
        dispatcher = data["dispatcher"]
        return await dispatcher.propagate_event("callback_query", query, **data)

    @staticmethod
    async def _as_press(event: TelegramObject, data: dict[str, Any]) -> CallbackQuery | None:
        if not isinstance(event, Message) or not event.text or event.text.startswith("/"):
            return None
        if event.chat.type != "private" or event.from_user is None or len(event.text) > 100:
            return None
        bot: Bot | None = data.get("bot")
        memory = getattr(getattr(bot, "session", None), "keyboard_memory", None)
        if bot is None or memory is None:
            return None
        found = await match(memory, bot.id, event.chat.id, event.text)
        if found is None:
            return None
        message_id, callback_data = found
        return CallbackQuery(
            id=f"{TYPED_PREFIX}{event.chat.id}:{event.message_id}", from_user=event.from_user,
            chat_instance=TYPED_PREFIX + str(event.chat.id),
            message=InaccessibleMessage(chat=event.chat, message_id=message_id),
            data=callback_data,
        ).as_(bot)
