"""The photo step of the flow engine (bot/handlers/flow.py), as disputes and reviews ask for
evidence: up to a limit, one by one or as an album, with "Done" and "Remove photos" buttons."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from aiogram.fsm.state import State
from aiogram.types import Message

from bot.handlers.flow import Button, Draft, Parse, Predicate, Retry, Step, View, unchanged
from bot.services.errors import N_
from bot.views.common import Fmt

PHOTOS = "photos"  # FSM data: the photos' file ids
ALBUM = "album"  # FSM data: the photos came as an album (Telegram sends its photos one by one)


def no_photos(value: object, draft: Draft, f: Fmt) -> Draft:
    return {**draft, PHOTOS: [], ALBUM: False}


def add_photo(limit: int, too_many: Callable[[Fmt], str]) -> Parse:
    """A photo step's parser: one more photo, up to `limit` (beyond it, `too_many` says so). A photo
    of an album marks the draft: the step then waits for its "done" button even at the limit, so
    the album's later photos are told they were not kept instead of landing on the next step."""

    def added(file_id: str, draft: Draft, f: Fmt, message: Message | None = None) -> Draft:
        photos = list(draft.get(PHOTOS) or [])
        if len(photos) >= limit:
            raise Retry(too_many(f))
        album = bool(draft.get(ALBUM)) or bool(message is not None and message.media_group_id)
        return {**draft, PHOTOS: [*photos, file_id], ALBUM: album}

    return added


def room_for_photos(limit: int) -> Predicate:
    """A photo step stays until the photos reach `limit` — or, for an album, until "done"."""
    return lambda draft: len(draft.get(PHOTOS) or []) < limit or bool(draft.get(ALBUM))


PHOTOS_REMOVED = N_("Photos removed.")


def photo_step(state: State, view: View, expected: str, limit: int, too_many: Callable[[Fmt], str],
               done: Enum, clear: Enum) -> Step:
    """A step that collects up to `limit` photos: it stays while there is room; the button `done`
    moves on, `clear` removes them all and stays."""
    return Step(state, view, expected, photo=add_photo(limit, too_many), stay=room_for_photos(limit),
                buttons={done: Button(unchanged), clear: Button(no_photos, stay=True, note=PHOTOS_REMOVED)})
