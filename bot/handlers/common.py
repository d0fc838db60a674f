"""Showing screens from handlers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import suppress

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, InputMediaPhoto, Message

from bot.db.engine import Database
from bot.views.common import Screen

Screens = Screen | tuple[Screen, ...]

log = logging.getLogger(__name__)

REPLY_KEYBOARD = "reply_keyboard"
"""FSM data flag of a flow step that shows a reply keyboard (e.g. "📱 Share my number"). The flow
removes the keyboard when it moves on; a command or the Menu / Cancel buttons that leave the flow
remove it too (see handlers/commands.py)."""


async def reply_keyboard_shown(state: FSMContext) -> bool:
    return bool((await state.get_data()).get(REPLY_KEYBOARD))


_OWN_CANCEL: set[str] = set()


def cancel_returns_itself(group: type[StatesGroup]) -> None:
    """A flow whose Cancel button returns where the flow was opened (e.g. the address being
    edited) instead of the main menu: the shared Cancel (handlers/commands.py) leaves it to the
    flow's own handler. `/cancel` still goes to the main menu."""
    _OWN_CANCEL.add(group.__full_group_name__)


def has_own_cancel(raw_state: str | None) -> bool:
    return raw_state is not None and raw_state.split(":", 1)[0] in _OWN_CANCEL


_SENT_AS_TYPED: set[str] = set()


def sends_as_typed(group: type[StatesGroup]) -> None:
    """A state whose input goes out at once (a conversation with a seller), not into a draft: /cancel
    leaves it saying that what was sent stays sent, never "nothing was saved"."""
    _SENT_AS_TYPED.add(group.__full_group_name__)


def sent_as_typed(raw_state: str | None) -> bool:
    return raw_state is not None and raw_state.split(":", 1)[0] in _SENT_AS_TYPED

_SEND_NEW_INSTEAD = (
    "message to edit not found",
    "message can't be edited",
    "there is no text in the message to edit",
    "message_id_invalid",
)


async def send_or_edit(query: CallbackQuery, screen: Screen) -> Message | None:
    """Show a screen in place of the message whose button was pressed; send a new message when
    that one is gone or cannot be edited. "Message is not modified" is success."""
    message = query.message
    can_edit = (
        message is not None
        and not isinstance(message, InaccessibleMessage)
        and (screen.reply_markup is None or isinstance(screen.reply_markup, InlineKeyboardMarkup))
    )
    if can_edit:
        assert isinstance(message, Message)
        try:
            edited = await message.edit_text(**screen.as_kwargs())
            return edited if isinstance(edited, Message) else message
        except TelegramBadRequest as exc:
            text = str(exc).lower()
            if "message is not modified" in text:
                return message
            if not any(reason in text for reason in _SEND_NEW_INSTEAD):
                raise
            log.debug("cannot edit message %s, sending a new one", message.message_id)
    assert query.bot is not None
    return await query.bot.send_message(chat_id=query.from_user.id, **screen.as_kwargs())


async def show(query: CallbackQuery, screen: Screen, note: str | None = None, *, alert: bool = False) -> None:
    """A button's answer in one call: `screen` in place of the pressed message (`send_or_edit`),
    then the press answered — with `note` on top, in an alert when `alert` and there is a note."""
    await send_or_edit(query, screen)
    if alert and note:
        await query.answer(note, show_alert=True)
    else:
        await query.answer(note)


async def reply(message: Message, screen: Screen) -> Message:
    return await message.answer(**screen.as_kwargs())


ALBUM_SCREEN = "album_screen"  # FSM data: [media group, message id] of the screen an album's photos update


async def answer_album_item(message: Message, screen: Screen, state: FSMContext, db: Database) -> None:
    """The answer to one photo of an album: sent, and the album's previous answer deleted — one
    screen for the album, and the newest message, whatever came between its photos (Telegram sends
    an album as a message a photo; the isolation hands this user's updates over one by one)."""
    group, shown = (await state.get_data()).get(ALBUM_SCREEN) or (None, None)
    sent = await reply(message, screen)
    if group == message.media_group_id and shown:
        assert message.bot is not None
        with suppress(TelegramBadRequest):  # gone already: the person deleted it
            await message.bot.delete_message(chat_id=message.chat.id, message_id=int(shown))
    if await state.get_state() is not None:  # the flow goes on: the album's next photo replaces this
        async with db.write():
            await state.update_data({ALBUM_SCREEN: [message.media_group_id, sent.message_id]})


async def send_photos_then(query: CallbackQuery, file_ids: Iterable[str], unavailable: str, screen: Screen) -> None:
    """Photos kept by their file ids (a dispute's, a review's), sent to whoever pressed the button,
    then `screen` below them, so its buttons stay at hand. When Telegram no longer has a photo, the
    `unavailable` line says so."""
    await query.answer()  # sending photos takes a moment
    assert query.bot is not None
    photos = list(file_ids)
    try:
        if len(photos) == 1:
            await query.bot.send_photo(chat_id=query.from_user.id, photo=photos[0])
        elif photos:  # one album (2–10 photos), as they were sent, not a message each
            await query.bot.send_media_group(chat_id=query.from_user.id,
                                             media=[InputMediaPhoto(media=file_id) for file_id in photos[:10]])
    except TelegramBadRequest:
        await query.bot.send_message(chat_id=query.from_user.id, text=unavailable)
    await query.bot.send_message(chat_id=query.from_user.id, **screen.as_kwargs())


async def deliver(event: Message | CallbackQuery, screens: Screens, note: str | None = None) -> None:
    """A step's screen(s): one in place of the pressed message (or below a typed answer); several
    (a reply keyboard in a message of its own, then the step) each as a new message."""
    if isinstance(screens, Screen):
        if isinstance(event, CallbackQuery):
            await show(event, screens, note)
        else:
            await reply(event, screens)
        return
    for screen in screens:
        if isinstance(event, CallbackQuery):
            assert event.bot is not None
            await event.bot.send_message(chat_id=event.from_user.id, **screen.as_kwargs())
        else:
            await reply(event, screen)
    if isinstance(event, CallbackQuery):
        await event.answer(note)
