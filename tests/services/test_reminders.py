"""Reminder rules with a fake clock: quiet hours across midnight in several zones, the daily
digest, toggles; the sections' re-plan hooks; reachability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.db import outbox as repo
from bot.services.errors import InvalidInput, NotFound
from bot.services.reminders import (
    DEFAULT_QUIET_HOURS,
    Item,
    QuietHours,
    Reminder,
    cancel,
    is_quiet,
    next_local_midnight,
    plan_reminders,
    quiet_until,
    release_time,
    replan,
    same_local_day,
)
from tests.conftest import App
from tests.pushkit import make_user, push

ZONES = ["UTC", "Europe/Moscow", "America/New_York", "Asia/Kolkata", "Asia/Tokyo", "Etc/GMT+12",
         "Pacific/Chatham", "America/St_Johns"]


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


pytestmark = pytest.mark.usefixtures("push_kinds")


# -- quiet hours ---------------------------------------------------------------------------------

@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(21, 59, False), (22, 0, True), (23, 59, True), (0, 0, True), (3, 30, True), (8, 59, True),
     (9, 0, False), (12, 0, False)],
)
def test_default_quiet_hours_boundaries_in_the_users_zone(zone: str, hour: int, minute: int, quiet: bool) -> None:
    moment = local(zone, 2026, 11, 25, hour, minute).astimezone(UTC)
    assert is_quiet(moment, zone, DEFAULT_QUIET_HOURS) is quiet


@pytest.mark.parametrize("zone", ZONES)
def test_quiet_hours_end_the_next_morning_or_this_morning(zone: str) -> None:
    evening = local(zone, 2026, 11, 25, 22, 0).astimezone(UTC)
    night = local(zone, 2026, 11, 26, 3, 15).astimezone(UTC)
    assert quiet_until(evening, zone, DEFAULT_QUIET_HOURS) == local(zone, 2026, 11, 26, 9, 0)
    assert quiet_until(night, zone, DEFAULT_QUIET_HOURS) == local(zone, 2026, 11, 26, 9, 0)
    assert quiet_until(local(zone, 2026, 11, 26, 9, 0), zone, DEFAULT_QUIET_HOURS) is None


def test_the_same_utc_moment_is_quiet_in_one_zone_and_not_in_another() -> None:
    moment = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # Moscow 23:00, New York 15:00, Tokyo 05:00
    assert is_quiet(moment, "Europe/Moscow", DEFAULT_QUIET_HOURS)
    assert not is_quiet(moment, "America/New_York", DEFAULT_QUIET_HOURS)
    assert is_quiet(moment, "Asia/Tokyo", DEFAULT_QUIET_HOURS)
    assert quiet_until(moment, "Europe/Moscow", DEFAULT_QUIET_HOURS) == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    assert quiet_until(moment, "Asia/Tokyo", DEFAULT_QUIET_HOURS) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_quiet_hours_across_daylight_saving_changes() -> None:
    ny = "America/New_York"
    spring = local(ny, 2026, 3, 7, 23, 0).astimezone(UTC)  # clocks go forward that night
    assert quiet_until(spring, ny, DEFAULT_QUIET_HOURS) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    assert quiet_until(spring, ny, DEFAULT_QUIET_HOURS) - spring == timedelta(hours=9)
    autumn = local(ny, 2026, 10, 31, 23, 0).astimezone(UTC)  # clocks go back that night
    assert quiet_until(autumn, ny, DEFAULT_QUIET_HOURS) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    assert quiet_until(autumn, ny, DEFAULT_QUIET_HOURS) - autumn == timedelta(hours=11)


def test_custom_windows_and_off() -> None:
    day_window = QuietHours(True, 13, 15)  # not across midnight
    assert is_quiet(datetime(2026, 11, 25, 13, 0, tzinfo=UTC), "UTC", day_window)
    assert not is_quiet(datetime(2026, 11, 25, 15, 0, tzinfo=UTC), "UTC", day_window)
    assert not is_quiet(datetime(2026, 11, 25, 23, 0, tzinfo=UTC), "UTC", day_window)
    assert quiet_until(datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "UTC", day_window) == datetime(
        2026, 11, 25, 15, 0, tzinfo=UTC)
    late = QuietHours(True, 0, 7)
    assert is_quiet(datetime(2026, 11, 25, 0, 0, tzinfo=UTC), "UTC", late)
    assert not is_quiet(datetime(2026, 11, 25, 23, 0, tzinfo=UTC), "UTC", late)
    off = QuietHours(False, 22, 9)
    assert not is_quiet(datetime(2026, 11, 25, 23, 0, tzinfo=UTC), "UTC", off)
    assert quiet_until(datetime(2026, 11, 25, 23, 0, tzinfo=UTC), "UTC", off) is None
    with pytest.raises(ValueError):
        QuietHours(True, 24, 9)


def test_an_unknown_zone_is_read_as_utc() -> None:
    moment = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    assert is_quiet(moment, "Narnia/Castle", DEFAULT_QUIET_HOURS)


# -- one reminder message a day ------------------------------------------------------------------

def test_release_time() -> None:
    q = DEFAULT_QUIET_HOURS
    ten = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert release_time(ten, "UTC", q, None) == ten
    late = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    assert release_time(late, "UTC", q, None) == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    # today's reminder message went out at 09:30: the next one tomorrow after quiet hours
    sent = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert release_time(ten, "UTC", q, sent) == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    # without quiet hours: tomorrow at midnight
    assert release_time(ten, "UTC", QuietHours(False), sent) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    # yesterday's message does not count
    assert release_time(ten, "UTC", q, sent - timedelta(days=1)) == ten


def test_the_day_is_the_users_calendar_day() -> None:
    q = DEFAULT_QUIET_HOURS
    sent = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # Tokyo 09:30 on the 25th
    now = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # Tokyo 00:30 on the 26th: a new day
    assert not same_local_day(sent, now, "Asia/Tokyo")
    assert release_time(now, "Asia/Tokyo", q, sent) == local("Asia/Tokyo", 2026, 11, 26, 9, 0)
    # in UTC both are the 25th: held until tomorrow's end of quiet hours
    assert same_local_day(sent, now, "UTC")
    assert release_time(now, "UTC", q, sent) == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert next_local_midnight(now, "Asia/Tokyo") == local("Asia/Tokyo", 2026, 11, 27, 0, 0)


@given(
    when=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    zone=st.sampled_from([*ZONES, "Europe/London", "Australia/Lord_Howe", "America/Santiago"]),
    hours=st.one_of(st.none(), st.tuples(st.integers(0, 23), st.integers(0, 23)).filter(lambda h: h[0] != h[1])),
    last_ago=st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2))),
)
def test_a_released_reminder_is_never_quiet_and_never_twice_a_day(when, zone, hours, last_ago) -> None:
    now = when.replace(tzinfo=UTC)
    quiet = QuietHours(False) if hours is None else QuietHours(True, *hours)
    last = None if last_ago is None else now - last_ago
    release = release_time(now, zone, quiet, last)
    assert now <= release <= now + timedelta(days=2)
    assert not is_quiet(release, zone, quiet)
    if last is not None and same_local_day(last, now, zone):
        assert release.astimezone(ZoneInfo(zone)).date() > now.astimezone(ZoneInfo(zone)).date()
    elif release > now:
        assert is_quiet(now, zone, quiet) and release == quiet_until(now, zone, quiet)


# -- planning a user's reminders -----------------------------------------------------------------

def _items() -> list[Item]:
    day = datetime(2026, 11, 25, tzinfo=UTC)
    return [
        Item(1, "t_remind", day + timedelta(hours=8)),  # due before now
        Item(2, "t_promo", day + timedelta(hours=10)),  # due now
        Item(3, "t_remind", day + timedelta(hours=15)),  # later today: joins the digest
        Item(4, "t_remind", day + timedelta(hours=23, minutes=30)),  # today, in quiet hours: joins
        Item(5, "t_remind", day + timedelta(days=1, hours=10)),  # tomorrow: waits
        Item(6, "t_remind", day + timedelta(hours=9), expires_at=day + timedelta(hours=9, minutes=30)),
    ]


def test_due_reminders_go_in_one_message_with_the_rest_of_today() -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    plan = plan_reminders(_items(), now=now, tz_name="UTC", quiet=DEFAULT_QUIET_HOURS, last_reminder_at=None)
    assert [i.id for i in plan.send] == [1, 2, 3, 4]
    assert [i.id for i in plan.later] == [5]
    assert [(i.id, reason) for i, reason in plan.drop] == [(6, "expired")]
    assert not plan.hold and plan.until is None


def test_toggles_drop_a_muted_kind() -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    plan = plan_reminders(_items(), now=now, tz_name="UTC", quiet=DEFAULT_QUIET_HOURS,
                          last_reminder_at=None, muted={"t_promo"})
    assert [i.id for i in plan.send] == [1, 3, 4]
    assert sorted((i.id, r) for i, r in plan.drop) == [(2, "muted"), (6, "expired")]


def test_quiet_hours_hold_the_due_ones_until_morning_in_the_users_zone() -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 23:45 in Chatham, 19:00 in Tokyo
    plan = plan_reminders(_items(), now=now, tz_name="Pacific/Chatham", quiet=DEFAULT_QUIET_HOURS,
                          last_reminder_at=None)
    assert not plan.send
    assert [i.id for i in plan.hold] == [1, 2]
    assert plan.until == local("Pacific/Chatham", 2026, 11, 26, 9, 0)
    tokyo = plan_reminders(_items(), now=now, tz_name="Asia/Tokyo", quiet=DEFAULT_QUIET_HOURS,
                           last_reminder_at=None)
    # Tokyo's day ends at 15:00 UTC: item 3 (15:00 UTC) is already tomorrow there
    assert [i.id for i in tokyo.send] == [1, 2]
    assert [i.id for i in tokyo.later] == [3, 4, 5]


def test_a_second_message_the_same_day_waits_for_tomorrow() -> None:
    now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    plan = plan_reminders(_items(), now=now, tz_name="UTC", quiet=DEFAULT_QUIET_HOURS,
                          last_reminder_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    assert [i.id for i in plan.hold] == [1, 2, 3]
    assert plan.until == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    nothing_due = plan_reminders(_items()[4:5], now=now, tz_name="UTC", quiet=DEFAULT_QUIET_HOURS,
                                 last_reminder_at=None)
    assert not nothing_due.send and not nothing_due.hold and [i.id for i in nothing_due.later] == [5]


# -- the sections' hooks (with the database) ------------------------------------------------------

async def _rows(app: App, user_id: int) -> dict[str, tuple[str, str | None]]:
    async with app.services.db.read() as conn:
        return {r.dedupe_key: (r.state, r.drop_reason) for r in await repo.for_user(conn, user_id)}


async def test_replan_drops_updates_adds_and_never_repeats_a_sent_one(app: App) -> None:
    await make_user(app, 11)
    now = app.clock.now()
    day = timedelta(days=1)
    async with app.services.db.write() as conn:
        await replan(conn, user_id=11, prefix="card:7:", now=now, reminders=[
            Reminder("t_remind", "card:7:expiry:30d", now + day, {"n": 1}),
            Reminder("t_remind", "card:7:expiry:7d", now + 2 * day, {"n": 2}),
        ])
        await replan(conn, user_id=11, prefix="card:70:", now=now, reminders=[
            Reminder("t_remind", "card:70:expiry:30d", now + day, {"n": 3}),
        ])
        # the first was sent meanwhile
        (first,) = [r for r in await repo.for_user(conn, 11) if r.dedupe_key == "card:7:expiry:30d"]
        await repo.lease(conn, [first.id], now + 2 * day, now + 2 * day)
        await repo.mark_sent(conn, [first.id], now + 2 * day, 1)
        # the card's expiry changed: new plan
        result = await replan(conn, user_id=11, prefix="card:7:", now=now, reminders=[
            Reminder("t_remind", "card:7:expiry:30d", now + 3 * day, {"n": 10}),
            Reminder("t_remind", "card:7:expiry:1d", now + 4 * day, {"n": 11}),
        ])
    assert (result.added, result.updated, result.dropped, result.kept) == (1, 0, 1, 1)
    assert await _rows(app, 11) == {
        "card:7:expiry:30d": ("sent", None),  # not sent again
        "card:7:expiry:7d": ("dropped", "replanned"),
        "card:7:expiry:1d": ("pending", None),
        "card:70:expiry:30d": ("pending", None),  # another card's prefix is untouched
    }
    # deleted, then restored: the dropped one comes back with the new content
    async with app.services.db.write() as conn:
        assert await cancel(conn, user_id=11, prefix="card:7:", now=now) == 1
        again = await replan(conn, user_id=11, prefix="card:7:", now=now, reminders=[
            Reminder("t_remind", "card:7:expiry:7d", now + 5 * day, {"n": 12}, expires_at=now + 6 * day),
        ])
        assert (again.added, again.updated) == (0, 1)
        (row,) = [r for r in await repo.for_user(conn, 11) if r.dedupe_key == "card:7:expiry:7d"]
    assert (row.state, row.payload, row.due_at, row.expires_at) == ("pending", {"n": 12}, now + 5 * day, now + 6 * day)
    with pytest.raises(ValueError):
        async with app.services.db.write() as conn:
            await replan(conn, user_id=11, prefix="card:7:", now=now,
                         reminders=[Reminder("t_remind", "coupon:1:x", now, {})])


async def test_replan_never_touches_another_users_rows(app: App) -> None:
    await make_user(app, 12)
    await make_user(app, 13)
    await push(app, 12, "t_remind", 1, key="card:9:expiry")
    async with app.services.db.write() as conn:
        assert await cancel(conn, user_id=13, prefix="card:9:", now=app.clock.now()) == 0
    assert await _rows(app, 12) == {"card:9:expiry": ("pending", None)}


async def test_unreachable_then_back_revives_what_is_still_relevant(app: App) -> None:
    await make_user(app, 14)
    now = app.clock.now()
    await push(app, 14, "t_order", 1, key="a")  # due now
    await push(app, 14, "t_remind", 2, key="b", due=now + timedelta(days=1))
    await push(app, 14, "t_remind", 3, key="c", expires=now + timedelta(hours=2))
    await push(app, 14, "t_order", 4, key="d", due=now - timedelta(days=5))  # long overdue
    await app.services.users.mark_unreachable(14)
    assert {k: v[0] for k, v in (await _rows(app, 14)).items()} == dict.fromkeys("abcd", "dropped")
    app.clock.advance(hours=3)  # "c" expires meanwhile
    from bot.services.users import Contact

    await app.services.users.touch(Contact(14, "U14", None, "en"))  # any update from them
    assert await _rows(app, 14) == {
        "a": ("pending", None), "b": ("pending", None),
        "c": ("dropped", "unreachable"), "d": ("dropped", "unreachable"),
    }


async def test_preferences_toggles_and_quiet_hours(app: App) -> None:
    await make_user(app, 15)
    reminders = app.services.reminders
    prefs = await reminders.preferences(15)
    assert prefs.quiet == DEFAULT_QUIET_HOURS and prefs.is_on("t_remind")
    await push(app, 15, "t_remind", 1)
    prefs = await reminders.toggle(15, "t_remind")
    assert not prefs.is_on("t_remind")
    assert list((await _rows(app, 15)).values()) == [("dropped", "muted")]  # pending ones go at once
    assert (await reminders.toggle(15, "t_remind")).is_on("t_remind")
    with pytest.raises(NotFound):
        await reminders.toggle(15, "t_refund")  # no toggle for this kind
    with pytest.raises(NotFound):
        await reminders.toggle(15, "nonsense")
    prefs = await reminders.set_quiet_hours(15, start=23)
    assert prefs.quiet == QuietHours(True, 23, 9)
    prefs = await reminders.set_quiet_hours(15, enabled=False)
    assert prefs.quiet == QuietHours(False, 23, 9)
    with pytest.raises(InvalidInput):
        await reminders.set_quiet_hours(15, end=23)
    with pytest.raises(InvalidInput):
        await reminders.set_quiet_hours(15, start=24)
    assert (await reminders.preferences(15)).quiet == QuietHours(False, 23, 9)
