"""Settings: language and time zone."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import get_timezone_location

from bot.db import users as repo
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.services.errors import N_, InvalidInput, NotFound
from bot.services.users import SUPPORTED

# The short list offered as buttons; any other IANA zone or a whole-hour UTC offset can be typed.
COMMON_ZONES: tuple[str, ...] = (
    "Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg",
    "Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk",
    "Asia/Vladivostok", "Europe/Minsk", "Asia/Almaty", "Asia/Tashkent",
    "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "UTC",
)
MIN_OFFSET, MAX_OFFSET = -12, 14


class UnknownTimeZone(InvalidInput, msgid=N_("I don't know this time zone. Type an offset such as UTC+3, or a zone name such as Europe/Moscow.")): ...


_OFFSET_RE = re.compile(r"^(?:utc|gmt)?([+\-−–])(\d{1,2})(?::?00)?$")


def offset_zone(hours: int) -> str:
    """A whole-hour UTC offset as an IANA name. POSIX-style Etc zones invert the sign:
    UTC+3 is "Etc/GMT-3"."""
    if not MIN_OFFSET <= hours <= MAX_OFFSET:
        raise InvalidInput(N_("The offset must be between UTC−12 and UTC+14."))
    if hours == 0:
        return "UTC"
    return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


@lru_cache(maxsize=1)
def _zones_by_casefold() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


_ZONE_AREAS = ("Europe/", "Asia/", "America/", "Africa/", "Australia/", "Pacific/", "Atlantic/", "Indian/")


def _place_key(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").replace("_", " ").replace("-", " ").split())


@lru_cache(maxsize=1)
def _zones_by_place() -> dict[str, str]:
    """A zone's city as people type it, in English and Russian ("Moscow", "Москва", "New York",
    "Екатеринбург") → the zone: the names the time-zone buttons show (CLDR's, through Babel), so
    typing a button's label names its zone. Where a name fits several zones, the offered one wins."""
    index: dict[str, str] = {}
    zones = [z for z in sorted(available_timezones()) if z.startswith(_ZONE_AREAS)]

    def cities(zone: str) -> list[str]:
        names = []
        for locale in SUPPORTED:
            try:
                names.append(get_timezone_location(zone, locale=locale, return_city=True))
            except (LookupError, ValueError):
                continue
        return names

    # the offered zones first, then zones by their own names ("Kolkata" is Asia/Kolkata, not the
    # old Asia/Calcutta), then the others' city names
    for zone in COMMON_ZONES:
        for name in (zone.rsplit("/", 1)[-1], *cities(zone)):
            index.setdefault(_place_key(name), zone)
    for zone in zones:
        index.setdefault(_place_key(zone.rsplit("/", 1)[-1]), zone)
    for zone in zones:
        for name in cities(zone):
            index.setdefault(_place_key(name), zone)
    return index


def parse_time_zone(text: str) -> str:
    """What a user typed → an IANA zone name: "UTC+3", "+3", "-5", "GMT-8", a zone name such as
    "Asia/Kolkata" (any case) or its city in English or Russian ("Moscow", "Москва"). Raises InvalidInput with a msgid otherwise."""
    raw = text.strip()
    if not raw or len(raw) > 64:
        raise InvalidInput(N_("Please type a time zone such as UTC+3 or Europe/Moscow."))
    lowered = raw.casefold().replace(" ", "")
    if lowered in ("utc", "gmt", "z"):
        return "UTC"
    match = _OFFSET_RE.match(lowered)
    if match:
        sign = -1 if match.group(1) in "-−–" else 1
        return offset_zone(sign * int(match.group(2)))
    zone = _zones_by_casefold().get(raw.casefold().replace(" ", "_")) or _zones_by_place().get(_place_key(raw))
    if zone is None:
        raise UnknownTimeZone()
    return zone


def is_valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return False
    return True


class SettingsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_locale(self, user_id: int, locale: str) -> UserRow:
        if locale not in SUPPORTED:
            raise InvalidInput(N_("This language is not supported."))
        return await self._set(user_id, locale=locale)

    async def set_time_zone(self, user_id: int, zone: str) -> UserRow:
        if not is_valid_zone(zone):
            raise UnknownTimeZone()
        return await self._set(user_id, time_zone=zone)

    async def _set(self, user_id: int, **values: object) -> UserRow:
        async with self.db.write() as conn:
            if not await repo.set_fields(conn, user_id, **values):
                raise NotFound()
            user = await repo.get(conn, user_id)
        assert user is not None
        return user
