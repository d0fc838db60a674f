"""Orders for tests: placed and driven to any state through the real services and the fake clock."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Services
from bot.db.orders import OrderRow
from bot.services.clock import FakeClock
from bot.services.disputes import DisputeDraft, DisputeReason, Outcome, SellerAnswer
from bot.services.orders import AddressSnapshot, NewItem, Status
from bot.services.refunds import CardSnapshot
from bot.services.users import Contact

VISA = CardSnapshot(card_id=7, brand="Visa", last4="4242", exp_month=12, exp_year=2030)
EXPIRED_MC = CardSnapshot(card_id=8, brand="Mastercard", last4="5454", exp_month=3, exp_year=2025)
HOME = AddressSnapshot(recipient="Alex Doe", phone="+1 555 0100", street="1 Main St", city="Springfield",
                       postal_code="12345", country="US")
EARBUDS = NewItem("Wireless earbuds TWS Pro 5", 1, 2599, (("Colour", "black"),))
CABLE = NewItem("USB-C cable 1 m", 2, 450)


async def ensure_user(services: Services, user_id: int, locale: str = "en") -> None:
    await services.users.touch(Contact(user_id, "Test", None, locale))


async def place(services: Services, user_id: int, *, store: str = "Nova Electronics",
                items: list[NewItem] | None = None, currency: str = "USD", shipping: int = 300,
                address: AddressSnapshot = HOME, number: str | None = None) -> OrderRow:
    await ensure_user(services, user_id)
    store_id = await services.orders.ensure_store(store)
    return await services.orders.create(
        user_id=user_id, store_id=store_id, items=items or [EARBUDS, CABLE], currency=currency,
        shipping_minor=shipping, address=address, number=number,
        usd_rate=None if currency == "USD" else "0.0108",
    )


async def make_order(services: Services, clock: FakeClock, user_id: int, status: str | Status, *,
                     card: CardSnapshot = VISA, **kw: object) -> OrderRow:
    """An order in `status`, reached the way real orders get there (a little time between steps)."""
    status = Status(status)
    orders = services.orders
    order = await place(services, user_id, **kw)  # type: ignore[arg-type]
    if status == Status.awaiting_payment:
        return order
    if status == Status.cancelled:
        await orders.cancel(user_id, order.id, "changed_mind")
        return await orders.by_number(order.number)
    clock.advance(minutes=5)
    await orders.mark_paid(user_id, order.id, card)
    if status == Status.awaiting_shipment:
        return await orders.by_number(order.number)
    clock.advance(days=1)
    await orders.ship(user_id, order.id, f"LP{order.id:09d}CN", "cainiao")
    if status == Status.shipped:
        return await orders.by_number(order.number)
    if status == Status.completed:
        clock.advance(days=10)
        await orders.confirm_receipt(user_id, order.id)
        return await orders.by_number(order.number)
    clock.advance(days=10)
    dispute = await services.disputes.open(user_id, order.id, DisputeDraft(
        DisputeReason.not_as_described, "The colour is not what the photos show.", Outcome.full_refund))
    if status == Status.in_dispute:
        return await orders.by_number(order.number)
    clock.advance(days=1)
    await services.disputes.seller_answer(dispute.id, SellerAnswer.accept)
    clock.advance(timedelta(hours=1))
    return await orders.by_number(order.number)
