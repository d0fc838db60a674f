"""search in a static rank order: the FTS5 index products_search holds the active products only,
each under a rowid that is its rank (rating, then reviews, then id), so that a page of results is a
short walk of the index in rowid order instead of ranking every match (products_fts and bm25 go)

Revision ID: 0023_search_rank
Revises: 0022_address_flow_id
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from alembic import op

revision = "0023_search_rank"
down_revision = "0022_address_flow_id"
branch_labels = None
depends_on = None


def rank_key(row: str) -> str:
    """The rowid of a product in products_search: the best rated first, then the most reviewed,
    then the lowest id (which the lowest 32 bits carry: `rowid & 4294967295`)."""
    return (f"(((1023 - min(max({row}.rating_x10, 0), 1023)) << 52) "
            f"| ((1048575 - min(max({row}.reviews_count, 0), 1048575)) << 32) | {row}.id)")


_INDEXED = "title, title_ru"
SQLITE = [
    # prefix indexes: every word typed is searched as a prefix of at most 10 letters (bot/db/dialect.py),
    # found by one lookup that reads the matches in order, as a whole word is
    "CREATE VIRTUAL TABLE products_search USING fts5(title, title_ru, prefix='1 2 3 4 5 6 7 8 9 10', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER products_search_insert AFTER INSERT ON products WHEN new.active BEGIN "
    f"INSERT INTO products_search(rowid, {_INDEXED}) VALUES ({rank_key('new')}, new.title, new.title_ru); END",
    "CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN "
    f"DELETE FROM products_search WHERE rowid = {rank_key('old')}; END",
    "CREATE TRIGGER products_search_update AFTER UPDATE OF title, title_ru, rating_x10, reviews_count, active "
    f"ON products BEGIN DELETE FROM products_search WHERE rowid = {rank_key('old')}; "
    f"INSERT INTO products_search(rowid, {_INDEXED}) SELECT {rank_key('new')}, new.title, new.title_ru "
    "WHERE new.active; END",
    f"INSERT INTO products_search(rowid, {_INDEXED}) SELECT {rank_key('products')}, title, title_ru FROM products "
    "WHERE active",
    "INSERT INTO products_search(products_search) VALUES ('optimize')",
    "DROP TRIGGER IF EXISTS products_fts_update",
    "DROP TRIGGER IF EXISTS products_fts_delete",
    "DROP TRIGGER IF EXISTS products_fts_insert",
    "DROP TABLE IF EXISTS products_fts",
]
# PostgreSQL keeps its tsvector behind GIN for the match; the rank order is an index of its own
POSTGRESQL = [
    "CREATE INDEX ix_products_rank ON products (rating_x10 DESC, reviews_count DESC, id) WHERE active",
]


def upgrade() -> None:
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_products_rank")
        return
    for name in ("products_search_update", "products_search_delete", "products_search_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS products_search")
    for statement in _catalog_0015().FTS:  # products_fts as 0015 made it, filled again
        op.execute(statement)


def _catalog_0015() -> Any:
    spec = importlib.util.spec_from_file_location("_catalog_0015", Path(__file__).with_name("0015_catalog.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
