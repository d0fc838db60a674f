"""Demo orders: about 25 orders from 6 stores in every state, with tracking events, refunds and
disputes, for the offline console and `main.py demo`.

The history is played through the real services on a clock that walks from two months ago to now,
so every order got where it is the way real orders do (history rows, refunds, carrier events):
a parcel on its way is asked about on the sweeper's schedule, so each carrier event's push is
written when the sweeper would have seen it. The pushes this history wrote are then delivered as
the bot would have delivered them, each when it fell due (`bot/demo/__init__.py`, `deliver_history`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.db.tables import orders as orders_table
from bot.integrations.carrier import Shipment
from bot.services.clock import FakeClock
from bot.services.disputes import DisputeDraft, DisputeReason, DisputeService, Outcome, SellerAnswer
from bot.services.orders import AddressSnapshot, CancelReason, NewItem, OrderService
from bot.services.refunds import CardSnapshot, RefundService

if TYPE_CHECKING:
    from bot.app import Services

RUB_PER_USD = 92
USD_PER_RUB = Decimal("0.01087")

# (store, [(title en, title ru, price in US cents, options en, options ru)])
CATALOG: tuple[tuple[str, tuple[tuple[str, str, int, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], ...]], ...] = (
    ("PixelPeak Electronics", (
        ("Wireless earbuds TWS Pro 5", "Беспроводные наушники TWS Pro 5", 2599,
         (("Colour", "black"),), (("Цвет", "чёрный"),)),
        ("USB-C fast charger 65 W", "Быстрая зарядка USB-C 65 Вт", 1850, (), ()),
        ("Smart watch band", "Ремешок для смарт-часов", 690,
         (("Colour", "midnight blue"), ("Size", "M")), (("Цвет", "тёмно-синий"), ("Размер", "M"))),
        ("Power bank 20000 mAh", "Внешний аккумулятор 20000 мА·ч", 2990, (), ()),
    )),
    ("Lumen Home & Light", (
        ("LED desk lamp with wireless charging", "Настольная LED-лампа с беспроводной зарядкой", 3400, (), ()),
        ("Fairy lights, 10 m", "Гирлянда, 10 м", 840, (("Light", "warm white"),), (("Свет", "тёплый белый"),)),
        ("Smart bulb E27", "Умная лампочка E27", 999, (), ()),
    )),
    ("Northwind Outdoor", (
        ("Trekking poles, pair", "Треккинговые палки, пара", 2700, (), ()),
        ("Waterproof backpack 30 L", "Водонепроницаемый рюкзак 30 л", 3990,
         (("Colour", "olive"),), (("Цвет", "оливковый"),)),
        ("Camping headlamp", "Налобный фонарь", 1230, (), ()),
    )),
    ("Velvet Wardrobe", (
        ("Oversized hoodie", "Худи оверсайз", 2490, (("Size", "L"), ("Colour", "grey")),
         (("Размер", "L"), ("Цвет", "серый"))),
        ("Linen shirt", "Льняная рубашка", 1980, (("Size", "M"),), (("Размер", "M"),)),
        ("Wool socks, 3 pairs", "Шерстяные носки, 3 пары", 1100, (("Size", "39–42"),), (("Размер", "39–42"),)),
    )),
    ("Tiny Tots Toys", (
        ("Magnetic building blocks, 64 pcs", "Магнитный конструктор, 64 детали", 3150, (), ()),
        ("Plush fox, 30 cm", "Плюшевая лиса, 30 см", 1420, (), ()),
        ("Wooden puzzle", "Деревянный пазл", 960, (), ()),
    )),
    ("KitchenCraft Co.", (
        ("Silicone baking mats, set of 3", "Силиконовые коврики для выпечки, 3 шт.", 1370, (), ()),
        ("Ceramic knife 15 cm", "Керамический нож 15 см", 1640, (), ()),
        ("Pour-over coffee kettle", "Чайник для пуровера", 2880, (), ()),
    )),
)

VISA = CardSnapshot(None, "Visa", "4242", 12, 2029)
MASTERCARD_EXPIRED = CardSnapshot(None, "Mastercard", "5454", 3, 2025)
MIR = CardSnapshot(None, "Mir", "1234", 8, 2028)

ADDRESS = {
    "en": AddressSnapshot(recipient="Alex Johnson", phone="+44 20 7946 0958", street="221B Baker Street",
                          city="London", postal_code="NW1 6XE", country="GB"),
    "ru": AddressSnapshot(recipient="Алексей Иванов", phone="+7 916 123-45-67", street="ул. Тверская, д. 7, кв. 12",
                          city="Москва", postal_code="125009", country="RU"),
}

DESCRIPTIONS = {
    "en": {
        "damaged": "The case arrived cracked and the left earbud does not charge.",
        "not_received": "Tracking says delivered, but nothing came to my address or the pickup point.",
        "not_as_described": "The listing says warm white, but the lights are cold blue.",
        "wrong_item": "I ordered size L and got an S.",
    },
    "ru": {
        "damaged": "Кейс пришёл треснутым, левый наушник не заряжается.",
        "not_received": "По трекингу посылка вручена, но ни дома, ни в пункте выдачи её нет.",
        "not_as_described": "В описании тёплый белый свет, а гирлянда светит холодным синим.",
        "wrong_item": "Заказывал размер L, пришёл S.",
    },
}


@dataclass(frozen=True, slots=True)
class Step:
    hours: float  # after the order was placed
    action: str
    arg: object = None


# (days ago placed, store, [(product, quantity)], steps)
PLAN: tuple[tuple[float, int, tuple[tuple[int, int], ...], tuple[Step, ...]], ...] = (
    # awaiting payment
    (0.1, 0, ((0, 1),), ()),
    (0.8, 4, ((0, 1), (1, 2)), ()),
    # awaiting shipment
    (1.2, 1, ((0, 1),), (Step(0.2, "pay", VISA),)),
    (2.5, 3, ((0, 1), (2, 2)), (Step(0.1, "pay", MIR),)),
    (3.0, 5, ((2, 1),), (Step(1, "pay", VISA),)),
    # shipped, at several points of the journey
    (2.2, 2, ((1, 1),), (Step(0.5, "pay", VISA), Step(20, "ship"))),
    (5.0, 0, ((3, 1), (1, 1)), (Step(0.3, "pay", VISA), Step(26, "ship"))),
    (9.0, 3, ((0, 1),), (Step(2, "pay", MIR), Step(30, "ship"))),
    (15.0, 5, ((0, 1), (1, 1), (2, 1)), (Step(1, "pay", VISA), Step(40, "ship"))),
    (24.0, 1, ((2, 4),), (Step(1, "pay", VISA), Step(30, "ship"))),
    (47.0, 4, ((1, 1),), (Step(1, "pay", VISA), Step(50, "ship"))),
    # completed (one recently: still open to a dispute)
    (18.0, 2, ((0, 1), (2, 1)), (Step(1, "pay", VISA), Step(24, "ship"), Step(300, "confirm"))),
    (26.0, 0, ((2, 1),), (Step(1, "pay", MIR), Step(30, "ship"), Step(320, "confirm"))),
    (33.0, 3, ((1, 1), (2, 1)), (Step(1, "pay", VISA), Step(28, "ship"), Step(330, "confirm"))),
    (44.0, 5, ((1, 1),), (Step(1, "pay", VISA), Step(20, "ship"), Step(310, "confirm"))),
    (52.0, 4, ((2, 2),), (Step(2, "pay", VISA), Step(30, "ship"), Step(350, "confirm"))),
    (58.0, 1, ((1, 3),), (Step(1, "pay", MIR), Step(36, "ship"), Step(300, "confirm"))),
    # cancelled: by the buyer (refunded), not paid in time, the seller out of stock (to an expired card)
    (6.0, 0, ((3, 1),), (Step(0.5, "pay", VISA), Step(4, "cancel", CancelReason.found_cheaper),
                         Step(100, "refund_done"))),
    (12.0, 4, ((2, 1),), (Step(24, "expire"),)),
    (4.0, 2, ((2, 1),), (Step(1, "pay", MASTERCARD_EXPIRED), Step(30, "seller_cancel"))),
    # disputes: waiting for the seller; an offer to answer; escalated; closed refunded; closed rejected
    (16.0, 0, ((0, 1),), (Step(1, "pay", VISA), Step(20, "ship"), Step(300, "dispute", "damaged"))),
    (21.0, 1, ((1, 1),), (Step(1, "pay", VISA), Step(30, "ship"), Step(320, "dispute", "not_as_described"),
                          Step(350, "offer", 400))),
    (25.0, 3, ((0, 1),), (Step(1, "pay", MIR), Step(26, "ship"), Step(330, "dispute", "wrong_item"),
                          Step(360, "reject"), Step(380, "escalate"))),
    (40.0, 2, ((1, 1),), (Step(1, "pay", VISA), Step(26, "ship"), Step(400, "dispute", "not_received"),
                          Step(430, "accept"), Step(600, "refund_done"))),
    (55.0, 5, ((2, 1),), (Step(1, "pay", VISA), Step(30, "ship"), Step(330, "dispute", "not_as_described"),
                          Step(360, "reject"), Step(370, "escalate"), Step(500, "decide", 0))),
    # a return the store accepted: the item is to be sent back (the dispute's "I've sent it back")
    (19.0, 4, ((2, 1),), (Step(1, "pay", VISA), Step(26, "ship"), Step(300, "dispute", "wrong_item"),
                          Step(340, "accept_return"))),
    # in Deleted orders
    (60.0, 4, ((0, 1),), (Step(1, "pay", VISA), Step(30, "ship"), Step(320, "confirm"), Step(400, "delete"))),
)


RETURN_ADDRESS = {
    "en": "Returns desk, 12 Harbour Street, Portsmouth PO1 3AX, United Kingdom. Write the order number on the parcel.",
    "ru": "Москва, ул. Складочная, д. 1, стр. 6, пункт приёма возвратов, 127018. Напишите на посылке номер заказа.",
}


def _price(cents: int, locale: str) -> int:
    return round(cents * RUB_PER_USD / 100) * 100 if locale == "ru" else cents


async def demo_history(services: Services, user_id: int) -> tuple[str, str, FakeClock, OrderService]:
    """What seeding a past needs: the user's locale ("ru" or "en") and its currency, a clock set to
    now (a whole minute) that the seeding moves back and forth, and an order service on it."""
    user = await services.users.get(user_id)
    locale = "ru" if user is not None and user.locale == "ru" else "en"
    clock = FakeClock(services.clock.now().replace(second=0, microsecond=0))
    orders = OrderService(services.db, clock, services.orders.policy, cards=services.orders.cards,
                          carrier=services.orders.carrier)
    return locale, "RUB" if locale == "ru" else "USD", clock, orders


async def seed_orders(services: Services, user_id: int) -> None:
    async with services.db.read() as conn:
        if (await conn.execute(select(orders_table.c.id).where(orders_table.c.user_id == user_id).limit(1))).first():
            return  # already seeded
    locale, currency, clock, orders = await demo_history(services, user_id)
    now = clock.now()
    disputes = DisputeService(services.db, clock, orders)
    refunds = RefundService(services.db, clock, services.payments)
    store_ids = [await orders.ensure_store(name) for name, _ in CATALOG]
    # the demo wallet and address book are seeded first: orders link the default Visa (and are
    # charged through the sandbox, so their refunds are paid out like real ones) and an address
    wallet = await services.cards.wallet(user_id)
    visa = next((c for c in wallet if c.is_default and not c.expired), None)
    cards = {VISA: CardSnapshot(visa.id, visa.brand, visa.last4, visa.exp_month, visa.exp_year)} if visa else {}
    book = [a for a in await services.addresses.list(user_id) if a.country == ("RU" if locale == "ru" else "US")]
    address, address_id = ADDRESS[locale], None
    if book:
        entry = book[0]
        street = ", ".join(p for p in (entry.street, entry.apartment) if p)
        address = replace(AddressSnapshot.of(entry), street=street, apartment="")
        address_id = entry.id

    for days_ago, store, lines, steps in PLAN:
        placed = now - timedelta(days=days_ago)
        clock.set(placed)
        _store_name, products = CATALOG[store]
        items = []
        for index, quantity in lines:
            en, ru, cents, opt_en, opt_ru = products[index]
            title = ru if locale == "ru" else en
            await orders.ensure_product(store_ids[store], title, _price(cents, locale), currency)
            items.append(NewItem(title, quantity, _price(cents, locale), opt_ru if locale == "ru" else opt_en))
        order = await orders.create(
            user_id=user_id, store_id=store_ids[store], items=items, currency=currency,
            shipping_minor=0 if store % 2 else _price(299, locale), address=address,
            usd_rate=USD_PER_RUB if currency == "RUB" else None, address_id=address_id,
        )
        dispute_id = 0
        journey = _Journey(orders, clock, user_id, order.id)
        for step in steps:
            at = placed + timedelta(hours=step.hours)
            await journey.follow(min(at, now))  # the sweeper's polls while the parcel is on its way
            if step.action not in ("pay", "ship"):
                journey.stop()  # every later step takes the order out of "shipped"
            clock.set(min(at, now))
            if step.action == "pay":
                assert isinstance(step.arg, CardSnapshot)
                card = cards.get(step.arg, step.arg)
                charge_id = None
                if card.card_id is not None:
                    charge = await services.cards.charge(user_id, card.card_id, order.total_minor, order.currency,
                                                         f"demo:order:{order.id}:pay")
                    charge_id = charge.id
                await orders.mark_paid(user_id, order.id, card, charge_id=charge_id)
            elif step.action == "ship":
                shipped = await orders.ship(user_id, order.id, f"LP{order.id:07d}{store}CN", "cainiao")
                await journey.start(shipped.track_number or "", address)
            elif step.action == "confirm":
                await orders.tracking(user_id, order.id, refresh=True)
                await orders.confirm_receipt(user_id, order.id)
            elif step.action == "cancel":
                await orders.cancel(user_id, order.id, CancelReason(str(step.arg)))
            elif step.action == "seller_cancel":
                await orders.cancel_by_seller(user_id, order.id)
            elif step.action == "expire":
                await orders.expire_unpaid(clock.now())
            elif step.action == "refund_done":
                card = await orders.card(user_id, order.id)
                for refund in card.refunds:
                    await refunds.complete(refund.id)
            elif step.action == "dispute":
                await orders.tracking(user_id, order.id, refresh=True)
                reason = str(step.arg)
                outcome = Outcome.return_refund if reason == "wrong_item" else (
                    Outcome.partial_refund if reason == "not_as_described" else Outcome.full_refund)
                amount = order.total_minor // 2 if outcome == Outcome.partial_refund else None
                dispute = await disputes.open(user_id, order.id, DisputeDraft(
                    DisputeReason(reason), DESCRIPTIONS[locale][reason], outcome, amount))
                dispute_id = dispute.id
            elif step.action == "offer":
                await disputes.seller_answer(dispute_id, SellerAnswer.offer,
                                             offer_minor=_price(int(step.arg), locale),  # type: ignore[call-overload]
                                             note="Sorry! We can refund part of the price." if locale == "en"
                                             else "Извините! Можем вернуть часть стоимости.")
            elif step.action == "reject":
                await disputes.seller_answer(dispute_id, SellerAnswer.reject,
                                             note="The item was checked before shipping." if locale == "en"
                                             else "Товар проверили перед отправкой.")
            elif step.action == "accept_return":
                await disputes.seller_answer(dispute_id, SellerAnswer.accept, note=RETURN_ADDRESS[locale])
            elif step.action == "accept":
                await disputes.seller_answer(dispute_id, SellerAnswer.accept)
            elif step.action == "escalate":
                await disputes.escalate(user_id, dispute_id)
            elif step.action == "decide":
                await disputes.decide(dispute_id, int(step.arg))  # type: ignore[call-overload]
            elif step.action == "delete":
                await orders.delete(user_id, order.id)
        await journey.follow(now)  # a parcel still on its way: its journey so far


class _Journey:
    """The sweeper's tracking polls for one demo order while it is shipped: every
    `policy.tracking_poll` from the shipment, but only the polls that find a new carrier event are
    played (the others change nothing), at the moment the sweeper would have made them."""

    def __init__(self, orders: OrderService, clock: FakeClock, user_id: int, order_id: int) -> None:
        self.orders, self.clock = orders, clock
        self.user_id, self.order_id = user_id, order_id
        self.polls: list[datetime] = []

    async def start(self, track_number: str, address: AddressSnapshot) -> None:
        shipped_at = self.clock.now()
        every = self.orders.policy.tracking_poll
        shipment = Shipment(track_number, "cainiao", shipped_at, address.city, address.country)
        events = await self.orders.carrier.events(shipment, shipped_at + timedelta(days=365))
        first = shipped_at + timedelta(minutes=1)  # never asked yet: the sweeper's next run asks
        self.polls = sorted({max(first, shipped_at + every * -(-(e.at - shipped_at) // every)) for e in events})

    async def follow(self, until: datetime) -> None:
        """Make the polls due by `until` (the order is shipped until `stop`)."""
        while self.polls and self.polls[0] <= until:
            self.clock.set(self.polls.pop(0))
            await self.orders.tracking(self.user_id, self.order_id, refresh=True)

    def stop(self) -> None:
        """The order left "shipped" (completed, disputed…): the sweeper stops asking."""
        self.polls.clear()

