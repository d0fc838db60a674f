"""Where sections built apart meet: what orders tell the wallet and the address book, and what the
wallet tells refunds. Each class implements a Protocol its consumer declared, so neither section
imports the other's rules.

- `OrderCardUsage` (cards' `CardUsage`): the delete warning — orders paid with a card that are in
  delivery, in a dispute, or waiting for a refund.
- `OrderAddressUsage` (addresses' `AddressUsage`): orders placed with an address that have not been
  delivered yet.
- `WalletCardLookup` (refunds' `CardLookup`): what became of the card that paid — active, expired
  or deleted — so a refund to a deleted card says the money goes to that card's bank account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import orders as orders_repo
from bot.db.engine import Database
from bot.services.cards import CardService, CardStatus, CardUsageSummary
from bot.services.errors import NotFound
from bot.services.refunds import CardSnapshot, CardState


class OrderCardUsage:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def pending_orders(self, user_id: int, card_id: int) -> CardUsageSummary:
        async with self.db.read() as conn:
            delivery, dispute, refund = await orders_repo.card_usage(conn, user_id, card_id)
        return CardUsageSummary(in_delivery=delivery, in_dispute=dispute, refund_pending=refund)


class OrderAddressUsage:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open_orders(self, user_id: int, address_id: int) -> int:
        async with self.db.read() as conn:
            return await orders_repo.open_with_address(conn, user_id, address_id)


_STATES = {CardStatus.active: CardState.active, CardStatus.expired: CardState.expired,
           CardStatus.deleted: CardState.deleted}


class WalletCardLookup:
    """Asks the wallet (deleted cards included). An order whose card is not in this user's wallet
    (paid before the wallet existed, or by the operator's `order pay`) falls back to its snapshot."""

    def __init__(self, cards: CardService) -> None:
        self.cards = cards

    async def card_state(self, conn: AsyncConnection, user_id: int, card: CardSnapshot,
                         now: datetime) -> CardState:
        if card.card_id is not None:
            try:  # joins the caller's unit of work (db.read() inside db.write() uses its connection)
                return _STATES[await self.cards.status(user_id, card.card_id)]
            except NotFound:
                pass
        return CardState.expired if card.expired(now) else CardState.active
