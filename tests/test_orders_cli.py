"""`python main.py order …`: the operator's commands call the same services as the bot."""

from __future__ import annotations

import pytest

import main
from bot.cli.common import UsageError, error_text, perform
from bot.db import outbox as outbox_repo
from bot.runner import build_sweeper
from bot.services.disputes import DisputeDraft, DisputeReason, Outcome
from tests.conftest import App
from tests.orderkit import ensure_user

USER = 900


async def run(app: App, *argv: str) -> str:
    return await perform(main.parse_args(["order", *argv]), app.services)


async def test_an_order_from_creation_to_a_decided_dispute(app: App) -> None:
    await ensure_user(app.services, USER)
    out = await run(app, "create", "--user", str(USER), "--store", "Nova Electronics",
                    "--item", "Wireless earbuds|1|25.99|Colour=black;Size=M", "--item", "USB-C cable|2|4.50",
                    "--shipping", "3.00", "--recipient", "Alex", "--city", "Springfield", "--country", "us",
                    "--postal-code", "62701", "--number", "7000001")
    assert out == "created order 7000001 (id 1, user 900): awaiting_payment, total 37.99 USD"
    card = await app.services.orders.card(USER, 1)
    assert card.items[0].options == (("Colour", "black"), ("Size", "M"))
    assert (card.address.country, card.address.postal_code) == ("US", "62701")
    assert main.parse_args(["order", "create", "--user", "1", "--store", "S", "--item", "A|1|1",
                            "--postcode", "10001"]).postal_code == "10001"  # the flag's first name still works
    assert (await run(app, "pay", "7000001", "--brand", "Mastercard", "--last4", "5454", "--exp", "03/27")
            ).startswith("paid order 7000001")
    paid = await app.services.orders.by_number("7000001")
    assert (paid.paid_card_brand, paid.paid_card_exp_month, paid.paid_card_exp_year) == ("Mastercard", 3, 2027)
    assert "track LP123CN" in await run(app, "ship", "7000001", "--track", "lp123cn")
    assert await run(app, "track", "7000001", "--code", "export_customs", "--location", "Shenzhen") == (
        "tracking event added for order 7000001")
    assert await run(app, "deliver", "7000001") == "order 7000001 delivered"
    draft = DisputeDraft(DisputeReason.damaged, "Arrived with a cracked case.", Outcome.full_refund)
    await app.services.disputes.open(USER, 1, draft)
    assert await run(app, "answer", "7000001", "--offer", "10", "--note", "Sorry") == (
        "dispute 1 on order 7000001: answered")
    assert await run(app, "decide", "7000001", "--refund", "20") == (
        "dispute 1 on order 7000001: closed (refunded_partial)")
    with pytest.raises(Exception) as info:
        await run(app, "decide", "7000001", "--reject")
    assert error_text(info.value) == "This dispute is already closed."  # type: ignore[arg-type]
    assert await run(app, "refund-done", "1") == "refund 1 completed"
    refund = await run(app, "refund", "7000001")
    assert refund.startswith("refund 2: 17.99 USD to card, expected by ")
    async with app.services.db.read() as conn:
        kinds = {r.kind for r in await outbox_repo.for_user(conn, USER)}
    assert kinds == {"order_status", "order_tracking", "dispute", "refund", "protection_ending"}


async def test_seller_cancel_sweep_and_bad_input(app: App) -> None:
    await ensure_user(app.services, USER)
    await run(app, "create", "--user", str(USER), "--store", "S", "--item", "Mug|1|500", "--currency", "RUB",
              "--usd-rate", "0.0108", "--number", "1")
    await run(app, "pay", "1")
    assert await run(app, "cancel", "1") == (
        "cancelled order 1 (id 1, user 900): cancelled, total 500.00 RUB, refund 500.00 RUB")
    await run(app, "create", "--user", str(USER), "--store", "S", "--item", "Mug|1|5", "--number", "2")
    app.clock.advance(days=2)
    swept = dict(part.rsplit(" ", 1) for part in (await run(app, "sweep")).split(", "))
    assert swept["expire_unpaid_orders"] == "1" and swept["payments_reconcile"] == "0"
    assert set(swept) == set(build_sweeper(app.services).names)  # every job of the running bot's sweeper
    with pytest.raises(UsageError):
        await run(app, "create", "--user", str(USER), "--store", "S", "--item", "Mug|x|5")
    with pytest.raises(UsageError):
        await run(app, "create", "--user", str(USER), "--store", "S", "--item", "Mug|1|5", "--currency", "EUR")


def test_the_command_line_exit_codes(database_url: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.setenv("CARD_FINGERPRINT_KEY", "k" * 40)
    assert main.main(["order", "show", "404"]) == 1
    assert capsys.readouterr().err.strip() == "error: This order is no longer available."
    assert main.main(["order", "create", "--user", "1", "--store", "S", "--item", "bad"]) == 2
    assert "expected TITLE|QTY|PRICE" in capsys.readouterr().err
    assert main.main(["order", "create", "--user", "1", "--store", "S", "--item", "Mug|1|5"]) == 1
    assert capsys.readouterr().err.strip() == "error: There is no such user: they must start the bot first."


async def test_a_return_accepted_with_its_address_and_received(app: App) -> None:
    await ensure_user(app.services, USER)
    await run(app, "create", "--user", str(USER), "--store", "Nova Electronics", "--item", "Lamp|1|40",
              "--number", "7000002")
    await run(app, "pay", "7000002")
    await run(app, "ship", "7000002", "--track", "LP777CN")
    await app.services.disputes.open(USER, 1, DisputeDraft(DisputeReason.wrong_item, "A blue lamp came, not black.",
                                                           Outcome.return_refund))
    with pytest.raises(Exception) as info:
        await run(app, "answer", "7000002", "--accept")
    assert error_text(info.value).startswith("To accept a return, give the buyer the address")  # type: ignore[arg-type]
    assert await run(app, "answer", "7000002", "--accept", "--note", "Nova returns, Riga LV-1010") == (
        "dispute 1 on order 7000002: returning")
    shown = (await run(app, "dispute", "7000002")).split("\n")
    assert shown[0].startswith("dispute 1 on order 7000002: returning, decide by ")
    assert shown[1:] == ["buyer: wrong_item, asks return_refund 40.00 USD: A blue lamp came, not black.",
                         "store: accept: Nova returns, Riga LV-1010", shown[3]]
    assert shown[3].startswith("return: send by ") and "sent" not in shown[3]
    assert await run(app, "return-received", "7000002") == "dispute 1 on order 7000002: closed (refunded_full)"
