"""Alembic migrations, run on start (skipped quickly when the schema is current) and by
`python main.py migrate`. On SQLite migrations use the synchronous sqlite3 driver; on PostgreSQL
asyncpg, through SQLAlchemy's async engine, in a thread of their own when a loop is running."""

from __future__ import annotations

import ast
import re
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.db.dialect import asyncpg_dsn, is_postgresql, run_coroutine
from bot.db.files import private_database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+)$", re.M)


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://", 1)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sync_url(url))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The head revision, read from the migration files without importing Alembic (start-up
    pays ~0.5 s for that import otherwise; it is imported only when there is work to do)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        values = {k: ast.literal_eval(v.strip()) for k, v in _ASSIGN.findall(path.read_text())}
        if "revision" not in values:
            continue
        revisions.add(values["revision"])
        down = values.get("down_revision")
        parents.update(down if isinstance(down, tuple | list) else [down] if down else [])
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {sorted(heads)}")
    return next(iter(heads), None)


def current_revision(db_file: Path) -> str | None:
    if not db_file.exists():
        return None
    con = sqlite3.connect(db_file)
    try:
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None


def postgresql_revision(url: str) -> str | None:
    async def read() -> str | None:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            if await conn.fetchval("SELECT to_regclass('alembic_version')") is None:
                return None
            return await conn.fetchval("SELECT version_num FROM alembic_version")  # type: ignore[no-any-return]
        finally:
            await conn.close()

    return run_coroutine(read())


def migrate(url: str, db_file: Path | None) -> bool:
    """Bring the schema to head. Returns True when something was applied."""
    if is_postgresql(url):
        if postgresql_revision(url) == head_revision():
            return False
    elif db_file is not None:
        private_database(db_file)  # 0600 in a 0700 directory, before SQLite creates it
        if current_revision(db_file) == head_revision():
            return False
    from alembic import command

    command.upgrade(alembic_config(url), "head")
    return True
