"""Demo wallet: two sandbox cards for the demo user, a valid default Visa and an expired
Mastercard (the orders are paid with the Visa). Only with the sandbox gateway. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from bot.db import cards as repo
from bot.integrations.payments import SandboxGateway
from bot.services.cards import Brand, CardService


async def seed_cards(cards: CardService, user_id: int) -> None:
    """Two sandbox cards for the demo user: a valid default Visa and an expired Mastercard."""
    gateway = cards.gateway
    if not isinstance(gateway, SandboxGateway):
        return
    now = cards.clock.now()
    async with cards.db.write() as conn:
        if await repo.has_any(conn, user_id):
            return
        expired_month = (now.month - 3) % 12 + 1
        expired_year = now.year if now.month > 2 else now.year - 1
        demo = (
            ("5555555555554444", Brand.mastercard, expired_month, expired_year, now - timedelta(days=700), False),
            ("4242424242424242", Brand.visa, 8, now.year + 3, now - timedelta(days=40), True),
        )
        for number, brand, month, year, created, default in demo:
            await repo.insert(
                conn, user_id=user_id, gateway=gateway.name,
                token=f"tok_sbx_ok_demo{number[-4:]}", fingerprint=gateway.fingerprint(number),
                brand=brand.value, last4=number[-4:], exp_month=month, exp_year=year,
                holder="ALEX BUYER", is_default=default, now=created,
            )
