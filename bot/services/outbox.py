"""Pushes: a service that changes something writes the push for it into the outbox, in the same
unit of work (`enqueue`). Delivery (`bot/delivery.py`) claims due rows through `OutboxService`,
renders them in the user's language and sends them; every state change of a row is here.

Payloads are JSON of primitives holding everything the push's view needs later: ids, numbers,
amounts in minor units with their currency, ISO times — never formatted text.

Delivery is at-least-once: a row is marked sent in its own transaction right after Telegram
accepted the message. A process that dies between the two leaves the row ``sending`` with a lease;
when the lease expires the row is due again and is sent again. So nothing is lost, and a crash can
duplicate only the messages in flight at that moment (the Bot API has no idempotency key).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import outbox as repo
from bot.db import reminders as prefs_repo
from bot.db import users as users_repo
from bot.db.engine import Database
from bot.db.outbox import OutboxRow
from bot.services import notifications
from bot.services import reminders as rules
from bot.services.backoff import doubling
from bot.services.clock import Clock
from bot.services.users import UserService


async def enqueue(conn: AsyncConnection, *, user_id: int, kind: str, payload: dict[str, Any],
                  dedupe_key: str, now: datetime, due_at: datetime | None = None,
                  expires_at: datetime | None = None, seen: bool = False) -> bool:
    """Write a push inside the caller's unit of work. The dedupe key names the event
    (e.g. "order:42:status:shipped"), so writing the same event twice keeps one row.
    `expires_at`: not worth sending after this moment (a reminder about a coupon that expired).
    `seen`: the user's own action, which they just saw on screen: the message centre lists it,
    but it is not sent to them (a push about what you just did is noise)."""
    return await repo.add(conn, user_id=user_id, kind=kind, payload=payload, dedupe_key=dedupe_key,
                          due_at=due_at or now, now=now, expires_at=expires_at, seen=seen)


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    locale: str
    time_zone: str


@dataclass(slots=True)
class Job:
    """One Telegram message to send: a push, or a digest of a user's reminders."""

    recipient: Recipient
    rows: list[OutboxRow]
    reminder: bool = False  # the user's reminder message of the day
    resent: bool = False  # a lease had expired: it may have reached the user already (a crash)

    @property
    def chat_id(self) -> int:
        return self.recipient.user_id

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.rows]

    @property
    def order(self) -> tuple[datetime, int]:
        first = self.rows[0]
        return first.due_at, first.id


@dataclass(slots=True)
class Claimed:
    jobs: list[Job] = field(default_factory=list)
    rows: int = 0  # rows claimed (before holds, drops and failures)
    held: int = 0
    dropped: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retries of temporary errors: base·2^(n−1), capped; then `failed` after `max_attempts`."""

    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(minutes=15)
    max_attempts: int = 8

    def delay(self, attempt: int) -> timedelta:
        return doubling(self.base, self.cap, attempt - 1)


@dataclass(frozen=True, slots=True)
class Retention:
    """How much of the outbox is kept: what the message centre shows. A delivered (or failed)
    notification stays a year, and a user keeps at most their newest `per_user`; a dropped one (never
    sent) stays a month. A reminder before its `expires_at` always stays: its dedupe key is what
    keeps it from being planned and sent again. Pruned by the sweeper at most once per `every`, in
    batches of `batch` rows (one short write each), at most `per_run` rows a run (the rest next tick)."""

    sent: timedelta = timedelta(days=365)
    dropped: timedelta = timedelta(days=30)
    per_user: int = 500
    every: timedelta = timedelta(days=1)
    batch: int = 500
    per_run: int = 20_000


class OutboxService:
    def __init__(self, db: Database, clock: Clock, users: UserService, *,
                 backoff: Backoff | None = None, retention: Retention | None = None) -> None:
        self.db = db
        self.clock = clock
        self.users = users
        self.backoff = backoff or Backoff()
        self.retention = retention or Retention()
        self._next_prune: datetime | None = None

    async def prune(self, now: datetime) -> int:
        """The sweeper's job: delete what the retention no longer keeps; returns how many rows.
        The candidates are read without the write lock; each batch is deleted in its own short
        unit of work, so deliveries and handlers wait at most one batch."""
        keep = self.retention
        if self._next_prune is not None and now < self._next_prune:
            return 0
        async with self.db.read() as conn:
            ids = await repo.old_ids(conn, now=now, kept_since=now - keep.sent,
                                     dropped_since=now - keep.dropped, limit=keep.per_run)
            if len(ids) < keep.per_run:
                ids += await repo.beyond_newest_ids(conn, now=now, keep=keep.per_user,
                                                    limit=keep.per_run - len(ids))
        pruned = 0
        for start in range(0, len(ids), keep.batch):
            async with self.db.write() as conn:
                pruned += await repo.delete_done(conn, ids[start:start + keep.batch])
        # a full run leaves more: the next tick goes on; otherwise the next run is in a day
        self._next_prune = now if len(ids) >= keep.per_run else now + keep.every
        return pruned

    async def claim(self, now: datetime, *, limit: int, lease: timedelta, per_user: int = 5,
                    history: tuple[int, int] | None = None) -> Claimed:
        """Claim up to `limit` due rows (at most `per_user` for one user), decide what each becomes
        — a push, part of a reminder digest, held, dropped or failed — and return the messages to
        send, oldest due first. One unit of work.
        `history` (user id, after row id): only that user's rows written after that one — the demo
        replays the history it wrote through these rules (`bot/demo/`)."""
        out = Claimed()

        async def due(conn: AsyncConnection, n: int) -> list[OutboxRow]:
            if history is None:
                return await repo.due(conn, now, n)
            return await repo.due_for_user(conn, history[0], now, n, after_id=history[1])

        if history is None:
            async with self.db.read() as conn:  # mostly nothing is due: no write lock for that
                if not await due(conn, 1):
                    return out
        async with self.db.write() as conn:
            candidates = await due(conn, limit * 2)
            if history is None:
                # several processes: only users no other claim holds, their rows read again
                users_first = list(dict.fromkeys(r.user_id for r in candidates))[:limit]
                mine = await repo.lock_users(conn, users_first)
                candidates = await repo.due_of_users(conn, mine, now, limit * 2)
            picked: list[OutboxRow] = []
            per: dict[int, int] = defaultdict(int)
            for row in candidates:
                if per[row.user_id] >= per_user:
                    continue
                per[row.user_id] += 1
                picked.append(row)
                if len(picked) >= limit:
                    break
            claimed_ids = await repo.lease(conn, [r.id for r in picked], now, now + lease)
            rows = [r for r in picked if r.id in claimed_ids]
            out.rows = len(rows)
            if not rows:
                return out
            user_ids = sorted({r.user_id for r in rows})
            users = await users_repo.get_many(conn, user_ids)
            prefs = await prefs_repo.prefs_for(conn, user_ids)
            mutes = await prefs_repo.mutes_for(conn, user_ids)
            drops: dict[str, list[int]] = defaultdict(list)
            fails: dict[str, list[int]] = defaultdict(list)
            reminders: dict[int, list[OutboxRow]] = defaultdict(list)
            for row in rows:
                user = users.get(row.user_id)
                kind = notifications.get(row.kind)
                if user is None or user.unreachable_since is not None:
                    drops[rules.UNREACHABLE].append(row.id)
                elif kind is None:
                    fails[f"unknown kind {row.kind!r}: no push view is registered for it"].append(row.id)
                elif row.attempts >= self.backoff.max_attempts:  # claimed that often, never marked
                    fails[f"gave up after {row.attempts} attempts"
                          + (f"; last error: {row.last_error}" if row.last_error else "")].append(row.id)
                elif row.expires_at is not None and row.expires_at <= now:
                    drops[rules.EXPIRED].append(row.id)
                elif row.kind in mutes.get(row.user_id, ()):
                    drops[rules.MUTED].append(row.id)
                elif kind.held:
                    reminders[row.user_id].append(row)
                else:
                    out.jobs.append(Job(self._recipient(user), [row], resent=row.state == repo.SENDING))
            for user_id, due_rows in reminders.items():
                job = await self._plan_reminders(conn, users[user_id], due_rows, prefs.get(user_id),
                                                 mutes.get(user_id, set()), now, lease, out, drops)
                if job is not None:
                    out.jobs.append(job)
            for reason, ids in drops.items():
                out.dropped += await repo.drop(conn, ids, reason)
            for error, ids in fails.items():
                out.failed += await repo.fail(conn, ids, error)
        out.jobs.sort(key=lambda j: j.order)
        return out

    @staticmethod
    def _recipient(user: users_repo.UserRow) -> Recipient:
        return Recipient(user.id, user.locale, user.time_zone)

    async def _plan_reminders(self, conn: AsyncConnection, user: users_repo.UserRow, due_rows: list[OutboxRow],
                              prefs: prefs_repo.PrefsRow | None, muted: set[str], now: datetime,
                              lease: timedelta, out: Claimed, drops: dict[str, list[int]]) -> Job | None:
        quiet = (rules.QuietHours(prefs.quiet_enabled, prefs.quiet_start, prefs.quiet_end)
                 if prefs is not None else rules.DEFAULT_QUIET_HOURS)
        last = prefs.last_reminder_at if prefs is not None else None
        # the user's other reminders due before the end of their day may join the digest
        upcoming = await repo.pending_for_user(
            conn, user.id, notifications.reminder_kinds(), now, now + timedelta(hours=27)
        )
        by_id = {r.id: r for r in [*due_rows, *upcoming]}
        plan = rules.plan_reminders(
            [rules.Item(r.id, r.kind, r.due_at, r.expires_at) for r in by_id.values()],
            now=now, tz_name=user.time_zone, quiet=quiet, last_reminder_at=last, muted=muted,
        )
        claimed = {r.id for r in due_rows}
        for item, reason in plan.drop:
            if item.id in claimed:  # an upcoming row is dropped when its own turn comes
                drops[reason].append(item.id)
        if plan.hold:
            assert plan.until is not None
            out.held += await repo.release(conn, [i.id for i in plan.hold], due_at=plan.until)
        if not plan.send:
            return None
        joining = [i.id for i in plan.send if i.id not in claimed]
        joined = await repo.lease(conn, joining, now, now + lease)
        rows = [by_id[i.id] for i in plan.send if i.id in claimed or i.id in joined]
        resent = any(r.state == repo.SENDING for r in due_rows)
        return Job(self._recipient(user), rows, reminder=True, resent=resent)

    # -- after a send attempt ---------------------------------------------------------------------
    async def sent(self, job: Job, now: datetime, message_id: int | None,
                   message_ids: Sequence[int] = ()) -> int:
        """Telegram accepted the message: its rows are sent (and the day's reminder is spent).
        `message_ids`: every message it went out as (media after a header), for the kinds that
        record them (`NotificationKind.on_sent`)."""
        async with self.db.write() as conn:
            done = await repo.mark_sent(conn, job.ids, now, message_id)
            ids = list(message_ids) or ([message_id] if message_id is not None else [])
            for row in job.rows:
                kind = notifications.get(row.kind)
                if kind is not None and kind.on_sent is not None and ids:
                    await kind.on_sent(conn, row, job.chat_id, ids)
            if job.reminder:
                await prefs_repo.upsert_prefs(conn, job.chat_id, now, last_reminder_at=now)
        return done

    async def sent_all(self, jobs: list[Job], now: datetime) -> int:
        """`sent` for several messages at once, in one unit of work (replaying a demo history)."""
        done = 0
        async with self.db.write() as conn:
            for job in jobs:
                done += await repo.mark_sent(conn, job.ids, now, None)
                if job.reminder:
                    await prefs_repo.upsert_prefs(conn, job.chat_id, now, last_reminder_at=now)
        return done

    async def retry_later(self, job: Job, error: str, now: datetime) -> tuple[int, int]:
        """A temporary error: back off, or give up after the last attempt. Returns
        (retrying, failed)."""
        retrying = failed = 0
        async with self.db.write() as conn:
            for row in job.rows:
                attempt = row.attempts + 1  # counted when claimed
                if attempt >= self.backoff.max_attempts:
                    failed += await repo.fail(conn, [row.id], f"gave up after {attempt} attempts; last error: {error}")
                else:
                    retrying += await repo.retry_later(conn, [row.id], error, now + self.backoff.delay(attempt))
        return retrying, failed

    async def fail(self, job: Job, error: str) -> int:
        async with self.db.write() as conn:
            return await repo.fail(conn, job.ids, error)

    async def release(self, ids: list[int]) -> int:
        """Give claimed rows back, unsent (shutdown): due again at once."""
        async with self.db.write() as conn:
            return await repo.release(conn, ids)

    async def unreachable(self, user_id: int, ids: list[int]) -> int:
        """Telegram said 403: the user blocked the bot. These rows and the user's pending ones are
        dropped (reason "unreachable"); they come back when the user does."""
        async with self.db.write() as conn:
            dropped = await repo.drop(conn, ids, rules.UNREACHABLE)
            await self.users.mark_unreachable(user_id)  # joins this unit of work; runs the hooks
        return dropped

    async def renew(self, ids: list[int], until: datetime) -> int:
        async with self.db.write() as conn:
            return await repo.renew(conn, ids, until)

    # -- a demo history ---------------------------------------------------------------------------
    async def last_id(self) -> int:
        async with self.db.read() as conn:
            return await repo.last_id(conn)

    async def due_times(self, user_id: int, until: datetime, *, after_id: int = 0) -> list[datetime]:
        async with self.db.read() as conn:
            return await repo.due_times(conn, user_id, until, after_id=after_id)

    # -- operators --------------------------------------------------------------------------------
    async def dead_letters(self, limit: int = 50) -> list[OutboxRow]:
        async with self.db.read() as conn:
            return await repo.in_state(conn, repo.FAILED, limit)

    async def retry_failed(self, ids: list[int]) -> list[int]:
        """Failed rows → pending, due now, attempts reset. Returns the ids that were failed."""
        async with self.db.write() as conn:
            return await repo.retry_failed(conn, ids, self.clock.now())

    async def counts(self) -> dict[str, int]:
        async with self.db.read() as conn:
            return await repo.counts(conn)
