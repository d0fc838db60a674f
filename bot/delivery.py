"""Outbox delivery: the scheduler's job that sends due pushes under Telegram's limits.

One run (a call with `now`) claims due rows in batches (`OutboxService.claim`: leases, holds,
digests, drops), queues the messages per chat, and sends them with a few workers:

- overall at most `per_second` messages in any second, and one a second per chat (`RateLimiter`,
  on an injected clock and wait, so tests and benchmarks simulate time); with a shared
  `SendBudget`, pushes also leave the replies counted there their room in Telegram's ~30 a second
  (with REDIS_URL the budget is every process's, `SharedBudget`: together they stay under it);
- in order per chat: a chat has one message in flight at a time, and a user whose row is in
  flight or backing off gets no other row claimed until it is done;
- a row is marked sent right after Telegram accepted its message;
- `TelegramRetryAfter` pauses all delivery for `retry_after`, then the same message is retried;
- `TelegramForbiddenError` (the user blocked the bot) marks the user unreachable and drops their
  pending rows; they come back with the user (`services/reminders.py`);
- a request Telegram rejects (`TelegramBadRequest`…) or a push that cannot be rendered fails at
  once with the error kept; other errors (network, 5xx) back off exponentially and fail after
  `Backoff.max_attempts`; the chat's later messages wait behind the one backing off.

Stopping (`stop()`) lets each worker finish the message it is sending, gives the claimed rows not
yet sent back (due at once on the next start), and ends the run. A crash instead leaves them
leased: they are due again when the lease expires, so only the messages in flight at the crash can
reach a user twice (`DeliveryReport.reclaimed` counts the rows sent after an expired lease: the
database cannot tell the ones that were in flight from the ones only queued, so it is an upper
bound of the duplicates).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections import deque
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import InputMediaAudio, InputMediaDocument, InputMediaPhoto, InputMediaVideo
from aiogram.utils.i18n import I18n

from bot.middlewares.requests import outbox_send
from bot.services.clock import Clock
from bot.services.outbox import Job, OutboxService, Recipient
from bot.services.ratelimit import RateLimiter, SendBudget, SharedBudget, Wait
from bot.views import pushes
from bot.views.common import Fmt, Screen

log = logging.getLogger(__name__)

# Telegram answered, and asking again would get the same answer.
PERMANENT = (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge, TelegramMigrateToChat)

_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    per_second: int = 25  # below Telegram's ~30/s, so replies to users keep room
    chat_interval: timedelta = timedelta(seconds=1)
    concurrency: int = 4  # messages in flight at once (each to a different chat)
    batch: int = 100  # rows claimed at a time
    per_user: int = 5  # rows of one user in one claim
    lease: timedelta = timedelta(seconds=120)
    low_water: int = 50  # claim more when fewer messages than this are queued


@dataclass
class DeliveryReport:
    messages: int = 0  # Telegram messages sent
    rows: int = 0  # rows marked sent
    digests: int = 0  # messages that merged several reminders
    held: int = 0  # reminders moved to later (quiet hours, one a day)
    dropped: int = 0  # muted, expired, user unreachable
    failed: int = 0
    retrying: int = 0  # backing off after a temporary error
    rate_limited: int = 0  # 429s received
    blocked: int = 0  # 403s received
    reclaimed: int = 0  # rows sent after another run's lease expired (a crash): those of them
    # that were in flight at the crash reached their user twice (at most `concurrency`)
    released: int = 0  # claimed but given back unsent (stopped)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def add(self, other: DeliveryReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class Delivery:
    """The delivery job: `await delivery(now)` runs until nothing is due (or `stop()`)."""

    def __init__(self, outbox: OutboxService, bot: Bot, i18n: I18n, clock: Clock, *,
                 config: DeliveryConfig | None = None, wait: Wait | None = None,
                 budget: SendBudget | SharedBudget | None = None) -> None:
        self.outbox = outbox
        self.bot = bot
        self.i18n = i18n
        self.clock = clock
        self.config = config or DeliveryConfig()
        self._stop = asyncio.Event()
        self.limiter = RateLimiter(clock.now, wait or self._wait, per_second=self.config.per_second,
                                   chat_interval=self.config.chat_interval, budget=budget)
        self._run: _Run | None = None
        self.totals = DeliveryReport()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Finish the messages being sent, give back the rest, end the run in progress."""
        self._stop.set()
        if self._run is not None:
            self._run.changed.set()

    async def _wait(self, delay: timedelta) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), delay.total_seconds())

    async def __call__(self, now: datetime) -> DeliveryReport:
        if self.stopping:
            return DeliveryReport()
        run = _Run(self)
        self._run = run
        try:
            await run.go()
        finally:
            self._run = None
        self.totals.add(run.report)
        if run.report:
            log.info("delivery: %s", {k: v for k, v in vars(run.report).items() if v})
        if run.report.reclaimed:
            log.warning("delivery: sent %d row(s) whose lease had expired (a crash?); those that "
                        "were in flight at the crash reached their users twice", run.report.reclaimed)
        return run.report

    def fmt(self, recipient: Recipient) -> Fmt:
        return Fmt(self.i18n, recipient.locale, recipient.time_zone)


class _Run:
    """One run's queues: a FIFO of jobs per chat, and a heap of idle chats by when they may send."""

    def __init__(self, delivery: Delivery) -> None:
        self.d = delivery
        self.cfg = delivery.config
        self.report = DeliveryReport()
        self.lanes: dict[int, deque[Job]] = {}
        self.ready: list[tuple[datetime, tuple[datetime, int], int]] = []  # idle chats with jobs
        self.busy: set[int] = set()
        self.in_flight: dict[int, Job] = {}
        self.queued = 0
        self.more = True  # the last claim may have left due rows
        self.changed = asyncio.Event()
        self.claiming = asyncio.Lock()
        self.renew_at: datetime | None = None

    # -- the queues --------------------------------------------------------------------------------
    def _push_ready(self, chat: int) -> None:
        lane = self.lanes.get(chat)
        if lane and chat not in self.busy:
            ready = self.d.limiter.chat_ready_at(chat) or _EARLIEST
            heapq.heappush(self.ready, (ready, lane[0].order, chat))

    def _add(self, job: Job, *, front: bool = False) -> None:
        lane = self.lanes.setdefault(job.chat_id, deque())
        was_idle = not lane and job.chat_id not in self.busy
        if front:
            lane.appendleft(job)
        else:
            lane.append(job)
        self.queued += 1
        if was_idle:
            self._push_ready(job.chat_id)

    def _take(self) -> Job | None:
        while self.ready:
            _ready, _order, chat = heapq.heappop(self.ready)
            lane = self.lanes.get(chat)
            if not lane or chat in self.busy:
                continue
            job = lane.popleft()
            self.queued -= 1
            self.busy.add(chat)
            self.in_flight[chat] = job
            return job
        return None

    def _finish(self, chat: int) -> None:
        self.busy.discard(chat)
        self.in_flight.pop(chat, None)
        lane = self.lanes.get(chat)
        if lane:
            self._push_ready(chat)
        else:
            self.lanes.pop(chat, None)
        self.more = True  # this user's later rows may be claimable now
        self.changed.set()

    def _take_lane(self, chat: int) -> list[Job]:
        lane = self.lanes.pop(chat, None) or deque()
        self.queued -= len(lane)
        return list(lane)

    def _held_ids(self) -> list[int]:
        ids = [i for lane in self.lanes.values() for job in lane for i in job.ids]
        ids += [i for job in self.in_flight.values() for i in job.ids]
        return ids

    # -- the run -----------------------------------------------------------------------------------
    async def go(self) -> None:
        if self.cfg.concurrency <= 1:
            await self.worker()
        else:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.cfg.concurrency):
                    group.create_task(self.worker())
        # stopped (or nothing left): what is still queued goes back, due at once
        leftover = [i for lane in self.lanes.values() for job in lane for i in job.ids]
        if leftover:
            self.report.released += await self.d.outbox.release(leftover)

    async def worker(self) -> None:
        while not self.d.stopping:
            if self.queued < self.cfg.low_water and self.more:
                await self.refill()
            job = self._take()
            if job is None:
                if not self.busy and not self.queued:
                    if self.more:
                        continue
                    return
                self.changed.clear()
                await self.changed.wait()
                continue
            try:
                await self.deliver(job)
            finally:
                self._finish(job.chat_id)

    async def refill(self) -> None:
        async with self.claiming:
            if self.queued >= self.cfg.low_water or not self.more or self.d.stopping:
                return
            now = self.d.clock.now()
            claimed = await self.d.outbox.claim(
                now, limit=self.cfg.batch, lease=self.cfg.lease, per_user=self.cfg.per_user,
            )
            self.more = claimed.rows > 0
            self.report.held += claimed.held
            self.report.dropped += claimed.dropped
            self.report.failed += claimed.failed
            mine = set(self._held_ids())
            for job in claimed.jobs:
                if mine.intersection(job.ids):  # our own lease expired and we claimed it again
                    continue
                self._add(job)
            if self.renew_at is None:
                self.renew_at = now + self.cfg.lease / 2

    async def renew_leases(self) -> None:
        now = self.d.clock.now()
        if self.renew_at is None or now < self.renew_at:
            return
        self.renew_at = now + self.cfg.lease / 2
        await self.d.outbox.renew(self._held_ids(), now + self.cfg.lease)

    # -- one message -------------------------------------------------------------------------------
    async def deliver(self, job: Job) -> None:
        d = self.d
        f = d.fmt(job.recipient)
        with d.i18n.context(), d.i18n.use_locale(job.recipient.locale):
            screen = await self._render(job, f)
        if screen is None:
            return
        while True:
            await self.renew_leases()
            if not await d.limiter.acquire(job.chat_id, lambda: d.stopping):
                self._add(job, front=True)  # stopping: back to the queue, released at the end
                return
            try:
                with outbox_send():  # our own retries below, not the replies' ones
                    sent_ids = await send_screen(d.bot, job.chat_id, screen)
            except TelegramRetryAfter as exc:
                self.report.rate_limited += 1
                until = await d.limiter.pause_everywhere(exc.retry_after)
                log.warning("delivery: Telegram asked to wait %ss; all delivery paused until %s",
                            exc.retry_after, until.isoformat())
                continue
            except TelegramForbiddenError as exc:
                self.report.blocked += 1
                rest = self._take_lane(job.chat_id)
                ids = job.ids + [i for other in rest for i in other.ids]
                self.report.dropped += await d.outbox.unreachable(job.chat_id, ids)
                log.info("delivery: user %s is unreachable (%s)", job.chat_id, exc.message)
                return
            except PERMANENT as exc:
                self.report.failed += await d.outbox.fail(job, _describe(exc))
                log.warning("delivery: rows %s failed: %s", job.ids, _describe(exc))
                return
            except Exception as exc:
                retrying, failed = await d.outbox.retry_later(job, _describe(exc), d.clock.now())
                self.report.retrying += retrying
                self.report.failed += failed
                # the chat's later messages wait behind this one (the user is skipped while it backs off)
                rest = [i for other in self._take_lane(job.chat_id) for i in other.ids]
                if rest:
                    self.report.released += await d.outbox.release(rest)
                log.info("delivery: rows %s will be retried: %s", job.ids, _describe(exc))
                return
            marked = await d.outbox.sent(job, d.clock.now(), sent_ids[0] if sent_ids else None, sent_ids)
            self.report.messages += 1
            self.report.rows += marked
            if len(job.rows) > 1:
                self.report.digests += 1
            if job.resent:
                self.report.reclaimed += len(job.rows)
            return

    async def _render(self, job: Job, f: Fmt) -> Screen | None:
        """The message for a job; rows that cannot be rendered fail (the others still go)."""
        rendered: list[pushes.Rendered] = []
        good = []
        for row in job.rows:
            try:
                rendered.append(pushes.render_one(row.kind, row.payload, f))
                good.append(row)
            except pushes.RenderError as exc:
                self.report.failed += await self.d.outbox.fail(Job(job.recipient, [row]), str(exc))
                log.error("delivery: row %s cannot be rendered: %s", row.id, exc)
        if not rendered:
            return None
        job.rows = good
        if job.reminder:
            return pushes.digest_screen(rendered, f)
        return pushes.push_screen(rendered[0])


# a push's media item → the Bot API method that sends it and its file field
_MEDIA = {"photo": "send_photo", "document": "send_document", "voice": "send_voice", "video": "send_video",
          "audio": "send_audio"}
_ALBUM = {"photo": InputMediaPhoto, "video": InputMediaVideo, "document": InputMediaDocument,
          "audio": InputMediaAudio}


async def send_screen(bot: Bot, chat_id: int, screen: Screen) -> list[int]:
    """Send a push; returns the ids of the messages it went out as.

    A push with media (a relayed message) goes out by the files' ids — a copy, never a forward:
    one item with the text as its caption and the keyboard under it; an album as the text with the
    keyboard (an album can't carry one), then the album. A retry after a failure between the two
    sends the text again: at least once, as every push."""
    if not screen.media:
        return _ids(await bot.send_message(chat_id=chat_id, **screen.as_kwargs()))
    if len(screen.media) == 1:
        kind, file_id = screen.media[0]
        method = getattr(bot, _MEDIA[kind])
        return _ids(await method(chat_id, file_id, caption=screen.text, reply_markup=screen.reply_markup))
    header = await bot.send_message(chat_id=chat_id, text=screen.text, reply_markup=screen.reply_markup)
    album = await bot.send_media_group(chat_id=chat_id, media=[
        _ALBUM.get(kind, InputMediaDocument)(media=file_id) for kind, file_id in screen.media])
    return _ids(header) + [i for m in album for i in _ids(m)]


def _ids(message: object) -> list[int]:
    message_id = getattr(message, "message_id", None)
    return [message_id] if isinstance(message_id, int) else []


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


__all__ = ["Delivery", "DeliveryConfig", "DeliveryReport", "send_screen"]
