"""My coupons through the Dispatcher: the wallet's tabs in both languages, expired coupons kept
visible, cards, "Enter a code" with its reasons and the guessing pause, forged ids."""

from __future__ import annotations

from datetime import timedelta

from bot.db.coupons import Scope, Terms, ValueKind
from bot.fakebot import Player
from bot.keyboards.coupons import CouponAction, CouponCb
from bot.services.coupons import Tab
from tests.conftest import App

DAY = timedelta(days=1)


def _terms(app: App, scope: Scope = Scope.platform, *, days: float = 20, **kw) -> Terms:
    now = app.clock.now()
    kw.setdefault("amount_minor", 500 if "percent" not in kw else None)
    kind = ValueKind.percent if kw.get("percent") else ValueKind.amount
    if scope == Scope.store:
        kw.setdefault("store_id", 101)
        kw.setdefault("store_name", "Xiaomi <Official>")
    return Terms(scope, kind, "USD", now - 30 * DAY, now + timedelta(days=days), **kw)


async def _grant(app: App, player: Player, terms: Terms) -> int:
    result = await app.services.coupons.grant([player.user.id], terms)
    return result.granted[player.user.id]


async def _fill_wallet(app: App, player: Player) -> dict[str, int]:
    coupons = app.services.coupons
    ids = {
        "tomorrow": await _grant(app, player, _terms(app, Scope.store, days=1.4, amount_minor=300,
                                                     min_order_minor=2000)),
        "percent": await _grant(app, player, _terms(app, percent=10, cap_minor=1500, days=45)),
        "expired": await _grant(app, player, _terms(app, days=-2, min_order_minor=3000)),
        "used": await _grant(app, player, _terms(app, new_buyers_only=True)),
    }
    gift = await coupons.grant_certificate(player.user.id, amount_minor=5000, currency="USD",
                                           valid_to=app.clock.now() + 100 * DAY, title="For you")
    async with app.services.db.write() as conn:
        await coupons.use(conn, player.user.id, [ids["used"]], "order-1")
        await coupons.spend(conn, player.user.id, gift.id, 1750, "USD", "order-1")
    ids["gift"] = gift.id
    return ids


async def test_wallet_tabs_and_cards_in_english(app: App, alex: Player) -> None:
    await alex.send("/start")
    await _fill_wallet(app, alex)
    await alex.press("🎟 Coupons")
    text = alex.last_text
    assert text.startswith("<b>🎟 My coupons</b> · Active")
    assert "🎁 Gift certificate: <b>$32.50</b> left of $50.00 — For you" in text
    assert "🏬 <b>$3.00 off</b> · from $20.00\nXiaomi &lt;Official&gt; · expires in 1 day" in text
    assert "🌐 <b>10% off, up to $15.00</b> · any amount\nAll stores · valid until Jan 9, 2027" in text
    assert [t for t, _ in alex.buttons()][:3] == ["1", "2", "3"]
    assert "• Active (3)" in [t for t, _ in alex.buttons()]

    await alex.press("Expired (1)")
    assert "<b>🎟 My coupons</b> · Expired" in alex.last_text
    assert "⌛ expired on Nov 23, 2026" in alex.last_text  # kept visible, marked
    await alex.press("1")
    assert "⌛ Expired on Nov 23, 2026; it can no longer be used." in alex.last_text
    assert "Minimum order: $30.00." in alex.last_text
    await alex.press("‹ Back")
    assert "· Expired" in alex.last_text

    await alex.press("Used (1)")
    assert "spent in full" not in alex.last_text
    assert "new buyers only · used on Nov 25, 2026" in alex.last_text

    await alex.press("Active (3)")
    await alex.press("1")
    assert "Balance: <b>$32.50</b> of $50.00." in alex.last_text
    assert "Nov 25, 2026 · paid for an order · −$17.50" in alex.last_text
    await alex.press("‹ Back")
    await alex.press("2")
    assert "Only in <b>Xiaomi &lt;Official&gt;</b>." in alex.last_text
    assert "🟢 Active: expires in 1 day." in alex.last_text
    await alex.press("☰ Menu")
    assert "Choose a section" in alex.last_text


async def test_wallet_in_russian(app: App, masha: Player) -> None:
    await masha.send("/start")
    # a Russian user starts in Moscow time; the day counts below are UTC's, as in the English test
    await app.services.settings.set_time_zone(masha.user.id, "UTC")
    await _fill_wallet(app, masha)
    await masha.press("🎟 Мои купоны")
    text = masha.last_text
    assert text.startswith("<b>🎟 Мои купоны</b> · Действуют")
    assert "🎁 Подарочный сертификат: осталось <b>32,50\xa0$</b> из 50,00\xa0$" in text
    assert "🏬 <b>Скидка 3,00\xa0$</b> · от 20,00\xa0$\nXiaomi &lt;Official&gt; · истекает через 1 день" in text
    assert "<b>Скидка 10%, не больше 15,00\xa0$</b> · на любую сумму\nВсе магазины" in text
    await masha.press("Истекли (1)")
    assert "⌛ истёк 23 нояб. 2026\u202fг." in masha.last_text
    await masha.press("1")
    assert "Купон платформы" in masha.last_text
    assert "⌛ Истёк 23 нояб. 2026\u202fг., использовать его уже нельзя." in masha.last_text
    assert "Срок действия: 26 окт. 2026\u202fг. – 23 нояб. 2026\u202fг.\n" in masha.last_text  # no "г.."


async def test_empty_wallet(app: App, alex: Player, masha: Player) -> None:
    await alex.send("/start")
    assert "🎟 Coupons" in [t for t, _ in alex.buttons()]
    await masha.send("/start")
    assert "🎟 Мои купоны" in [t for t, _ in masha.buttons()]
    await alex.press("🎟 Coupons")
    assert "No active coupons yet." in alex.last_text
    await alex.press("Used (0)")
    assert "No used coupons yet." in alex.last_text


async def test_enter_a_code(app: App, alex: Player) -> None:
    await alex.send("/start")
    now = app.clock.now()
    await app.services.coupons.create_code(
        "WELCOME5", Terms(Scope.platform, ValueKind.amount, "USD", now - DAY, now + 60 * DAY,
                          amount_minor=500, min_order_minor=2500))
    await alex.press("🎟 Coupons")
    await alex.press("🔑 Enter a code")
    assert "Type the code of a coupon or a gift certificate" in alex.last_text
    await alex.send_sticker()
    assert alex.last_text.startswith("Please send the code as text.")
    await alex.send("<b>hi</b>")
    assert alex.last_text.startswith("That doesn't look like a code")
    await alex.send("NOPE1234")
    assert alex.last_text.startswith("There is no such code. Check the letters and digits")
    await alex.send("welcome-5")
    assert alex.bot_messages[-2].text.startswith("✅ Coupon added:\n🌐 <b>$5.00 off</b> · from $25.00")
    assert alex.last_text.startswith("<b>🎟 My coupons</b> · Active")
    await alex.press("🔑 Enter a code")
    await alex.send("WELCOME5")
    assert alex.last_text.startswith("You have already added this code: it is in My coupons.")
    await alex.press("‹ Back")
    assert "<b>🎟 My coupons</b>" in alex.last_text
    await alex.send("WELCOME5")  # the flow is over: text is text again
    assert "I respond to buttons and commands" in alex.last_text


async def test_guessing_pause_in_russian(app: App, masha: Player) -> None:
    await masha.send("/start")
    now = app.clock.now()
    await app.services.coupons.create_code(
        "GIFT25", Terms(Scope.platform, ValueKind.amount, "USD", now - DAY, now + 365 * DAY,
                        amount_minor=2500), certificate=True)
    await masha.press("🎟 Мои купоны")
    await masha.press("🔑 Ввести код")
    for _ in range(5):
        await masha.send("GUESS123")
        assert masha.last_text.startswith("Такого кода нет.")
    await masha.send("GIFT25")
    assert masha.last_text.startswith("Слишком много неверных кодов. Попробуйте снова через 10 минут.")
    app.clock.advance(minutes=9)
    await masha.send("GIFT25")
    assert masha.last_text.startswith("Слишком много неверных кодов. Попробуйте снова через 1 минуту.")
    app.clock.advance(minutes=1)
    await masha.send("gift25")
    assert masha.bot_messages[-2].text.startswith(
        "✅ Подарочный сертификат добавлен:\n🎁 Подарочный сертификат на <b>25,00\xa0$</b>\n")


async def test_someone_elses_coupon_id_is_refused(app: App, alex: Player, masha: Player) -> None:
    await alex.send("/start")
    await masha.send("/start")
    ids = await _fill_wallet(app, alex)
    await masha.press("🎟 Мои купоны")
    forged = CouponCb(action=CouponAction.coupon, tab=Tab.active, id=ids["tomorrow"]).pack()
    await masha.press_data(forged)
    assert masha.alerts()[-1] == "Этот купон больше недоступен."
    assert masha.last_text.startswith("<b>🎟 Мои купоны</b> · Действуют")
    assert "Xiaomi" not in masha.last_text
    await masha.press_data(CouponCb(action=CouponAction.certificate, id=ids["gift"]).pack())
    assert masha.alerts()[-1] == "Этот подарочный сертификат больше недоступен."
    assert "32,50" not in masha.last_text
    # and the owner still has it
    await alex.press("🎟 Coupons")
    await alex.press("2")
    assert "Xiaomi" in alex.last_text


async def test_code_flow_survives_a_restart_and_cancel(app: App, alex: Player) -> None:
    await alex.send("/start")
    await alex.press("🎟 Coupons")
    await alex.press("🔑 Enter a code")
    await app.restart()
    await alex.send("NOPE1234")
    assert alex.last_text.startswith("There is no such code.")
    await alex.press("✖ Cancel")
    assert alex.last_text.startswith("Cancelled. Nothing was saved.")
    await alex.send("NOPE1234")
    assert "I respond to buttons and commands" in alex.last_text


async def test_coupon_reminders_are_a_notification_kind(app: App, alex: Player) -> None:
    await alex.send("/settings")
    await alex.press("🔔 Notifications")
    assert "✅ Coupons about to expire" in [t for t, _ in alex.buttons()]
    await alex.press("✅ Coupons about to expire")
    assert "🔕 Coupons about to expire" in [t for t, _ in alex.buttons()]


async def test_an_old_button_leaves_the_code_flow(app: App, alex: Player) -> None:
    await alex.send("/start")
    await _fill_wallet(app, alex)
    await alex.press("🎟 Coupons")
    wallet = alex.last
    await alex.send("/menu")
    await alex.press("🎟 Coupons")
    await alex.press("🔑 Enter a code")
    _, data = next((t, d) for t, d in alex.buttons(wallet) if t == "2")
    await alex.press_data(data, wallet)  # a number on the older wallet message
    assert "Only in " in (alex.log.messages[wallet.message_id].text or "")
    await alex.send("NOPE1234")
    assert "I respond to buttons and commands" in alex.last_text


async def test_a_new_buyers_coupon_says_it_is_not_for_a_buyer_who_has_ordered(app: App, user: Player,
                                                                              lang: str) -> None:
    """Checkout never offers a first-order coupon to someone who has paid an order: its card says so
    instead of "applied at checkout"."""
    from bot.services.orders import Status
    from tests.orderkit import make_order

    await user.send("/start")
    coupon = await _grant(app, user, _terms(app, new_buyers_only=True, title="Welcome gift"))
    active, not_for_you = {"en": ("🟢 Active:", "🚫 Not for you: it is for a buyer's first order"),
                           "ru": ("🟢 Применяется при оформлении заказа", "🚫 Не для вас: этот купон — на первый заказ")}[lang]
    await user.press_data(CouponCb(action=CouponAction.coupon, id=coupon).pack())
    assert active in user.last_text and not_for_you not in user.last_text  # no paid order yet: theirs
    await make_order(app.services, app.clock, user.user.id, Status.awaiting_shipment)
    await user.press_data(CouponCb(action=CouponAction.coupon, id=coupon).pack())
    assert not_for_you in user.last_text and active not in user.last_text
