"""The demo data tells the truth: its pushes were delivered when they fell due (through the
delivery rules), are read, in order; the Russian buyer has rouble coupons with Russian names and
lives in Moscow; deleting an order for good takes its notifications out of the message centre."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import demo
from bot.app import Services, build_services
from bot.config import Settings
from bot.db import outbox as outbox_repo
from bot.db.coupons import Certificate
from bot.services import notifications
from bot.services.clock import FakeClock
from bot.services.coupons import Tab

NOW = datetime(2026, 12, 6, 2, 24, tzinfo=UTC)  # 05:24 in Moscow, 21:24 the day before in New York
CYRILLIC = re.compile("[а-яё]", re.I)


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_the_demo_tells_the_truth(settings: Settings, locale: str) -> None:
    """Seeding takes seconds: one seed per language, then each truth in turn (the last deletes)."""
    services = build_services(settings, clock=FakeClock(NOW))
    try:
        await demo.seed(services, locale=locale)
        await demo.seed(services, locale=locale)  # idempotent: nothing is added or re-delivered
        seeded = (locale, services)
        await the_message_centre_holds_history_read_and_in_order(seeded)
        await no_push_was_sent_after_it_expired_or_in_the_future(seeded)
        await coupons_are_in_the_demo_buyers_currency_and_language(seeded)
        await the_demo_buyer_lives_in_a_real_time_zone(seeded)
        await deleting_a_demo_order_for_good_removes_its_notifications(seeded)
    finally:
        await services.db.dispose()


async def _rows(services: Services) -> list[outbox_repo.OutboxRow]:
    async with services.db.read() as conn:
        return await outbox_repo.for_user(conn, demo.DEMO_USER_ID)


async def _centre(services: Services) -> list[outbox_repo.OutboxRow]:
    first = await services.messages.page(demo.DEMO_USER_ID)
    rows = list(first.rows)
    for page in range(1, first.pages):
        rows += (await services.messages.page(demo.DEMO_USER_ID, page)).rows
    assert len(rows) == first.total
    return rows


async def the_message_centre_holds_history_read_and_in_order(seeded: tuple[str, Services]) -> None:
    _locale, services = seeded
    centre = await _centre(services)
    assert len(centre) > 50
    assert (await services.messages.page(demo.DEMO_USER_ID)).unread == 0
    assert all(r.read_at is not None and r.sent_at is not None and r.read_at >= r.sent_at for r in centre)
    # newest first, by when each arrived, and those moments are spread over the two months played
    times = [r.sent_at for r in centre if r.sent_at is not None]
    assert times == sorted(times, reverse=True)
    assert max(times) <= NOW and min(times) < NOW - timedelta(days=40)
    assert len({t.date() for t in times}) > 20
    for row in centre:
        assert row.created_at is not None and row.sent_at is not None
        assert row.sent_at >= row.created_at and row.due_at >= row.created_at
        kind = notifications.get(row.kind)
        if kind is not None and not kind.held:  # (a reminder may join an earlier digest that day)
            assert row.sent_at >= row.due_at
        if row.kind == "order_status":  # a status push arrived when the order changed
            assert row.sent_at == datetime.fromisoformat(row.payload["at"])
        if row.kind == "order_tracking":  # the sweeper saw the carrier's event within a poll
            event_at = datetime.fromisoformat(row.payload["at"])
            assert event_at <= row.sent_at <= event_at + services.orders.policy.tracking_poll + timedelta(minutes=1)


async def no_push_was_sent_after_it_expired_or_in_the_future(seeded: tuple[str, Services]) -> None:
    _locale, services = seeded
    rows = await _rows(services)
    sent = [r for r in rows if r.state == "sent"]
    assert sent and all(r.sent_at is not None and r.sent_at <= NOW for r in sent)
    assert all(r.expires_at is None or r.sent_at < r.expires_at for r in sent if r.sent_at is not None)
    # reminders went through the rules: outside quiet hours (22:00–09:00 in the user's zone)
    user = await services.users.get(demo.DEMO_USER_ID)
    assert user is not None
    reminders = [r for r in sent if (k := notifications.get(r.kind)) is not None and k.held]
    assert reminders
    for row in reminders:
        assert row.sent_at is not None
        local = row.sent_at.astimezone(ZoneInfo(user.time_zone))
        assert 9 <= local.hour < 22, (row.kind, local)
    # nothing is left due in the past: what is still pending falls due from now on
    assert all(r.due_at > NOW for r in rows if r.state == "pending")
    assert not [r for r in rows if r.state == "failed"]


async def coupons_are_in_the_demo_buyers_currency_and_language(seeded: tuple[str, Services]) -> None:
    locale, services = seeded
    orders = await services.orders.page(demo.DEMO_USER_ID)
    currency = {"en": "USD", "ru": "RUB"}[locale]
    assert {o.currency for o in orders.rows} == {currency}
    items = []
    for tab in Tab:
        first = await services.coupons.wallet(demo.DEMO_USER_ID, tab)
        for page in range(first.pages):
            items += (await services.coupons.wallet(demo.DEMO_USER_ID, tab, page)).items
    assert len(items) > 10
    titles = []
    for item in items:
        if isinstance(item, Certificate):
            assert item.currency == currency
            titles.append(item.title)
        else:
            assert item.terms.currency == currency
            titles += [item.terms.title, item.terms.category_name]
    named = [t for t in titles if t and any(c.isalpha() for c in t)]
    assert len(named) >= 4
    if locale == "ru":
        assert all(CYRILLIC.search(t) for t in named), named
        assert "Чёрная пятница" in named
    else:
        assert not any(CYRILLIC.search(t) for t in named) and "Black Friday" in named


async def the_demo_buyer_lives_in_a_real_time_zone(seeded: tuple[str, Services]) -> None:
    locale, services = seeded
    user = await services.users.get(demo.DEMO_USER_ID)
    assert user is not None and user.locale == locale
    assert user.time_zone == {"en": "America/New_York", "ru": "Europe/Moscow"}[locale]


async def deleting_a_demo_order_for_good_removes_its_notifications(seeded: tuple[str, Services]) -> None:
    _locale, services = seeded
    (deleted,) = (await services.orders.deleted(demo.DEMO_USER_ID)).rows
    about = [r for r in await _centre(services) if r.payload.get("order_id") == deleted.id]
    assert about  # its history was in the message centre
    await services.orders.purge(demo.DEMO_USER_ID, deleted.id)
    centre = await _centre(services)
    assert not [r for r in centre if r.payload.get("order_id") == deleted.id
                or r.payload.get("number") == deleted.number]
    assert len(centre) > 50  # the other orders' stay
