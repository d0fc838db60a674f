"""What the bot says in a group or a channel: only that it works in private chats."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.views.common import Fmt, Screen, markup, url_button


def private_link(username: str) -> str:
    return f"https://t.me/{username}"


def private_only(f: Fmt, username: str) -> Screen:
    """Said once per group or channel (and when the bot is added to one)."""
    text = f._("👋 I'm a personal account: orders, addresses and cards are private, so I work only in a "
               "private chat. Write to me there: {link}").format(link=hd.quote(f"t.me/{username}"))
    return Screen(text, markup([[url_button(f._("💬 Open a private chat"), private_link(username))]]))


def press_in_group(f: Fmt) -> str:
    """The answer to a button pressed in a group: shown to the presser only, nothing else happens."""
    return f._("I work only in a private chat: open me there to see your account.")
