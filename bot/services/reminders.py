"""Reminders: when a reminder may reach a user, and keeping sections' reminders up to date.

The rules (pure functions of a moment, a time zone and the user's preferences):
- **Quiet hours** (default 22:00–09:00 in the user's zone, possibly across midnight): a reminder
  falling inside waits until they end. Order pushes, refunds and seller messages are never held
  (their kinds are not in the ``reminder`` category, see `services/notifications.py`).
- **One reminder message a day** (the user's calendar day): the reminders due when the message
  goes out are merged into one digest, together with those due later the same local day (they
  would otherwise wait until tomorrow); reminders due after a digest went out wait for the next
  day (and its quiet hours).
- **Per-kind toggles**: a muted kind is dropped (``drop_reason = "muted"``).
- A reminder whose ``expires_at`` has passed is dropped (``"expired"``).

Sections keep their reminders current with `replan` / `cancel` by dedupe-key prefix, inside the
unit of work that changes the object ("card:7:" when card 7 is deleted or edited).

Reachability: when a user becomes unreachable (403, or they blocked the bot) their pending rows are
dropped with reason ``"unreachable"``; when they come back (any update, or unblocking) the rows so
dropped that are still relevant — not expired, and due within the last `REVIVE_WINDOW` — are
pending again and go through these rules as usual (one digest, quiet hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import outbox as outbox_repo
from bot.db import reminders as repo
from bot.db.engine import Database
from bot.services import notifications
from bot.services.clock import Clock, zone
from bot.services.errors import N_, InvalidInput, NotFound

REVIVE_WINDOW = timedelta(days=3)

UNREACHABLE, MUTED, EXPIRED, REPLANNED = "unreachable", "muted", "expired", "replanned"


# -- quiet hours and the daily digest (pure) --------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QuietHours:
    enabled: bool = True
    start: int = 22  # local hour, 0..23
    end: int = 9

    def __post_init__(self) -> None:
        if not (0 <= self.start <= 23 and 0 <= self.end <= 23):
            raise ValueError("quiet hours are whole hours 0..23")


DEFAULT_QUIET_HOURS = QuietHours()


def _at(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """`hour`:00 local on `day`, as an aware time (a time skipped by a DST jump moves forward)."""
    local = datetime.combine(day, time(hour), tzinfo=tz)
    # round-trip through UTC normalises a non-existent wall time (spring forward)
    return local.astimezone(ZoneInfo("UTC")).astimezone(tz)


def is_quiet(moment: datetime, tz_name: str, quiet: QuietHours) -> bool:
    if not quiet.enabled or quiet.start == quiet.end:
        return False
    local = moment.astimezone(zone(tz_name))
    hour = local.hour
    if quiet.start < quiet.end:
        return quiet.start <= hour < quiet.end
    return hour >= quiet.start or hour < quiet.end


def quiet_until(moment: datetime, tz_name: str, quiet: QuietHours) -> datetime | None:
    """The end of the quiet hours around `moment`, or None when `moment` is not quiet."""
    if not is_quiet(moment, tz_name, quiet):
        return None
    tz = zone(tz_name)
    local = moment.astimezone(tz)
    day = local.date()
    if quiet.start > quiet.end and local.hour >= quiet.start:
        day += timedelta(days=1)  # the evening part: quiet hours end tomorrow morning
    return _at(day, quiet.end, tz).astimezone(moment.tzinfo)


def next_local_midnight(moment: datetime, tz_name: str) -> datetime:
    tz = zone(tz_name)
    tomorrow = moment.astimezone(tz).date() + timedelta(days=1)
    return _at(tomorrow, 0, tz).astimezone(moment.tzinfo)


def same_local_day(a: datetime, b: datetime, tz_name: str) -> bool:
    tz = zone(tz_name)
    return a.astimezone(tz).date() == b.astimezone(tz).date()


def release_time(now: datetime, tz_name: str, quiet: QuietHours, last_reminder_at: datetime | None) -> datetime:
    """When a reminder due `now` may go out: `now`, or the moment to hold it until."""
    moment = now
    if last_reminder_at is not None and same_local_day(last_reminder_at, now, tz_name):
        moment = next_local_midnight(now, tz_name)  # today's reminder message was sent
    end = quiet_until(moment, tz_name, quiet)
    return end if end is not None else moment


@dataclass(frozen=True, slots=True)
class Item:
    """A reminder row as the planner sees it."""

    id: int
    kind: str
    due_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    send: tuple[Item, ...] = ()  # one message now: the item itself, or a digest of them
    hold: tuple[Item, ...] = ()  # wait until `until`
    until: datetime | None = None
    drop: tuple[tuple[Item, str], ...] = ()  # with the reason
    later: tuple[Item, ...] = ()  # not due yet and not joining: left as they are


def plan_reminders(items: Iterable[Item], *, now: datetime, tz_name: str, quiet: QuietHours,
                   last_reminder_at: datetime | None, muted: Iterable[str] = ()) -> ReminderPlan:
    """What to do with one user's reminders at `now`. `items` are those due by now and those due
    later; the latter join today's message when one goes out now."""
    muted = set(muted)
    drop: list[tuple[Item, str]] = []
    live: list[Item] = []
    for item in sorted(items, key=lambda i: (i.due_at, i.id)):
        if item.kind in muted:
            drop.append((item, MUTED))
        elif item.expires_at is not None and item.expires_at <= now:
            drop.append((item, EXPIRED))
        else:
            live.append(item)
    due = [i for i in live if i.due_at <= now]
    upcoming = [i for i in live if i.due_at > now]
    if not due:
        return ReminderPlan(drop=tuple(drop), later=tuple(upcoming))
    until = release_time(now, tz_name, quiet, last_reminder_at)
    if until > now:
        return ReminderPlan(hold=tuple(due), until=until, drop=tuple(drop), later=tuple(upcoming))
    horizon = next_local_midnight(now, tz_name)
    joining = [i for i in upcoming if i.due_at < horizon]
    later = [i for i in upcoming if i.due_at >= horizon]
    return ReminderPlan(send=tuple(due + joining), drop=tuple(drop), later=tuple(later))


# -- sections' hooks: keep an object's reminders current -------------------------------------------

@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder a section wants pending for one of its objects."""

    kind: str
    dedupe_key: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Replanned:
    added: int = 0
    updated: int = 0
    dropped: int = 0
    kept: int = 0  # already sent, failed or in flight: left alone


async def replan(conn: AsyncConnection, *, user_id: int, prefix: str, reminders: Sequence[Reminder],
                 now: datetime) -> Replanned:
    """Make the user's reminders under the dedupe-key `prefix` be exactly `reminders`, inside the
    caller's unit of work: pending ones no longer wanted are dropped ("replanned"), wanted ones are
    added or updated (a dropped one comes back), and one already sent is not sent again.

    E.g. a coupon saved: ``replan(conn, user_id=u, prefix="coupon:9:", reminders=[Reminder(
    "coupon_expiry", "coupon:9:expiry:3d", due_at=..., payload={...}, expires_at=coupon.ends)])``.
    """
    for reminder in reminders:
        if not reminder.dedupe_key.startswith(prefix):
            raise ValueError(f"{reminder.dedupe_key!r} is not under the prefix {prefix!r}")
    existing = {row.dedupe_key: row for row in await outbox_repo.under_prefix(conn, user_id, prefix)}
    wanted = {r.dedupe_key for r in reminders}
    stale = [row.id for key, row in existing.items() if key not in wanted and row.state == outbox_repo.PENDING]
    dropped = await outbox_repo.drop(conn, stale, REPLANNED)
    added = updated = kept = 0
    for reminder in reminders:
        row = existing.get(reminder.dedupe_key)
        if row is None:
            added += await outbox_repo.add(
                conn, user_id=user_id, kind=reminder.kind, payload=reminder.payload,
                dedupe_key=reminder.dedupe_key, due_at=reminder.due_at, now=now,
                expires_at=reminder.expires_at,
            )
        elif row.user_id == user_id and row.state in (outbox_repo.PENDING, outbox_repo.DROPPED):
            updated += await outbox_repo.replace(
                conn, row.id, kind=reminder.kind, payload=reminder.payload, due_at=reminder.due_at,
                expires_at=reminder.expires_at,
            )
        else:
            kept += 1
    return Replanned(added=added, updated=updated, dropped=dropped, kept=kept)


async def cancel(conn: AsyncConnection, *, user_id: int, prefix: str, now: datetime) -> int:
    """Drop the user's pending reminders under `prefix` (the object is gone or done), e.g.
    ``cancel(conn, user_id=u, prefix="card:7:", now=now)`` when card 7 is deleted."""
    result = await replan(conn, user_id=user_id, prefix=prefix, reminders=(), now=now)
    return result.dropped


async def on_unreachable(conn: AsyncConnection, user_id: int, now: datetime) -> int:
    """The user blocked the bot: their pending rows are dropped, to come back with them."""
    return await outbox_repo.drop_pending(conn, user_id, UNREACHABLE)


async def on_reachable(conn: AsyncConnection, user_id: int, now: datetime) -> int:
    """The user is back: what was dropped while they were away and is still relevant is pending
    again (due at once; reminders still follow quiet hours and the daily digest)."""
    return await outbox_repo.revive(conn, user_id, UNREACHABLE, now=now, due_since=now - REVIVE_WINDOW)


# -- preferences -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Preferences:
    quiet: QuietHours
    muted: frozenset[str]
    last_reminder_at: datetime | None = None

    def is_on(self, kind: str) -> bool:
        return kind not in self.muted


class ReminderService:
    """A user's notification preferences: per-kind toggles and quiet hours."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def preferences(self, user_id: int) -> Preferences:
        async with self.db.read() as conn:
            return await self._load(conn, user_id)

    @staticmethod
    async def _load(conn: AsyncConnection, user_id: int) -> Preferences:
        row = (await repo.prefs_for(conn, [user_id])).get(user_id)
        muted = (await repo.mutes_for(conn, [user_id])).get(user_id, set())
        if row is None:
            return Preferences(DEFAULT_QUIET_HOURS, frozenset(muted))
        quiet = QuietHours(row.quiet_enabled, row.quiet_start, row.quiet_end)
        return Preferences(quiet, frozenset(muted), row.last_reminder_at)

    async def toggle(self, user_id: int, kind: str) -> Preferences:
        """Turn a kind off (its pending rows are dropped) or back on."""
        known = notifications.get(kind)
        if known is None or not known.label:
            raise NotFound()
        now = self.clock.now()
        async with self.db.write() as conn:
            if not await repo.unmute(conn, user_id, kind):
                await repo.mute(conn, user_id, kind, now)
                await outbox_repo.drop_pending(conn, user_id, MUTED, kinds=[kind])
            return await self._load(conn, user_id)

    async def set_quiet_hours(self, user_id: int, *, start: int | None = None, end: int | None = None,
                              enabled: bool | None = None) -> Preferences:
        now = self.clock.now()
        async with self.db.write() as conn:
            current = (await self._load(conn, user_id)).quiet
            new_start = current.start if start is None else start
            new_end = current.end if end is None else end
            if not (0 <= new_start <= 23 and 0 <= new_end <= 23):
                raise InvalidInput(N_("Quiet hours start and end on a whole hour from 0 to 23."))
            if new_start == new_end:
                raise InvalidInput(N_("Quiet hours must start and end at different times."))
            await repo.upsert_prefs(
                conn, user_id, now, quiet_start=new_start, quiet_end=new_end,
                quiet_enabled=current.enabled if enabled is None else enabled,
            )
            return await self._load(conn, user_id)
