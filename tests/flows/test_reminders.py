"""Settings → Notifications through the Dispatcher: a toggle per kind, quiet hours; blocking and
unblocking the bot. English and Russian."""

from __future__ import annotations

import itertools

import pytest
from aiogram.types import Chat, ChatMemberBanned, ChatMemberMember, ChatMemberUpdated, Update

from bot.db import outbox as repo
from bot.fakebot import BOT_USER, Player
from tests.conftest import App
from tests.pushkit import push

NNBSP = "\u202f"
_ids = itertools.count(5_000_000)


pytestmark = pytest.mark.usefixtures("push_kinds")


async def test_a_toggle_per_kind_survives_a_restart(app: App, alex) -> None:
    await alex.send("/settings")
    await alex.press("🔔 Notifications")
    assert alex.last_text == (
        "<b>Notifications</b>\n\nReminders wait for the end of quiet hours and come at most once a day, "
        "in one message. Order updates, refunds and seller messages come at once.\n\n"
        f"🌙 Quiet hours: 10:00{NNBSP}PM–9:00{NNBSP}AM\n\nTap a notification type to turn it on or off:"
    )
    labels = [t for t, _ in alex.buttons()]
    # the sections' own kinds are listed too; the test kinds come in their order, then quiet hours
    assert [t for t in labels if t.startswith("✅ Test")] == [
        "✅ Test: order updates", "✅ Test: reminders", "✅ Test: promotions", "✅ Test: seller messages",
    ]
    assert labels[-3:] == ["🌙 Quiet hours", "‹ Back", "☰ Menu"]
    await push(app, alex.user.id, "t_remind", 1)
    await alex.press("✅ Test: reminders")
    assert alex.alerts()[-1] == "Test: reminders: off"
    assert "🔕 Test: reminders" in [t for t, _ in alex.buttons()]
    async with app.services.db.read() as conn:
        (row,) = await repo.for_user(conn, alex.user.id)
    assert (row.state, row.drop_reason) == ("dropped", "muted")  # its pending reminder is gone
    await app.restart()
    await alex.send("/settings")
    await alex.press("🔔 Notifications")
    assert "🔕 Test: reminders" in [t for t, _ in alex.buttons()]
    await alex.press("🔕 Test: reminders")
    assert alex.alerts()[-1] == "Test: reminders: on"
    assert "✅ Test: reminders" in [t for t, _ in alex.buttons()]
    await alex.press("‹ Back")
    assert "<b>Settings</b>" in alex.last_text


async def test_a_stale_toggle_is_refused(app: App, alex) -> None:
    await alex.send("/settings")
    await alex.press("🔔 Notifications")
    for data in ("st:tk:gone_kind", "st:tk:t_refund", "st:tk:"):  # unknown, not toggleable, empty
        await alex.press_data(data)
        assert alex.alerts()[-1] == "This button is no longer active."
    assert "✅ Test: order updates" in [t for t, _ in alex.buttons()]


async def test_quiet_hours_start_end_off_and_on(app: App, alex) -> None:
    await alex.send("/settings")
    await alex.press("🔔 Notifications")
    await alex.press("🌙 Quiet hours")
    assert alex.last_text.startswith("<b>Quiet hours</b>\n\nReminders that fall inside quiet hours wait")
    assert f"Quiet hours: 10:00{NNBSP}PM–9:00{NNBSP}AM\nTime zone: UTC" in alex.last_text
    await alex.press(f"Start: 10:00{NNBSP}PM")
    assert alex.last_text == "Quiet hours start at:"
    assert f"✅ 10:00{NNBSP}PM" in [t for t, _ in alex.buttons()]
    await alex.press(f"11:00{NNBSP}PM")
    assert alex.alerts()[-1] == f"🌙 Quiet hours: 11:00{NNBSP}PM–9:00{NNBSP}AM"
    assert f"Start: 11:00{NNBSP}PM" in [t for t, _ in alex.buttons()]
    await alex.press(f"End: 9:00{NNBSP}AM")
    await alex.press(f"11:00{NNBSP}PM")  # the same as the start
    assert alex.alerts()[-1] == "Quiet hours must start and end at different times."
    await alex.press(f"7:00{NNBSP}AM")
    assert f"Quiet hours: 11:00{NNBSP}PM–7:00{NNBSP}AM" in alex.last_text
    await alex.press_data("st:ss:25")  # forged hour
    assert alex.alerts()[-1] == "Quiet hours start and end on a whole hour from 0 to 23."
    await alex.press("🔔 Turn quiet hours off")
    assert "Quiet hours: off" in alex.last_text
    assert [t for t, _ in alex.buttons()] == ["🌙 Turn quiet hours on", "‹ Back", "☰ Menu"]
    await alex.press("‹ Back")
    assert "🌙 Quiet hours: off" in alex.last_text
    await alex.press("🌙 Quiet hours")
    await alex.press("🌙 Turn quiet hours on")
    assert f"Quiet hours: 11:00{NNBSP}PM–7:00{NNBSP}AM" in alex.last_text  # the hours were kept
    prefs = await app.services.reminders.preferences(alex.user.id)
    assert (prefs.quiet.enabled, prefs.quiet.start, prefs.quiet.end) == (True, 23, 7)


async def test_notifications_in_russian(app: App, masha) -> None:
    await masha.send("/settings")
    await masha.press("🕒 Часовой пояс")
    await masha.press("Москва (UTC+3)")
    await masha.press("🔔 Уведомления")
    assert masha.last_text.startswith("<b>Уведомления</b>\n\nНапоминания ждут окончания тихих часов")
    assert "🌙 Тихие часы: 22:00–09:00" in masha.last_text
    await masha.press("✅ Test: promotions")
    assert masha.alerts()[-1] == "Test: promotions: выключено"
    await masha.press("🌙 Тихие часы")
    assert "Часовой пояс: Москва (UTC+3)" in masha.last_text
    await masha.press("Конец: 09:00")
    assert masha.last_text == "Тихие часы заканчиваются в:"
    await masha.press("08:00")
    assert masha.alerts()[-1] == "🌙 Тихие часы: 22:00–08:00"
    await masha.press("🔔 Выключить тихие часы")
    assert "Тихие часы: выключены" in masha.last_text
    await masha.press("‹ Назад")
    assert "🌙 Тихие часы: выключены" in masha.last_text
    assert "🔕 Test: promotions" in [t for t, _ in masha.buttons()]


def _member_update(player: Player, *, blocked: bool) -> Update:
    old, new = ChatMemberMember(user=BOT_USER), ChatMemberBanned(user=BOT_USER, until_date=0)
    if not blocked:
        old, new = new, old
    event = ChatMemberUpdated(
        chat=Chat(id=player.user.id, type="private"), from_user=player.user, date=0,
        old_chat_member=old, new_chat_member=new,
    )
    return Update(update_id=next(_ids), my_chat_member=event)


async def test_blocking_drops_pending_pushes_and_unblocking_brings_them_back(app: App, alex) -> None:
    await alex.send("/start")
    await push(app, alex.user.id, "t_order", 1)
    await alex.feed(_member_update(alex, blocked=True))
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.unreachable_since == app.clock.now()
    async with app.services.db.read() as conn:
        (row,) = await repo.for_user(conn, alex.user.id)
    assert (row.state, row.drop_reason) == ("dropped", "unreachable")
    app.clock.advance(minutes=5)
    await alex.feed(_member_update(alex, blocked=False))
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.unreachable_since is None
    async with app.services.db.read() as conn:
        (row,) = await repo.for_user(conn, alex.user.id)
    assert (row.state, row.drop_reason) == ("pending", None)
