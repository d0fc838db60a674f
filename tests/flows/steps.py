"""Ways into a flow that several tests take the same way, as a user would."""

from __future__ import annotations

from bot.fakebot import Player
from bot.services.orders import Status
from tests.conftest import App
from tests.orderkit import make_order


async def rate_a_completed_order(app: App, p: Player, stars: str, *, via: str = "/start") -> None:
    """An English-speaking user with an order completed opens its review from Reviews (after
    `via`) and gives it `stars`: the review form's text step is on screen."""
    await make_order(app.services, app.clock, p.user.id, Status.completed)
    await p.send(via)
    await p.press("⭐ Reviews")
    await p.press("✍️ Awaiting review (2)")
    await p.press("1. ✍️ Wireless earbuds TWS Pro 5")
    await p.press(stars)


async def fill_in_a_us_address(p: Player) -> None:
    """From the main menu, a new address in the United States filled in up to its summary (Save
    not pressed yet)."""
    await p.press("📍 Shipping addresses")
    await p.press("➕ Add an address")
    await p.press("🇺🇸 United States")
    for text in ("John Smith", "+1 617 555 0123", "Massachusetts", "Boston", "1 Main St"):
        await p.send(text)
    await p.press("⏭ Skip")
    await p.send("02110")
