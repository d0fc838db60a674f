"""Tables: The address book."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table, text

from bot.db.tables.base import created_at, metadata, moment, owner, serial_id

# A buyer's address book: at most 5 a user (counted by the service inside its write transaction),
# exactly one default while there is any. Orders copy the address they are placed with.
addresses = Table(
    "addresses",
    metadata,
    serial_id(),
    owner(),
    Column("country", String(2), nullable=False),  # ISO 3166-1 alpha-2
    Column("recipient", String(60), nullable=False),
    Column("phone", String(20), nullable=False),  # E.164
    Column("region", String(64), nullable=False, server_default=""),  # a subdivision key or free text
    Column("city", String(64), nullable=False, server_default=""),
    Column("street", String(128), nullable=False, server_default=""),
    Column("apartment", String(24), nullable=False, server_default=""),
    Column("postal_code", String(16), nullable=False, server_default=""),
    Column("is_default", Boolean(create_constraint=False), nullable=False, server_default="0"),
    created_at(),
    moment("updated_at"),
    # the form that added it (0022): a Save repeated after a crash finds it instead of adding another
    Column("flow_id", String(32)),
)
# the list and "the most recently added remaining one"
Index("ix_addresses_user", addresses.c.user_id, addresses.c.created_at, addresses.c.id)
Index("ux_addresses_flow", addresses.c.flow_id, unique=True)
# at most one default a user, whatever the code does
Index(
    "ux_addresses_default", addresses.c.user_id, unique=True,
    sqlite_where=text("is_default = 1"),
)
