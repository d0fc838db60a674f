from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from bot.db.dialect import is_postgresql, run_coroutine
from bot.db.migrations.portable import postgresql_schema
from bot.db.tables import metadata

config = context.config


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    if is_postgresql(url):
        run_coroutine(_run_postgresql(url))
        return
    engine = create_engine(url, hide_parameters=True)  # never log SQL parameters
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.commit()  # end the autobegun transaction so Alembic's own commits
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def _migrate(connection: Any) -> None:
    context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
    with postgresql_schema(), context.begin_transaction():
        context.run_migrations()


async def _run_postgresql(url: str) -> None:
    """PostgreSQL through asyncpg (the driver of DATABASE_URL): Alembic runs in `run_sync`. Every
    migration is a transaction of its own (PostgreSQL's DDL is transactional); a lock keeps two
    processes starting at once from migrating together."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.db.dialect import WRITE_LOCK_KEY

    engine = create_async_engine(url, hide_parameters=True)
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(f"SELECT pg_advisory_lock({WRITE_LOCK_KEY} + 1)")
            await connection.commit()
            try:
                await connection.run_sync(_migrate)
            finally:
                await connection.exec_driver_sql(f"SELECT pg_advisory_unlock({WRITE_LOCK_KEY} + 1)")
                await connection.commit()
    finally:
        await engine.dispose()


run()
