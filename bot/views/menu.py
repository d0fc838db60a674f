"""The main menu and the short answers that lead back to it."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.menu import MenuEntry
from bot.views.common import Fmt, Screen, button, chunk, markup


def main_menu(entries: list[MenuEntry], f: Fmt, *, first_name: str = "", greet: bool = False) -> Screen:
    if greet:
        head = f._("Hello, {name}! 👋").format(name=hd.quote(first_name or f._("friend")))
        text = head + "\n\n" + f._(
            "This is your marketplace account: orders, parcels, disputes, reviews, "
            "addresses, cards, coupons and points — all in this chat.\n\nChoose a section:"
        )
    else:
        text = f._("<b>My account</b>\nChoose a section:")
    wide = [[button(f._(e.label), MenuCb(section=e.section))] for e in entries if e.wide]
    narrow = [button(f._(e.label), MenuCb(section=e.section)) for e in entries if not e.wide]
    return Screen(text, markup(wide + chunk(narrow, 2)))


def outside_flow_hint(f: Fmt) -> Screen:
    return Screen(
        f._("I respond to buttons and commands. Open the menu to see what I can do, or send /help."),
        markup([[button(f._("☰ Menu"), NavCb(action=NavAction.menu))]]),
    )


def stale_button(f: Fmt) -> str:
    return f._("This button is no longer active.")


def nothing_to_cancel(f: Fmt) -> str:
    return f._("Nothing to cancel.")


def cancelled(f: Fmt) -> str:
    return f._("Cancelled. Nothing was saved.")


def conversation_left(f: Fmt) -> str:
    return f._("You left the conversation; the messages you sent stay sent.")


def something_went_wrong(f: Fmt) -> str:
    return f._("Something went wrong; nothing you entered was lost. Please try again.")


def unsupported_in_flow(f: Fmt) -> str:
    return f._("Please answer the question above with a message or a button, or send /cancel.")
