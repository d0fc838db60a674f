"""Everything that differs between SQLite and PostgreSQL, in one place (issue 20).

The rest of the code writes SQLAlchemy constructs that compile on both, or hand-written SQL that
both accept; where they cannot, it asks this module for the piece:

- `insert(table)`: an INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (the
  ``ON CONFLICT`` clause is the same text on SQLite ≥ 3.24 and PostgreSQL; PostgreSQL's construct
  compiles on both).
- `Sql`: the hand-written pieces of the hot reads — a nested row as JSON (``json_object`` /
  ``json_build_object``), an array of them (``json_group_array`` / ``json_agg``), the larger of
  two values (``max(a, b)`` / ``GREATEST``), full-text search (FTS5 / ``tsvector``).
- `positional(sql)`: the hot reads are written with ``?`` placeholders; PostgreSQL's driver
  (asyncpg) takes ``$1, $2, …`` — translated once per statement text (cached).
- The URL: which database, the asyncpg DSN, and the write lock's key.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy.dialects.postgresql import insert  # compiles on SQLite too: ON CONFLICT … DO …
from sqlalchemy.engine import make_url

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
URL_PREFIXES = {"sqlite+aiosqlite://": SQLITE, "postgresql+asyncpg://": POSTGRESQL}

# pg_advisory_xact_lock's key for the units of work: every write transaction takes it first, so
# the writers of all processes take turns as SQLite's single writer does (engine.py).
WRITE_LOCK_KEY = 0x4B61_6269_6E65_7400 >> 8  # "Kabinet" — any constant shared by every process


def dialect_of(url: str) -> str:
    for prefix, name in URL_PREFIXES.items():
        if url.startswith(prefix):
            return name
    raise ValueError("expected an sqlite+aiosqlite:/// or a postgresql+asyncpg:// URL")


def is_postgresql(url: str) -> bool:
    return url.startswith("postgresql+asyncpg://")


def asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://u:p@h:5432/db` → `postgresql://u:p@h:5432/db` (what asyncpg takes)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_name(url: str) -> str:
    return make_url(url).database or ""


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@lru_cache(maxsize=1024)
def positional(sql: str) -> str:
    """``?`` → ``$1, $2, …`` outside quoted strings and identifiers (once per text: cached)."""
    out: list[str] = []
    n = 0
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(ch)
    return "".join(out)


_WORD = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_WORDS = 8
PREFIX_MAX = 10  # products_search's longest prefix index (migration 0023)


def search_words(query: str) -> list[str]:
    """What a person typed, as the words searched: letters and digits only (nothing else can reach
    the search expression), lower case, at most eight."""
    return _WORD.findall(query.lower())[:MAX_SEARCH_WORDS]


@dataclass(frozen=True)
class Sql:
    """The hand-written SQL pieces of one dialect (`Sql.of(name)`)."""

    name: str

    @staticmethod
    @lru_cache(maxsize=2)
    def of(name: str) -> Sql:
        if name not in (SQLITE, POSTGRESQL):
            raise ValueError(f"no SQL for the dialect {name!r}")
        return Sql(name)

    @property
    def postgresql(self) -> bool:
        return self.name == POSTGRESQL

    def json_object(self, alias: str, names: list[str] | tuple[str, ...]) -> str:
        """A nested row that keeps its column names, as JSON (`json_text` around it when it is a
        column of the result)."""
        prefix = f"{alias}." if alias else ""
        fn = "json_build_object" if self.postgresql else "json_object"
        return f"{fn}(" + ", ".join(f"'{n}', {prefix}{n}" for n in names) + ")"

    def json_text(self, expression: str) -> str:
        """A JSON value as a result column: text on both (SQLAlchemy's asyncpg dialect would
        decode a json column, the hot reads' pool would not — text reads the same on both paths)."""
        return f"CAST({expression} AS TEXT)" if self.postgresql else expression

    def json_array(self, element: str) -> str:
        """An aggregate: the rows' `element` as a JSON array (``[]`` when there is none), as text."""
        if self.postgresql:
            return f"CAST(coalesce(json_agg({element}), '[]'::json) AS TEXT)"
        return f"json_group_array({element})"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.postgresql else f"max({a}, {b})"

    # -- full-text search over the products' titles (both languages) --------------------------------
    # Every word typed is a prefix and all are required; each word is quoted, so no operator can be
    # injected. The matches come in a static rank order: the best rated first, then the most
    # reviewed, then the lowest id (README "Search"). SQLite: the FTS5 table products_search
    # (unicode61, diacritics removed, prefix indexes of 1–10 letters) holds the active products
    # under a rowid that *is* that order (migration 0023), so a page is a walk of the index that
    # stops after the page.
    # PostgreSQL: the generated column products.search (to_tsvector('simple', …) of both titles)
    # behind a GIN index, ordered by ix_products_rank's columns.
    def match_expression(self, query: str) -> str:
        # a longer word is searched by its first PREFIX_MAX letters: SQLite's prefix indexes go that
        # far (a longer prefix would load every match of the word), and a Russian ending is left out
        words = [w[:PREFIX_MAX] for w in search_words(query)]
        if self.postgresql:
            return " & ".join(f"'{w}':*" for w in words)
        return " ".join(f'"{w}"*' for w in words)

    def search_page_sql(self, columns: str, *, counted: bool = True) -> str:
        """([expression, cap,] expression, limit, offset) → a page's rows (`columns` of products p
        and stores s) in rank order; `counted`: each with `total`, how many match up to `cap`."""
        total = f"{self._capped_count()} AS total, " if counted else ""
        if self.postgresql:
            return (f"SELECT {total}{columns} FROM (SELECT id FROM products WHERE {self._SEARCH_PG} "
                    "ORDER BY rating_x10 DESC, reviews_count DESC, id LIMIT ? OFFSET ?) AS m "
                    "JOIN products p ON p.id = m.id JOIN stores s ON s.id = p.store_id "
                    "ORDER BY p.rating_x10 DESC, p.reviews_count DESC, p.id")
        return (f"SELECT {total}{columns} FROM (SELECT rowid AS k FROM products_search WHERE {self._SEARCH_LITE} "
                "ORDER BY rowid LIMIT ? OFFSET ?) AS m JOIN products p ON p.id = (m.k & 4294967295) "
                "JOIN stores s ON s.id = p.store_id ORDER BY m.k")

    def search_count_sql(self) -> str:
        """(expression, cap) → one row (total): how many match, counted up to `cap`."""
        return f"SELECT {self._capped_count()} AS total"

    _SEARCH_PG = "search @@ to_tsquery('simple', ?) AND active"  # products on sale matching the words
    _SEARCH_LITE = "products_search MATCH ?"  # (products_search holds only products on sale)

    def _capped_count(self) -> str:
        """(expression, cap) → how many products match, counted up to `cap` (it stops there)."""
        if self.postgresql:
            return f"(SELECT count(*) FROM (SELECT 1 FROM products WHERE {self._SEARCH_PG} LIMIT ?) AS c)"
        return f"(SELECT count(*) FROM (SELECT 1 FROM products_search WHERE {self._SEARCH_LITE} LIMIT ?))"

T = TypeVar("T")


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to its end from synchronous code, whether or not an event loop runs in this
    thread (migrations are synchronous and called from both): in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="kabinet-sync-db")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


__all__ = ["POSTGRESQL", "SQLITE", "Sql", "asyncpg_dsn", "dialect_of", "insert", "is_postgresql",
           "positional", "run_coroutine"]
