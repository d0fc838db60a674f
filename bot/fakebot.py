"""A fake Telegram for the offline console and the tests: a Bot API session that records every
call and answers like Telegram would, and a Chat that plays a user (send text, press buttons).

The session keeps each chat's messages as Telegram would (message ids per chat, edits in place,
deletions), so a Chat can find the newest message that carries a button, as a person does.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    GetUpdates,
    SendAudio,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    SendVideo,
    SendVoice,
    TelegramMethod,
)
from aiogram.types import (
    Audio,
    CallbackQuery,
    Chat,
    Contact,
    Document,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    Sticker,
    Update,
    Video,
    Voice,
)
from aiogram.types import User as TgUser

BOT_USER = TgUser(id=777000111, is_bot=True, first_name="Kabinet", username="kabinet_bot")

Responder = Callable[[Bot, TelegramMethod[Any]], Any]


class TelegramHtml(HTMLParser):
    """What Telegram accepts with parse_mode=HTML: its tags, balanced, and no bare <, > or &."""

    TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a",
                      "blockquote", "tg-spoiler", "span", "tg-emoji"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problems: list[str] = []
        self.visible: list[str] = []  # the text a person sees: tags gone, entities decoded

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.TAGS:
            self.problems.append(f"unsupported start tag \"{tag}\"")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unexpected end tag \"{tag}\"")

    def handle_data(self, data: str) -> None:
        if any(ch in data for ch in "<>&"):
            self.problems.append(f"bare character in {data!r}")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"unsupported entity &{name};")
        self.visible.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.visible.append(html.unescape(f"&#{name};"))

    @classmethod
    def problems_of(cls, text: str) -> list[str]:
        checker = cls()
        checker.feed(text)
        checker.close()
        return checker.problems + [f"unclosed tag \"{t}\"" for t in checker.open]

    @classmethod
    def visible_text(cls, text: str) -> str:
        checker = cls()
        checker.feed(text)
        checker.close()
        return "".join(checker.visible)


TEXT_LIMIT = 4096  # a message's text, as Telegram counts it (see telegram_length)
CAPTION_LIMIT = 1024  # a photo's or document's caption
ALERT_LIMIT = 200  # a callback query's answer (a toast or an alert)


def telegram_length(text: str, *, html_mode: bool = True) -> int:
    """A text's length as Telegram counts it against its limits: after the HTML entities are
    parsed (what a person sees), without the whitespace Telegram trims, in UTF-16 code units (an
    emoji outside the BMP counts 2)."""
    visible = TelegramHtml.visible_text(text) if html_mode else text
    return len(visible.strip().encode("utf-16-le")) // 2


def _too_long(method: TelegramMethod[Any]) -> str | None:
    """Telegram's refusal of a text or caption over its limit, if this call carries one."""
    mode = getattr(method, "parse_mode", None)
    html_mode = mode is not None and (not isinstance(mode, str) or mode.upper() == "HTML")
    text = getattr(method, "text", None) if isinstance(method, SendMessage | EditMessageText) else None
    if isinstance(text, str) and telegram_length(text, html_mode=html_mode) > TEXT_LIMIT:
        return "Bad Request: message is too long"
    if isinstance(method, AnswerCallbackQuery) and len((method.text or "").encode("utf-16-le")) // 2 > ALERT_LIMIT:
        return "Bad Request: MESSAGE_TOO_LONG"
    caption = getattr(method, "caption", None)
    if isinstance(caption, str) and telegram_length(caption, html_mode=html_mode) > CAPTION_LIMIT:
        return "Bad Request: message caption is too long"
    return None


def _html_text(method: TelegramMethod[Any]) -> str | None:
    """The text Telegram would parse as HTML for this call, if any (our bot's default mode)."""
    text = getattr(method, "text", None) if isinstance(method, SendMessage | EditMessageText) else (
        getattr(method, "caption", None) if isinstance(method, SendPhoto) else None)
    mode = getattr(method, "parse_mode", None)
    if text is None or (isinstance(mode, str) and mode.upper() != "HTML") or mode is None:
        return None
    return text


@dataclass
class ChatLog:
    """What one private chat holds now: message id → Message (bot's and user's)."""

    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    messages: dict[int, Message] = field(default_factory=dict)


class FakeSession(BaseSession):
    """Records every API call (`calls`) and returns well-formed results."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.now = now or (lambda: datetime.now(UTC))
        self.calls: list[TelegramMethod[Any]] = []
        self.chats: dict[int, ChatLog] = {}
        self.updates: list[Update] = []  # served to GetUpdates (polling tests)
        self._updates_ready: asyncio.Event | None = None
        self.responders: dict[type, Responder] = {}  # override a method's answer, e.g. to fail
        self.closed = False
        # updates held back by `Player.together()`, delivered at once when it ends
        self.batch: list[tuple[Player, Update]] | None = None
        self.chat_objects: dict[int, Chat] = {}  # groups and channels; any other id is a private chat

    def chat(self, chat_id: int) -> ChatLog:
        return self.chats.setdefault(chat_id, ChatLog())

    async def close(self) -> None:
        self.closed = True

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None,
                             timeout: int = 30, chunk_size: int = 65536,
                             raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        yield b""

    def _bot_message(self, bot: Bot, chat_id: int, **fields: Any) -> Message:
        log = self.chat(chat_id)
        message = Message(
            message_id=next(log.ids),
            date=self.now(),
            chat=self.chat_objects.get(chat_id) or Chat(id=chat_id, type="private"),
            from_user=BOT_USER,
            **fields,
        ).as_(bot)
        log.messages[message.message_id] = message
        return message

    def push_updates(self, *updates: Update) -> None:
        """Queue updates for the next getUpdates (long polling)."""
        self.updates.extend(updates)
        if self._updates_ready is not None:
            self._updates_ready.set()

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        self.calls.append(method)
        if isinstance(method, GetUpdates) and not self.updates:
            # long polling: wait for updates like Telegram would, up to the polling timeout
            self._updates_ready = self._updates_ready or asyncio.Event()
            self._updates_ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updates_ready.wait(), timeout=method.timeout or 1)
        responder = self.responders.get(type(method))
        if responder is not None:
            return responder(bot, method)
        return self.answer(bot, method)

    def answer(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        """What Telegram would answer (the default, without a responder)."""
        html_text = _html_text(method)
        if html_text is not None and (problems := TelegramHtml.problems_of(html_text)):
            # Telegram refuses the whole message; so do we, so that tests see it
            raise TelegramBadRequest(method=method, message=f"Bad Request: can't parse entities: {problems[0]}")
        if (refusal := _too_long(method)) is not None:
            raise TelegramBadRequest(method=method, message=refusal)
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, GetUpdates):
            served, self.updates = self.updates, []
            return served
        if isinstance(method, SendMessage):
            markup = method.reply_markup if isinstance(method.reply_markup, InlineKeyboardMarkup) else None
            return self._bot_message(bot, int(method.chat_id), text=method.text, reply_markup=markup)
        if isinstance(method, SendPhoto | SendDocument | SendVoice | SendVideo | SendAudio):
            markup = method.reply_markup if isinstance(method.reply_markup, InlineKeyboardMarkup) else None
            return self._bot_message(bot, int(method.chat_id), caption=method.caption, reply_markup=markup,
                                     **_media_fields(method))
        if isinstance(method, SendMediaGroup):
            group = f"g{len(self.calls)}"
            return [self._bot_message(bot, int(method.chat_id), media_group_id=group, caption=item.caption,
                                      **_file_field(item.type, str(item.media)))
                    for item in method.media]
        if isinstance(method, EditMessageText | EditMessageReplyMarkup):
            log = self.chat(int(method.chat_id))  # type: ignore[arg-type]
            old = log.messages[int(method.message_id)]  # type: ignore[arg-type]
            changes: dict[str, Any] = {
                "reply_markup": method.reply_markup, "edit_date": int(self.now().timestamp())
            }
            if isinstance(method, EditMessageText):
                changes["text"] = method.text
            new = old.model_copy(update=changes).as_(bot)
            log.messages[new.message_id] = new
            return new
        if isinstance(method, DeleteMessage):
            self.chat(int(method.chat_id)).messages.pop(method.message_id, None)
            return True
        if isinstance(method, AnswerCallbackQuery):
            return True
        return True  # setMyCommands, deleteWebhook, sendChatAction …

    # -- reading what the bot did ---------------------------------------------------------
    def calls_of(self, kind: type) -> list[Any]:
        return [c for c in self.calls if isinstance(c, kind)]


def _file_field(kind: str, file_id: str) -> dict[str, Any]:
    """A received message's field for a file sent by its id."""
    unique = file_id + "u"
    if kind == "photo":
        return {"photo": [PhotoSize(file_id=file_id, file_unique_id=unique, width=1, height=1)]}
    if kind == "voice":
        return {"voice": Voice(file_id=file_id, file_unique_id=unique, duration=1)}
    if kind == "video":
        return {"video": Video(file_id=file_id, file_unique_id=unique, width=1, height=1, duration=1)}
    if kind == "audio":
        return {"audio": Audio(file_id=file_id, file_unique_id=unique, duration=1)}
    return {"document": Document(file_id=file_id, file_unique_id=unique)}


def _media_fields(method: TelegramMethod[Any]) -> dict[str, Any]:
    for kind in ("photo", "document", "voice", "video", "audio"):
        if hasattr(method, kind):
            return _file_field(kind, str(getattr(method, kind)))
    return {}


class Unhandled(AssertionError):
    pass


class Player:
    """One Telegram user talking to the bot in a private chat."""

    _update_ids: Iterator[int] = itertools.count(1)

    def __init__(self, dp: Dispatcher, bot: Bot, session: FakeSession, *, user_id: int,
                 first_name: str = "Alex", language_code: str | None = "en",
                 username: str | None = None, strict: bool = True) -> None:
        self.dp = dp
        self.bot = bot
        self.session = session
        self.user = TgUser(id=user_id, is_bot=False, first_name=first_name,
                           language_code=language_code, username=username)
        self.strict = strict
        self.delivered: list[Update] = []  # every update this player sent, oldest first
        self.chat: Chat | None = None  # a group or channel this player writes in (None: private)

    async def redeliver(self, update: Update | None = None) -> Any:
        """Telegram delivers an update again (the process died before it was confirmed): the
        same update id, by default of the newest update this player sent."""
        return await self.feed(update or self.delivered[-1])

    def in_chat(self, chat: Chat) -> Player:
        """The same person writing in a group or a channel (whose messages all its members see)."""
        other = Player(self.dp, self.bot, self.session, user_id=self.user.id, first_name=self.user.first_name,
                       language_code=self.user.language_code, username=self.user.username, strict=self.strict)
        other.chat = chat
        self.session.chat_objects[chat.id] = chat
        return other

    @classmethod
    def continue_update_ids_after(cls, last: int) -> None:
        cls._update_ids = itertools.count(last + 1)

    @property
    def log(self) -> ChatLog:
        return self.session.chat(self.chat.id if self.chat else self.user.id)

    async def feed(self, update: Update) -> Any:
        self.delivered.append(update)
        if self.session.batch is not None:
            self.session.batch.append((self, update))  # delivered when `together()` ends
            return None
        return self._check(update, await self.dp.feed_update(self.bot, update))

    def _check(self, update: Update, result: Any) -> Any:
        if result is UNHANDLED and self.strict:
            raise Unhandled(f"update {update.update_id} was not handled: {update!r}")
        return result

    @contextlib.asynccontextmanager
    async def together(self) -> AsyncGenerator[None, None]:
        """Deliver the updates made inside (by this player or any other of the same session) as
        one batch, the way long polling does: each in its own task, all at once
        (``asyncio.gather`` of ``feed_update``). An album, a double tap, a text right after a
        press arrive like this. Buttons are looked up when pressed, before the batch runs."""
        if self.session.batch is not None:
            raise RuntimeError("batches do not nest")
        self.session.batch = batch = []
        try:
            yield
        finally:
            self.session.batch = None
        results = await asyncio.gather(*(p.dp.feed_update(p.bot, u) for p, u in batch))
        for (p, update), result in zip(batch, results, strict=True):
            p._check(update, result)

    def _user_message(self, **fields: Any) -> Message:
        channel = self.chat is not None and self.chat.type == "channel"
        message = Message(
            message_id=next(self.log.ids), date=self.session.now(),
            chat=self.chat or Chat(id=self.user.id, type="private", first_name=self.user.first_name),
            from_user=None if channel else self.user, sender_chat=self.chat if channel else None, **fields,
        ).as_(self.bot)
        self.log.messages[message.message_id] = message
        return message

    async def send(self, text: str, *, reply_to: Message | None = None) -> Message:
        """Type a message; `reply_to`: as a native reply to that message of the chat."""
        message = self._user_message(text=text, reply_to_message=reply_to)
        if self.chat is not None and self.chat.type == "channel":  # a post, signed by the channel
            await self.feed(Update(update_id=next(self._update_ids), channel_post=message))
        else:
            await self.feed(Update(update_id=next(self._update_ids), message=message))
        return message

    async def send_sticker(self) -> Message:
        sticker = Sticker(file_id="sticker1", file_unique_id="s1", type="regular", width=512,
                          height=512, is_animated=False, is_video=False)
        message = self._user_message(sticker=sticker)
        await self.feed(Update(update_id=next(self._update_ids), message=message))
        return message

    async def send_photo(self, file_id: str = "photo1", caption: str | None = None) -> Message:
        photo = [PhotoSize(file_id=file_id, file_unique_id=file_id + "u", width=800, height=600)]
        message = self._user_message(photo=photo, caption=caption)
        await self.feed(Update(update_id=next(self._update_ids), message=message))
        return message

    async def send_file(self, kind: str, file_id: str, caption: str | None = None, *,
                        reply_to: Message | None = None) -> Message:
        """Send a document, a voice message, a video or an audio file (`kind`), by a file id."""
        message = self._user_message(caption=caption, reply_to_message=reply_to, **_file_field(kind, file_id))
        await self.feed(Update(update_id=next(self._update_ids), message=message))
        return message

    async def send_album(self, *items: tuple[str, str], caption: str | None = None) -> list[Message]:
        """An album, (kind, file id) per item, the caption on the first: Telegram delivers it as one
        message per item with a shared media_group_id, in one batch."""
        group = f"album{next(self._update_ids)}"
        messages = [self._user_message(media_group_id=group, caption=caption if n == 0 else None,
                                       **_file_field(kind, file_id))
                    for n, (kind, file_id) in enumerate(items)]
        async with self.together():
            for message in messages:
                await self.feed(Update(update_id=next(self._update_ids), message=message))
        return messages

    async def send_contact(self, phone_number: str) -> Message:
        contact = Contact(phone_number=phone_number, first_name=self.user.first_name,
                          user_id=self.user.id)
        message = self._user_message(contact=contact)
        await self.feed(Update(update_id=next(self._update_ids), message=message))
        return message

    def buttons(self, message: Message | None = None) -> list[tuple[str, str]]:
        message = message or self.last
        markup = message.reply_markup
        if not isinstance(markup, InlineKeyboardMarkup):
            return []
        return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]

    def find_button(self, label: str) -> tuple[Message, str]:
        """The newest bot message with a button whose text is `label` (or contains it)."""
        for exact in (True, False):
            for message in reversed(self.bot_messages):
                for text, data in self.buttons(message):
                    if (text == label) if exact else (label in text):
                        return message, data
        available = [t for m in self.bot_messages[-3:] for t, _ in self.buttons(m)]
        raise AssertionError(f"no button {label!r}; the newest buttons are {available}")

    async def press(self, label: str) -> Any:
        message, data = self.find_button(label)
        return await self.press_data(data, message)

    async def press_data(self, data: str, message: Message | None = None) -> Any:
        message = message or self.last
        query = CallbackQuery(
            id=str(next(self._update_ids)), from_user=self.user, chat_instance="ci",
            message=message, data=data,
        ).as_(self.bot)
        return await self.feed(Update(update_id=next(self._update_ids), callback_query=query))

    @property
    def bot_messages(self) -> list[Message]:
        return [m for m in self.log.messages.values() if m.from_user and m.from_user.is_bot]

    @property
    def last(self) -> Message:
        messages = self.bot_messages
        if not messages:
            raise AssertionError("the bot has sent nothing to this chat")
        return messages[-1]

    @property
    def last_text(self) -> str:
        return self.last.text or self.last.caption or ""

    def alerts(self) -> list[str]:
        """Texts of callback answers (toasts and alerts), oldest first."""
        return [c.text for c in self.session.calls_of(AnswerCallbackQuery) if c.text]
