"""A second process for tests/services/test_postgresql.py: `python -m tests.pgkit URL NAME TRIES`
runs TRIES units of work, each counting the rows of `slots` and adding one of its own while there
are fewer than five — the "at most 5" of a wallet or an address book, raced by two processes."""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import text

from bot.db.engine import Database

LIMIT = 5


async def _main(url: str, name: str, tries: int) -> None:
    db = Database(url)
    try:
        print("ready", flush=True)
        sys.stdin.readline()  # both processes start together
        for _ in range(tries):
            async with db.write() as conn:
                n = (await conn.execute(text("SELECT count(*) FROM slots"))).scalar_one()
                await conn.execute(text("SELECT pg_sleep(0.01)"))  # a wide window between count and insert
                if n < LIMIT:
                    await conn.execute(text("INSERT INTO slots (owner) VALUES (:name)"), {"name": name})
    finally:
        await db.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
