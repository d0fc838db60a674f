"""Outbox delivery against the fake Telegram on simulated time: rates, order, 429/403/network
errors, restarts, crashes and shutdown."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from aiogram.methods import SendMessage

from bot.app import build_bot
from bot.db import outbox as repo
from bot.db.engine import Database
from bot.delivery import DeliveryReport
from bot.runner import build_runtime
from tests.conftest import App
from tests.pushkit import Wire, active_rows, drain, make_user, push, sim_delivery, states
from tests.services_kit import sqlite_only

SECOND = timedelta(seconds=1)


pytestmark = pytest.mark.usefixtures("push_kinds")


async def _backlog(app: App, users: int, per_user: int, *, first_id: int = 10_000) -> dict[int, list[str]]:
    """`per_user` order pushes for each of `users` users; returns each chat's expected texts."""
    expected: dict[int, list[str]] = {}
    for u in range(users):
        uid = first_id + u
        await make_user(app, uid)
        expected[uid] = []
        for k in range(per_user):
            n = u * 100 + k
            await push(app, uid, "t_order", n)
            expected[uid].append(f"<b>Order #{n}</b> update {n}")
    return expected


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_every_row_once_in_order_within_the_rates_despite_errors(app: App, concurrency: int) -> None:
    expected = await _backlog(app, users=30, per_user=4)
    blocked = {10_003, 10_017}
    rng = random.Random(20261125)

    def script(chat: int, text: str, n: int) -> str:
        if chat in blocked:
            return "403"
        roll = rng.random()
        return "429" if roll < 0.10 else "net" if roll < 0.15 else "500" if roll < 0.17 else "ok"

    wire = Wire(app, script, retry_after=3)
    report = await drain(app, sim_delivery(app, concurrency=concurrency))

    # every row of a reachable user reached them exactly once, in order per chat
    for chat, texts in expected.items():
        if chat in blocked:
            assert wire.texts(chat) == []
        else:
            assert wire.texts(chat) == texts, chat
    # the rates, measured on every request that reached Telegram (the failed ones count too)
    assert wire.max_per_window(SECOND) <= 25
    gap = wire.min_chat_gap()
    assert gap is not None and gap >= SECOND
    # after a 429 nobody got anything until retry_after had passed
    for a in wire.attempts:
        if a.outcome == "429":
            assert not [b for b in wire.attempts if a.at < b.at < a.at + 3 * SECOND]
    # blocked users: one 403 each, marked unreachable, their rows dropped
    assert Counter(a.chat for a in wire.attempts if a.outcome == "403") == {10_003: 1, 10_017: 1}
    final = await states(app)
    assert Counter(s for s, _r, _e in final.values()) == {"sent": 112, "dropped": 8}
    assert {r for s, r, _e in final.values() if s == "dropped"} == {"unreachable"}
    for chat in blocked:
        user = await app.services.users.get(chat)
        assert user is not None and user.unreachable_since is not None
    assert report.rows == report.messages == 112
    assert report.rate_limited > 0 and report.retrying > 0 and report.blocked == 2
    assert report.failed == 0 and report.reclaimed == 0


async def test_the_configured_rate_is_reached_with_a_backlog(app: App) -> None:
    """With nothing failing, a backlog spread over many chats goes at the configured rate."""
    await _backlog(app, users=100, per_user=2)
    wire = Wire(app)
    start = app.clock.now()
    await sim_delivery(app, per_second=25, concurrency=1)(start)
    assert len(wire.delivered) == 200 and await active_rows(app) == 0
    elapsed = (wire.attempts[-1].at - start).total_seconds()
    assert elapsed <= 200 / 25  # 8 s of simulated time: the limit, and nothing slower
    assert wire.max_per_window(SECOND) == 25


async def test_retry_after_pauses_all_delivery_then_retries_the_same_row(app: App) -> None:
    await _backlog(app, users=3, per_user=1)
    wire = Wire(app, lambda chat, text, n: "429" if n == 0 else "ok", retry_after=7)
    report = await sim_delivery(app)(app.clock.now())
    first, *rest = wire.attempts
    assert first.outcome == "429"
    assert rest[0].text == first.text and rest[0].chat == first.chat  # the same row again
    assert all(a.at >= first.at + 7 * SECOND for a in rest)  # nobody got anything meanwhile
    assert len(wire.delivered) == 3 and report.rate_limited == 1
    async with app.services.db.read() as conn:
        rows = await repo.for_user(conn, first.chat)
    assert [(r.state, r.attempts) for r in rows] == [("sent", 1)]  # a 429 is not a failed attempt


async def test_network_errors_back_off_and_the_chat_keeps_its_order(app: App) -> None:
    await make_user(app, 501)
    for n in range(3):
        await push(app, 501, "t_order", n)
    failures = iter(["net", "500"])
    wire = Wire(app, lambda chat, text, n: next(failures, "ok") if text.endswith("update 0") else "ok")
    start = app.clock.now()
    report = await drain(app, sim_delivery(app), step=SECOND)
    assert wire.texts(501) == [f"<b>Order #{n}</b> update {n}" for n in range(3)]
    tries = [a.at for a in wire.attempts if a.text.endswith("update 0")]
    # backed off 10 s, then 20 s (exponential), the later rows waited behind the first
    assert tries[0] == start
    assert tries[1] - tries[0] >= 10 * SECOND and tries[2] - tries[1] >= 20 * SECOND
    assert report.retrying == 2 and report.failed == 0
    async with app.services.db.read() as conn:
        rows = await repo.for_user(conn, 501)
    assert [r.state for r in rows] == ["sent"] * 3 and rows[0].attempts == 3


async def test_temporary_errors_give_up_after_the_limit_keeping_the_error(app: App) -> None:
    await make_user(app, 502)
    await push(app, 502, "t_order", 1)
    Wire(app, lambda chat, text, n: "net")
    report = await drain(app, sim_delivery(app), step=timedelta(minutes=1))
    assert report.failed == 1 and report.retrying == 7  # 8 attempts
    async with app.services.db.read() as conn:
        (row,) = await repo.for_user(conn, 502)
    assert row.state == "failed" and row.attempts == 8
    assert row.last_error is not None and "gave up after 8 attempts" in row.last_error
    assert "TelegramNetworkError" in row.last_error


async def test_a_rejected_request_or_a_broken_view_fails_at_once(app: App) -> None:
    await make_user(app, 503)
    await push(app, 503, "t_order", 1)
    await push(app, 503, "t_broken", 2)  # its view needs a payload field that is missing
    await push(app, 503, "no_such_kind", 3)  # nobody registered a view for it
    await push(app, 503, "t_order", 4)
    wire = Wire(app, lambda chat, text, n: "400" if text.endswith("update 1") else "ok")
    report = await drain(app, sim_delivery(app))
    assert wire.texts(503) == ["<b>Order #4</b> update 4"]
    final = await states(app)
    errors = [e for s, _r, e in final.values() if s == "failed"]
    assert len(errors) == 3 and report.failed == 3
    assert any("TelegramBadRequest" in (e or "") for e in errors)
    assert any("the 't_broken' view failed: KeyError('missing')" in (e or "") for e in errors)
    assert any("unknown kind 'no_such_kind'" in (e or "") for e in errors)


async def test_pushes_render_in_the_users_language_and_zone(app: App) -> None:
    await make_user(app, 601, "ru", "Europe/Moscow")
    await make_user(app, 602, "en", "America/New_York")
    for uid in (601, 602):
        await push(app, uid, "t_order", 7, amount=150000, currency="RUB", at="2026-11-25T12:00:00+00:00")
    wire = Wire(app)
    await sim_delivery(app)(app.clock.now())
    by_chat = {a.chat: a for a in wire.delivered}
    assert "1\xa0500,00\xa0₽" in by_chat[601].text and "25 нояб. 2026\u202fг., 15:00" in by_chat[601].text
    assert "RUB\u00a01,500.00" in by_chat[602].text and "Nov 25, 2026, 7:00\u202fAM" in by_chat[602].text
    # the renderer's button goes straight to the object
    button = by_chat[601].markup.inline_keyboard[0][0]
    assert (button.text, button.callback_data) == ("Open order #7", "tth:7")


async def test_muted_expired_and_future_rows(app: App) -> None:
    await make_user(app, 701)
    await app.services.reminders.toggle(701, "t_chat")
    now = app.clock.now()
    await push(app, 701, "t_chat", 1)  # muted kind
    await push(app, 701, "t_order", 2, expires=now - SECOND)  # expired
    await push(app, 701, "t_order", 3, due=now + timedelta(hours=1))  # not due yet
    await push(app, 701, "t_refund", 4)  # no toggle: always sent
    wire = Wire(app)
    report = await sim_delivery(app)(now)
    assert wire.texts(701) == ["<b>Order #4</b> update 4"]
    assert report.dropped == 2
    reasons = sorted(r for s, r, _e in (await states(app)).values() if s == "dropped")
    assert reasons == ["expired", "muted"]
    app.clock.advance(hours=1)
    await sim_delivery(app)(app.clock.now())
    assert wire.texts(701)[-1] == "<b>Order #3</b> update 3"


async def test_restart_delivers_the_rest_without_loss_or_duplicates(app: App) -> None:
    expected = await _backlog(app, users=10, per_user=4)
    wire = Wire(app)
    first = sim_delivery(app, concurrency=2)
    # the process is asked to stop after 20 messages: those in flight finish, the rest goes back
    wire.after = lambda a: first.stop() if len(wire.delivered) >= 20 else None
    report = await first(app.clock.now())
    assert report.released > 0 and 20 <= report.messages < 40
    assert len(wire.delivered) == report.messages
    mid = await states(app)
    assert Counter(s for s, _r, _e in mid.values()) == {"sent": report.messages, "pending": 40 - report.messages}

    await app.restart()  # a new process: engine, services, dispatcher, bot over the same database
    wire2 = Wire(app)
    second = sim_delivery(app, concurrency=2)
    app.clock.advance(seconds=2)
    await drain(app, second)
    assert sorted(wire.texts() + wire2.texts()) == sorted(t for ts in expected.values() for t in ts)
    for chat, texts in expected.items():
        assert wire.texts(chat) + wire2.texts(chat) == texts  # in order, across the restart
    assert second.totals.reclaimed == 0


async def test_a_crash_with_sends_in_flight_loses_nothing(app: App) -> None:
    expected = await _backlog(app, users=12, per_user=3)
    wire = Wire(app)
    in_flight: list[str] = []
    all_blocked = asyncio.Event()
    never = asyncio.Event()
    original = app.session.make_request

    async def make_request(bot, method, timeout=None):  # Telegram accepts, then the process dies
        result = await original(bot, method, timeout)
        if isinstance(method, SendMessage) and len(wire.delivered) > 10:
            in_flight.append(method.text)
            if len(in_flight) == 4:
                all_blocked.set()
            await never.wait()
        return result

    app.session.make_request = make_request  # type: ignore[method-assign]
    crashed = sim_delivery(app, concurrency=4)
    run = asyncio.create_task(crashed(app.clock.now()))
    await asyncio.wait_for(all_blocked.wait(), 10)
    run.cancel()  # the process is gone: no clean-up, the leases stay
    with pytest.raises(asyncio.CancelledError):
        await run
    app.session.make_request = original  # type: ignore[method-assign]
    assert len(in_flight) == 4

    await app.restart()
    wire2 = Wire(app)
    wire2.attempts = wire.attempts  # one Telegram: keep counting on the same record
    app.clock.advance(seconds=121)  # the crashed process's leases expire
    report = await drain(app, sim_delivery(app, concurrency=4))
    counts = Counter(wire2.texts())
    assert set(counts) == {t for ts in expected.values() for t in ts}  # nothing lost
    duplicated = sorted(t for t, c in counts.items() if c > 1)
    assert all(c <= 2 for c in counts.values())
    assert duplicated == sorted(in_flight)  # only the messages in flight at the crash
    # delivery reports the rows it took over from the crashed run: an upper bound of duplicates
    assert report.reclaimed >= len(duplicated) == 4
    print(f"\ncrash with {len(in_flight)} sends in flight: {len(duplicated)} duplicate(s), 0 lost; "
          f"{report.reclaimed} row(s) taken over from the crashed run")


async def test_shutdown_while_a_run_is_sending(app: App) -> None:
    """SIGTERM during a delivery run: the message being sent finishes and is marked sent, the
    claimed rest is given back (due at once), and the scheduler stops cleanly."""
    await _backlog(app, users=6, per_user=1)
    settings = app.settings.model_copy(update={"delivery_concurrency": 1})
    runtime = build_runtime(settings, bot=build_bot(settings, session=app.session), services=app.services)
    wire = Wire(app)
    sending, release = asyncio.Event(), asyncio.Event()
    original = app.session.make_request

    async def make_request(bot, method, timeout=None):
        if isinstance(method, SendMessage) and len(wire.attempts) == 2:
            sending.set()
            await release.wait()  # the third message is on its way when the stop comes
        return await original(bot, method, timeout)

    app.session.make_request = make_request  # type: ignore[method-assign]
    runtime.scheduler.start()
    runtime.scheduler.run_soon("delivery")
    await asyncio.wait_for(sending.wait(), 10)
    stopping = asyncio.create_task(runtime.on_shutdown())
    await asyncio.sleep(0)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert runtime.stopped and len(wire.delivered) == 3
    db = Database(app.settings.database_url)
    try:
        async with db.read() as conn:
            rows = [r for uid in range(10_000, 10_006) for r in await repo.for_user(conn, uid)]
    finally:
        await db.dispose()
    by_state = defaultdict(list)
    for row in rows:
        by_state[row.state].append(row)
    assert len(by_state["sent"]) == 3 and len(by_state["pending"]) == 3
    assert all(r.lease_until is None and r.attempts == 0 for r in by_state["pending"])
    app.start()  # the app fixture closes its own database at the end


async def test_two_workers_never_claim_the_same_row(app: App) -> None:
    await _backlog(app, users=20, per_user=2)
    now = app.clock.now()
    outbox = app.services.outbox
    a, b = await asyncio.gather(
        outbox.claim(now, limit=25, lease=timedelta(seconds=60)),
        outbox.claim(now, limit=25, lease=timedelta(seconds=60)),
    )
    ids_a = {i for job in a.jobs for i in job.ids}
    ids_b = {i for job in b.jobs for i in job.ids}
    assert ids_a and ids_b and not ids_a & ids_b
    # and a user whose rows one worker holds gets nothing from the other (their order is kept)
    assert not {j.chat_id for j in a.jobs} & {j.chat_id for j in b.jobs}


@sqlite_only
async def test_due_scan_uses_the_partial_indexes(app: App) -> None:
    async with app.services.db.read() as conn:
        plan = (await conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + repo.due_scan_sql().replace(":now", "'2026-11-25'").replace(":limit", "200")
        )).all()
    details = [str(row[-1]) for row in plan]
    assert any("USING INDEX ix_outbox_due" in d for d in details), details
    assert any("USING INDEX ix_outbox_leased" in d for d in details), details
    assert not any(d.startswith("SCAN outbox") and "INDEX" not in d for d in details), details
    # the message centre's page reads the user's delivered rows newest first from ix_outbox_sent
    from sqlalchemy.dialects import sqlite

    page = repo.sent_page_query(1001, offset=16, limit=8).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    async with app.services.db.read() as conn:
        plan = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {page}")).all()
    assert [str(row[-1]) for row in plan] == ["SEARCH outbox USING INDEX ix_outbox_sent (user_id=?)"]


def test_report_adds_up() -> None:
    a, b = DeliveryReport(messages=2, rows=3), DeliveryReport(messages=1, failed=1)
    a.add(b)
    assert (a.messages, a.rows, a.failed) == (3, 3, 1) and a and not DeliveryReport()


async def test_reminders_wait_for_the_morning_and_come_once_a_day_in_one_message(app: App) -> None:
    await make_user(app, 801, "ru", "Europe/Moscow")
    delivery = sim_delivery(app)
    wire = Wire(app)
    day = app.clock.now().replace(hour=0)  # 2026-11-25 00:00 UTC; Moscow is UTC+3
    await push(app, 801, "t_remind", 1, due=day + timedelta(hours=19, minutes=30))  # 22:30 in Moscow
    await push(app, 801, "t_order", 2, due=day + timedelta(hours=19, minutes=45))
    await push(app, 801, "t_promo", 3, due=day + timedelta(hours=20))
    await push(app, 801, "t_remind", 4, due=day + timedelta(days=1, hours=10))  # 13:00 tomorrow

    for hour, minute in [(19, 30), (19, 45), (20, 0)]:
        app.clock.set(day + timedelta(hours=hour, minutes=minute))
        await delivery(app.clock.now())
    # quiet hours held the reminders; the order push went at once
    assert wire.texts(801) == ["<b>Order #2</b> update 2"]
    assert delivery.totals.held == 2
    app.clock.set(day + timedelta(days=1, hours=5, minutes=59))
    await delivery(app.clock.now())
    assert len(wire.delivered) == 1
    app.clock.set(day + timedelta(days=1, hours=6))  # 09:00 in Moscow
    await delivery(app.clock.now())
    digest = wire.delivered[-1]
    assert digest.text.startswith("🔔 <b>3 напоминания</b>")
    assert [line for line in digest.text.split("\n\n")[1:]] == ["⏰ Reminder 1", "⏰ Reminder 3", "⏰ Reminder 4"]
    assert [(b.text, b.callback_data) for row in digest.markup.inline_keyboard for b in row] == [
        ("Item 1", "tth:1"), ("Promo 3", "mn:settings"), ("Item 4", "tth:4")]
    # a reminder written after today's message waits for tomorrow morning
    await push(app, 801, "t_remind", 5, due=day + timedelta(days=1, hours=8))
    app.clock.set(day + timedelta(days=1, hours=8))
    await delivery(app.clock.now())
    assert len(wire.delivered) == 2
    app.clock.set(day + timedelta(days=2, hours=6))
    await delivery(app.clock.now())
    alone = wire.delivered[-1]
    assert alone.text == "⏰ Reminder 5"  # one reminder is sent as itself, with its button
    assert alone.markup.inline_keyboard[0][0].callback_data == "tth:5"
    assert delivery.totals.digests == 1
    prefs = await app.services.reminders.preferences(801)
    assert prefs.last_reminder_at == day + timedelta(days=2, hours=6)


async def test_a_digest_too_long_for_one_message_points_to_the_message_centre(app: App) -> None:
    await make_user(app, 802)
    for n in range(14):
        await push(app, 802, "t_remind", n)
    wire = Wire(app)
    await drain(app, sim_delivery(app))
    (message,) = wire.delivered
    assert message.text.startswith("🔔 <b>14 reminders</b>")
    assert message.text.endswith("…and 4 more in 🔔 Messages.")
    buttons = [b for row in message.markup.inline_keyboard for b in row]
    assert len(buttons) == 11 and buttons[-1].callback_data == "mn:messages"
    assert Counter(s for s, _r, _e in (await states(app)).values()) == {"sent": 14}


async def test_a_user_who_blocked_the_bot_gets_what_is_still_relevant_when_back(app: App) -> None:
    alex = app.player(901)
    await alex.send("/start")
    await push(app, 901, "t_order", 1)
    await push(app, 901, "t_order", 2)
    await push(app, 901, "t_remind", 3, expires=app.clock.now() + timedelta(hours=1))
    blocked = True
    wire = Wire(app, lambda chat, text, n: "403" if blocked else "ok")
    delivery = sim_delivery(app)
    await drain(app, delivery)
    assert [a.outcome for a in wire.attempts] == ["403"]  # one try, then nothing more for them
    user = await app.services.users.get(901)
    assert user is not None and user.unreachable_since is not None
    await push(app, 901, "t_order", 4)  # written while they are away
    await drain(app, delivery)
    assert len(wire.attempts) == 1
    app.clock.advance(hours=2)  # the reminder's subject expires meanwhile
    blocked = False
    await alex.send("/menu")  # they are back
    await drain(app, delivery)
    pushed = [t for t in wire.texts(901) if "Order #" in t]  # (the menu it answered is there too)
    assert pushed == ["<b>Order #1</b> update 1", "<b>Order #2</b> update 2", "<b>Order #4</b> update 4"]
    final = await states(app)
    assert sorted(s for s, _r, _e in final.values()) == ["dropped", "sent", "sent", "sent"]


async def test_the_offline_console_shows_pushes_as_they_fall_due(settings, clock, monkeypatch) -> None:
    import functools
    import io

    from bot import console, demo
    from bot.app import build_services
    from bot.console import Console
    from bot.services.outbox import enqueue
    from bot.services.users import Contact

    services = build_services(settings, clock=clock)
    try:
        await services.users.touch(Contact(demo.DEMO_USER_ID, "Alex", None, "en"))
        async with services.db.write() as conn:
            await enqueue(conn, user_id=demo.DEMO_USER_ID, kind="t_order", payload={"n": 1, "order": 42},
                          dedupe_key="console:1", now=clock.now())
    finally:
        await services.db.dispose()
    out = io.StringIO()
    monkeypatch.setattr(console, "build_services", functools.partial(build_services, clock=clock))
    await Console(settings, locale="en", out=out, color=False).run(lines=iter(["/help"]))
    text = out.getvalue()
    assert "Order #42 update 1" in text
    assert text.index("Choose a section") < text.index("Order #42")
    # its button is numbered after the menu's, which keep theirs (tests/test_console.py)
    menu_buttons = text[:text.index("Order #42")].count("] ")
    assert f"[{menu_buttons + 1}] Open order #42" in text
