"""Tables as SQLAlchemy Core objects. Migrations in `migrations/versions` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
)

from bot.db.types import UTCDateTime

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # the Telegram user id
    Column("first_name", String(128), nullable=False, server_default=""),
    Column("username", String(64)),
    Column("locale", String(8), nullable=False),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("unreachable_since", UTCDateTime),
)

fsm_states = Table(
    "fsm_states",
    metadata,
    # the whole aiogram StorageKey; None parts are stored as 0 / "" so they can be in the key
    Column("bot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("thread_id", BigInteger, primary_key=True, autoincrement=False),
    Column("business_connection_id", String(64), primary_key=True),
    Column("destiny", String(32), primary_key=True),
    Column("state", String(128)),
    Column("data", Text, nullable=False, server_default="{}"),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_fsm_states_updated_at", fsm_states.c.updated_at)

processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_processed_updates_created_at", processed_updates.c.created_at)



# Every push is a row, written in the same transaction as the change that causes it. Delivery
# (the reminders section) claims due rows with a lease and marks them sent.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(48), nullable=False),
    Column("payload", Text, nullable=False, server_default="{}"),  # JSON: what the view needs
    Column("dedupe_key", String(160), nullable=False, unique=True),
    Column("due_at", UTCDateTime, nullable=False),
    # pending → sending → sent | failed | dropped
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
)
# Only pending/sending rows are scanned by delivery: a partial index keeps the scan off the sent
# history (DESIGN.md §3: an index on due_at alone walks it all).
Index(
    "ix_outbox_due", outbox.c.due_at, outbox.c.id,
    sqlite_where=outbox.c.state.in_(("pending", "sending")),
)
Index("ix_outbox_user", outbox.c.user_id, outbox.c.created_at)

# Bank cards: only what the payment gateway gave back (a token and a fingerprint) and what the
# wallet shows. The number and the CVC are never here. A deleted card stays as a row without its
# token, so that an old order can still say which card its refund goes to.
cards = Table(
    "cards",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("gateway", String(16), nullable=False),  # which gateway issued the token
    Column("token", String(128)),  # cleared once the gateway has forgotten a deleted card
    Column("fingerprint", String(64)),  # HMAC-SHA256 of the number; cleared on delete
    Column("brand", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("holder", String(26), nullable=False),
    Column("is_default", Boolean, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
)
# the wallet: a user's cards in the order they were added
Index("ix_cards_wallet", cards.c.user_id, cards.c.created_at, sqlite_where=cards.c.deleted_at.is_(None))
# the same card twice in one wallet, and two defaults, are impossible
Index("ux_cards_fingerprint", cards.c.user_id, cards.c.fingerprint, unique=True,
      sqlite_where=cards.c.deleted_at.is_(None))
Index("ux_cards_default", cards.c.user_id, unique=True,
      sqlite_where=and_(cards.c.is_default.is_(True), cards.c.deleted_at.is_(None)))
# deleted cards whose token the gateway still has to forget
Index("ix_cards_detach", cards.c.id,
      sqlite_where=and_(cards.c.deleted_at.is_not(None), cards.c.token.is_not(None)))

# The $1 verification holds, released by the sweeper. A hold may belong to a card that was refused
# at the last moment (card_id NULL); its token is then kept here until the gateway forgets it.
card_holds = Table(
    "card_holds",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("card_id", BigInteger, ForeignKey("cards.id", ondelete="SET NULL")),
    Column("gateway", String(16), nullable=False),
    Column("gateway_hold_id", String(64), nullable=False, unique=True),
    Column("orphan_token", String(128)),
    Column("brand", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("released_at", UTCDateTime),
)
Index("ix_card_holds_due", card_holds.c.due_at, sqlite_where=card_holds.c.released_at.is_(None))
