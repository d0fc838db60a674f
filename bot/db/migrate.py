"""Alembic migrations, run on start (skipped quickly when the schema is current) and by
`python main.py migrate`. Migrations use the synchronous sqlite3 driver."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def sync_url(url: str) -> str:
    return url.replace("sqlite+aiosqlite://", "sqlite://", 1)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sync_url(url))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


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


def migrate(url: str, db_file: Path | None) -> bool:
    """Bring the schema to head. Returns True when something was applied."""
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        if current_revision(db_file) == head_revision():
            return False
    command.upgrade(alembic_config(url), "head")
    return True
