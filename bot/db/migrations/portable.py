"""The migrations' partial indexes on PostgreSQL.

The migrations declare each partial index once, with ``sqlite_where`` (their text is SQLite's and
stays as it was applied). On PostgreSQL the same predicate is given as ``postgresql_where`` — so a
partial *unique* index stays partial (a full one would refuse rows SQLite accepts) — with SQLite's
integer booleans written as PostgreSQL's (``is_default = 1`` → ``is_default IS TRUE``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic.operations import Operations
from sqlalchemy import text
from sqlalchemy.sql.elements import TextClause

_BOOLEAN_IS_ONE = re.compile(r"\b(is_default|active|new_buyers_only)\s+(?:=|IS)\s+1\b")


def postgresql_predicate(where: Any) -> Any:
    if isinstance(where, TextClause):
        return text(_BOOLEAN_IS_ONE.sub(r"\1 IS TRUE", where.text))
    return where


@contextmanager
def postgresql_indexes() -> Iterator[None]:
    """While migrating: an index with ``sqlite_where`` gets the same ``postgresql_where``."""
    original = Operations.create_index

    def create_index(self: Operations, *args: Any, **kw: Any) -> Any:
        if "sqlite_where" in kw and "postgresql_where" not in kw:
            kw["postgresql_where"] = postgresql_predicate(kw["sqlite_where"])
        return original(self, *args, **kw)

    Operations.create_index = create_index  # type: ignore[method-assign]
    try:
        yield
    finally:
        Operations.create_index = original  # type: ignore[method-assign]
