"""The one MetaData every table belongs to (Alembic's env compares it with the database), the id
type of the tables that count their own rows, and the columns many tables have in common (one
definition each: the same name, type, key and nullability wherever they stand)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.types import TypeEngine

from bot.db.times import UTCDateTime

metadata = MetaData()
ID = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY on SQLite: the rowid


def serial_id(type_: TypeEngine[int] | type[TypeEngine[int]] = ID) -> Column[Any]:
    """The row's own id, counted by the database."""
    return Column("id", type_, primary_key=True, autoincrement=True)


def parent(name: str, table: str, type_: TypeEngine[int] | type[TypeEngine[int]] = ID, *,
           key: bool = False, optional: bool = False) -> Column[Any]:
    """A reference to `table`.id; the row is deleted with what it refers to. `key`: part of the
    primary key; `optional`: may be NULL."""
    fk = ForeignKey(f"{table}.id", ondelete="CASCADE")
    if key:
        return Column(name, type_, fk, primary_key=True, autoincrement=False)
    if optional:
        return Column(name, type_, fk)
    return Column(name, type_, fk, nullable=False)


def owner(name: str = "user_id", *, key: bool = False) -> Column[Any]:
    """The user (their Telegram id) the row belongs to: it goes with the user."""
    return parent(name, "users", BigInteger, key=key)


def moment(name: str) -> Column[Any]:
    """A moment that every row has (UTC)."""
    return Column(name, UTCDateTime, nullable=False)


def user_set(name: str, thing: str, things: str, since: str, *more: Column[Any]) -> Table:
    """A buyer's set of `things` (the wishlist, recently viewed, followed stores): a row per user
    and thing, keyed by both and gone with either; `since` is when the thing came into the set."""
    return Table(name, metadata, owner(key=True), parent(thing, things, key=True), moment(since), *more)


def created_at() -> Column[Any]:
    return moment("created_at")


def currency() -> Column[Any]:
    """An ISO 4217 code: the currency of the row's amounts (integer minor units)."""
    return Column("currency", String(3), nullable=False)
