"""Reminder delivery and the due scan, on the benchmark database.

- **Due scan**: the outbox gets scheduled rows (due over the next 30 days) until it holds
  `scheduled` active rows (1M at scale 1); one batch of 500 due rows is read by the delivery's
  own query (`bot/db/outbox.py: due`), many times: median and p99 (goal ≤ 15 ms), and its plan.
- **Delivery**: a backlog of `backlog` due pushes (100k at scale 1) over the dataset's users, sent
  by the real delivery job (`bot/delivery.py`) on a simulated clock (`simulated_wait`), against a
  fake Telegram that answers at once and records when each request arrived. Run 1: nothing
  fails — messages per second achieved vs the configured rate (goal ≥ 95%). Run 2: another
  backlog, with 10% of the requests answered 429 (retry after 1 s) — goals: 0 lost, 0 sent twice,
  never two requests to one chat within a second, never more than the rate in any second.
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod

from bench.dataset import FIRST_USER_ID
from bench.sections import NOW
from bot.app import build_bot, build_services
from bot.config import Settings
from bot.db import outbox as repo
from bot.db.times import to_db_time
from bot.delivery import Delivery, DeliveryConfig
from bot.fakebot import FakeSession
from bot.handlers import sections
from bot.services.clock import FakeClock
from bot.services.ratelimit import simulated_wait

SECOND = timedelta(seconds=1)
BATCH = 500


@dataclass
class DueScan:
    rows: int  # active rows in the outbox
    due: int  # rows returned by one scan
    median_ms: float
    p99_ms: float
    plan: str
    sql_median_ms: float = 0.0  # the query alone, without building the 500 OutboxRow objects


@dataclass
class DeliveryRun:
    name: str
    backlog: int
    sent: int = 0  # rows of the backlog marked sent
    lost: int = 0  # rows of the backlog not sent
    duplicates: int = 0  # messages that reached a chat more than once
    rate_limited: int = 0  # 429s answered
    simulated_s: float = 0.0
    wall_s: float = 0.0
    achieved_per_s: float = 0.0
    configured_per_s: int = 0
    max_in_a_second: int = 0
    min_chat_gap_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Telegram:
    """The fake session's sendMessage: answers at once, fails `share_429` of the requests with a
    429, and records (simulated time, chat, text, outcome) of every request."""

    def __init__(self, session: FakeSession, clock: FakeClock, *, share_429: float = 0.0, seed: int = 7) -> None:
        self.session = session
        self.clock = clock
        self.share_429 = share_429
        self.rng = random.Random(seed)
        self.attempts: list[tuple[datetime, int, str, bool]] = []
        session.responders[SendMessage] = self._respond

    def _respond(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        assert isinstance(method, SendMessage)
        ok = self.rng.random() >= self.share_429
        self.attempts.append((self.clock.now(), int(method.chat_id), method.text, ok))
        if not ok:
            raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=1)
        return self.session.answer(bot, method)


def _add_rows(db_path: Path, rows: list[tuple]) -> None:
    con = sqlite3.connect(db_path, isolation_level=None)
    try:
        con.execute("BEGIN")
        con.executemany(
            "INSERT OR IGNORE INTO outbox (user_id, kind, payload, dedupe_key, due_at, state, attempts, created_at)"
            " VALUES (?,?,?,?,?,'pending',0,?)", rows)
        con.execute("COMMIT")
        con.execute("ANALYZE outbox")
    finally:
        con.close()


def _count(db_path: Path, sql: str, *params: Any) -> int:
    con = sqlite3.connect(db_path)
    try:
        return int(con.execute(sql, params).fetchone()[0])
    finally:
        con.close()


def _push(user_id: int, tag: str, n: int, due: datetime) -> tuple:
    payload = json.dumps({"order_id": n + 1, "number": f"{tag}-{n:08d}", "status": "shipped", "store": "Store 0001"})
    return (user_id, "order_status", payload, f"bench:{tag}:{n}", to_db_time(due), to_db_time(due))


def _users(db_path: Path) -> int:
    return _count(db_path, "SELECT count(*) FROM users")


async def due_scan(db_path: Path, scheduled: int, samples: int = 200, seed: int = 11) -> DueScan:
    rng = random.Random(seed)
    users = _users(db_path)
    active = _count(db_path, "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')")
    # scheduled over the next 30 days; a few (at least two batches) already due, oldest first
    due_now = max(2 * BATCH, scheduled // 100)

    def due_at(n: int) -> datetime:
        if n < due_now:
            return NOW - timedelta(minutes=rng.uniform(0, 60))
        return NOW + timedelta(hours=1, days=rng.uniform(0, 30))

    _add_rows(db_path, [_push(FIRST_USER_ID + rng.randrange(users), "S", n, due_at(n))
                        for n in range(max(due_now, scheduled - active))])
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{db_path}")  # type: ignore[call-arg]
    services = build_services(settings, clock=FakeClock(NOW))
    try:
        async with services.db.read() as conn:
            plan_rows = (await conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + repo.due_scan_sql(), {"now": to_db_time(NOW), "limit": BATCH})).all()
            due = len(await repo.due(conn, NOW, BATCH))
            times, sql_times = [], []
            params = {"now": to_db_time(NOW), "limit": BATCH}
            for _ in range(samples):
                started = time.perf_counter_ns()
                await repo.due(conn, NOW, BATCH)
                times.append((time.perf_counter_ns() - started) / 1e6)
                started = time.perf_counter_ns()
                (await conn.exec_driver_sql(repo.due_scan_sql(), params)).all()
                sql_times.append((time.perf_counter_ns() - started) / 1e6)
    finally:
        await services.db.dispose()
    times.sort()
    plan = "; ".join(str(r[-1]) for r in plan_rows)
    return DueScan(_count(db_path, "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')"),
                   due, statistics.median(times), times[int(len(times) * 0.99)], plan,
                   statistics.median(sql_times))


async def deliver(db_path: Path, backlog: int, *, per_second: int = 25, seed: int = 13) -> list[DeliveryRun]:
    """Two runs over fresh backlogs: clean (the rate), then with 10% 429s (correctness)."""
    sections()  # importing the sections registers their push views, as in the running bot
    users = _users(db_path)
    rng = random.Random(seed)
    clock = FakeClock(NOW)
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{db_path}")  # type: ignore[call-arg]
    services = build_services(settings, clock=clock)
    session = FakeSession(now=clock.now)
    bot = build_bot(settings, session=session)
    runs = []
    try:
        nonce = f"{time.time_ns() % 10**9}"  # a fresh backlog even when the database is reused
        for name, tag, share in (("clean", f"D{nonce}", 0.0), ("10% 429s", f"R{nonce}", 0.10)):
            # anything already due (the dataset's pending tail) goes first, outside the measurement
            await _drain(Delivery(services.outbox, bot, services.i18n, clock, wait=simulated_wait(clock),
                                  config=DeliveryConfig(per_second=per_second)), clock)
            start = clock.now()
            _add_rows(db_path, [_push(FIRST_USER_ID + rng.randrange(users), tag, n,
                                      start - timedelta(seconds=rng.uniform(0, 600)))
                                for n in range(backlog)])
            wire = Telegram(session, clock, share_429=share, seed=seed)
            delivery = Delivery(services.outbox, bot, services.i18n, clock, wait=simulated_wait(clock),
                                config=DeliveryConfig(per_second=per_second))
            began = time.perf_counter()
            await _drain(delivery, clock)
            run = DeliveryRun(name, backlog, configured_per_s=per_second, wall_s=time.perf_counter() - began)
            run.rate_limited = delivery.totals.rate_limited
            run.sent = _count(db_path, "SELECT count(*) FROM outbox WHERE dedupe_key LIKE ? AND state = 'sent'",
                              f"bench:{tag}:%")
            run.lost = backlog - run.sent
            delivered = Counter(text for _at, _chat, text, ok in wire.attempts if ok)
            run.duplicates = sum(c - 1 for c in delivered.values() if c > 1)
            ok_times = [at for at, _chat, _text, ok in wire.attempts if ok]
            if len(ok_times) > 1:
                run.simulated_s = (ok_times[-1] - ok_times[0]).total_seconds()
                run.achieved_per_s = (len(ok_times) - 1) / run.simulated_s if run.simulated_s else 0.0
            run.max_in_a_second = _max_per_window([at for at, *_ in wire.attempts])
            gap = _min_chat_gap(wire.attempts)
            run.min_chat_gap_s = None if gap is None else gap.total_seconds()
            runs.append(run)
    finally:
        await services.db.dispose()
    return runs


async def _drain(delivery: Delivery, clock: FakeClock, max_runs: int = 100) -> None:
    for _ in range(max_runs):
        report = await delivery(clock.now())
        if not report:
            return
        clock.advance(SECOND)


def _max_per_window(times: list[datetime]) -> int:
    times = sorted(times)
    best = start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - SECOND:
            start += 1
        best = max(best, end - start + 1)
    return best


def _min_chat_gap(attempts: list[tuple[datetime, int, str, bool]]) -> timedelta | None:
    by_chat: dict[int, list[datetime]] = defaultdict(list)
    for at, chat, _text, _ok in attempts:
        by_chat[chat].append(at)
    gaps = [b - a for times in by_chat.values() for a, b in itertools.pairwise(times)]
    return min(gaps) if gaps else None


def table(scan: DueScan, runs: list[DeliveryRun]) -> str:
    lines = [
        "| due scan | active rows | rows returned | median ms | p99 ms | SQL alone, median ms | goal |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        f"| one batch of {BATCH} | {scan.rows:,} | {scan.due} | {scan.median_ms:.2f} | {scan.p99_ms:.2f} | "
        f"{scan.sql_median_ms:.2f} | ≤ 15 ms |",
        "",
        f"Plan: `{scan.plan}`",
        "",
        "| delivery run | backlog | sent | lost | duplicates | 429s | msg/s achieved | configured | "
        "% of rate | most in 1 s | min gap per chat | simulated | wall |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        gap = "–" if r.min_chat_gap_s is None else f"{r.min_chat_gap_s:.2f} s"
        lines.append(
            f"| {r.name} | {r.backlog:,} | {r.sent:,} | {r.lost} | {r.duplicates} | {r.rate_limited:,} | "
            f"{r.achieved_per_s:.2f} | {r.configured_per_s} | {100 * r.achieved_per_s / r.configured_per_s:.1f}% | "
            f"{r.max_in_a_second} | {gap} | {r.simulated_s:,.0f} s | {r.wall_s:,.0f} s |")
    return "\n".join(lines)
