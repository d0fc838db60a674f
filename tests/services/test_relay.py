"""Seller ↔ buyer messages, the domain layer (issue 18): seller invites, conversations through
the user, the buyer's alias, masking, limits, block, pending until a seller is linked, reply
mapping, unread counts and paging. Direct service calls on the fake clock."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.db import outbox as outbox_repo
from bot.services import notifications
from bot.services.orders import OrderNotFound, Status
from bot.services.relay import sellers as sellers_mod
from bot.services.relay.conversations import (
    CONVERSATIONS_PAGE,
    HISTORY_PAGE,
    RATE_LIMIT,
    TEXT_MAX,
    AlbumTooLarge,
    ConversationNotFound,
    EmptyMessage,
    Kind,
    MessageTooLong,
    NotARelayedMessage,
    Outgoing,
    OwnStore,
    Role,
    SenderBlocked,
    TooFast,
    YouBlocked,
)
from bot.services.relay.guard import MASK_REASONS, Masked, guard
from bot.services.relay.pushes import RELAY_KIND
from bot.services.relay.sellers import InviteExpired, InviteUnknown, InviteUsed, NoSuchStore, SellerNotFound
from tests.conftest import App
from tests.orderkit import ensure_user, make_order

BUYER, OTHER_BUYER, SELLER, OTHER_SELLER = 701, 702, 801, 802
NOVA, ZETA = "Nova Electronics", "Zeta Home"


def say(chat: int, text: str, *ids: int) -> Outgoing:
    return Outgoing(Kind.text, chat, ids or (1,), text)


async def order_of(app: App, buyer: int = BUYER, store: str = NOVA) -> int:
    order = await make_order(app.services, app.clock, buyer, Status.shipped, store=store)
    return order.id


async def linked(app: App, store: str = NOVA, seller: int = SELLER) -> int:
    await ensure_user(app.services, seller)
    store_id = await app.services.orders.ensure_store(store)
    invite = await app.services.sellers.invite(store_id)
    await app.services.sellers.redeem(invite.token, seller)
    return store_id


async def relay_rows(app: App, user_id: int) -> list[outbox_repo.OutboxRow]:
    async with app.services.db.read() as conn:
        return await outbox_repo.for_user(conn, user_id, RELAY_KIND.key)


# -- invites --------------------------------------------------------------------------------------
async def test_an_invite_is_random_stored_hashed_and_links_the_account(app: App) -> None:
    await ensure_user(app.services, SELLER)
    store_id = await app.services.orders.ensure_store(NOVA)
    first = await app.services.sellers.invite(store_id)
    second = await app.services.sellers.invite(store_id)
    assert first.token != second.token and len(first.token) >= 22  # ≥ 128 bits, URL-safe
    assert first.expires_at == app.clock.now() + timedelta(hours=24) and first.store == NOVA
    async with app.services.db.read() as conn:
        stored = [r[0] for r in (await conn.execute(text("SELECT token_hash FROM seller_invites"))).all()]
    assert first.token not in stored and hashlib.sha256(first.token.encode()).hexdigest() in stored
    redeemed = await app.services.sellers.redeem("s_" + first.token, SELLER)  # the /start parameter works too
    assert (redeemed.store_id, redeemed.store, redeemed.delivered) == (store_id, NOVA, 0)
    assert [(s.store, s.user_id) for s in await app.services.sellers.list_sellers()] == [(NOVA, SELLER)]
    assert await app.services.sellers.stores_of(SELLER) == [store_id]
    assert sellers_mod.deep_link("@kabinet_bot", first.token) == f"https://t.me/kabinet_bot?start=s_{first.token}"


@pytest.mark.parametrize("opened", ["bare", "start parameter"])
async def test_a_token_that_begins_like_the_prefix_is_redeemed(app: App, monkeypatch: pytest.MonkeyPatch,
                                                                opened: str) -> None:
    """A token is random URL-safe text: one in 4,096 begins with "s_" itself. Given bare or as the
    start parameter ("s_s_…"), it is found (the prefix was once stripped from the bare token)."""
    monkeypatch.setattr(sellers_mod.secrets, "token_urlsafe", lambda n: "s_" + "A" * 22)
    await ensure_user(app.services, SELLER)
    store_id = await app.services.orders.ensure_store(NOVA)
    invite = await app.services.sellers.invite(store_id)
    assert invite.token.startswith("s_")
    given = invite.token if opened == "bare" else sellers_mod.start_parameter(invite.token)
    assert (await app.services.sellers.redeem(given, SELLER)).store_id == store_id


async def test_invites_expired_reused_and_unknown_are_refused(app: App) -> None:
    for user in (SELLER, OTHER_SELLER):
        await ensure_user(app.services, user)
    store_id = await app.services.orders.ensure_store(NOVA)
    invite = await app.services.sellers.invite(store_id)
    await app.services.sellers.redeem(invite.token, SELLER)
    with pytest.raises(InviteUsed):
        await app.services.sellers.redeem(invite.token, OTHER_SELLER)
    again = await app.services.sellers.redeem(invite.token, SELLER)  # their own link, opened again: fine
    assert (again.store_id, again.delivered) == (store_id, 0)
    with pytest.raises(InviteUnknown):
        await app.services.sellers.redeem("not-a-token", OTHER_SELLER)
    with pytest.raises(InviteUnknown):
        await app.services.sellers.redeem("", OTHER_SELLER)
    late = await app.services.sellers.invite(store_id)
    app.clock.advance(hours=23, minutes=59)
    still = await app.services.sellers.invite(store_id)
    app.clock.advance(minutes=1)
    with pytest.raises(InviteExpired):
        await app.services.sellers.redeem(late.token, OTHER_SELLER)
    await app.services.sellers.redeem(still.token, OTHER_SELLER)
    assert {s.user_id for s in await app.services.sellers.list_sellers(store_id)} == {SELLER, OTHER_SELLER}
    with pytest.raises(NoSuchStore):
        await app.services.sellers.invite(999_999)
    await app.services.sellers.remove_seller(store_id, SELLER)
    with pytest.raises(InviteUsed):  # no longer a seller: a used link does not make them one again
        await app.services.sellers.redeem(invite.token, SELLER)


async def test_removing_a_seller(app: App) -> None:
    store_id = await linked(app)
    await linked(app, ZETA)  # the same account sells for another store too
    nova = await app.services.relay.open_for_order(BUYER, await order_of(app))
    zeta = await app.services.relay.open_for_order(BUYER, await order_of(app, store=ZETA))
    await app.services.relay.send(BUYER, nova.id, say(BUYER, "to nova"))
    await app.services.relay.send(BUYER, zeta.id, say(BUYER, "to zeta"))
    # what waits for them about Nova is no longer theirs to read; Zeta's still is
    assert await app.services.sellers.remove_seller(store_id, SELLER) == 1
    left = {r.payload["text"]: (r.state, r.drop_reason) for r in await relay_rows(app, SELLER)}
    assert left == {"to nova": ("dropped", "seller_removed"), "to zeta": ("pending", None)}
    assert [s.store for s in await app.services.sellers.list_sellers()] == [ZETA]
    with pytest.raises(SellerNotFound):
        await app.services.sellers.remove_seller(store_id, SELLER)
    assert await app.services.sellers.store(str(store_id)) == (store_id, NOVA)
    assert await app.services.sellers.store(NOVA) == (store_id, NOVA)


# -- conversations through the user ---------------------------------------------------------------
async def test_a_buyer_opens_a_conversation_on_their_own_order_only(app: App) -> None:
    order_id = await order_of(app)
    other_order = await order_of(app, OTHER_BUYER)
    conv = await app.services.relay.open_for_order(BUYER, order_id)
    assert conv.role == Role.buyer and conv.store == NOVA and conv.order_id == order_id
    assert (await app.services.relay.open_for_order(BUYER, order_id)).id == conv.id  # one per order and store
    with pytest.raises(OrderNotFound):
        await app.services.relay.open_for_order(BUYER, other_order)
    with pytest.raises(OrderNotFound):
        await app.services.relay.open_for_order(BUYER, 10**12)


async def test_forged_conversation_ids_are_not_found_for_anyone_else(app: App) -> None:
    await linked(app)
    await linked(app, ZETA, OTHER_SELLER)
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    await app.services.relay.send(BUYER, conv.id, say(BUYER, "Hello"))
    for user in (OTHER_BUYER, OTHER_SELLER):  # another buyer; the seller of another store
        await ensure_user(app.services, user)
        for call in (
            app.services.relay.conversation(user, conv.id),
            app.services.relay.history(user, conv.id),
            app.services.relay.send(user, conv.id, say(user, "hi")),
            app.services.relay.block(user, conv.id),
            app.services.relay.mark_read(user, conv.id),
        ):
            with pytest.raises(ConversationNotFound):
                await call
    with pytest.raises(ConversationNotFound):
        await app.services.relay.conversation(BUYER, conv.id + 1000)
    with pytest.raises(ConversationNotFound):  # the buyer is not the seller side
        await app.services.relay.conversation(BUYER, conv.id, as_seller=True)
    assert (await app.services.relay.conversation(SELLER, conv.id)).role == Role.seller


async def test_a_seller_sees_only_their_own_stores_conversations(app: App) -> None:
    await linked(app)
    await linked(app, ZETA, OTHER_SELLER)
    nova = await app.services.relay.open_for_order(BUYER, await order_of(app))
    zeta = await app.services.relay.open_for_order(OTHER_BUYER, await order_of(app, OTHER_BUYER, ZETA))
    await app.services.relay.send(BUYER, nova.id, say(BUYER, "About my earbuds"))
    await app.services.relay.send(OTHER_BUYER, zeta.id, say(OTHER_BUYER, "About my lamp"))
    mine = await app.services.relay.conversations(SELLER, as_seller=True)
    assert [c.id for c in mine.rows] == [nova.id] and mine.unread == 1
    theirs = await app.services.relay.conversations(OTHER_SELLER, as_seller=True)
    assert [c.id for c in theirs.rows] == [zeta.id]
    assert [r.user_id for r in await relay_rows(app, SELLER)] == [SELLER]
    assert await relay_rows(app, OTHER_SELLER) and all(
        r.payload["conversation_id"] == zeta.id for r in await relay_rows(app, OTHER_SELLER))


async def test_a_seller_cannot_message_their_own_store_as_a_buyer(app: App) -> None:
    await linked(app)
    order_id = await order_of(app, SELLER)
    with pytest.raises(OwnStore):
        await app.services.relay.open_for_order(SELLER, order_id)


# -- what the seller receives ----------------------------------------------------------------------
async def test_the_alias_never_reveals_the_buyer(app: App) -> None:
    await linked(app)
    await app.services.users.touch(__import__("bot.services.users", fromlist=["Contact"]).Contact(
        BUYER, "Alexandra", "alex_secret", "en"))
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    second = await app.services.relay.open_for_order(BUYER, await order_of(app))
    assert len(conv.alias) == 4 and conv.alias.isalnum() and conv.alias.upper() == conv.alias
    assert conv.buyer_label == f"#{conv.alias}"
    # stable per conversation, and different conversations of one buyer are not linkable by it
    assert (await app.services.relay.conversation(SELLER, conv.id)).alias == conv.alias
    assert second.id != conv.id
    await app.services.relay.send(BUYER, conv.id, Outgoing(Kind.photo, BUYER, (55,), "look", (("photo", "AgACphoto"),)))
    [row] = await relay_rows(app, SELLER)
    flat = repr(row.payload)
    for secret in (str(BUYER), "Alexandra", "alex_secret"):
        assert secret not in flat
    assert row.payload["alias"] == conv.alias and row.payload["to"] == "seller"
    assert row.payload["media"] == [["photo", "AgACphoto"]] and row.payload["kind"] == "photo"
    history = await app.services.relay.history(SELLER, conv.id)
    assert history.conversation.alias == conv.alias and not hasattr(history.conversation, "buyer_id")


async def test_relayed_messages_are_never_held_by_quiet_hours(app: App) -> None:
    assert not notifications.get(RELAY_KIND.key).held  # type: ignore[union-attr]
    assert RELAY_KIND.label == ""  # no toggle: a conversation can't be muted into losing messages
    await linked(app)
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    app.clock.set(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))  # 02:00 UTC: inside the default 22–9
    await app.services.relay.send(BUYER, conv.id, say(BUYER, "Are you there?"))
    claimed = await app.services.outbox.claim(app.clock.now(), limit=10, lease=timedelta(minutes=1))
    jobs = [j for j in claimed.jobs if j.rows[0].kind == RELAY_KIND.key]
    assert claimed.held == 0 and [j.chat_id for j in jobs] == [SELLER] and not jobs[0].reminder


# -- protection -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected", "masked"), [
    ("My card 4111 1111 1111 1111, charge it", "My card •••• •••• •••• ••••, charge it", {Masked.card}),
    ("карта 4111-1111-1111-1111 05/28", "карта ••••-••••-••••-•••• ••/28", {Masked.card}),  # the run, month too
    ("The code is 482913", "The code is ••••••", {Masked.code}),
    ("SMS: 1234", "SMS: ••••", {Masked.code}),
    ("Ваш код: 5521", "Ваш код: ••••", {Masked.code}),
    ("пароль из смс — 123 456", "пароль из смс — ••• •••", {Masked.code}),
    ("Скажите код из СМС 90817", "Скажите код из СМС •••••", {Masked.code}),
    ("card 4111111111111111 and code 7788", "card •••••••••••••••• and code ••••", {Masked.card, Masked.code}),
])
def test_card_numbers_and_codes_are_masked(raw: str, expected: str, masked: set[Masked]) -> None:
    result = guard(raw)
    assert result.text == expected and result.masked == masked
    assert result.reasons == [MASK_REASONS[k] for k in Masked if k in masked]


@pytest.mark.parametrize("raw", [
    "Order 7000042 arrived on 12.12.2026", "Call me at +86 138 0013 8000", "Code 12 is fine",
    "The tracking number is LP000000042CN", "barcode 12345678", "кодекс 1234",
])
def test_ordinary_numbers_stay(raw: str) -> None:
    assert guard(raw).text == raw and not guard(raw).masked


async def test_send_masks_and_says_why(app: App) -> None:
    await linked(app)
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    sent = await app.services.relay.send(BUYER, conv.id, say(BUYER, "Пришёл код 4455, карта 4111 1111 1111 1111"))
    assert sent.masked == {Masked.card, Masked.code} and len(sent.reasons) == 2
    assert "4455" not in sent.message.text and "4111" not in sent.message.text
    [row] = await relay_rows(app, SELLER)
    assert "4455" not in row.payload["text"] and "1111" not in row.payload["text"]
    caption = await app.services.relay.send(SELLER, conv.id, Outgoing(
        Kind.document, SELLER, (9,), "Pay to 5500 0000 0000 0004", (("document", "BQAD"),)))
    assert caption.masked == {Masked.card} and caption.message.text == "Pay to •••• •••• •••• ••••"
    assert caption.message.masked == {Masked.card} and caption.message.media == (("document", "BQAD"),)
    clean = await app.services.relay.send(BUYER, conv.id, say(BUYER, "Thanks!"))
    assert not clean.masked and clean.reasons == ()


async def test_the_rate_limit_is_per_sender_and_conversation(app: App) -> None:
    await linked(app)
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    other = await app.services.relay.open_for_order(BUYER, await order_of(app))
    for i in range(RATE_LIMIT):
        await app.services.relay.send(BUYER, conv.id, say(BUYER, f"message {i}", 100 + i))
        app.clock.advance(seconds=1)
    with pytest.raises(TooFast):
        await app.services.relay.send(BUYER, conv.id, say(BUYER, "one more", 200))
    await app.services.relay.send(BUYER, other.id, say(BUYER, "another order", 201))  # another conversation
    await app.services.relay.send(SELLER, conv.id, say(SELLER, "the seller may answer", 7))  # another sender
    app.clock.advance(seconds=41)  # the first message is now more than a minute old
    await app.services.relay.send(BUYER, conv.id, say(BUYER, "now it goes", 202))


async def test_size_limits(app: App) -> None:
    await linked(app)
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    with pytest.raises(MessageTooLong) as too_long:
        await app.services.relay.send(BUYER, conv.id, say(BUYER, "x" * (TEXT_MAX + 1)))
    assert too_long.value.params == {"max": TEXT_MAX, "length": TEXT_MAX + 1}
    with pytest.raises(EmptyMessage):
        await app.services.relay.send(BUYER, conv.id, say(BUYER, "   "))
    with pytest.raises(AlbumTooLarge):
        await app.services.relay.send(BUYER, conv.id, Outgoing(
            Kind.album, BUYER, tuple(range(11)), "", tuple(("photo", f"p{i}") for i in range(11))))
    sent = await app.services.relay.send(BUYER, conv.id, say(BUYER, "x" * TEXT_MAX))
    assert len(sent.message.text) == TEXT_MAX


async def test_block_by_either_side(app: App) -> None:
    await linked(app)
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    blocked = await app.services.relay.block(SELLER, conv.id)
    assert blocked.blocked_by_me and not blocked.blocked_by_other
    assert (await app.services.relay.conversation(BUYER, conv.id)).blocked_by_other
    with pytest.raises(SenderBlocked):
        await app.services.relay.send(BUYER, conv.id, say(BUYER, "hello?"))
    with pytest.raises(YouBlocked):
        await app.services.relay.send(SELLER, conv.id, say(SELLER, "hi"))
    assert await relay_rows(app, SELLER) == []  # nothing was stored or queued
    assert (await app.services.relay.history(BUYER, conv.id)).total == 0
    await app.services.relay.unblock(SELLER, conv.id)
    await app.services.relay.block(BUYER, conv.id)
    with pytest.raises(SenderBlocked):
        await app.services.relay.send(SELLER, conv.id, say(SELLER, "hi"))
    await app.services.relay.unblock(BUYER, conv.id)
    await app.services.relay.unblock(BUYER, conv.id)  # twice: no change
    await app.services.relay.send(SELLER, conv.id, say(SELLER, "hi"))
    assert [r.payload["text"] for r in await relay_rows(app, BUYER)] == ["hi"]


# -- a store without a seller -----------------------------------------------------------------------
async def test_messages_wait_for_a_seller_and_go_out_when_one_is_linked(app: App) -> None:
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    first = await app.services.relay.send(BUYER, conv.id, say(BUYER, "Is anyone there?", 1))
    second = await app.services.relay.send(BUYER, conv.id, Outgoing(
        Kind.album, BUYER, (2, 3), "the box", (("photo", "p1"), ("photo", "p2"))))
    assert first.pending and second.pending and first.recipients == 0
    async with app.services.db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM outbox WHERE kind = 'relay'"))).scalar() == 0
    await ensure_user(app.services, SELLER)
    store_id = await app.services.orders.ensure_store(NOVA)
    invite = await app.services.sellers.invite(store_id)
    redeemed = await app.services.sellers.redeem(invite.token, SELLER)
    assert redeemed.delivered == 2
    rows = await relay_rows(app, SELLER)
    assert [r.payload["message_id"] for r in rows] == [first.message.id, second.message.id]
    assert first.message.mine and first.message.kind == Kind.text
    assert rows[1].payload["media"] == [["photo", "p1"], ["photo", "p2"]]
    assert "source_message_ids" not in rows[1].payload and str(BUYER) not in repr(rows[1].payload)
    # now linked: the next message goes out at once
    third = await app.services.relay.send(BUYER, conv.id, say(BUYER, "Thanks", 4))
    assert not third.pending and third.recipients == 1
    # a second seller linked later gets nothing twice
    await ensure_user(app.services, OTHER_SELLER)
    again = await app.services.sellers.redeem((await app.services.sellers.invite(store_id)).token, OTHER_SELLER)
    assert again.delivered == 0


# -- replies ----------------------------------------------------------------------------------------
async def test_a_native_reply_finds_its_conversation_through_the_user(app: App) -> None:
    await linked(app)
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    other = await app.services.relay.open_for_order(OTHER_BUYER, await order_of(app, OTHER_BUYER))
    sent = await app.services.relay.send(BUYER, conv.id, say(BUYER, "Where is it?", 501))
    # delivery sends the push to the seller and reports where its copy is (Telegram's message id)
    claimed = await app.services.outbox.claim(app.clock.now(), limit=10, lease=timedelta(seconds=60))
    (job,) = [j for j in claimed.jobs
              if j.chat_id == SELLER and j.rows[0].payload.get("message_id") == sent.message.id]
    await app.services.outbox.sent(job, app.clock.now(), 9001)
    await app.services.relay.send(OTHER_BUYER, other.id, say(OTHER_BUYER, "Hi", 601))
    found = await app.services.relay.conversation_for_reply(SELLER, SELLER, 9001)
    assert (found.id, found.role) == (conv.id, Role.seller)
    mine = await app.services.relay.conversation_for_reply(BUYER, BUYER, 501)  # a reply to one's own message
    assert (mine.id, mine.role) == (conv.id, Role.buyer)
    with pytest.raises(NotARelayedMessage):  # not a relayed message
        await app.services.relay.conversation_for_reply(SELLER, SELLER, 9002)
    with pytest.raises(NotARelayedMessage):  # someone else's chat and message: never theirs
        await app.services.relay.conversation_for_reply(BUYER, OTHER_BUYER, 601)
    await app.services.sellers.remove_seller((await app.services.sellers.store(NOVA))[0], SELLER)
    with pytest.raises(NotARelayedMessage):  # no longer the store's seller
        await app.services.relay.conversation_for_reply(SELLER, SELLER, 9001)


# -- unread counts and paging -----------------------------------------------------------------------
async def test_unread_counts_and_the_list_by_last_activity(app: App) -> None:
    await linked(app)
    a = await app.services.relay.open_for_order(BUYER, await order_of(app))
    b = await app.services.relay.open_for_order(BUYER, await order_of(app))
    unused = await app.services.relay.open_for_order(BUYER, await order_of(app))
    await app.services.relay.send(BUYER, a.id, say(BUYER, "first"))
    app.clock.advance(minutes=1)
    await app.services.relay.send(BUYER, b.id, say(BUYER, "second"))
    app.clock.advance(minutes=1)
    await app.services.relay.send(SELLER, a.id, say(SELLER, "answer one"))
    await app.services.relay.send(SELLER, a.id, say(SELLER, "answer two"))
    buyer = await app.services.relay.conversations(BUYER)
    assert [(c.id, c.unread) for c in buyer.rows] == [(a.id, 2), (b.id, 0)] and unused.id not in {
        c.id for c in buyer.rows}
    assert buyer.unread == 2 and buyer.rows[0].last_text == "answer two" and buyer.rows[0].last_direction == "to_buyer"
    seller = await app.services.relay.conversations(SELLER, as_seller=True)
    # the seller answered in a: whoever writes has read what came before
    assert [(c.id, c.unread) for c in seller.rows] == [(a.id, 0), (b.id, 1)] and seller.unread == 1
    assert await app.services.relay.mark_read(BUYER, a.id) == 2
    assert await app.services.relay.unread(BUYER) == 0
    assert await app.services.relay.unread(SELLER, as_seller=True) == 1  # the seller's side is separate
    await app.services.relay.mark_read(SELLER, b.id)
    assert [(c.id, c.unread) for c in (await app.services.relay.conversations(SELLER, as_seller=True)).rows] == [
        (a.id, 0), (b.id, 0)]


async def test_conversations_and_history_are_paged(app: App) -> None:
    await linked(app)
    ids = []
    for _ in range(CONVERSATIONS_PAGE + 1):
        conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
        await app.services.relay.send(BUYER, conv.id, say(BUYER, f"about {conv.order_number}"))
        ids.append(conv.id)
        app.clock.advance(seconds=5)
    first = await app.services.relay.conversations(BUYER)
    last = await app.services.relay.conversations(BUYER, page=99)  # clamped
    assert (first.total, first.pages, len(first.rows)) == (CONVERSATIONS_PAGE + 1, 2, CONVERSATIONS_PAGE)
    assert [c.id for c in first.rows + last.rows] == ids[::-1] and last.page == 1
    conv_id = ids[0]
    for i in range(HISTORY_PAGE + 2):
        app.clock.advance(seconds=5)
        await app.services.relay.send(SELLER if i % 2 else BUYER, conv_id, say(0, f"line {i}"))
    page0 = await app.services.relay.history(BUYER, conv_id)
    page1 = await app.services.relay.history(BUYER, conv_id, page=1)
    assert (page0.total, page0.pages) == (HISTORY_PAGE + 3, 2)
    texts = [m.text for m in page0.rows + page1.rows]
    assert texts[0] == f"line {HISTORY_PAGE + 1}" and texts[-1].startswith("about ")
    assert page0.rows[1].mine and not page0.rows[0].mine  # line 10 (the buyer's), line 11 (the seller's)
    assert not hasattr(page0.rows[0], "sender_id") and not hasattr(page0.rows[0], "source_chat_id")
    assert (await app.services.relay.history(BUYER, conv_id, page=-3)).page == 0


# -- the push and the migration ---------------------------------------------------------------------
async def test_the_relayed_push_renders_a_header_and_escaped_text(app: App) -> None:
    from bot.views import pushes
    from bot.views.common import Fmt

    await linked(app)
    conv = await app.services.relay.open_for_order(BUYER, await order_of(app))
    await app.services.relay.send(BUYER, conv.id, say(BUYER, "<b>hi</b> & code 1234"))
    await app.services.relay.send(SELLER, conv.id, say(SELLER, "Hello"))
    [to_seller], [to_buyer] = await relay_rows(app, SELLER), await relay_rows(app, BUYER)
    with app.services.i18n.context(), app.services.i18n.use_locale("ru"):
        seller_screen = pushes.render_one(to_seller.kind, to_seller.payload, Fmt(app.services.i18n, "ru")).screen
        buyer_screen = pushes.render_one(to_buyer.kind, to_buyer.payload, Fmt(app.services.i18n, "ru")).screen
    assert f"#{conv.alias}" in seller_screen.text and conv.order_number in seller_screen.text
    assert "&lt;b&gt;hi&lt;/b&gt; &amp; code ••••" in seller_screen.text and "Покупатель" in seller_screen.text
    assert NOVA in buyer_screen.text and "Hello" in buyer_screen.text


def test_the_migration_matches_the_tables(template_db: object) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from bot.db.tables import metadata

    engine = create_engine(f"sqlite:///{template_db}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    names = ("store_sellers", "seller_invites", "conversations", "relay_messages", "relay_copies")
    assert [d for d in diff if any(n in repr(d) for n in names)] == []


async def test_an_order_deleted_for_good_takes_its_conversation_out_of_every_list(app: App) -> None:
    await linked(app)
    order = await make_order(app.services, app.clock, BUYER, Status.completed)
    conv = await app.services.relay.open_for_order(BUYER, order.id)
    await app.services.relay.send(BUYER, conv.id, say(BUYER, "Thanks, all good"))
    await app.services.relay.send(SELLER, conv.id, say(SELLER, "Enjoy!"))
    await app.services.orders.delete(BUYER, order.id)
    await app.services.orders.purge(BUYER, order.id)
    for user, as_seller in ((BUYER, False), (SELLER, True)):
        assert (await app.services.relay.conversations(user, as_seller=as_seller)).total == 0
        assert await app.services.relay.unread(user, as_seller=as_seller) == 0
        with pytest.raises(ConversationNotFound):
            await app.services.relay.history(user, conv.id)
