"""A parcel's track number as a person types it: the store's when it ships an order, the buyer's
when they send a returned item back."""

from __future__ import annotations

import re

from bot.services.errors import N_, InvalidInput

TRACK_MIN, TRACK_MAX = 5, 40
_TRACK_RE = re.compile(r"^[A-Za-z0-9-]+$")


class BadTrackNumber(InvalidInput, msgid=N_("A track number is {min}–{max} Latin letters, digits or dashes, with digits among them, for example LP123456789CN.")):
    def __init__(self) -> None:
        super().__init__(min=TRACK_MIN, max=TRACK_MAX)


def check_track(text: str | None) -> str:
    """A track number as carriers print them: 5–40 Latin letters, digits or dashes, some of them
    digits (every carrier's has; "no idea" is not one), spaces dropped."""
    track = "".join((text or "").split()).upper()
    if not TRACK_MIN <= len(track) <= TRACK_MAX or not _TRACK_RE.match(track) or not any(c.isdigit() for c in track):
        raise BadTrackNumber()
    return track
