"""The scheduler with several instances (README "Scale-out"): a `once` job (the sweeper) runs in
the instance holding its lease for the period; the others skip it, and take over when a holder
that stopped ticking lets the lease expire. The lease is a row per job taken in one unit of work."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.db import job_leases as repo
from bot.scheduler import JobLeases, Scheduler
from tests.conftest import App

PERIOD = timedelta(seconds=60)


async def test_one_instance_runs_a_job_per_period_and_another_takes_over_when_it_stops(app: App) -> None:
    db, clock = app.services.db, app.clock
    first, second = JobLeases(db, holder="a:1"), JobLeases(db, holder="b:2")
    assert await first.take("sweeper", clock.now(), PERIOD)
    assert not await second.take("sweeper", clock.now(), PERIOD)
    clock.advance(PERIOD)  # the holder's next tick renews its lease; the other's still misses
    assert not await second.take("sweeper", clock.now(), PERIOD)
    assert await first.take("sweeper", clock.now(), PERIOD)
    assert not await second.take("sweeper", clock.now() + PERIOD, PERIOD)
    # the holder stops ticking (a crash): after 1.5 periods the lease is free
    clock.advance(PERIOD * 1.5)
    assert await second.take("sweeper", clock.now(), PERIOD)
    assert not await first.take("sweeper", clock.now(), PERIOD)
    async with db.read() as conn:
        assert await repo.holders(conn) == {"sweeper": ("b:2", clock.now() + PERIOD * 1.5)}
    # another job has a lease of its own
    assert await first.take("other", clock.now(), PERIOD)


async def test_racing_instances_get_a_lease_once(app: App) -> None:
    instances = [JobLeases(app.services.db, holder=f"i:{n}") for n in range(5)]
    now = app.clock.now()
    got = await asyncio.gather(*(i.take("sweeper", now, PERIOD) for i in instances))
    assert sorted(got) == [False] * 4 + [True]


class Recording(JobLeases):
    """The leases an instance took or was refused, and an event when it asked."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.asked = asyncio.Event()
        self.answers: list[bool] = []

    async def take(self, name: str, now: datetime, period: timedelta) -> bool:
        answer = await super().take(name, now, period)
        self.answers.append(answer)
        self.asked.set()
        return answer


async def test_a_once_job_is_skipped_by_the_instance_without_the_lease(app: App) -> None:
    ran: list[str] = []
    done = {name: asyncio.Event() for name in "ab"}

    def instance(name: str) -> tuple[Scheduler, Recording]:
        leases = Recording(app.services.db, holder=name)
        scheduler = Scheduler(app.clock, leases)

        async def job(now: datetime) -> None:
            ran.append(name)
            done[name].set()

        scheduler.add_job("sweeper", job, seconds=3600, once=True)
        return scheduler, leases

    (first, first_leases), (second, second_leases) = instance("a"), instance("b")
    for scheduler in (first, second):
        scheduler.start()
    try:
        first.run_soon("sweeper")
        await asyncio.wait_for(done["a"].wait(), 10)
        second.run_soon("sweeper")
        await asyncio.wait_for(second_leases.asked.wait(), 10)
    finally:
        for scheduler in (first, second):
            await scheduler.shutdown(5)
    assert (first_leases.answers, second_leases.answers) == ([True], [False])
    assert ran == ["a"]
