"""Gift certificates at checkout through the Dispatcher: the coupons step says what they pay and
switches them off and on, the card pays the rest; when they pay it all there is no card step and
Place order places the order paid; the order card and a cancellation say where the money goes back.
English and Russian."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.demo.addresses import seed_addresses
from bot.fakebot import Player
from bot.services.orders import Status
from tests.conftest import App
from tests.flows.test_checkout import gateway, latest_order, stock, with_wallet_and_book
from tests.flows.test_pay import fill_wallet


@pytest.fixture
async def shop(app: App) -> dict[str, int]:
    return await stock(app)


async def certificate(app: App, user_id: int, amount: int, currency: str = "USD") -> int:
    cert = await app.services.coupons.grant_certificate(
        user_id, amount_minor=amount, currency=currency, valid_to=app.clock.now() + timedelta(days=90))
    return cert.id


async def balance(app: App, user_id: int, cert_id: int) -> int:
    return (await app.services.coupons.certificate(user_id, cert_id)).certificate.balance_minor


async def to_coupons_step(p: Player, product_id: int) -> None:
    await p.send(f"/start p{product_id}")
    await p.press("⚡ Buy now")
    await p.press("1")
    await p.press(next(t for t, _ in p.buttons() if t.startswith("✓ ⭐ ")))  # the default address


async def test_certificates_pay_part_and_the_card_the_rest(app: App, alex: Player, shop: dict[str, int]) -> None:
    await with_wallet_and_book(app, alex)
    cert = await certificate(app, alex.user.id, 1000)
    await to_coupons_step(alex, shop["earbuds"])
    assert "🎁 Gift certificates pay $10.00; the card pays the rest, $19.99." in alex.last_text
    assert "🎁 Don't use gift certificates" in [t for t, _ in alex.buttons()]
    await alex.press("Continue ›")
    assert "To pay: <b>$19.99</b>" in alex.last_text
    assert "🎁 Gift certificates pay $10.00 of the total, $29.99." in alex.last_text
    await alex.press("✓ ⭐ Visa •••• 4242")
    summary = alex.last_text
    assert "<b>Total: $29.99</b>" in summary and "🎁 Gift certificates: −$10.00" in summary
    assert "<b>To pay by card: $19.99</b>" in summary and "Pay with: Visa •••• 4242" in summary
    await alex.press("✅ Place order · $19.99 by card")
    assert "✅ Paid $19.99 with Visa •••• 4242." in alex.last_text
    assert "🎁 Paid with gift certificates: $10.00" in alex.last_text and "💳 Paid with Visa •••• 4242: $19.99" in alex.last_text
    order = await latest_order(app, alex.user.id)
    assert (order.status, order.total_minor, order.certificate_minor) == (Status.awaiting_shipment, 2999, 1000)
    assert [c.amount_minor for c in gateway(app).charges] == [1999]
    assert await balance(app, alex.user.id, cert) == 0

    await alex.press("✖️ Cancel order")  # paid: the card gets its part back, the certificate its own
    await alex.press("I changed my mind")
    assert "You will get $29.99 back." in alex.last_text
    assert ("🎁 $10.00 of it goes back to your gift certificates at once, and $19.99 to Visa •••• 4242."
            in alex.last_text)
    assert "The money goes back to" not in alex.last_text  # said once
    await alex.press("✖️ Yes, cancel the order")
    card = alex.last_text
    assert "💸 Refund of $10.00 to your gift certificates: done on" in card
    assert "💸 Refund of $19.99 to Visa •••• 4242: expected by" in card
    assert await balance(app, alex.user.id, cert) == 1000


async def test_certificates_that_pay_it_all_need_no_card(app: App, alex: Player, shop: dict[str, int]) -> None:
    await alex.send("/start")
    await seed_addresses(app.services.addresses, alex.user.id)  # no card in the wallet at all
    cert = await certificate(app, alex.user.id, 5000)
    await to_coupons_step(alex, shop["earbuds"])
    assert "step 3 of 3" in alex.last_text  # no card step
    assert "🎁 Gift certificates pay all of it, $29.99: no card is needed." in alex.last_text
    await alex.press("Continue ›")
    summary = alex.last_text
    assert "<b>To pay by card: $0.00</b>" in summary and "Pay with:" not in summary
    assert "✏️ Card" not in [t for t, _ in alex.buttons()]
    await alex.press("✅ Place order · gift certificates")
    assert alex.last_text.startswith("✅ Order #") and "is placed and paid." in alex.last_text
    assert "📦 Awaiting shipment" in alex.last_text and "🎁 Paid with gift certificates: $29.99" in alex.last_text
    order = await latest_order(app, alex.user.id)
    assert (order.status, order.card_minor, order.paid_card_last4) == (Status.awaiting_shipment, 0, None)
    assert gateway(app).charges == []
    assert await balance(app, alex.user.id, cert) == 5000 - 2999
    await alex.press_data("co:p:0")  # the old summary pressed again: nothing more
    assert alex.alerts()[-1] == "This checkout is closed. Open the product or the cart to check out again."
    assert await balance(app, alex.user.id, cert) == 5000 - 2999
    await alex.send("/menu")  # cancelled: all of it is back on the certificate at once, and the alert says so
    await alex.press("📦 My orders")
    await alex.press("1")
    await alex.press("✖️ Cancel order")
    await alex.press("I changed my mind")
    await alex.press("✖️ Yes, cancel the order")
    assert alex.alerts()[-1] == "The order is cancelled, and the money is back."
    assert await balance(app, alex.user.id, cert) == 5000


async def test_switched_off_in_russian_the_card_pays_it_all(app: App, masha: Player, shop: dict[str, int]) -> None:
    await with_wallet_and_book(app, masha)
    cert = await certificate(app, masha.user.id, 5000)
    await masha.send(f"/start p{shop['cable']}")
    await masha.press("⚡ Купить сейчас")
    await masha.press("1")
    await masha.press(next(t for t, _ in masha.buttons() if t.startswith("✓ ⭐ ")))
    assert "шаг 3 из 3" in masha.last_text
    assert "🎁 Подарочные сертификаты оплатят весь заказ, 9,99\xa0$: карта не нужна." in masha.last_text
    await masha.press("🎁 Не использовать подарочные сертификаты")
    assert "шаг 3 из 4" in masha.last_text  # the card step is back
    assert "🎁 Подарочными сертификатами можно оплатить 9,99\xa0$ этого заказа." in masha.last_text
    await masha.press("🎁 Использовать подарочные сертификаты")
    assert "шаг 3 из 3" in masha.last_text
    await masha.press("🎁 Не использовать подарочные сертификаты")
    await masha.press("Продолжить ›")
    await masha.press("✓ ⭐ Visa •••• 4242")
    assert "Подарочные сертификаты: −" not in masha.last_text and "Оплата: Visa •••• 4242" in masha.last_text
    await masha.press("✅ Оформить заказ · 9,99\xa0$")
    assert masha.last_text.startswith("🛒 Заказ № ")
    assert [c.amount_minor for c in gateway(app).charges] == [999]
    assert await balance(app, masha.user.id, cert) == 5000


async def test_a_balance_spent_meanwhile_shows_the_summary_again(app: App, alex: Player, shop: dict[str, int]) -> None:
    await with_wallet_and_book(app, alex)
    cert = await certificate(app, alex.user.id, 1000)
    await to_coupons_step(alex, shop["earbuds"])
    await alex.press("Continue ›")
    await alex.press("✓ ⭐ Visa •••• 4242")
    assert "<b>To pay by card: $19.99</b>" in alex.last_text
    # the certificate pays another order meanwhile (another chat, the shop's API…)
    other = await app.services.checkout.for_product(shop["cable"], {})
    book = await app.services.addresses.list(alex.user.id)
    await app.services.checkout.place(alex.user.id, other, address_id=book[0].id, coupon_ids=[])
    await alex.press("✅ Place order · $19.99 by card")
    assert alex.last_text.startswith("⚠️ The amounts changed since you saw them")
    assert "<b>To pay by card: $29.98</b>" in alex.last_text  # $0.01 left on the certificate
    assert gateway(app).charges == [] and await balance(app, alex.user.id, cert) == 1
    await alex.press("✅ Place order · $29.98 by card")
    assert "✅ Paid $29.98 with Visa •••• 4242." in alex.last_text
    assert await balance(app, alex.user.id, cert) == 0


async def test_a_new_card_just_this_once_is_told_the_cards_part_not_the_total(app: App, alex: Player,
                                                                               shop: dict[str, int]) -> None:
    """Certificates pay part: the new card's form says what the card pays, as the summary did."""
    await alex.send("/start")
    await seed_addresses(app.services.addresses, alex.user.id)
    await fill_wallet(app, alex.user.id)
    await certificate(app, alex.user.id, 500)
    await alex.send(f"/start p{shop['cable']}")
    await alex.press("⚡ Buy now")
    await alex.press("1")
    await alex.press(next(t for t, _ in alex.buttons() if t.startswith("✓ ⭐ ")))
    await alex.press("Continue ›")
    assert "To pay: <b>$4.99</b>\n🎁 Gift certificates pay $5.00 of the total, $9.99." in alex.last_text
    await alex.press("➕ New card")  # no room: just this once
    await alex.press("✅ Place order · $4.99 by card")
    await alex.press("Use it just this once")
    assert "💳 Paying $4.99 for order #" in alex.last_text
    for text in ("4000 0566 5566 5556", "12/29", "ALEX DOE"):
        await alex.send(text)
        assert "💳 Paying $4.99 for order #" in alex.last_text
    await alex.send("123")
    assert "✅ Paid $4.99 with Visa •••• 5556." in alex.last_text
    assert [c.amount_minor for c in gateway(app).charges] == [499]
