"""Tables: Bank cards and their $1 verification holds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, and_

from bot.db.tables.base import created_at, currency, metadata, moment, owner, serial_id
from bot.db.times import UTCDateTime

# Bank cards: only what the payment gateway gave back (a token and a fingerprint) and what the
# wallet shows. The number and the CVC are never here. A deleted card stays as a row without its
# token, so that an old order can still say which card its refund goes to.
cards = Table(
    "cards",
    metadata,
    serial_id(),
    owner(),
    Column("gateway", String(16), nullable=False),  # which gateway issued the token
    Column("token", String(128)),  # cleared once the gateway has forgotten a deleted card
    Column("fingerprint", String(64)),  # HMAC-SHA256 of the number; cleared on delete
    Column("brand", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("holder", String(26), nullable=False),
    Column("is_default", Boolean, nullable=False, server_default="0"),
    created_at(),
    Column("deleted_at", UTCDateTime),
    # the same card reissued (same number, new expiry) that took this one's place through Replace
    # (0012_card_replaced_by): a refund to this card still goes to a card in the wallet
    Column("replaced_by", BigInteger().with_variant(Integer, "sqlite")),
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
    serial_id(),
    owner(),
    Column("card_id", BigInteger, ForeignKey("cards.id", ondelete="SET NULL")),
    Column("gateway", String(16), nullable=False),
    Column("gateway_hold_id", String(64), nullable=False, unique=True),
    Column("orphan_token", String(128)),
    Column("brand", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("amount_minor", Integer, nullable=False),
    currency(),
    created_at(),
    moment("due_at"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("released_at", UTCDateTime),
)
Index("ix_card_holds_due", card_holds.c.due_at, sqlite_where=card_holds.c.released_at.is_(None))
