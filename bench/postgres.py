"""The benchmarks on PostgreSQL (issue 20): the dataset built in SQLite is copied into a fresh
PostgreSQL database migrated to head, so that both are measured over the same rows.

`copy(sqlite_file, url)` drops and re-creates the database named in `url`, migrates it, and copies
every table (FK order) with asyncpg's binary COPY — the columns both sides have, values converted
to the PostgreSQL column's type; generated columns (the search vector) are computed by PostgreSQL.
Then each table's id sequence continues after the copied ids, and ANALYZE gives the planner its
statistics, as a long-running database would have them.

A benchmark target is a SQLite file (a Path) or a ``postgresql+asyncpg://`` URL (a str): `url_of`
gives the bot's URL of either."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.db.dialect import asyncpg_dsn, database_name, run_coroutine, with_database
from bot.db.migrate import migrate

Target = Path | str
BATCH = 20_000


def url_of(target: Target) -> str:
    return target if isinstance(target, str) else f"sqlite+aiosqlite:///{target}"


def _converter(pg_type: str) -> Callable[[Any], Any]:
    if pg_type == "boolean":
        return lambda v: None if v is None else bool(v)
    if pg_type in ("bigint", "integer", "smallint"):
        return lambda v: None if v is None else int(v)
    if pg_type in ("text", "character varying", "character"):
        return lambda v: None if v is None else str(v)
    if pg_type in ("double precision", "real"):
        return lambda v: None if v is None else float(v)
    if pg_type == "numeric":
        from decimal import Decimal

        return lambda v: None if v is None else Decimal(str(v))
    if pg_type.startswith("timestamp"):
        return lambda v: None if v is None else (v if isinstance(v, datetime) else datetime.fromisoformat(v))
    if pg_type == "bytea":
        return lambda v: None if v is None else bytes(v)
    return lambda v: v


async def _copy(sqlite_file: Path, url: str, report: Callable[[str], None]) -> dict[str, int]:
    import asyncpg

    from bot.db.tables import metadata

    con = sqlite3.connect(sqlite_file)
    pg = await asyncpg.connect(asyncpg_dsn(url))
    counts: dict[str, int] = {}
    try:
        for table in metadata.sorted_tables:
            name = table.name
            have = {r[1] for r in con.execute(f'PRAGMA table_info("{name}")')}
            if not have:
                continue
            columns = await pg.fetch(
                "SELECT column_name, data_type, is_generated FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position", name)
            shared = [(c["column_name"], c["data_type"]) for c in columns
                      if c["column_name"] in have and c["is_generated"] != "ALWAYS"]
            if not shared:
                continue
            names = [n for n, _ in shared]
            convert = [_converter(t) for _, t in shared]
            started, total = time.perf_counter(), 0
            cursor = con.execute(f"SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM \"{name}\"")
            while rows := cursor.fetchmany(BATCH):
                records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows]
                await pg.copy_records_to_table(name, records=records, columns=names)
                total += len(records)
            counts[name] = total
            if total:
                report(f"  {name:<24} {total:>10,} rows  {time.perf_counter() - started:6.1f} s")
        # the ids given from now on continue after the copied ones
        for seq in await pg.fetch(
                "SELECT s.relname AS seq, t.relname AS tbl, a.attname AS col FROM pg_class s "
                "JOIN pg_depend d ON d.objid = s.oid JOIN pg_class t ON t.oid = d.refobjid "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid WHERE s.relkind = 'S'"):
            await pg.execute(f"SELECT setval('{seq['seq']}', coalesce((SELECT max(\"{seq['col']}\") "
                             f"FROM \"{seq['tbl']}\"), 0) + 1, false)")
        await pg.execute("ANALYZE")
    finally:
        con.close()
        await pg.close()
    return counts


async def _recreate(url: str) -> None:
    import asyncpg

    name = database_name(url)
    admin = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def copy(sqlite_file: Path, url: str, report: Callable[[str], None] = print) -> dict[str, int]:
    """A fresh PostgreSQL database at `url` (dropped first) holding the rows of `sqlite_file`."""
    run_coroutine(_recreate(url))
    migrate(url, None)
    return run_coroutine(_copy(sqlite_file, url, report))
