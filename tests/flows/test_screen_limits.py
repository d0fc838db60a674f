"""Every screen fits Telegram (issue 15, item 6): lists that grow are paged or capped, and the
fake session refuses a text over 4,096 characters as Telegram does, so a screen that grew past it
fails here."""

from __future__ import annotations

from datetime import timedelta

from bot.fakebot import telegram_length
from bot.integrations.carrier import CarrierEvent
from bot.services.orders import NewItem, Status
from tests.conftest import App
from tests.orderkit import make_order


def _items(n: int) -> list[NewItem]:
    return [NewItem(f"Item {i:03d} " + "long title words " * 14, 1 + i % 3, 1000 + i,
                    (("Colour", "midnight blue " * 8), ("Size", "XL"))) for i in range(1, n + 1)]


async def test_an_order_with_100_tracking_events_and_60_items(app: App, alex, masha) -> None:
    for player in (alex, masha):
        await player.send("/start")
        order = await make_order(app.services, app.clock, player.user.id, Status.shipped, items=_items(60))
        for i in range(100):
            app.clock.advance(minutes=30)
            await app.services.orders.add_tracking_event(player.user.id, order.id, CarrierEvent(
                app.clock.now(), f"custom_{i}", "Distribution centre " * 6, f"Event {i:03d} " + "moved along " * 20))
        await player.send("/menu")
        await player.press("📦 My orders" if player is alex else "📦 Мои заказы")
        await player.press("1")
        card = player.last_text
        assert telegram_length(card) <= 4096
        assert "1. Item 001" in card and "10. Item 010" in card and "11. Item 011" not in card
        assert ("Items 1–10 of 60" if player is alex else "Товары 1–10 из 60") in card
        pages = 1
        while True:
            try:
                player.find_button("Next items ›" if player is alex else "Следующие товары ›")
            except AssertionError:
                break
            await player.press("Next items ›" if player is alex else "Следующие товары ›")
            pages += 1
            assert telegram_length(player.last_text) <= 4096
        assert pages == 6 and "60. Item 060" in player.last_text and "51. Item 051" in player.last_text
        await player.press("‹ Previous items" if player is alex else "‹ Предыдущие товары")
        assert "41. Item 041" in player.last_text and "51. Item 051" not in player.last_text
        await player.press("📍 Track parcel" if player is alex else "📍 Отследить посылку")
        track = player.last_text
        assert telegram_length(track) <= 4096
        assert "Event 099" in track and "Event 000" not in track  # the newest first
        assert ("earlier events." if player is alex else "более ранних событ") in track
        app.clock.advance(timedelta(hours=1))


async def test_every_card_with_a_growing_list_fits_with_large_data(app: App) -> None:
    """Each view whose text holds a list that grows, rendered with large data from the real
    services in both languages: never over Telegram's limit."""
    from datetime import UTC, datetime

    from bot.keyboards.coupons import CouponAction, CouponCb
    from bot.keyboards.orders import list_cb
    from bot.services.disputes import DisputeDraft, DisputeReason, Outcome
    from bot.views import coupons as coupon_views
    from bot.views import disputes as dispute_views
    from bot.views import orders as order_views
    from bot.views.common import Fmt, visible_length

    services, user = app.services, 3003
    order = await make_order(services, app.clock, user, Status.shipped, items=_items(60))
    for i in range(100):
        app.clock.advance(minutes=30)
        await services.orders.add_tracking_event(user, order.id, CarrierEvent(
            app.clock.now(), f"custom_{i}", "L" * 128, "D" * 255))
    for _ in range(30):
        await services.orders.refund(user, order.id, 1)
    dispute = await services.disputes.open(user, order.id, DisputeDraft(
        DisputeReason.not_as_described, "W" * 1000, Outcome.full_refund))
    await services.disputes.seller_answer(dispute.id, "reject", note="N" * 1000)
    cert = await services.coupons.grant_certificate(user, amount_minor=100_000, currency="USD",
                                                    valid_to=datetime(2027, 12, 31, tzinfo=UTC), title="T" * 200)
    for i in range(60):
        async with services.db.write() as conn:
            await services.coupons.spend(conn, user, cert.id, 1, "USD", f"ref{i}")
    card = await services.orders.card(user, order.id)
    track = await services.orders.tracking(user, order.id)
    dispute_card = await services.disputes.card(user, dispute.id)
    certificate = await services.coupons.certificate(user, cert.id)
    assert len(card.items) == 60 and len(card.refunds) == 30 and len(track.events) >= 100
    assert len(certificate.history) == 61
    for locale in ("en", "ru"):
        f = Fmt(services.i18n, locale)
        screens = {
            **{f"order card, items page {p}": order_views.order_card(card, f, list_cb(), items_page=p)
               for p in range(order_views.items_pages(card))},
            "tracking": order_views.tracking(track, f, list_cb()),
            "dispute card": dispute_views.dispute_card(dispute_card, f),
            "gift certificate": coupon_views.certificate_card(certificate, f, back=CouponCb(action=CouponAction.tab)),
        }
        for name, screen in screens.items():
            assert visible_length(screen.text.strip()) == telegram_length(screen.text)  # views count as Telegram
            assert telegram_length(screen.text) <= 4096, f"{name} ({locale}): {telegram_length(screen.text)}"
