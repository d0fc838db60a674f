"""The columns the migrations repeat, named as bot/db/tables/base.py names them (``serial_id``,
``parent``, ``owner``, ``moment``), with the types a migration creates: ``Integer`` ids (BIGINT on
PostgreSQL, see portable.py) and moments as fixed-width UTC text (``TIME``).

Frozen: every migration that calls these has been applied somewhere, so a helper here never changes
what it returns — a new shape is a new helper. What each returns is pinned by
tests/test_migration_columns.py; the migrations moved onto them with the schema of every revision
unchanged, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa

TIME = sa.String(26)  # UTCDateTime: fixed-width UTC text


def serial_id() -> sa.Column:
    """The row's own id, counted by the database."""
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def parent(name: str, table: str, type_: type[sa.Integer] | type[sa.BigInteger] = sa.Integer, *,
           key: bool = False, optional: bool = False) -> sa.Column:
    """A reference to `table`.id, deleted with it; `key`: part of the primary key; `optional`: NULL
    allowed."""
    fk = sa.ForeignKey(f"{table}.id", ondelete="CASCADE")
    if key:
        return sa.Column(name, type_, fk, primary_key=True, autoincrement=False)
    if optional:
        return sa.Column(name, type_, fk)
    return sa.Column(name, type_, fk, nullable=False)


def owner(name: str = "user_id", *, key: bool = False) -> sa.Column:
    """The user (their Telegram id) the row belongs to."""
    return parent(name, "users", sa.BigInteger, key=key)


def moment(name: str) -> sa.Column:
    """A moment every row has."""
    return sa.Column(name, TIME, nullable=False)


def created_at() -> sa.Column:
    return moment("created_at")


def moments(*names: str) -> list[sa.Column]:
    """Moments a row may not have reached yet (NULL until then)."""
    return [sa.Column(name, TIME) for name in names]


def one_time_token() -> list[sa.Column]:
    """A one-time link's secret (its hash) and life: made, valid until, used when and by whom."""
    return [
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        created_at(),
        moment("expires_at"),
        sa.Column("used_at", TIME),
        sa.Column("used_by", sa.BigInteger),
    ]
