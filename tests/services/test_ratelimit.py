"""The push rate limiter on simulated time."""

from __future__ import annotations

from datetime import timedelta

from bot.services.clock import FakeClock
from bot.services.ratelimit import RateLimiter, simulated_wait

SECOND = timedelta(seconds=1)


async def test_no_second_holds_more_than_the_rate_and_a_chat_gets_one_a_second(clock: FakeClock) -> None:
    limiter = RateLimiter(clock.now, simulated_wait(clock), per_second=5)
    start = clock.now()
    sent = []
    for i in range(23):
        chat = i % 7
        assert await limiter.acquire(chat)
        sent.append((clock.now(), chat))
    times = [t for t, _ in sent]
    for t in times:  # every half-open window [t, t + 1 s)
        assert sum(1 for u in times if t <= u < t + SECOND) <= 5
    # the first five go at once (a full bucket), then one every 0.2 s on average
    assert times[:5] == [start] * 5 and times[-1] - start <= timedelta(seconds=4)
    last: dict[int, object] = {}
    for t, chat in sent:
        assert chat not in last or t - last[chat] >= SECOND  # type: ignore[operator]
        last[chat] = t


async def test_a_pause_holds_everyone_and_stopping_gives_up_waiting(clock: FakeClock) -> None:
    limiter = RateLimiter(clock.now, simulated_wait(clock), per_second=25)
    start = clock.now()
    assert limiter.pause(3.5) == start + timedelta(seconds=3.5)
    assert limiter.pause(1) == start + timedelta(seconds=3.5)  # a shorter pause does not shorten it
    assert await limiter.acquire(1)
    assert clock.now() == start + timedelta(seconds=3.5)
    # waiting for chat 1's next slot, the process is asked to stop: no slot taken
    assert not await limiter.acquire(1, stopping=lambda: True)
    assert limiter.next_slot(1, clock.now()) == start + timedelta(seconds=4.5)
