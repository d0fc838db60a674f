"""The migrations' shared columns (bot/db/migrations/columns.py) are history: every revision that
calls them has been applied somewhere, so what each returns is pinned here, as the DDL SQLite and
PostgreSQL are given. A change to a helper fails this test; a new shape is a new helper."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from bot.db.migrations.columns import (
    created_at,
    moment,
    moments,
    one_time_token,
    owner,
    parent,
    serial_id,
)


def _ddl(*columns: sa.Column, dialect: object) -> list[str]:
    metadata = sa.MetaData()
    for referred in ("users", "stores", "orders", "products"):
        sa.Table(referred, metadata, sa.Column("id", sa.Integer, primary_key=True))
    table = sa.Table("t", metadata, *columns)
    text = str(CreateTable(table).compile(dialect=dialect))  # type: ignore[arg-type]
    return [line.strip().rstrip(",") for line in text.strip().splitlines()[1:-1] if line.strip()]


def test_each_helper_makes_the_column_the_first_migrations_wrote_out() -> None:
    columns = (
        serial_id(),
        owner(),
        parent("store_id", "stores"),
        parent("order_id", "orders", optional=True),
        created_at(),
        moment("expires_at"),
        *moments("paid_at", "shipped_at"),
    )
    assert _ddl(*columns, dialect=sqlite.dialect()) == [
        "id INTEGER NOT NULL",
        "user_id BIGINT NOT NULL",
        "store_id INTEGER NOT NULL",
        "order_id INTEGER",
        "created_at VARCHAR(26) NOT NULL",
        "expires_at VARCHAR(26) NOT NULL",
        "paid_at VARCHAR(26)",
        "shipped_at VARCHAR(26)",
        "PRIMARY KEY (id)",
        "FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE",
        "FOREIGN KEY(store_id) REFERENCES stores (id) ON DELETE CASCADE",
        "FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE",
    ]
    assert _ddl(serial_id(), dialect=postgresql.dialect())[0] == "id SERIAL NOT NULL"


def test_keys_made_of_references_count_nothing() -> None:
    assert _ddl(owner(key=True), parent("product_id", "products", key=True), moment("added_at"),
                dialect=sqlite.dialect()) == [
        "user_id BIGINT NOT NULL",
        "product_id INTEGER NOT NULL",
        "added_at VARCHAR(26) NOT NULL",
        "PRIMARY KEY (user_id, product_id)",
        "FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE",
        "FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE",
    ]
    key = parent("store_id", "stores", key=True)
    assert key.autoincrement is False and key.primary_key


def test_a_one_time_token_is_its_hash_and_its_life() -> None:
    assert _ddl(serial_id(), *one_time_token(), dialect=sqlite.dialect()) == [
        "id INTEGER NOT NULL",
        "token_hash VARCHAR(64) NOT NULL",
        "created_at VARCHAR(26) NOT NULL",
        "expires_at VARCHAR(26) NOT NULL",
        "used_at VARCHAR(26)",
        "used_by BIGINT",
        "PRIMARY KEY (id)",
        "UNIQUE (token_hash)",
    ]
