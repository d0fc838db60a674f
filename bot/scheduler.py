"""APScheduler 3 ticks the time-driven jobs. Each job is a plain async function of `now`, so tests
call it directly with a fake clock; the scheduler only decides when.

Sections register *due transitions* (idempotent service calls such as "expire unpaid orders") with
`register_due`; the sweeper runs them all on every tick. The outbox delivery job
(`bot/delivery.py`) ticks here too.

Every instance runs its own scheduler; there is no shared job store. A job added with `once=True`
(the sweeper) first takes a lease for the period from the database (`JobLeases`: a row per job
with its holder and an expiry, taken in one unit of work): of N instances ticking it, the one that
holds the lease runs it and renews it on its next tick; the others skip, and take over once a
holder that stopped ticking lets it expire (`factor` periods). The delivery jobs run everywhere:
their claims keep two instances from sending one row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.db import job_leases as repo
from bot.db.engine import Database
from bot.services.clock import Clock

log = logging.getLogger(__name__)

DueTransition = Callable[[datetime], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Due:
    name: str
    run: DueTransition


class Sweeper:
    """Runs every registered due transition for a moment in time. One failing transition is logged
    and does not stop the others."""

    def __init__(self) -> None:
        self._due: dict[str, Due] = {}

    def register(self, name: str, run: DueTransition) -> None:
        self._due[name] = Due(name, run)

    @property
    def names(self) -> list[str]:
        return list(self._due)

    async def __call__(self, now: datetime) -> dict[str, int]:
        done: dict[str, int] = {}
        for due in list(self._due.values()):
            try:
                done[due.name] = await due.run(now)
            except Exception:
                log.exception("due transition %s failed", due.name)
                done[due.name] = -1
        changed = {k: v for k, v in done.items() if v}
        if changed:
            log.info("sweeper: %s", changed)
        return done


class JobLeases:
    """Which instance runs a job this period: a lease of `factor` periods taken (or renewed by its
    holder) at each tick, in one unit of work. A failure to reach the database skips the run."""

    def __init__(self, db: Database, *, holder: str | None = None, factor: float = 1.5) -> None:
        if factor < 1:
            raise ValueError("a lease shorter than the period would let two instances run it")
        self.db = db
        self.holder = holder or f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.factor = factor

    async def take(self, name: str, now: datetime, period: timedelta) -> bool:
        try:
            async with self.db.write() as conn:
                return await repo.take(conn, name, self.holder, now, now + period * self.factor)
        except Exception:
            log.exception("job %s: its lease could not be taken; skipped this time", name)
            return False


class Scheduler:
    """AsyncIOScheduler with coalescing, one instance per job, no misfire limit. Shutdown lets a
    running job finish (bounded). `leases`: what a `once` job takes before it runs."""

    def __init__(self, clock: Clock, leases: JobLeases | None = None) -> None:
        self.clock = clock
        self.leases = leases
        self._scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self._running: set[asyncio.Task[Any]] = set()
        self._busy: set[str] = set()

    def add_job(self, name: str, job: Callable[[datetime], Awaitable[Any]], seconds: float, *,
                long_running: bool = False, once: bool = False) -> None:
        """Run `job(now)` every `seconds`. A `long_running` job (delivery working through a backlog)
        may outlast its interval: the ticks that fall while it runs return at once instead of being
        skipped by APScheduler with a warning each time. A `once` job runs in one instance per
        period (the one holding its lease, when the scheduler has `leases`)."""
        busy: set[str] = self._busy
        leases = self.leases if once else None
        period = timedelta(seconds=seconds)

        async def tick() -> None:
            if long_running and name in busy:
                return
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            busy.add(name)
            try:
                if leases is not None and not await leases.take(name, self.clock.now(), period):
                    return  # another instance runs it this period
                await job(self.clock.now())
            except Exception:
                log.exception("job %s failed", name)
            finally:
                busy.discard(name)
                self._running.discard(task)

        self._scheduler.add_job(tick, "interval", seconds=seconds, id=name, name=name,
                                max_instances=2 if long_running else 1)

    def start(self) -> None:
        self._scheduler.start()

    def run_soon(self, name: str) -> None:
        """Run a job at the next opportunity instead of waiting for its interval."""
        self._scheduler.modify_job(name, next_run_time=datetime.now(UTC))

    async def shutdown(self, timeout: float) -> int:
        """Stop ticking, wait up to `timeout` seconds for running jobs, then stop the scheduler
        (APScheduler 3 cancels coroutine jobs still running at its shutdown, so we wait first).
        Returns how many jobs were still running after the wait."""
        if not self._scheduler.running:
            return 0
        self._scheduler.pause()
        running = [t for t in self._running if not t.done()]
        left = 0
        if running:
            _done, pending = await asyncio.wait(running, timeout=timeout)
            left = len(pending)
        self._scheduler.shutdown(wait=False)
        return left
