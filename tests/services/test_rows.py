"""Rows are decoded by column name (bot/db/rows.py): a select's order is not the record's, two
records can come from one row, and a field whose column is missing is an error naming it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select
from sqlalchemy.engine import Connection

from bot.db.rows import columns, record

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True), Column("name", String),
               Column("colour", String))


@dataclass(frozen=True)
class Thing:
    id: int
    name: str
    colour: str


@dataclass(frozen=True)
class Named:
    id: int
    name: str
    letters: int


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(things.insert(), [{"id": 1, "name": "mug", "colour": "red"},
                                             {"id": 2, "name": "plate", "colour": "blue"}])
        yield connection


def test_a_record_takes_each_field_from_the_column_of_its_name_whatever_the_order(conn: Connection) -> None:
    t = things.c
    row = conn.execute(select(t.colour, t.name, t.id).where(t.id == 1)).one()
    assert record(Thing, row) == Thing(1, "mug", "red")  # by position it would be Thing("red", "mug", 1)


def test_columns_are_the_records_fields_in_order_with_computed_ones_labelled(conn: Connection) -> None:
    assert [c.name for c in columns(things, Thing)] == ["id", "name", "colour"]
    selected = columns(things, Named, letters=func.length(things.c.name))
    assert [c.name for c in selected] == ["id", "name", "letters"]
    rows = conn.execute(select(*selected).order_by(things.c.id)).all()
    assert [record(Named, r) for r in rows] == [Named(1, "mug", 3), Named(2, "plate", 5)]


def test_two_records_from_one_row_and_decoded_fields(conn: Connection) -> None:
    a, b = things.alias("a"), things.alias("b")
    row = conn.execute(
        select(*a.c, *(c.label(f"other_{c.name}") for c in b.c))
        .select_from(a.join(b, b.c.id == a.c.id + 1)).where(a.c.id == 1)
    ).one()
    assert record(Thing, row) == Thing(1, "mug", "red")
    assert record(Thing, row, prefix="other_") == Thing(2, "plate", "blue")
    assert record(Thing, row, colour=row.colour.upper()) == Thing(1, "mug", "RED")


def test_a_field_whose_column_the_select_lacks_is_an_error_naming_it(conn: Connection) -> None:
    row = conn.execute(select(things.c.id, things.c.name)).first()
    with pytest.raises(KeyError, match="colour"):
        record(Thing, row)
