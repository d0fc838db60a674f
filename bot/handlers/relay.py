"""Conversations between buyers and sellers (issue 18): "✉️ Message seller" on an order, the
Conversations of the message centre and of seller mode, writing in a conversation, the Reply
button under a relayed message, and native Telegram replies to one.

Opening a conversation (from an order, a list or a Reply button) shows its history and puts the
user in the conversation's writing mode (`Relay.writing`, the conversation and side in FSM data):
whatever they send next — text, a photo, an album, a document, a voice message — goes to the
other side through `RelayService.send`, and they are told where it went (and what was masked).
The mode is one open-ended input, not a step table: it ends with /cancel, ☰ Menu, or any button
outside the conversations (`LeaveWriting`, so a text typed later never goes to a seller the user
has long left). A native reply to a relayed message (or to one's own original) goes to its
conversation from anywhere outside a flow; a reply to anything else gets a hint.

An album arrives as one update per item; `Albums` gathers the items of one media group for a
moment (`ALBUM_SETTLE`) and relays them as one album. The items wait in memory, or with REDIS_URL
in Redis (bot/db/albums_redis.py), where items that reached different instances meet: the process
that got the last item relays the album. A crash in that moment loses the album, and the user,
who got no "sent" note, sends it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from aiogram import BaseMiddleware, F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import refusals
from bot.handlers.common import reply, sends_as_typed, show
from bot.handlers.routing import Handlers
from bot.keyboards.relay import RelayAction, RelayCb, Side
from bot.keyboards.seller import SellerAction, SellerCb
from bot.middlewares.card_guard import asks_again
from bot.services.errors import DomainError
from bot.services.relay.conversations import Conversation, Kind, Outgoing, RelayService, Role
from bot.views import relay as views
from bot.views.common import Fmt

log = logging.getLogger(__name__)
router = Handlers("relay")

ALBUM_SETTLE = 1.0  # seconds to wait for the rest of an album after its first item
CONVERSATION = "relay_conversation"  # FSM data: the conversation being written in
SIDE = "relay_side"  # … and the side the user writes on


class Relay(StatesGroup):
    writing = State()


sends_as_typed(Relay)


# -- refusals -----------------------------------------------------------------------------------
async def relay_refused(event: CallbackQuery | Message, error: DomainError, f: Fmt) -> None:
    """A forged or stale conversation id, someone else's order, a blocked sender: the reason, and
    nothing of anyone else's."""
    if isinstance(event, CallbackQuery):
        await event.answer(f.error(error), show_alert=True)
    else:
        await event.answer(f.error(error))


refusals(router.callback_query, relay_refused)
refusals(router.message, relay_refused)


# -- opening ------------------------------------------------------------------------------------
async def _write_in(state: FSMContext, db: Database, conversation: Conversation) -> None:
    async with db.write():
        await state.set_state(Relay.writing)
        await state.set_data({CONVERSATION: conversation.id, SIDE: views.side_of(conversation.role).value})


async def _open(query: CallbackQuery, state: FSMContext, db: Database, relay: RelayService, user: UserRow,
                f: Fmt, conversation_id: int, side: Side, page: int = 0) -> None:
    as_seller = side == Side.seller
    history = await relay.history(user.id, conversation_id, page=page, as_seller=as_seller)
    await relay.mark_read(user.id, conversation_id, as_seller=as_seller)
    await _write_in(state, db, history.conversation)
    await show(query, views.conversation_screen(history, f))


@router.callback_query(RelayCb.filter(F.action == RelayAction.order))
async def message_seller(query: CallbackQuery, callback_data: RelayCb, state: FSMContext, db: Database,
                         relay: RelayService, user: UserRow, f: Fmt) -> None:
    conversation = await relay.open_for_order(user.id, callback_data.id)
    await _open(query, state, db, relay, user, f, conversation.id, Side.buyer)


@router.callback_query(RelayCb.filter(F.action == RelayAction.store))
async def message_store(query: CallbackQuery, callback_data: RelayCb, state: FSMContext, db: Database,
                        relay: RelayService, user: UserRow, f: Fmt) -> None:
    conversation = await relay.open_for_store(user.id, callback_data.id)
    await _open(query, state, db, relay, user, f, conversation.id, Side.buyer)


@router.callback_query(RelayCb.filter(F.action == RelayAction.open))
async def open_conversation(query: CallbackQuery, callback_data: RelayCb, state: FSMContext, db: Database,
                            relay: RelayService, user: UserRow, f: Fmt) -> None:
    await _open(query, state, db, relay, user, f, callback_data.id, callback_data.side, callback_data.page)


@router.callback_query(RelayCb.filter(F.action.in_({RelayAction.block, RelayAction.unblock})))
async def block(query: CallbackQuery, callback_data: RelayCb, state: FSMContext, db: Database,
                relay: RelayService, user: UserRow, f: Fmt) -> None:
    as_seller = callback_data.side == Side.seller
    blocked = callback_data.action == RelayAction.block
    await relay.set_blocked(user.id, callback_data.id, blocked, as_seller=as_seller)
    history = await relay.history(user.id, callback_data.id, as_seller=as_seller)
    await _write_in(state, db, history.conversation)
    await show(query, views.conversation_screen(history, f),
               f._("Blocked: nothing is delivered in this conversation.") if blocked else f._("Unblocked."))


@router.callback_query(RelayCb.filter(F.action == RelayAction.list))
@router.callback_query(SellerCb.filter(F.action == SellerAction.conversations))
async def conversations(query: CallbackQuery, callback_data: RelayCb | SellerCb, state: FSMContext, db: Database,
                        relay: RelayService, user: UserRow, f: Fmt) -> None:
    side = callback_data.side if isinstance(callback_data, RelayCb) else Side.seller
    if await state.get_state() == Relay.writing.state:
        async with db.write():
            await state.clear()
    page = await relay.conversations(user.id, as_seller=side == Side.seller, page=callback_data.page)
    await show(query, views.conversations_screen(page, side, f))


# -- writing ------------------------------------------------------------------------------------
def outgoing(messages: list[Message]) -> Outgoing:
    """A message (or an album's items) as the relay takes it. Anything it can't carry (a sticker,
    a lone video) is an empty message, which the service refuses with what it takes."""
    first = messages[0]
    ids = tuple(m.message_id for m in messages)
    chat = first.chat.id
    if len(messages) > 1 or first.media_group_id:
        media = tuple(item for m in messages if (item := _media(m)) is not None)
        caption = next((m.caption for m in messages if m.caption), "") or ""
        return Outgoing(Kind.album, chat, ids, caption, media)
    if first.text is not None:
        return Outgoing(Kind.text, chat, ids, first.text)
    item = _media(first)
    if item is None or item[0] not in (Kind.photo, Kind.document, Kind.voice):
        return Outgoing(Kind.photo, chat, ids)  # no media: refused as empty
    return Outgoing(Kind(item[0]), chat, ids, first.caption or "", (item,))


def _media(message: Message) -> tuple[str, str] | None:
    if message.photo:
        return "photo", message.photo[-1].file_id
    for kind in ("document", "voice", "video", "audio"):
        found = getattr(message, kind)
        if found is not None:
            return kind, found.file_id
    return None


async def _send(messages: list[Message], conversation_id: int, as_seller: bool | None, relay: RelayService,
                user_id: int, f: Fmt) -> None:
    first = messages[0]
    try:
        sent = await relay.send(user_id, conversation_id, outgoing(messages), as_seller=as_seller)
        conversation = await relay.conversation(user_id, conversation_id, as_seller=as_seller)
    except DomainError as error:
        await first.answer(f.error(error))
        return
    await reply(first, views.sent_note(sent, conversation, f))


async def _relay(message: Message, conversation_id: int, as_seller: bool | None, relay: RelayService,
                 user: UserRow, f: Fmt, albums: Albums) -> None:
    if message.media_group_id:
        await albums.add(message, lambda items: _send(items, conversation_id, as_seller, relay, user.id, f))
        return
    await _send([message], conversation_id, as_seller, relay, user.id, f)


@router.message(StateFilter(None, Relay.writing), F.reply_to_message)
async def native_reply(message: Message, relay: RelayService, user: UserRow, f: Fmt, albums: Albums) -> None:
    """A native reply: to a relayed copy or one's own original, it goes to that conversation."""
    replied = message.reply_to_message
    assert replied is not None
    conversation = await relay.conversation_for_reply(user.id, message.chat.id, replied.message_id)
    await _relay(message, conversation.id, conversation.role == Role.seller, relay, user, f, albums)


@router.message(Relay.writing)
async def write(message: Message, state: FSMContext, relay: RelayService, user: UserRow, f: Fmt,
                albums: Albums) -> None:
    data = await state.get_data()
    conversation_id = int(data.get(CONVERSATION) or 0)
    await _relay(message, conversation_id, data.get(SIDE) == Side.seller.value, relay, user, f, albums)


@asks_again(Relay)
async def writing_again(message: Message, warning: str, deleted: bool, f: Fmt) -> None:
    """The card-number guard removed a message: nothing was relayed (no step "below" to answer here)."""
    said = views.card_number_not_relayed(f) if deleted else warning
    await message.answer(said + "\n" + f._("Nothing was sent. Keep typing to write, or /cancel to stop."))


# -- the mode ends outside the conversations -------------------------------------------------
class LeaveWriting(BaseMiddleware):
    """Outer middleware on button presses: any button but a conversation's own ends writing mode,
    so a text typed later is not relayed to someone the user has left."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if (data.get("raw_state") == Relay.writing.state and isinstance(event, CallbackQuery)
                and not (event.data or "").startswith(RelayCb.__prefix__ + ":")):
            state: FSMContext = data["state"]
            async with data["db"].write():
                await state.clear()
            data["raw_state"] = None
        return await handler(event, data)


# -- albums -------------------------------------------------------------------------------------
class AlbumItems(Protocol):
    """Where an album's items meet when several processes get them (bot/db/albums_redis.py)."""

    async def add(self, chat_id: int, group: str, item: str) -> int: ...

    async def take(self, chat_id: int, group: str, generation: int | None) -> list[str] | None: ...


class Albums:
    """The items of an album, gathered per (chat, media group) until no more come for a moment:
    in this process, or in `shared` (Redis), where items that reached other processes join them."""

    def __init__(self, settle: float = ALBUM_SETTLE, shared: AlbumItems | None = None) -> None:
        self.settle = settle
        self.shared = shared
        self._open: dict[tuple[int, str], list[Message]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._now = asyncio.Event()  # tests: "the album is complete", instead of waiting

    async def add(self, message: Message, flush: Callable[[list[Message]], Awaitable[None]]) -> None:
        key = (message.chat.id, str(message.media_group_id))
        if self.shared is not None:  # kept before the update is done: a look after the moment
            generation = await self.shared.add(*key, message.model_dump_json(exclude_none=True))
            self._start(self._flush_shared(key, generation, message, flush))
            return
        items = self._open.get(key)
        if items is not None:
            items.append(message)
            return
        self._open[key] = [message]
        self._start(self._flush(key, flush))

    def _start(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settled(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._now.wait(), self.settle)

    async def _flush(self, key: tuple[int, str], flush: Callable[[list[Message]], Awaitable[None]]) -> None:
        await self._settled()
        await self._relay(self._open.pop(key), flush)

    async def _flush_shared(self, key: tuple[int, str], generation: int, message: Message,
                            flush: Callable[[list[Message]], Awaitable[None]]) -> None:
        assert self.shared is not None
        await self._settled()
        try:  # only if no item came since this one (here or elsewhere); at a stop, whatever is there
            found = await self.shared.take(*key, None if self._now.is_set() else generation)
        except Exception:
            log.exception("taking an album's items failed")
            return
        if found:
            await self._relay([Message.model_validate_json(raw).as_(message.bot) for raw in found], flush)

    @staticmethod
    async def _relay(items: list[Message], flush: Callable[[list[Message]], Awaitable[None]]) -> None:
        try:
            await flush(sorted(items, key=lambda m: m.message_id))
        except Exception:  # outside any update: nobody else would log it
            log.exception("relaying an album failed")

    async def complete(self) -> None:
        """Relay what is gathered now (tests; and stopping the bot)."""
        self._now.set()
        try:
            while self._tasks:
                await asyncio.gather(*list(self._tasks))
        finally:
            self._now.clear()
