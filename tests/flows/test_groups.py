"""Private chats only (issue 15, item 3): in a group or channel the bot says once that it works in
private chats, with a link, and ignores presses; nobody's data is ever shown there."""

from __future__ import annotations

from datetime import datetime

from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import Chat, ChatMemberBanned, ChatMemberLeft, ChatMemberMember, ChatMemberUpdated, Update

from bot import menu as registry
from bot.fakebot import BOT_USER, Player
from bot.handlers import groups
from bot.views import menu as menu_views
from bot.views.common import Fmt
from tests.conftest import App

GROUP = Chat(id=-1001234567890, type="supergroup", title="Gadget fans")
CHANNEL = Chat(id=-1009876543210, type="channel", title="Deals")

EN_NOTICE = ("👋 I'm a personal account: orders, addresses and cards are private, so I work only in a "
             "private chat. Write to me there: t.me/kabinet_bot")


def sent_to(app: App, chat: Chat) -> list[SendMessage]:
    return [c for c in app.session.calls_of(SendMessage) if c.chat_id == chat.id]


async def test_start_in_a_supergroup_says_private_only_once(app: App, alex: Player) -> None:
    in_group = alex.in_chat(GROUP)
    await in_group.send("/start")
    assert in_group.last_text == EN_NOTICE
    assert [(b.text, b.url) for row in in_group.last.reply_markup.inline_keyboard for b in row] == [
        ("💬 Open a private chat", "https://t.me/kabinet_bot")]
    for text in ("/start", "/menu", "hello", "/settings"):  # the group is not told again
        await in_group.send(text)
    assert len(sent_to(app, GROUP)) == 1
    assert await app.services.users.get(alex.user.id) is None  # no account made from a group
    await app.restart()  # remembered across a restart
    in_group.dp, in_group.bot = app.dp, app.bot
    await in_group.send("/start")
    assert len(sent_to(app, GROUP)) == 1


async def test_a_press_in_a_group_shows_no_data(app: App, alex: Player, masha: Player) -> None:
    """The reported case: a menu in a group (posted before this rule, or forwarded); another
    member presses "Shipping addresses" on it."""
    await masha.send("/start")  # Masha has an account, in Russian
    await masha.send("/menu")
    screen = menu_views.main_menu(registry.entries(), Fmt(app.services.i18n, "ru"))
    app.session.chat_objects[GROUP.id] = GROUP
    await app.bot.send_message(GROUP.id, **screen.as_kwargs())
    masha_in_group = masha.in_chat(GROUP)
    menu = masha_in_group.last
    edits_before, private_before = len(app.session.calls_of(EditMessageText)), len(masha.bot_messages)
    for label in ("📍 Адреса доставки", "💳 Банковские карты", "📦 Мои заказы", "⚙️ Настройки"):
        await masha_in_group.press(label)
        assert masha_in_group.alerts()[-1] == "Я работаю только в личном чате: откройте меня там, чтобы увидеть свой кабинет."
    assert len(app.session.calls_of(EditMessageText)) == edits_before  # nothing edited into the group
    assert masha_in_group.last.message_id == menu.message_id and masha_in_group.last.text == menu.text
    assert len(sent_to(app, GROUP)) == 1  # only the menu posted above
    assert len(masha.bot_messages) == private_before  # and nothing in her private chat either
    await masha.send("/menu")  # in private, everything works as before
    assert "📍 Адреса доставки" in [t for t, _ in masha.buttons()]


async def test_a_channel_is_told_once(app: App, alex: Player) -> None:
    channel = alex.in_chat(CHANNEL)
    await channel.send("/start")
    assert channel.last_text == EN_NOTICE
    await channel.send("New deals every Friday")
    assert len(sent_to(app, CHANNEL)) == 1


def member_update(app: App, chat: Chat, who: Player, old: object, new: object) -> Update:
    return Update(update_id=next(Player._update_ids), my_chat_member=ChatMemberUpdated(
        chat=chat, from_user=who.user, date=datetime(2026, 11, 25), old_chat_member=old, new_chat_member=new))


async def test_added_to_a_group_greets_and_removed_blocks_nobody(app: App, alex: Player, masha: Player) -> None:
    await alex.send("/start")  # Alex uses the bot in private
    left = ChatMemberLeft(user=BOT_USER)
    member = ChatMemberMember(user=BOT_USER)
    masha_in_group = masha.in_chat(GROUP)
    await alex.feed(member_update(app, GROUP, alex, left, member))
    assert [m.text for m in sent_to(app, GROUP)] == [EN_NOTICE]
    await masha_in_group.send("/start")  # already told
    assert len(sent_to(app, GROUP)) == 1
    # Alex removes the bot from the group: that is not Alex blocking the bot
    await alex.feed(member_update(app, GROUP, alex, member, ChatMemberBanned(user=BOT_USER, until_date=0)))
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.unreachable_since is None
    # added again, by a Russian speaker: greeted again, in her language
    await masha.feed(member_update(app, GROUP, masha, left, member))
    assert len(sent_to(app, GROUP)) == 2 and "личном чате" in (sent_to(app, GROUP)[-1].text or "")


def test_the_groups_router_guards_every_update_type_the_bot_takes(app: App) -> None:
    assert set(app.dp.resolve_used_update_types()) <= set(groups.UPDATE_TYPES)
    assert app.dp.sub_routers[1].name == groups.router.name == "groups"  # right after the error handler, before any section
