"""The message centre through the Dispatcher: newest first, pages, unread marks, opening one
(its button to the object), forged ids; English and Russian."""

from __future__ import annotations

import pytest

from tests.conftest import App
from tests.pushkit import drain, push, sim_delivery

NNBSP = "\u202f"


pytestmark = pytest.mark.usefixtures("push_kinds")


async def test_the_message_centre_lists_opens_and_marks_read(app: App, alex) -> None:
    await alex.send("/start")
    for n in range(1, 12):
        await push(app, alex.user.id, "t_order", n)
    await drain(app, sim_delivery(app))
    assert alex.last_text == "<b>Order #11</b> update 11"  # the pushes arrived in the chat
    await alex.send("/menu")
    await alex.press("🔔 Messages")
    assert alex.last_text == "<b>🔔 Messages</b>\n11 unread\nPage 1 of 2"
    labels = [t for t, _ in alex.buttons()]
    assert labels[:8] == [f"🔵 Nov 25, 2026 · Order #{n} update {n}" for n in range(11, 3, -1)]  # newest first
    assert labels[8:] == ["Older ›", "✓ Mark all as read", "💬 Conversations", "☰ Menu"]
    await alex.press("Older ›")
    assert "Page 2 of 2" in alex.last_text
    assert [t for t, _ in alex.buttons()][:4] == [
        "🔵 Nov 25, 2026 · Order #3 update 3", "🔵 Nov 25, 2026 · Order #2 update 2", "🔵 Nov 25, 2026 · Order #1 update 1",
        "‹ Newer"]
    await alex.press("Order #2 update 2")
    assert alex.last_text == f"<b>Order #2</b> update 2\n\n<i>Nov 25, 2026, 12:00{NNBSP}PM</i>"
    # its button is the push's own: straight to the object
    assert alex.buttons() == [("Open order #2", "tth:2"), ("‹ Back", "msg:p:0:1"), ("☰ Menu", "nav:m")]
    await alex.press("‹ Back")
    assert "10 unread\nPage 2 of 2" in alex.last_text
    assert "Nov 25, 2026 · Order #2 update 2" in [t for t, _ in alex.buttons()]  # read: no mark
    await alex.press("✓ Mark all as read")
    assert alex.alerts()[-1] == "All marked as read"
    assert alex.last_text == "<b>🔔 Messages</b>\nAll read.\nPage 2 of 2"
    assert not any(t.startswith("🔵") for t, _ in alex.buttons())


async def test_forged_or_foreign_ids_show_nothing_but_the_list(app: App, alex, masha) -> None:
    await masha.send("/start")
    await push(app, masha.user.id, "t_order", 5)
    await drain(app, sim_delivery(app))
    await alex.send("/start")
    await alex.press("🔔 Messages")
    assert "No notifications yet." in alex.last_text
    for data in ("msg:o:1:0", "msg:o:999999:0", "msg:o:-5:3"):  # masha's row is id 1
        await alex.press_data(data)
        assert alex.alerts()[-1] == "This item is no longer available."
        assert "No notifications yet." in alex.last_text
    await alex.press_data("msg:p:999:0")  # a page past the end shows the last page
    assert "No notifications yet." in alex.last_text


async def test_the_message_centre_in_russian(app: App, masha) -> None:
    await masha.send("/start")
    await masha.press("🔔 Центр сообщений")
    assert masha.last_text == (
        "<b>🔔 Центр сообщений</b>\n\nУведомлений пока нет. Здесь появятся новости о заказах, "
        "напоминания и сообщения продавцов."
    )
    for n in range(1, 3):
        await push(app, masha.user.id, "t_remind", n)
    await push(app, masha.user.id, "t_chat", 3)
    await drain(app, sim_delivery(app))
    await masha.send("/menu")
    await masha.press("🔔 Центр сообщений")
    assert masha.last_text == "<b>🔔 Центр сообщений</b>\n3 непрочитанных"
    labels = [t for t, _ in masha.buttons()]
    # the two reminders came in one digest: each is its own entry
    assert sorted(labels[:3]) == sorted([
        "🔵 25 нояб. 2026\u202fг. · Order #3 update 3", "🔵 25 нояб. 2026\u202fг. · ⏰ Reminder 1", "🔵 25 нояб. 2026\u202fг. · ⏰ Reminder 2"])
    assert labels[3:] == ["✓ Прочитать все", "💬 Переписка", "☰ Меню"]
    await masha.press("⏰ Reminder 2")
    assert masha.last_text == f"⏰ Reminder 2\n\n<i>25 нояб. 2026{NNBSP}г., 15:00</i>"  # 12:00 UTC, in Moscow time
    assert masha.buttons()[0] == ("Item 2", "tth:2")
    await masha.press("‹ Назад")
    assert masha.last_text == "<b>🔔 Центр сообщений</b>\n2 непрочитанных"


async def test_a_notification_of_a_kind_no_longer_sent(app: App, alex) -> None:
    await alex.send("/start")
    await push(app, alex.user.id, "t_order", 1)
    await drain(app, sim_delivery(app))
    from bot.views import pushes

    pushes.unregister_push("t_order")  # a later version stopped sending this kind
    await alex.send("/menu")
    await alex.press("🔔 Messages")
    assert alex.buttons()[0][0] == "🔵 Nov 25, 2026 · Notification"
    await alex.press("Notification")
    assert alex.last_text.startswith("This notification can no longer be shown.")
