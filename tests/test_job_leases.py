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


async def test_a_once_job_is_skipped_by_the_instance_without_the_lease(app: App) -> None:
    ran: list[str] = []
    ticked = asyncio.Event()

    def instance(name: str) -> Scheduler:
        scheduler = Scheduler(app.clock, JobLeases(app.services.db, holder=name))

        async def job(now: datetime) -> None:
            ran.append(name)

        async def spy(now: datetime) -> None:
            ticked.set()

        scheduler.add_job("sweeper", job, seconds=3600, once=True)
        scheduler.add_job(f"after-{name}", spy, seconds=3600)
        return scheduler

    first, second = instance("a"), instance("b")
    for scheduler in (first, second):
        scheduler.start()
    try:
        for scheduler, name in ((first, "a"), (second, "b")):
            ticked.clear()
            scheduler.run_soon("sweeper")
            scheduler.run_soon(f"after-{name}")
            await asyncio.wait_for(ticked.wait(), 10)
            await asyncio.wait_for(_idle(scheduler), 10)
    finally:
        for scheduler in (first, second):
            await scheduler.shutdown(5)
    assert ran == ["a"]


async def _idle(scheduler: Scheduler) -> None:
    running = [t for t in scheduler._running if not t.done()]
    if running:
        await asyncio.wait(running)
