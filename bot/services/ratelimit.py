"""Rate limits for pushes: overall and per chat, on an injected clock and an injected wait, so
tests and benchmarks simulate time instead of sleeping; and Telegram's overall budget, shared
with the replies (`SendBudget`), which take precedence — in memory for one process, or in Redis
for every process behind one webhook (`SharedBudget`, bot/db/budget_redis.py)."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

Wait = Callable[[timedelta], Awaitable[None]]

SECOND = timedelta(seconds=1)
TELEGRAM_PER_SECOND = 30  # what Telegram allows a bot overall, roughly


class _Pausable:
    """Telegram's 429 "retry after" holds the sends until `paused_until`."""

    _now: Callable[[], datetime]
    paused_until: datetime | None

    def pause(self, seconds: float) -> datetime:
        """Hold every send for `seconds` from now (Telegram's retry_after). Returns the end."""
        until = self._now() + timedelta(seconds=max(0.0, seconds))
        if self.paused_until is None or until > self.paused_until:
            self.paused_until = until
        return self.paused_until


class SendBudget(_Pausable):
    """Telegram's overall budget (about 30 messages a second), shared by replies and pushes.

    Replies to a user's own action are counted here (`record`) and never wait for pushes; the
    delivery's limiter leaves them room: in any one second, pushes take at most `total` minus the
    replies of that second (and never more than their own rate). So when users are busy, pushes
    slow down; when they are quiet, pushes run at their full rate. A 429 on a reply pauses the
    pushes too (`pause`)."""

    def __init__(self, now: Callable[[], datetime], total: int = TELEGRAM_PER_SECOND) -> None:
        if total < 1:
            raise ValueError("total must be at least 1")
        self._now = now
        self.total = total
        self.replies: deque[datetime] = deque(maxlen=total)  # the last replies, oldest first
        self.paused_until: datetime | None = None

    def record(self) -> None:
        """A reply is being sent now."""
        self.replies.append(self._now())

    # what the replies' middleware calls, the same for the shared budget
    async def reply(self) -> None:
        self.record()

    async def pause_all(self, seconds: float) -> datetime:
        return self.pause(seconds)

    async def paused_till(self) -> datetime | None:
        """Until when a 429 holds the sends (None: never held)."""
        return self.paused_until


class SharedBudget(Protocol):
    """Telegram's overall budget kept for every process (REDIS_URL: bot/db/budget_redis.py): the
    pushes take a token from it (`take`: None when taken, else when to ask again), the replies are
    counted in it (`reply`), a 429 holds every process's pushes (`pause_all`)."""

    total: int

    async def take(self, now: datetime) -> datetime | None: ...

    async def reply(self) -> None: ...

    async def pause_all(self, seconds: float) -> datetime: ...

    async def paused_till(self) -> datetime | None: ...


class RateLimiter(_Pausable):
    """At most `per_second` sends in any one-second window overall, and at most one send per
    `chat_interval` in one chat.

    The overall limit is a token bucket of `per_second` tokens in which a spent token comes back
    exactly one second after it was spent (a sliding window): a burst after a quiet spell is
    allowed, but no window of one second ever holds more than `per_second` sends — which is what
    Telegram counts. A pause (Telegram's 429 "retry after") holds every send until it ends.
    """

    def __init__(self, now: Callable[[], datetime], wait: Wait, *, per_second: int = 25,
                 chat_interval: timedelta = SECOND, budget: SendBudget | SharedBudget | None = None) -> None:
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self._now = now
        self._wait = wait
        self.per_second = per_second
        self.chat_interval = chat_interval
        # shared with the replies, which go first: in this process, or (shared) in every process
        self.budget = budget if isinstance(budget, SendBudget) else None
        self.shared = None if budget is None or isinstance(budget, SendBudget) else budget
        # the last sends, oldest first: enough of them to count our share of the shared budget too
        self._sent: deque[datetime] = deque(maxlen=max(per_second, self.budget.total if self.budget else 0))
        self._chat_last: dict[int, datetime] = {}
        self.paused_until: datetime | None = None

    async def pause_everywhere(self, seconds: float) -> datetime:
        """Telegram's 429 on a push: this limiter holds, and so does every process sharing the
        budget."""
        until = self.pause(seconds)
        if self.shared is not None:
            await self.shared.pause_all(seconds)
        return until

    def chat_ready_at(self, chat_id: int) -> datetime | None:
        last = self._chat_last.get(chat_id)
        return None if last is None else last + self.chat_interval

    def next_slot(self, chat_id: int, now: datetime) -> datetime:
        """The earliest moment a message may go to this chat."""
        slot = now
        if len(self._sent) >= self.per_second:
            slot = max(slot, self._sent[-self.per_second] + SECOND)
        ready = self.chat_ready_at(chat_id)
        if ready is not None:
            slot = max(slot, ready)
        if self.paused_until is not None:
            slot = max(slot, self.paused_until)
        budget = self.budget
        if budget is not None:
            if budget.paused_until is not None:
                slot = max(slot, budget.paused_until)
            # the moment fewer than `total` sends, ours and the replies, fall in the last second
            both = sorted([*self._sent, *budget.replies])
            if len(both) >= budget.total:
                slot = max(slot, both[-budget.total] + SECOND)
        return slot

    async def acquire(self, chat_id: int, stopping: Callable[[], bool] = lambda: False) -> bool:
        """Wait for a slot and take it (the caller sends right away). Returns False, without a
        slot, when `stopping()` turns true while waiting."""
        while True:
            now = self._now()
            slot = self.next_slot(chat_id, now)
            if slot <= now and self.shared is not None:
                later = await self.shared.take(now)  # the last step: a token taken is spent
                if later is not None:
                    slot = max(later, now + timedelta(milliseconds=1))
            if slot <= now:
                self._take(chat_id, now)
                return True
            if stopping():
                return False
            await self._wait(slot - now)
            if stopping():
                return False

    def _take(self, chat_id: int, now: datetime) -> None:
        self._sent.append(now)
        self._chat_last[chat_id] = now
        if len(self._chat_last) > 4096:  # forget chats that may send again anyway
            horizon = now - self.chat_interval
            self._chat_last = {c: t for c, t in self._chat_last.items() if t > horizon}


class SimulatedTime(Protocol):
    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime: ...


def simulated_wait(clock: SimulatedTime) -> Wait:
    """A wait that moves a fake clock instead of sleeping (tests, benchmarks)."""

    async def wait(delay: timedelta) -> None:
        clock.advance(delay)

    return wait


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: datetime
    warned: bool = False  # the user was told during this spell (flood protection)


class TokenBuckets:
    """A token bucket per key (a user for flood protection, a shop's key for the API): `burst`
    tokens that refill at `rate` a second; `allow(key, now)` spends one or says no, `retry_after`
    says when the next one comes. Buckets live in memory and are pruned when many are full again."""

    PRUNE_OVER = 10_000

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._buckets: dict[int, _Bucket] = {}

    def _refill(self, bucket: _Bucket, now: datetime) -> None:
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.warned = False

    def allow(self, key: int, now: datetime) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.PRUNE_OVER:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            self._refill(bucket, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True
        return False

    def retry_after(self, key: int, now: datetime) -> float:
        """Seconds until `key` has a token again (0: it has one now)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        self._refill(bucket, now)
        return max(0.0, (1 - bucket.tokens) / self.rate)

    def _prune(self, now: datetime) -> None:
        """Forget the keys whose bucket is full again (they lose nothing)."""
        for key, bucket in list(self._buckets.items()):
            self._refill(bucket, now)
            if bucket.tokens >= self.burst:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
