"""The one MetaData every table belongs to (Alembic's env compares it with the database), and the
id type of the tables that count their own rows."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData

metadata = MetaData()
ID = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY on SQLite: the rowid
