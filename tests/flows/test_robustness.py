"""Failures: a handler that raises, a redelivered update, reachability."""

from __future__ import annotations

from aiogram import F
from aiogram.types import Message

from bot.db.engine import Database
from tests.conftest import App


async def test_a_failing_handler_is_reported_in_the_users_language_and_keeps_state(app: App, masha) -> None:
    await masha.send("/settings")
    await masha.press("🕒 Часовой пояс")
    await masha.press("⌨️ Ввести пояс")

    async def boom(message: Message) -> None:
        raise RuntimeError("boom")

    app.dp.message.register(boom, F.text == "explode")
    app.expected_errors = 1
    await masha.send("explode")
    assert masha.last_text == "Что-то пошло не так; всё, что вы ввели, сохранилось. Попробуйте ещё раз."
    assert len(app.errors.errors) == 1 and str(app.errors.errors[0]) == "boom"
    # still in the time zone flow
    await masha.send("UTC+2")
    assert "Часовой пояс: UTC+2" in masha.last_text


async def test_failing_button_answers_the_callback(app: App, alex) -> None:
    from bot.keyboards.common import MenuCb

    async def boom(query) -> None:
        raise RuntimeError("boom")

    app.dp.callback_query.register(boom, MenuCb.filter(F.section == "help"))
    app.expected_errors = 1
    await alex.send("/start")
    await alex.press("❓ Help")
    assert alex.alerts()[-1].startswith("Something went wrong; nothing you entered was lost.")


async def test_a_redelivered_update_applies_once(app: App, alex) -> None:
    from aiogram.types import Update

    await alex.send("/settings")
    await alex.press("🕒 Time zone")
    await alex.press("⌨️ Type a zone")
    message = alex._user_message(text="UTC+3")
    update = Update(update_id=999_000_001, message=message)
    await alex.feed(update)
    assert "Time zone: UTC+3" in alex.last_text
    # the user changes it again; then Telegram redelivers the old update
    await alex.press("🕒 Time zone")
    await alex.press("UTC±N…")
    await alex.press("UTC+5")
    saved_before = alex.alerts().count("Time zone saved")
    await alex.feed(update)
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.time_zone == "Etc/GMT-5"  # not back to +3
    assert alex.alerts().count("Time zone saved") == saved_before
    assert "Time zone saved" not in alex.last_text


async def test_unit_of_work_is_atomic(app: App) -> None:
    """An exception inside a unit of work rolls back every write in it, FSM included."""
    db: Database = app.services.db
    await app.services.users.touch(__import__("bot.services.users", fromlist=["Contact"]).Contact(5, "E", None, "en"))
    try:
        async with db.write():
            await app.services.settings.set_time_zone(5, "Asia/Tokyo")
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    user = await app.services.users.get(5)
    assert user is not None and user.time_zone == "UTC"


async def test_blocked_and_unblocked(app: App, alex) -> None:
    from datetime import datetime

    from aiogram.types import Chat, ChatMemberBanned, ChatMemberMember, ChatMemberUpdated, Update

    from bot.fakebot import BOT_USER

    await alex.send("/start")

    def member_update(uid: int, old, new) -> Update:
        return Update(update_id=uid, my_chat_member=ChatMemberUpdated(
            chat=Chat(id=alex.user.id, type="private"), from_user=alex.user,
            date=datetime(2026, 11, 25), old_chat_member=old, new_chat_member=new))

    await alex.feed(member_update(880001, ChatMemberMember(user=BOT_USER),
                                  ChatMemberBanned(user=BOT_USER, until_date=0)))
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.unreachable_since is not None
    await alex.feed(member_update(880002, ChatMemberBanned(user=BOT_USER, until_date=0),
                                  ChatMemberMember(user=BOT_USER)))
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.unreachable_since is None
