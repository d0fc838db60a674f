"""Loyalty levels. The levels themselves come with the reviews & points section; until then every
buyer has the base level. Everything that depends on a level reads it through `level_of`, so the
real levels plug in here and nowhere else.

Privileges that already depend on the level: faster refunds from level 3, priority disputes from
level 4 (the days are in Settings).
"""

from __future__ import annotations

from typing import Any

BASE_LEVEL = 1
MAX_LEVEL = 5
FAST_REFUND_LEVEL = 3
PRIORITY_DISPUTE_LEVEL = 4


async def level_of(conn_or_db: Any, user_id: int) -> int:
    """The buyer's loyalty level, 1…5. Takes an open connection (or the Database) so the real
    implementation can read inside the caller's unit of work."""
    return BASE_LEVEL


def fast_refunds(level: int) -> bool:
    return level >= FAST_REFUND_LEVEL


def priority_disputes(level: int) -> bool:
    return level >= PRIORITY_DISPUTE_LEVEL
