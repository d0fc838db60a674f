"""Free-text fields × screens for injection (issue 15, "The figures").

Every free-text value a user types that the bot stores and shows again (typed through the real
Dispatcher), and every text that reaches the screens from the shop side (operator commands and
services: store names, item titles and options, track numbers, tracking event locations, seller
notes and replies, coupon titles, the order's address), is filled with a hostile payload: Telegram
HTML, a closing tag with a link, an entity, a script tag, 300 characters, emoji, right-to-left
text, zero-width characters, braces and `%s`, quotes. Each field gets its own short tag in front
of the payload ("Qc …"), so a screen is credited with a field only when that field's own value is
on it. Then every screen where the value can appear is visited and each render is checked: its HTML
is what Telegram accepts (the fake Telegram refuses the rest, as the last tests here show), the
value shows literally (escaped: its markup is text, not tags), at most 4,096 characters, and no
error reached the error handler (the `app` fixture fails the test otherwise). A field that refuses
the input (angle brackets in an address, anything but Latin letters in a cardholder's name)
answers politely and stays at its step.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import text as sql

from bot.config import Settings
from bot.db import outbox as outbox_repo
from bot.db.coupons import Scope, Terms, ValueKind
from bot.fakebot import FakeSession, Player, TelegramHtml
from bot.integrations.carrier import CarrierEvent
from bot.services.addresses import phone_example
from bot.services.clock import FakeClock
from bot.services.disputes import SellerAnswer
from bot.services.errors import InvalidInput
from bot.services.orders import AddressSnapshot, NewItem
from bot.services.refunds import CardSnapshot
from bot.views.common import Fmt
from bot.views.pushes import render_one
from tests.conftest import TEST_FINGERPRINT_KEY, App
from tests.figures import report

TELEGRAM_LIMIT = 4096

PAYLOADS: dict[str, str] = {
    "tags": "<b>x</b> bold",
    "closing tag and link": '</code><a href="tg://user?id=1">x</a> link',
    "entity": "Tom &amp; Jerry &lt;3",
    "script": "<script>alert(1)</script> shop",
    "300 characters": ("Grand <Store> & {Sons} %s " * 12)[:300],
    "emoji": "Café 🚀👩‍👩‍👧 Ünïcødé",
    "right-to-left": "متجر الأمل \u202egnp.exe",
    "zero-width": "Zero\u200bWidth\u200d Joiner\ufeff Text",
    "format string": "{name} {0} {x!r} %s %d %(n)s",
    "quotes": "O'Neil \"quoted\" back\\slash",
}

# every free-text field, and the tag its value starts with (letters only: a name field takes them)
FIELDS = {
    "first name": "Qa",
    "address recipient": "Qb", "address region": "Qc", "address city": "Qd", "address street": "Qe",
    "address apartment": "Qf", "address postal code": "Qg",
    "cardholder name": "Qh", "dispute description": "Qi", "review text": "Qj",
    "additional review": "Qk", "order search": "Ql", "coupon code": "Qm", "time zone": "Qn",
    "store name": "Qo", "item title": "Qp", "item option name": "Qq", "item option value": "Qr",
    "order number": "Qs", "track number": "Qt", "tracking event location": "Qu",
    "tracking event description": "Qv", "delivery location": "Qw", "seller note": "Qx",
    "seller reply": "Qy", "order recipient": "Qz", "order phone": "QA", "order street": "QB",
    "order city": "QC", "order region": "QD", "order postcode": "QE", "coupon title": "QF",
    "coupon store name": "QG", "coupon category": "QH", "certificate title": "QI",
}

TAG = re.compile(r"<[^>]*>")


def visible(text: str) -> str:
    """What a reader sees of a Telegram HTML text."""
    return html.unescape(TAG.sub("", text))


def mentions(text: str, value: str) -> bool:
    """The text carries (the start of) the value: escaped, or raw (as markup would be)."""
    head = value.strip()[:6]
    return head in text or head in visible(text)


def ok_html(text: str) -> None:
    assert not TelegramHtml.problems_of(text), text
    assert len(text) <= TELEGRAM_LIMIT, len(text)


@dataclass
class Probe:
    """Counts and checks renders: which field was seen on which screen."""

    payload_name: str
    renders: int = 0
    pairs: set[tuple[str, str]] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    buttons: int = 0  # button labels with a field's value, checked to be plain text

    def shows(self, text: str, value: str, *, where: str, what: str) -> None:
        """`value` is on this screen literally: as text, not as markup (a long value may be cut
        short, and then ends with "…")."""
        ok_html(text)
        value = value.strip()
        seen = visible(text)
        if value not in seen:
            cut = next((n for n in range(len(value) - 1, 9, -1) if value[:n].rstrip() + "…" in seen), None)
            assert cut is not None, f"{what} ({self.payload_name}) not shown literally on {where}:\n{text}"
        self.renders += 1
        self.pairs.add((what, where))


def kept_markup(sent: str, stored: str) -> None:
    """The stored value kept the markup characters (escaped on screen, not stripped on the way
    in), so the checks test escaping."""
    for ch in "<>&{}%\"'":
        if ch in sent:
            assert ch in stored, (sent, stored)


async def state_of(app: App, p: Player) -> str | None:
    return await app.dp.fsm.get_context(bot=app.bot, chat_id=p.user.id, user_id=p.user.id).get_state()


async def typed(app: App, p: Player, probe: Probe, what: str, value: str, fallback: str | None) -> bool:
    """Type `value` at the current step. When the step refuses it, the refusal is polite (valid
    HTML, no "Something went wrong") and the flow stays at the step; then `fallback` is typed and
    moves it on. True when the value was taken."""
    before = await state_of(app, p)
    assert before is not None
    sent = len(p.bot_messages)
    await p.send(value)
    if await state_of(app, p) != before:
        return True
    if what == "order search" and p.last_text.startswith("<b>Search</b>"):
        return True  # searched: a search stays open after "Nothing found", so a new word searches again
    assert len(p.bot_messages) > sent or p.last.edit_date, "a refusal has an answer"
    ok_html(p.last_text)
    assert "Something went wrong" not in p.last_text, p.last_text  # a reason, not the generic error
    probe.refused.add(what)
    if fallback is not None:
        await p.send(fallback)
        searched = what == "order search" and p.last_text.startswith("<b>Search</b>")
        assert searched or await state_of(app, p) != before, (before, value, p.last_text)
    return False


# -- the scenario ------------------------------------------------------------------------------
async def run(app: App, name: str, payload: str) -> Probe:
    probe = Probe(name)
    services, clock = app.services, app.clock

    def v(what: str, limit: int | None = None) -> str:
        value = f"{FIELDS[what]} {payload}"
        return value[:limit] if limit else value

    async def column(query: str, **params: object) -> str:
        async with services.db.read() as conn:
            return (await conn.execute(sql(query), params)).scalar_one()

    p = app.player(1001, first_name=v("first name", 64), language_code="en", username="buyer")

    # Telegram's first name: the greeting
    await p.send("/start")
    probe.shows(p.last_text, v("first name", 64), where="main menu", what="first name")

    # -- the address book (typed) --------------------------------------------------------------
    await p.press("📍 Shipping addresses")
    await p.press("➕ Add an address")
    await p.send("Belarus")  # its regions are free text
    took = {
        "address recipient": await typed(app, p, probe, "address recipient", v("address recipient"), "Ivan Petrov"),
    }
    await p.send(phone_example("BY"))
    took["address region"] = await typed(app, p, probe, "address region", v("address region"), "Minsk Region")
    took["address city"] = await typed(app, p, probe, "address city", v("address city"), "Minsk")
    took["address street"] = await typed(app, p, probe, "address street", v("address street"), "Lenina 1")
    took["address apartment"] = await typed(app, p, probe, "address apartment", v("address apartment", 20), "12")
    took["address postal code"] = await typed(app, p, probe, "address postal code", v("address postal code", 12),
                                              "220030")
    summary = p.last_text
    await p.press("✅ Save")
    saved = p.last_text
    (address,) = await services.addresses.list(p.user.id)
    stored = {"address recipient": address.recipient, "address region": address.region,
              "address city": address.city, "address street": address.street,
              "address apartment": address.apartment, "address postal code": address.postal_code}
    address_fields = {what: value for what, value in stored.items() if took[what]}
    for what, value in address_fields.items():
        kept_markup(v(what, 20 if what == "address apartment" else None), value)
        probe.shows(summary, value, where="address summary", what=what)
        probe.shows(saved, value, where="address card", what=what)
    await p.send("/menu")
    await p.press("📍 Shipping addresses")
    for what, value in address_fields.items():  # one line: recipient, city (or region), street
        if what in ("address recipient", "address city", "address street"):
            probe.shows(p.last_text, value, where="address list", what=what)
    await p.press("1. ")
    await p.press("🗑 Delete")
    for what, value in address_fields.items():
        probe.shows(p.last_text, value, where="address delete confirmation", what=what)
    await p.press("‹ No, keep it")
    await p.press("✏️ Edit")  # the summary, then each field's step (its "Keep") and back
    for what, labels in (("address recipient", ("✏️ Recipient",)), ("phone", ("✏️ Phone",)),
                         ("address region", ("✏️ Region", "✏️ State")), ("address city", ("✏️ City",)),
                         ("address street", ("✏️ Street and house",)), ("address apartment", ("✏️ Apartment",)),
                         ("address postal code", ("✏️ Postal code", "✏️ ZIP code"))):
        if what not in address_fields:
            continue
        probe.shows(p.last_text, address_fields[what], where="address edit summary", what=what)
        await p.press(next(label for label, _ in p.buttons() if label in labels))
        probe.shows(p.last_text, address_fields[what], where="address edit step", what=what)
        await p.press("✅ Keep")
    assert "✅ Save" in [label for label, _ in p.buttons()]
    await p.send("/cancel")

    # -- the shop side: a store, items with options, the order's own address, tracking --------
    with pytest.raises(InvalidInput):  # an order number is letters, digits and dashes only
        await services.orders.create(user_id=p.user.id, store_id=await services.orders.ensure_store("Any"),
                                     items=[NewItem("Lamp", 1, 1000)], currency="USD", number=v("order number"))
    probe.refused.add("order number")
    store_id = await services.orders.ensure_store(v("store name"))
    title, option = v("item title"), (v("item option name", 40), v("item option value", 40))
    snapshot = AddressSnapshot(recipient=v("order recipient"), phone=v("order phone", 32), street=v("order street"),
                               city=v("order city"), region=v("order region"), postal_code=v("order postcode", 12),
                               country="US")
    shipped = await services.orders.create(
        user_id=p.user.id, store_id=store_id, items=[NewItem(title, 1, 2599, (option,)), NewItem("Cable", 1, 450)],
        currency="USD", shipping_minor=300, address=snapshot)
    book = address
    booked = await services.orders.create(
        user_id=p.user.id, store_id=store_id, items=[NewItem(title, 1, 1000)], currency="USD",
        address=replace(AddressSnapshot.of(book), street=", ".join(x for x in (book.street, book.apartment) if x),
                                apartment=""),
        address_id=book.id)  # as the operator's `order create --address-id` copies it
    clock.advance(minutes=5)
    for order in (shipped, booked):
        await services.orders.mark_paid(p.user.id, order.id, CardSnapshot(None, "Visa", "4242", 12, 2030))
    clock.advance(hours=1)
    await services.orders.ship(p.user.id, shipped.id, v("track number", 60))
    await services.orders.ship(p.user.id, booked.id, "LP000000002CN")
    clock.advance(hours=1)
    await services.orders.add_tracking_event(p.user.id, shipped.id, CarrierEvent(
        clock.now(), "held_at_depot", v("tracking event location"), v("tracking event description")))
    await services.orders.deliver(p.user.id, booked.id, v("delivery location"))
    shop = {
        "store name": await column("SELECT name FROM stores WHERE id = :i", i=store_id),
        "item title": await column("SELECT title FROM order_items WHERE order_id = :o AND position = 1",
                                   o=shipped.id),
        "item option name": option[0], "item option value": option[1],
        "track number": await column("SELECT track_number FROM orders WHERE id = :o", o=shipped.id),
        "tracking event location": await column(
            "SELECT location FROM tracking_events WHERE order_id = :o AND code = 'held_at_depot'", o=shipped.id),
        "tracking event description": await column(
            "SELECT description FROM tracking_events WHERE order_id = :o AND code = 'held_at_depot'", o=shipped.id),
        "delivery location": await column(
            "SELECT location FROM tracking_events WHERE order_id = :o AND code = 'delivered'", o=booked.id),
    }
    for what, value in shop.items():
        kept_markup(v(what).upper() if what == "track number" else v(what), value)
    order_snapshot = {"order recipient": snapshot.recipient, "order phone": snapshot.phone,
                      "order street": snapshot.street, "order city": snapshot.city,
                      "order region": snapshot.region, "order postcode": snapshot.postal_code}

    await p.send("/menu")
    await p.press("📦 My orders")
    for what in ("item title",):
        probe.shows(p.last_text, shop[what], where="orders list", what=what)
    await p.press("1")  # the newest: the one shipped to the address book's entry
    for what, value in address_fields.items():
        probe.shows(p.last_text, value, where="order card", what=what)
    await p.press("📍 Track parcel")
    probe.shows(p.last_text, shop["delivery location"], where="tracking", what="delivery location")
    await p.send("/menu")
    await p.press("📦 My orders")
    await p.press("2")
    card = p.last_text
    for what in ("store name", "item title", "item option name", "item option value", "track number"):
        probe.shows(card, shop[what], where="order card", what=what)
    for what, value in order_snapshot.items():
        probe.shows(card, value, where="order card", what=what)
    await p.press("📍 Track parcel")
    for what in ("track number", "tracking event location", "tracking event description"):
        probe.shows(p.last_text, shop[what], where="tracking", what=what)

    # -- order search (typed) ---------------------------------------------------------------
    await p.send("/menu")
    await p.press("📦 My orders")
    await p.press("🔍 Search")
    if await typed(app, p, probe, "order search", v("order search"), "Lamp"):
        probe.shows(p.last_text, v("order search"), where="search results", what="order search")
    await p.press("🔍 New search")
    await p.send(payload[:40])  # the item's own words find it
    probe.shows(p.last_text, payload[:40], where="search results", what="order search")
    probe.shows(p.last_text, shop["item title"], where="search results", what="item title")

    # -- a dispute (typed description; the seller's note) ------------------------------------
    clock.advance(days=2)
    await p.send("/menu")
    await p.press("📦 My orders")
    await p.press("2")
    await p.press("⚠️ Open a dispute")
    await p.press("Damaged or doesn't work")
    await p.send(v("dispute description"))
    await p.press("Full refund")
    await p.press("➡️ Continue")
    probe.shows(p.last_text, v("dispute description"), where="dispute summary", what="dispute description")
    await p.press("✏️ Description")
    probe.shows(p.last_text, v("dispute description")[:200], where="dispute description step",
                what="dispute description")
    await p.send(v("dispute description"))
    await p.press("📨 Submit the dispute")
    dispute = await services.disputes.for_order_number(shipped.number)
    kept_markup(v("dispute description"), dispute.description)
    probe.shows(p.last_text, dispute.description, where="dispute card", what="dispute description")
    probe.shows(p.last_text, shop["store name"], where="dispute card", what="store name")
    await services.disputes.seller_answer(dispute.id, SellerAnswer.reject, note=v("seller note"))
    await p.send("/menu")
    await p.press("↩️ Returns & disputes")
    await p.press("1")
    probe.shows(p.last_text, v("seller note"), where="dispute card", what="seller note")
    await services.disputes.decide(dispute.id, 0)

    # -- a review (typed text and additional review; the seller's reply) ----------------------
    clock.advance(days=1)
    await services.orders.confirm_receipt(p.user.id, booked.id)
    await p.send("/menu")
    await p.press("⭐ Reviews")
    await p.press("✍️ Awaiting review")
    for what in ("item title", "store name"):
        probe.shows(p.last_text, shop[what], where="awaiting review list", what=what)
    await p.press("1. ✍️")
    probe.shows(p.last_text, shop["item title"], where="review step", what="item title")
    await p.press("5")
    await p.send(v("review text"))
    await p.press("✅ Done")
    probe.shows(p.last_text, v("review text"), where="review summary", what="review text")
    await p.press("✏️ Text")
    probe.shows(p.last_text, v("review text"), where="review text step", what="review text")
    await p.press("Keep ›")
    await p.press("📣 Publish")
    probe.shows(p.last_text, v("review text"), where="review card", what="review text")
    probe.shows(p.last_text, shop["store name"], where="review card", what="store name")
    await p.press("➕ Additional review")
    await p.send(v("additional review"))
    await p.press("✅ Done")
    probe.shows(p.last_text, v("additional review"), where="review summary", what="additional review")
    await p.press("📣 Publish")
    probe.shows(p.last_text, v("additional review"), where="review card", what="additional review")
    review_id = int(await column("SELECT id FROM reviews"))
    await services.reviews.seller_reply(review_id, v("seller reply"))
    await p.send("/menu")
    await p.press("⭐ Reviews")
    await p.press("🗂 My reviews")
    for what in ("review text", "additional review", "seller reply"):
        probe.shows(p.last_text, v(what), where="my reviews list", what=what)
    await p.press("1. ")
    for what in ("review text", "additional review", "seller reply"):
        probe.shows(p.last_text, v(what), where="review card", what=what)

    # -- coupons and a gift certificate (shop side); a typed code -----------------------------
    now = clock.now()
    month = now + timedelta(days=30)
    await services.coupons.grant([p.user.id], Terms(
        Scope.store, ValueKind.amount, "USD", now, month, amount_minor=500, store_id=store_id,
        store_name=v("coupon store name"), title=v("coupon title")))
    await services.coupons.grant([p.user.id], Terms(
        Scope.platform, ValueKind.percent, "USD", now, month + timedelta(days=1), percent=10, cap_minor=1000,
        category="phones", category_name=v("coupon category")))
    await services.coupons.grant_certificate(p.user.id, amount_minor=1000, currency="USD", valid_to=month,
                                             title=v("certificate title"))
    coupons = ("coupon store name", "coupon title", "coupon category", "certificate title")
    await p.send("/menu")
    await p.press("🎟 Coupons")
    wallet = p.last
    for what in coupons:
        probe.shows(wallet.text or "", v(what), where="coupon wallet", what=what)
    opened: set[str] = set()
    for label, data in p.buttons(wallet):
        if label.isdigit():
            await p.press_data(data, wallet)
            for what in coupons:
                if mentions(p.last_text, v(what)):
                    probe.shows(p.last_text, v(what), where="coupon or certificate card", what=what)
                    opened.add(what)
    assert opened == set(coupons), opened
    await p.send("/menu")
    await p.press("🎟 Coupons")
    await p.press("🔑 Enter a code")
    # a typed code is looked up, not shown: it is refused (no such code) and the step stays
    assert not await typed(app, p, probe, "coupon code", v("coupon code"), None)
    await p.send("/cancel")

    # -- the cardholder's name (typed) ---------------------------------------------------------
    await p.send("/menu")
    await p.press("💳 Bank cards")
    await p.press("➕ Add a card")
    await p.send("4242 4242 4242 4242")
    await p.send("12/29")
    if await typed(app, p, probe, "cardholder name", v("cardholder name"), "Qh O'Neil-Smith Jr."):
        raise AssertionError(f"a cardholder's name took {payload!r}")  # Latin letters only
    # what it takes (Latin letters, apostrophes, dots) is shown, escaped, on every card screen
    holder = "QH O'NEIL-SMITH JR."
    probe.shows(p.last_text, holder, where="new card summary", what="cardholder name")
    await p.send("123")
    probe.shows(p.last_text, holder, where="cards list", what="cardholder name")
    await p.press("Visa •••• 4242")
    probe.shows(p.last_text, holder, where="card", what="cardholder name")

    # -- the time zone (typed): looked up, never shown as typed ----------------------------------
    await p.send("/settings")
    await p.press("🕒 Time zone")
    await p.press("⌨️ Type a zone")
    assert not await typed(app, p, probe, "time zone", v("time zone"), "Europe/London")

    # -- pushes: as delivered, every one as it renders, and in the message centre ---------------
    f = Fmt(services.i18n, "en", "UTC")
    async with services.db.read() as conn:
        rows = await outbox_repo.for_user(conn, p.user.id)
    for row in rows:  # also those due later, or dropped
        screen = render_one(row.kind, row.payload, f).screen
        ok_html(screen.text)
        for what in FIELDS:
            values = {x for x in row.payload.values() if isinstance(x, str) and x.startswith(FIELDS[what] + " ")}
            for value in values:
                if mentions(screen.text, value):
                    probe.shows(screen.text, value, where=f"push: {row.kind}", what=what)
    await p.send("/menu")
    await p.press("🔔 Messages")
    centre = p.last
    entries = [data for _, data in p.buttons(centre) if data.startswith("msg:o:")]
    assert entries
    for data in entries:
        await p.press_data(data, centre)
        for what, tag in FIELDS.items():
            if f"{tag} " in visible(p.last_text) or f"{tag} " in p.last_text:
                start = visible(p.last_text).find(f"{tag} ")
                assert start >= 0, p.last_text  # a tag in the raw text but not on screen: markup
                probe.shows(p.last_text, v(what), where="message centre", what=what)
    return probe


def button_labels(session: FakeSession) -> list[str]:
    """Every inline button the bot showed: plain text, which Telegram does not parse."""
    labels = []
    for c in session.calls:
        markup = getattr(c, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            labels += [b.text for row in markup.inline_keyboard for b in row]
    return labels


def plain_shown(label: str, payload: str) -> bool:
    """A button carrying a field's value shows it as typed: not HTML-escaped (buttons are not
    parsed, so "&lt;" would show as such)."""
    return not any(entity in label and entity not in payload
                   for entity in ("&lt;", "&gt;", "&amp;", "&quot;", "&#x27;", "&#39;"))


def all_texts(session: FakeSession) -> list[str]:
    out = []
    for c in session.calls:
        if isinstance(c, SendMessage | EditMessageText):
            out.append(c.text)
        elif isinstance(c, SendPhoto) and c.caption:
            out.append(c.caption)
    return out


async def one_payload(settings: Settings, clock: FakeClock, name: str) -> tuple[Probe, int]:
    """A fresh bot over a fresh database for one payload; returns its probe and how many texts
    the bot sent (each parsed as Telegram would)."""
    app = App(settings, clock)
    app.players = []
    try:
        probe = await run(app, name, PAYLOADS[name])
        assert not app.errors.errors, f"the error handler was called: {app.errors.errors!r}"
        texts = all_texts(app.session)
        for text in texts:  # everything the bot sent, also the screens between the checks above
            ok_html(text)
        tagged = [label for label in button_labels(app.session) if any(f"{tag} " in label for tag in FIELDS.values())]
        assert tagged
        for label in tagged:
            assert plain_shown(label, PAYLOADS[name]), label
        probe.buttons += len(tagged)
        alerts = [c.text for c in app.session.calls_of(AnswerCallbackQuery) if c.text]
        assert all(len(alert) <= 200 for alert in alerts), alerts  # Telegram's limit for a toast
    finally:
        await app.close()
    # every field was shown somewhere, or refused the payload politely
    shown = {what for what, _ in probe.pairs}
    assert set(FIELDS) <= shown | probe.refused, set(FIELDS) - shown - probe.refused
    return probe, len(texts)


async def test_every_payload_in_every_field_on_every_screen(
        database_copies: Callable[[Path], str], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    probes: dict[str, Probe] = {}
    failures: dict[str, str] = {}
    parsed = 0
    for name in PAYLOADS:
        settings = Settings(_env_file=None, bot_token=None,  # type: ignore[call-arg]
                            database_url=database_copies(tmp_path), default_locale="en", throttle_rate=0,
                            card_fingerprint_key=TEST_FINGERPRINT_KEY)
        clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
        try:
            probes[name], sent = await one_payload(settings, clock, name)
            parsed += sent
        except AssertionError as failure:
            failures[name] = str(failure)
    fields = {what for probe in probes.values() for what, _ in probe.pairs} | {
        what for probe in probes.values() for what in probe.refused}
    screens = {where for probe in probes.values() for _, where in probe.pairs}
    pairs = {pair for probe in probes.values() for pair in probe.pairs}
    checks = sum(probe.renders for probe in probes.values())
    refusals = sum(len(probe.refused) for probe in probes.values())
    buttons = sum(probe.buttons for probe in probes.values())
    report(request, f"injection: {len(fields)} free-text fields × {len(screens)} screens × {len(PAYLOADS)} "
                    f"payloads, {checks} renders, {len(failures)} failures ({len(pairs)} field–screen "
                    f"pairs; {refusals} polite refusals; {buttons} buttons with a value shown as plain text; "
                    f"all {parsed} texts the bot sent parsed as HTML)")
    assert not failures, "\n\n".join(f"{name}: {text}" for name, text in failures.items())
    assert fields == set(FIELDS)


def test_the_fake_telegram_refuses_what_telegram_refuses() -> None:
    for bad in ("<b>x", "<script>x</script>", "a < b", "Tom & Jerry", "&nbsp;", "</code>x"):
        assert TelegramHtml.problems_of(bad), bad
    for good in ("<b>x</b>", "&lt;b&gt; &amp; &quot;", '<a href="tg://user?id=1">x</a>'):
        assert not TelegramHtml.problems_of(good), good


async def test_the_fake_session_raises_on_invalid_html(app: App) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await app.bot.send_message(1001, "<b>unclosed")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await app.bot.send_message(1001, "<script>alert(1)</script>")
    sent = await app.bot.send_message(1001, html.escape("<script>alert(1)</script>"))
    assert sent.text == "&lt;script&gt;alert(1)&lt;/script&gt;"
