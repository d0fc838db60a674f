"""The points ledger, levels, ageing and the privileges they give, directly with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import loyalty as repo
from bot.db import outbox as outbox_repo
from bot.db import refunds as refunds_repo
from bot.db.tables import loyalty_ledger
from bot.services import loyalty
from bot.services.disputes import DisputeDraft, DisputeReason, Outcome, SellerAnswer
from bot.services.loyalty import LoyaltyPolicy, order_points, reversal_target
from bot.services.orders import NewItem, Status
from tests.conftest import App
from tests.orderkit import VISA, ensure_user, make_order, place

ALEX, BOB = 601, 602


async def ledger(app: App, user_id: int) -> list[repo.EntryRow]:
    async with app.services.db.read() as conn:
        rows = (await conn.execute(select(loyalty_ledger).where(loyalty_ledger.c.user_id == user_id)
                                   .order_by(loyalty_ledger.c.id))).all()
    return [repo.EntryRow(*r) for r in rows]


async def credit(app: App, user_id: int, points: int, key: str, at: datetime | None = None) -> None:
    await ensure_user(app.services, user_id)
    async with app.services.db.write() as conn:
        await loyalty._credit(conn, user_id=user_id, points=points, reason="order", ref_id=1, key=key,
                              now=at or app.clock.now())


def test_order_points_are_whole_dollars_at_the_stored_rate() -> None:
    assert order_points(3799, "USD", None) == 37
    assert order_points(3799, "USD", "1") == 37
    assert order_points(99, "USD", "1") == 0
    assert order_points(250000, "RUB", "0.0108") == 27  # 2500 RUB × 0.0108 = 27.0
    assert order_points(249999, "RUB", "0.0108") == 26  # 26.99…: rounded down
    assert order_points(5000, "JPY", "0.0067") == 33  # no minor digits in yen
    assert order_points(1_000_000, "HUF", "0.0027") == 27  # ISO's 2 digits: 10,000 forints (CLDR shows 0)
    assert order_points(10_000_000, "IQD", "0.00076") == 7  # ISO's 3 digits: 10,000 dinars
    assert order_points(1000, "EUR", None) == 0  # no rate: nothing to convert with
    assert order_points(1000, "EUR", "nonsense") == 0


def test_reversal_is_proportional_and_rounded_down() -> None:
    assert reversal_target(37, 3799, 3799) == 37
    assert reversal_target(37, 1000, 3799) == 9  # 9.7…
    assert reversal_target(37, 0, 3799) == 0
    assert reversal_target(37, 5000, 3799) == 37


def test_level_thresholds() -> None:
    policy = LoyaltyPolicy()
    assert [policy.level_for(p) for p in (0, 199, 200, 399, 400, 799, 800, 1499, 1500, 10**6)] == \
        [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    custom = LoyaltyPolicy((0, 10, 20, 30, 40))
    assert custom.level_for(25) == 3
    for bad in ((0, 200, 400, 800), (1, 2, 3, 4, 5), (0, 200, 200, 800, 1500)):
        with pytest.raises(ValueError):
            LoyaltyPolicy(bad)


async def test_completion_credits_once_with_the_daily_bonus(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.completed)
    entries = await ledger(app, ALEX)
    assert [(e.reason, e.points, e.key) for e in entries] == [
        ("daily_purchase", 5, f"daily:{order.paid_at.date().isoformat()}"),
        ("order", 37, f"order:{order.id}"),
    ]
    # the same completion credited again (a retried hook) adds nothing
    async with app.services.db.write() as conn:
        await loyalty.on_order_completed(conn, order, app.clock.now())
        await loyalty.on_order_completed(conn, order, app.clock.now())
    assert len(await ledger(app, ALEX)) == 2
    info = await app.services.loyalty.info(ALEX)
    assert info.points == 42 and info.level == 1 and info.to_next == 158


async def test_auto_complete_credits_too(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    app.clock.advance(days=61)
    assert await app.services.orders.auto_complete(app.clock.now()) == 1
    assert await app.services.orders.auto_complete(app.clock.now()) == 0
    assert [e.key for e in await ledger(app, ALEX)][-1] == f"order:{order.id}"


async def test_a_full_refund_reverses_and_references_the_credit(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.completed)
    app.clock.advance(days=1)
    dispute = await app.services.disputes.open(ALEX, order.id, DisputeDraft(
        DisputeReason.damaged, "The case arrived cracked in two places.", Outcome.full_refund))
    await app.services.disputes.seller_answer(dispute.id, SellerAnswer.accept)
    *_, credit_row, daily_back, reversal = await ledger(app, ALEX)
    assert daily_back.points == -5 and daily_back.key.endswith(":daily")
    async with app.services.db.read() as conn:
        (refund,) = await refunds_repo.for_order(conn, order.id)
    assert reversal.points == -37 and reversal.reverses_id == credit_row.id and reversal.reason == "reversal"
    assert reversal.ref_id == refund.id and reversal.effective_at == credit_row.effective_at
    assert (await app.services.loyalty.info(ALEX)).points == 0  # the day's bonus went back with the money


async def test_partial_refunds_reverse_in_proportion(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.completed)  # total 37.99: 37 points
    await app.services.orders.refund(ALEX, order.id, 1000)  # 10.00 of 37.99 → 9 points back
    await app.services.orders.refund(ALEX, order.id, 1000)  # 20.00 in all → 19 back in all
    reversals = [e.points for e in await ledger(app, ALEX) if e.reason == "reversal"]
    assert reversals == [-9, -10]
    await app.services.orders.refund(ALEX, order.id)  # the rest: everything back, the day's bonus too
    reversals = [(e.points, e.key) for e in await ledger(app, ALEX) if e.reason == "reversal"]
    assert sum(p for p, key in reversals if not key.endswith(":daily")) == -37
    assert [p for p, key in reversals if key.endswith(":daily")] == [-5]
    assert (await app.services.loyalty.info(ALEX)).points == 0


async def test_a_refund_before_completion_is_settled_at_completion(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.shipped)
    await app.services.orders.refund(ALEX, order.id, 1900)  # half, while shipped: nothing credited yet
    assert [e.reason for e in await ledger(app, ALEX)] == ["daily_purchase"]
    await app.services.orders.confirm_receipt(ALEX, order.id)
    assert [(e.reason, e.points) for e in await ledger(app, ALEX)][1:] == [("order", 37), ("reversal", -18)]


async def test_a_cancelled_paid_order_earns_no_order_points(app: App) -> None:
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    await app.services.orders.cancel(ALEX, order.id, "changed_mind")
    entries = await ledger(app, ALEX)
    assert [(e.reason, e.points) for e in entries] == [("daily_purchase", 5), ("reversal", -5)]
    assert entries[1].reverses_id == entries[0].id
    assert (await app.services.loyalty.info(ALEX)).points == 0


async def test_the_days_bonus_stays_while_a_purchase_of_that_day_stands(app: App) -> None:
    """"5 points for a purchase made on a day": refunding in full the order that carried the bonus
    moves it to another purchase of that day, paid before or after; with none left, it goes."""
    app.clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    first = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    await app.services.orders.cancel(ALEX, first.id, "changed_mind")  # refunded in full: no purchase left
    second = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)  # later that day
    third = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    daily = [(e.points, e.key, e.ref_id) for e in await ledger(app, ALEX) if e.key.startswith("daily")]
    assert daily == [(5, "daily:2026-11-25", first.id), (5, f"daily:2026-11-25:{second.id}", second.id)]
    await app.services.orders.cancel(ALEX, second.id, "changed_mind")  # the third still stands
    *_, carried, reversal, moved = await ledger(app, ALEX)
    assert (carried.key, reversal.reason, reversal.points, reversal.reverses_id) == (
        f"daily:2026-11-25:{second.id}", "reversal", -5, carried.id)
    assert (moved.reason, moved.points, moved.ref_id) == ("daily_purchase", 5, third.id)
    await app.services.orders.cancel(ALEX, third.id, "changed_mind")  # none left: the day has no bonus
    assert (await app.services.loyalty.info(ALEX)).points == 0
    assert sum(e.points for e in await ledger(app, ALEX)) == 0


async def test_a_time_zone_changed_since_does_not_move_a_bonus_onto_another_days_order(app: App) -> None:
    await ensure_user(app.services, ALEX)
    await app.services.settings.set_time_zone(ALEX, "Asia/Vladivostok")  # UTC+10
    first, second = await place(app.services, ALEX), await place(app.services, ALEX)
    app.clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))  # 23:00 on the 25th there
    await app.services.orders.mark_paid(ALEX, first.id, VISA)
    app.clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))  # 01:00 on the 26th there
    await app.services.orders.mark_paid(ALEX, second.id, VISA)
    await app.services.settings.set_time_zone(ALEX, "Pacific/Honolulu")  # both are the 25th here
    await app.services.orders.cancel(ALEX, first.id, "changed_mind")
    daily = [(e.key, e.points) for e in await ledger(app, ALEX) if e.key.startswith("daily")]
    assert daily == [("daily:2026-11-25", 5), ("daily:2026-11-26", 5)]  # nothing moved onto the 26th's order
    await app.services.orders.cancel(ALEX, second.id, "changed_mind")
    assert sum(e.points for e in await ledger(app, ALEX)) == 0


async def test_daily_bonus_follows_the_users_calendar_day(app: App) -> None:
    await ensure_user(app.services, ALEX)
    await app.services.settings.set_time_zone(ALEX, "Asia/Vladivostok")  # UTC+10
    app.clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))  # 23:00 local on the 25th
    first = await place(app.services, ALEX)
    second = await place(app.services, ALEX)
    third = await place(app.services, ALEX)
    await app.services.orders.mark_paid(ALEX, first.id, VISA)
    app.clock.set(datetime(2026, 11, 25, 13, 30, tzinfo=UTC))  # 23:30 local: the same day
    await app.services.orders.mark_paid(ALEX, second.id, VISA)
    app.clock.set(datetime(2026, 11, 25, 14, 30, tzinfo=UTC))  # 00:30 local on the 26th (UTC: still the 25th)
    await app.services.orders.mark_paid(ALEX, third.id, VISA)
    daily = [(e.key, e.ref_id) for e in await ledger(app, ALEX) if e.reason == "daily_purchase"]
    assert daily == [("daily:2026-11-25", first.id), ("daily:2026-11-26", third.id)]


async def test_levels_rise_with_points_and_push(app: App) -> None:
    await credit(app, ALEX, 199, "a")
    assert await loyalty.level_of(app.services.db, ALEX) == 1
    await credit(app, ALEX, 1, "b")
    assert await loyalty.level_of(app.services.db, ALEX) == 2
    await credit(app, ALEX, 1300, "c")
    assert await loyalty.level_of(app.services.db, ALEX) == 5
    async with app.services.db.read() as conn:
        pushes = [r for r in await outbox_repo.for_user(conn, ALEX) if r.kind == "level_changed"]
    assert [(p.payload["previous"], p.payload["level"]) for p in pushes] == [(1, 2), (2, 5)]
    assert await loyalty.level_of(app.services.db, BOB) == 1  # no ledger: the base level


async def test_points_age_out_after_365_days(app: App) -> None:
    start = app.clock.now()
    await credit(app, ALEX, 300, "old", start)
    app.clock.advance(days=200)
    await credit(app, ALEX, 150, "newer")
    assert await loyalty.level_of(app.services.db, ALEX) == 3  # 450
    app.clock.set(start + timedelta(days=365) - timedelta(minutes=1))
    assert await app.services.loyalty.age(app.clock.now()) == 0  # not yet
    app.clock.set(start + timedelta(days=365))
    assert await app.services.loyalty.age(app.clock.now()) == 1  # 300 aged out: 150 left
    assert await app.services.loyalty.age(app.clock.now()) == 0  # idempotent
    assert await loyalty.level_of(app.services.db, ALEX) == 1
    async with app.services.db.read() as conn:
        last = [r for r in await outbox_repo.for_user(conn, ALEX) if r.kind == "level_changed"][-1]
        row = await repo.level(conn, ALEX)
    assert (last.payload["previous"], last.payload["level"], last.payload["cause"]) == (3, 1, "ageing")
    assert row is not None and row.recheck_at == start + timedelta(days=565)  # when "newer" ages out
    info = await app.services.loyalty.info(ALEX)
    assert info.points == 150 and info.total == 450


async def test_the_sweeper_runs_the_ageing(app: App) -> None:
    from bot.runner import build_sweeper

    sweeper = build_sweeper(app.services)
    assert "loyalty_levels_ageing" in sweeper.names


async def test_real_level_gives_faster_refunds_and_priority_disputes(app: App) -> None:
    await credit(app, ALEX, 400, "gold")  # level 3
    order = await make_order(app.services, app.clock, ALEX, Status.awaiting_shipment)
    preview = await app.services.orders.cancel_preview(ALEX, order.id)
    assert preview.refund is not None and preview.refund.fast
    shipped = await make_order(app.services, app.clock, ALEX, Status.shipped)
    start = await app.services.disputes.start(ALEX, shipped.id)
    assert not start.priority
    await credit(app, ALEX, 400, "platinum")  # level 4
    start = await app.services.disputes.start(ALEX, shipped.id)
    assert start.priority and start.decide_by == app.clock.now() + timedelta(days=5)
    other = await make_order(app.services, app.clock, BOB, Status.awaiting_shipment)
    preview = await app.services.orders.cancel_preview(BOB, other.id)
    assert preview.refund is not None and not preview.refund.fast


async def test_a_big_order_moves_a_level_within_its_unit_of_work(app: App) -> None:
    big = NewItem("Robot vacuum", 1, 25000)
    await make_order(app.services, app.clock, ALEX, Status.completed, items=[big], shipping=0)
    assert await loyalty.level_of(app.services.db, ALEX) == 2  # 250 + 5
    history = await app.services.loyalty.history(ALEX)
    assert history.total == 2 and history.rows[0].reason == "order"


def test_privileges_by_level() -> None:
    """The Privilege centre's table and the rules that grant the privileges agree, level by level."""
    shown = {p.key: p.level for p in loyalty.PRIVILEGES}
    assert shown == {"price_drops": 1, "fast_refunds": 3, "priority_disputes": 4}
    for level in range(1, 6):
        assert loyalty.fast_refunds(level) is (level >= shown["fast_refunds"])
        assert loyalty.priority_disputes(level) is (level >= shown["priority_disputes"])
