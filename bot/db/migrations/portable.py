"""The migrations on PostgreSQL: what their SQLite-first declarations mean there.

- Partial indexes: the migrations declare each once, with ``sqlite_where`` (their text is SQLite's
  and stays as it was applied). On PostgreSQL the same predicate is given as ``postgresql_where`` —
  so a partial *unique* index stays partial (a full one would refuse rows SQLite accepts) — with
  SQLite's integer booleans written as PostgreSQL's (``is_default = 1`` → ``is_default IS TRUE``).
- Integers: SQLite's INTEGER is 64 bits; PostgreSQL's is 32. Every ``Integer`` column the
  migrations create (ids, the foreign keys to them, counts) is a BIGINT there, as the tables'
  metadata says (bot/db/tables/base.py: ``BigInteger().with_variant(Integer, "sqlite")``): an id
  read from a button may be any 64-bit number and must compare, not fail.
- Text: SQLite keeps a `String(n)` value of any length (the width is documentation); PostgreSQL's
  VARCHAR(n) would refuse a longer one. The columns are created as VARCHAR without a width there,
  so both keep what the services hand them: the widths the services promise are theirs to keep,
  on both databases alike (a service that forgot one fails on neither).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic.operations import BatchOperations, Operations
from sqlalchemy import BigInteger, Column, Integer, String, text
from sqlalchemy.sql.elements import TextClause

_BOOLEAN_IS_ONE = re.compile(r"\b(is_default|active|new_buyers_only)\s+(?:=|IS)\s+1\b")


def postgresql_predicate(where: Any) -> Any:
    if isinstance(where, TextClause):
        return text(_BOOLEAN_IS_ONE.sub(r"\1 IS TRUE", where.text))
    return where


def _wide(column: Any) -> Any:
    if isinstance(column, Column) and type(column.type) is Integer:
        column.type = BigInteger()
    elif isinstance(column, Column) and type(column.type) is String and column.type.length:
        column.type = String()
    return column


@contextmanager
def postgresql_schema() -> Iterator[None]:
    """While migrating PostgreSQL: an index with ``sqlite_where`` gets the same
    ``postgresql_where``; an ``Integer`` column is created as BIGINT, a ``String(n)`` as VARCHAR."""
    originals = {(cls, name): getattr(cls, name) for cls, name in (
        (Operations, "create_index"), (Operations, "create_table"), (Operations, "add_column"),
        (BatchOperations, "add_column"))}

    def create_index(self: Operations, *args: Any, **kw: Any) -> Any:
        if "sqlite_where" in kw and "postgresql_where" not in kw:
            kw["postgresql_where"] = postgresql_predicate(kw["sqlite_where"])
        return originals[Operations, "create_index"](self, *args, **kw)

    def create_table(self: Operations, name: str, *columns: Any, **kw: Any) -> Any:
        return originals[Operations, "create_table"](self, name, *(_wide(c) for c in columns), **kw)

    def add_column(self: Operations, table: str, column: Any, **kw: Any) -> Any:
        return originals[Operations, "add_column"](self, table, _wide(column), **kw)

    def batch_add_column(self: BatchOperations, column: Any, **kw: Any) -> Any:
        return originals[BatchOperations, "add_column"](self, _wide(column), **kw)

    patched = {(Operations, "create_index"): create_index, (Operations, "create_table"): create_table,
               (Operations, "add_column"): add_column, (BatchOperations, "add_column"): batch_add_column}
    for (cls, name), fn in patched.items():
        setattr(cls, name, fn)
    try:
        yield
    finally:
        for (cls, name), fn in originals.items():
            setattr(cls, name, fn)
