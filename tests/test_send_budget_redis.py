"""Telegram's overall budget shared in Redis (REDIS_URL, bot/db/budget_redis.py): two processes'
limiters, each allowed 25 pushes a second, together never send more than the shared 30 in any one
second; replies count and never wait; a 429 seen by one holds the other. Against the local Redis
(skipped with one line where it is not running), on a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.db.budget_redis import RedisSendBudget
from bot.services.clock import FakeClock
from bot.services.ratelimit import RateLimiter, simulated_wait
from tests.services_kit import RedisSpace

SECOND = timedelta(seconds=1)


def budget(space: RedisSpace, clock: FakeClock, total: int = 30) -> RedisSendBudget:
    client: Any = space.client
    return RedisSendBudget(client, clock.now, total, prefix=space.prefix)


def most_in_a_second(times: list[datetime]) -> int:
    times = sorted(times)
    return max(sum(1 for u in times[i:] if u < t + SECOND) for i, t in enumerate(times))


async def test_two_processes_together_stay_within_the_shared_rate(redis_space: RedisSpace) -> None:
    clock = FakeClock()
    wait = simulated_wait(clock)
    first = RateLimiter(clock.now, wait, per_second=25, budget=budget(redis_space, clock))
    second = RateLimiter(clock.now, wait, per_second=25, budget=budget(redis_space, clock))
    start = clock.now()
    sent: list[datetime] = []
    chat = 0
    while clock.now() < start + 10 * SECOND:
        for limiter in (first, second):  # turn about, as two processes racing for the budget
            chat += 1
            assert await limiter.acquire(chat)
            sent.append(clock.now())
    assert most_in_a_second(sent) == 30  # alone, each would have sent 25 a second: 50 together
    assert len(sent) >= 30 * 10


async def test_replies_count_and_never_wait_and_a_429_holds_every_process(redis_space: RedisSpace) -> None:
    clock = FakeClock()
    pushes, replies = budget(redis_space, clock, total=5), budget(redis_space, clock, total=5)
    now = clock.now()
    for _ in range(3):
        await replies.reply()
    clock.advance(milliseconds=100)
    assert await pushes.take(clock.now()) is None
    assert await pushes.take(clock.now()) is None
    # five in the window: the next push waits for the first reply to leave it
    assert await pushes.take(clock.now()) == now + SECOND
    clock.advance(milliseconds=500)
    burst = clock.now()
    for _ in range(5):
        await replies.reply()  # a full window already: a reply is never refused
    clock.advance(milliseconds=900)  # the first sends have left the window, the burst has not
    assert await pushes.take(clock.now()) == burst + SECOND
    clock.set(burst + SECOND)
    assert await pushes.take(clock.now()) is None
    until = await replies.pause_all(30)  # Telegram's 429 on a reply of the other process
    assert until == clock.now() + timedelta(seconds=30)
    assert await pushes.take(clock.now()) == until
    clock.advance(seconds=30)
    assert await pushes.take(clock.now()) is None


async def test_redis_failing_does_not_stop_a_send(caplog: Any) -> None:
    class Down:
        def register_script(self, _source: str) -> Any:
            async def run(**_kw: Any) -> Any:
                raise ConnectionError("Redis is down")
            return run

    clock = FakeClock()
    shared = RedisSendBudget(Down(), clock.now, 30, prefix="kt")
    limiter = RateLimiter(clock.now, simulated_wait(clock), per_second=2, budget=shared)
    for chat in range(3):
        assert await limiter.acquire(chat)
    await shared.reply()
    assert await shared.pause_all(5) == clock.now() + timedelta(seconds=5)
    assert clock.now() == FakeClock().now() + SECOND  # the process's own limit (2 a second) held
    assert [r.getMessage() for r in caplog.records].count(
        "send budget: Redis failed (ConnectionError); sending under this process's limits") == 1
