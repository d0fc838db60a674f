"""Users: registration on first contact, profile refresh, reachability."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import users as repo
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.services.clock import Clock

SUPPORTED = ("en", "ru")

# A new user's time zone, from their language until they choose one in Settings: most people who
# write in Russian live in Moscow time or near it; for anyone else Telegram gives no better signal.
ZONE_BY_LOCALE = {"ru": "Europe/Moscow"}
DEFAULT_ZONE = "UTC"


def zone_for_locale(locale: str) -> str:
    return ZONE_BY_LOCALE.get(locale, DEFAULT_ZONE)


def locale_from_language_code(code: str | None, default: str) -> str:
    """Telegram's language_code → our locale: ru* is Russian, anything else the default."""
    if code and code.lower().startswith("ru"):
        return "ru"
    return default


@dataclass(frozen=True, slots=True)
class Contact:
    """Who Telegram says is writing: the fields we keep of a Telegram user."""

    id: int
    first_name: str
    username: str | None
    language_code: str | None


# Called inside the unit of work that changes a user's reachability: (conn, user_id, now).
ReachabilityHook = Callable[[AsyncConnection, int, datetime], Awaitable[object]]


class UserService:
    def __init__(self, db: Database, clock: Clock, default_locale: str = "en") -> None:
        self.db = db
        self.clock = clock
        self.default_locale = default_locale
        # the reminders section drops a user's pending pushes when they become unreachable and
        # brings back what is still relevant when they return (wired in bot/app.py)
        self.on_unreachable: list[ReachabilityHook] = []
        self.on_reachable: list[ReachabilityHook] = []

    async def get(self, user_id: int) -> UserRow | None:
        async with self.db.read() as conn:
            return await repo.get(conn, user_id)

    async def touch(self, contact: Contact) -> tuple[UserRow, bool]:
        """The user row for this contact: created on first contact (locale from language_code,
        time zone from the locale),
        name and username refreshed only when they changed, and marked reachable again.
        Returns (user, created). Reads only, unless something changed."""
        user = await repo.get_hot(self.db, contact.id)
        if user is not None:
            changes: dict[str, object] = {}
            if user.first_name != contact.first_name:
                changes["first_name"] = contact.first_name
            if user.username != contact.username:
                changes["username"] = contact.username
            if user.unreachable_since is not None:
                changes["unreachable_since"] = None
            if not changes:
                return user, False
            async with self.db.write() as conn:
                await repo.set_fields(conn, contact.id, **changes)
                if "unreachable_since" in changes:
                    for hook in self.on_reachable:
                        await hook(conn, contact.id, self.clock.now())
                fresh = await repo.get(conn, contact.id)
            assert fresh is not None
            return fresh, False
        locale = locale_from_language_code(contact.language_code, self.default_locale)
        user = UserRow(
            id=contact.id,
            first_name=contact.first_name,
            username=contact.username,
            locale=locale,
            time_zone=zone_for_locale(locale),
            created_at=self.clock.now(),
            unreachable_since=None,
        )
        async with self.db.write() as conn:
            existing = await repo.get(conn, contact.id)  # another update may have created it
            if existing is not None:
                return existing, False
            await repo.insert(conn, user)
        return user, True

    async def mark_unreachable(self, user_id: int) -> None:
        """The user blocked the bot (a 403, or my_chat_member "kicked"). Idempotent: the first
        moment is kept."""
        now = self.clock.now()
        async with self.db.write() as conn:
            user = await repo.get(conn, user_id)
            if user is None:
                return
            if user.unreachable_since is None:
                await repo.set_fields(conn, user_id, unreachable_since=now)
            for hook in self.on_unreachable:
                await hook(conn, user_id, now)
