"""Rows of the hot read path (`Database.fetch_all`) decoded by column name into dataclasses.

A screen's reader is one statement whose columns are named after the dataclass's fields; the
`Decoder` reads each field by that name and converts what the driver hands back raw: the
UTCDateTime columns (stored as text) and the booleans (stored as 0/1). The same rows come back
from the pool's connections (`sqlite3.Row`) and from the open unit of work (SQLAlchemy's
`RowMapping`): both are read by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, Generic, TypeVar

from sqlalchemy import Boolean, Table

from bot.db.types import UTCDateTime, from_db_time

T = TypeVar("T")


def _to_bool(value: Any) -> bool:
    return bool(value)


class Decoder(Generic[T]):
    """`Decoder(OrderRow, orders)(row)`: an `OrderRow` from a row whose columns carry the field
    names; `columns("o")` is the select list (`o.id, o.number, …`) in the dataclass's order.
    A field that is not a column of the table must be named in `computed` (read as is) or have
    a default in the dataclass (left to it)."""

    def __init__(self, cls: Callable[..., T], table: Table, *, computed: tuple[str, ...] = ()) -> None:
        self.cls = cls
        self.names: list[str] = []
        self._plan: list[tuple[str, Callable[[Any], Any] | None]] = []
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name in computed:
                self._plan.append((f.name, None))
                continue
            column = table.c.get(f.name)
            if column is None:
                continue  # not read: the dataclass's default
            self.names.append(f.name)
            conv = (from_db_time if isinstance(column.type, UTCDateTime)
                    else _to_bool if isinstance(column.type, Boolean) else None)
            self._plan.append((f.name, conv))

    def columns(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(f"{prefix}{name}" for name in self.names)

    def __call__(self, row: Mapping[str, Any]) -> T:
        return self.cls(**{
            name: value if conv is None or value is None else conv(value)
            for name, conv in self._plan
            for value in (row[name],)
        })

