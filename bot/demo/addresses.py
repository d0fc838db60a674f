"""Demo address book: two addresses (Moscow, the default, and New York); the orders are shipped to
one of these. Idempotent."""

from __future__ import annotations

from bot.services.addresses import AddressDraft, AddressService

DEMO_ADDRESSES: tuple[AddressDraft, ...] = (
    AddressDraft(
        country="RU", recipient="Алексей Смирнов", phone="+79161234567", region="Москва",
        city="Москва", street="ул. Тверская, д. 7", apartment="12", postal_code="125009",
    ),
    AddressDraft(
        country="US", recipient="Alex Smirnov", phone="+12125550123", region="NY", city="New York",
        street="350 5th Ave", apartment="Apt 21B", postal_code="10118",
    ),
)


async def seed_addresses(book: AddressService, user_id: int) -> None:
    """The demo user has two addresses (Moscow, the default, and New York). Idempotent."""
    if await book.list(user_id):
        return
    for draft in DEMO_ADDRESSES:
        await book.add(user_id, draft)
