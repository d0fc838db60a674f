"""Rows decoded by column name into dataclasses: `record` for SQLAlchemy's rows, `Decoder` for
the hot read path's (`Database.fetch_all`). Never by position: a select's columns are named after
the record's fields, so a column added, dropped or moved on either side is an error at once
(a field without its column), never a value in the wrong field.

A screen's reader is one statement whose columns are named after the dataclass's fields; the
`Decoder` reads each field by that name and converts what the driver hands back raw: the
UTCDateTime columns (stored as text) and the booleans (stored as 0/1). The same rows come back
from the pool's connections (`sqlite3.Row`) and from the open unit of work (SQLAlchemy's
`RowMapping`): both are read by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Boolean, Table

from bot.db.times import UTCDateTime, from_db_time

T = TypeVar("T")


def _to_bool(value: Any) -> bool:
    return bool(value)


def record(cls: Callable[..., T], row: Any, *, prefix: str = "", **decoded: Any) -> T:
    """A SQLAlchemy row as `cls`: each field from the column of its name (`prefix` + the name when
    one select reads two records: label a computed column with its field's name); `decoded` gives
    the fields whose stored form needs converting (JSON text, a list in a string). A field whose
    column the select lacks is a KeyError naming it."""
    values = row._mapping
    return cls(**{name: decoded[name] if name in decoded else values[prefix + name] for name in _names(cls)})


@cache
def _names(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def columns(table: Table, cls: Any, **computed: Any) -> tuple[Any, ...]:
    """The select list of `cls` from `table`: each field's column of the same name, in the
    dataclass's order (the record is the one list of what is read); `computed` gives the fields
    that are no column of the table, each labelled with its field's name."""
    return tuple(computed[name].label(name) if name in computed else table.c[name] for name in _names(cls))


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

