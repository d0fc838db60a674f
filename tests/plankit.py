"""EXPLAIN QUERY PLAN for the statements production code runs: a test records what a service call
sends to the database (through SQLAlchemy or the hot driver path) and asks SQLite how each runs,
with its own parameters, so an index test cannot drift from the query it pins."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from bot.db.engine import Database


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: Any


@contextlib.contextmanager
def recording(db: Database) -> Iterator[list[Statement]]:
    """Every statement `db` runs inside the block, in order."""
    ran: list[Statement] = []

    def listen(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, many: bool) -> None:
        if not many:
            ran.append(Statement(sql, params))

    engines = {db.writer.sync_engine, db.reader.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", listen)
    for name in ("fetch_one", "fetch_all"):  # the hot reads bypass SQLAlchemy on their own connection
        original = getattr(db, name)

        async def traced(sql: str, params: tuple[Any, ...], _original: Any = original) -> Any:
            ran.append(Statement(sql, params))
            return await _original(sql, params)

        setattr(db, name, traced)
    try:
        yield ran
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listen)
        for name in ("fetch_one", "fetch_all"):
            delattr(db, name)


def reading(ran: list[Statement], table: str) -> Statement:
    """The first statement recorded that reads `table`."""
    source = re.compile(rf"\bFROM\s+{table}\b")
    return next(s for s in ran if s.sql.lstrip().upper().startswith("SELECT") and source.search(s.sql))


async def plan(db: Database, statement: Statement) -> list[str]:
    """SQLite's plan for a recorded statement, one line per step ("SEARCH cards USING INDEX …").
    The PostgreSQL run skips the test: its planner chooses by statistics, not by the schema alone."""
    if db.dialect != "sqlite":
        import pytest

        pytest.skip("SQLite's query plan")
    async with db.read() as conn:
        rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql, statement.params)).all()
    return [str(row[-1]) for row in rows]
