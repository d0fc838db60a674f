"""A reproducible dataset builder: the tables' builders are `bench/sections.py`'s, in their order.

Rows go in through sqlite3 `executemany` on a migrated database (bulk, minutes not hours at full
size). The same seed always gives the same data.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bench.sections import BASE_TIME, BUILDERS, FIRST_USER_ID
from bot.db.migrate import migrate

__all__ = ["BASE_TIME", "FIRST_USER_ID", "build"]

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


