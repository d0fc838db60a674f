"""Reminders planned by the sections: a card's expiry (30 days before the end of its month) and the
end of buyer protection (3 days before), each dropped when it no longer applies; their pushes in
both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.db import outbox as outbox_repo
from bot.services.cards import EXPIRY_KIND, valid_until
from bot.services.orders import PROTECTION_KIND, Status
from bot.views.common import Fmt
from bot.views.pushes import render_one
from tests.conftest import App
from tests.orderkit import make_order
from tests.services.test_cards import add, cards  # noqa: F401  (the fixture)

NBSP, NNBSP = "\u00a0", "\u202f"


async def _rows(app: App, user_id: int, kind: str) -> list[tuple[str, str, datetime]]:
    async with app.services.db.read() as conn:
        return [(r.dedupe_key, r.state, r.due_at) for r in await outbox_repo.for_user(conn, user_id, kind)]


def test_valid_until_is_the_start_of_the_next_month() -> None:
    assert valid_until(5, 2028) == datetime(2028, 6, 1, tzinfo=UTC)
    assert valid_until(12, 2029) == datetime(2030, 1, 1, tzinfo=UTC)


async def test_a_saved_card_gets_its_expiry_reminder_and_loses_it_when_deleted(app: App, cards) -> None:  # noqa: F811
    outcome = await add(cards, 1, "4242424242424242", expiry="12/29")
    card_id = outcome.card.id
    assert await _rows(app, 1, EXPIRY_KIND.key) == [
        (f"card:{card_id}:expiry", "pending", datetime(2030, 1, 1, tzinfo=UTC) - timedelta(days=30)),
    ]
    await cards.delete(1, card_id)
    assert [(k, s) for k, s, _ in await _rows(app, 1, EXPIRY_KIND.key)] == [(f"card:{card_id}:expiry", "dropped")]


async def test_a_card_expiring_within_30_days_gets_no_reminder(app: App, cards, clock) -> None:  # noqa: F811
    month = clock.now().month
    await add(cards, 1, "4242424242424242", expiry=f"{month:02d}/{clock.now().year % 100:02d}")
    assert await _rows(app, 1, EXPIRY_KIND.key) == []


async def test_protection_reminder_while_shipped_only(app: App) -> None:
    order = await make_order(app.services, app.clock, 1, Status.shipped)
    fresh = await app.services.orders.by_number(order.number)
    ends = fresh.protection_ends_at
    assert ends is not None
    assert await _rows(app, 1, PROTECTION_KIND.key) == [
        (f"order:{order.id}:protection:3d", "pending", ends - timedelta(days=3)),
    ]
    await app.services.orders.confirm_receipt(1, order.id)
    assert [s for _, s, _ in await _rows(app, 1, PROTECTION_KIND.key)] == ["dropped"]


async def test_the_pushes_in_both_languages(app: App) -> None:
    i18n = app.services.i18n
    card = {"card_id": 1, "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2029}
    en = render_one(EXPIRY_KIND.key, card, Fmt(i18n, "en"))
    ru = render_one(EXPIRY_KIND.key, card, Fmt(i18n, "ru"))
    assert en.screen.text == "💳 Visa •••• 4242 is valid until Dec 31, 2029 — add a new card to keep paying without a hitch"
    assert ru.screen.text.startswith(f"💳 Карта Visa •••• 4242 действует до 31 дек. 2029{NNBSP}г. — добавьте новую")
    assert en.button is not None and en.button.text == "💳 Bank cards"
    order = {"order_id": 7, "number": "261125000007", "ends_at": "2027-01-24T12:00:00+00:00"}
    en = render_one(PROTECTION_KIND.key, order, Fmt(i18n, "en"))
    ru = render_one(PROTECTION_KIND.key, order, Fmt(i18n, "ru"))
    assert en.screen.text.startswith("🛡 Buyer protection for order #261125000007 ends on Jan 24, 2027.")
    assert ru.screen.text.startswith(f"🛡 24 янв. 2027{NNBSP}г. заканчивается защита покупателя по заказу № 261125000007. Товар")
    assert en.button is not None and en.button.text == "📦 Open the order"
