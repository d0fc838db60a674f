"""A reproducible dataset builder: users here, the sections' tables in `bench/sections.py`.

Rows go in through sqlite3 `executemany` on a migrated database (bulk, minutes not hours at full
size). The same seed always gives the same data.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.db.migrate import migrate
from bot.db.types import to_db_time

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
FIRST_USER_ID = 10_000_000

# builders registered by sections: (name, fn(con, rng, users, scale)) run in order
Builder = Callable[[sqlite3.Connection, random.Random, int, float], int]
BUILDERS: list[tuple[str, Builder]] = []


def build_users(con: sqlite3.Connection, rng: random.Random, users: int, scale: float) -> int:
    names = ["Alex", "Maria", "Иван", "Ольга", "Sam", "Дмитрий", "Anna", "Пётр"]
    zones = ["UTC", "Europe/Moscow", "Asia/Yekaterinburg", "Europe/Berlin", "America/New_York"]
    rows = (
        (FIRST_USER_ID + i, rng.choice(names), None if i % 3 else f"user{i}",
         "ru" if i % 2 else "en", rng.choice(zones),
         to_db_time(BASE_TIME + timedelta(minutes=i)))
        for i in range(users)
    )
    con.executemany(
        "INSERT INTO users (id, first_name, username, locale, time_zone, created_at) VALUES (?,?,?,?,?,?)",
        rows,
    )
    return users


BUILDERS.append(("users", build_users))


def build(path: Path, *, users: int = 100_000, scale: float = 1.0, seed: int = 20261125,
          report: Callable[[str], None] = print) -> dict[str, float]:
    """Create the dataset at `path` (replacing it). `scale` multiplies every section's row counts
    (1.0 = the issue's sizes: 1M orders, 300k addresses, … for 100k users)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    migrate(url, path)
    rng = random.Random(seed)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    stats: dict[str, float] = {}
    try:
        for name, builder in BUILDERS:
            started = time.perf_counter()
            con.execute("BEGIN")
            count = builder(con, rng, users, scale)
            con.execute("COMMIT")
            stats[name] = count
            report(f"  {name:<12} {count:>10,} rows  {time.perf_counter() - started:6.1f} s")
        for table in ("order_items", "order_status_history"):  # written by the orders builder
            stats[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            report(f"  {table:<12} {int(stats[table]):>10,} rows")
        con.execute("ANALYZE")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    stats["file_mb"] = path.stat().st_size / 1e6
    report(f"  file size   {stats['file_mb']:>10.1f} MB")
    return stats


# the sections' builders register themselves after users (orders, addresses, cards, coupons, outbox)
from bench import sections as _sections  # noqa: E402, F401
