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
