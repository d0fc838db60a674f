"""Help: what the bot does, the commands, a short FAQ."""

from __future__ import annotations

from bot.services.errors import N_
from bot.views.common import Fmt, Screen, markup, nav_row

# (command, description msgid) — also what set_my_commands registers, per language.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Start and open the menu")),
    ("menu", N_("Main menu")),
    ("help", N_("Help and FAQ")),
    ("settings", N_("Language, time zone, notifications")),
    ("cancel", N_("Leave what you are doing")),
)


# listed in a seller's own chat only (bot/command_menu.py)
SELLER_COMMAND = ("seller", N_("Seller mode: your store's orders and buyers"))


def command_descriptions(f: Fmt, *, seller: bool = False) -> list[tuple[str, str]]:
    listed = (*COMMANDS, SELLER_COMMAND) if seller else COMMANDS
    return [(cmd, f._(desc)) for cmd, desc in listed]


def help_screen(f: Fmt, *, seller: bool = False) -> Screen:
    """`seller`: the user sells for a store — /seller is listed too."""
    lines = [
        f._("<b>Help</b>"),
        "",
        f._(
            "Kabinet is your marketplace account in Telegram: follow and manage orders, "
            "track parcels, open disputes, leave reviews, keep addresses and cards, "
            "and see your coupons and points."
        ),
        "",
        f._("<b>Commands</b>"),
    ]
    lines += [f"/{cmd} — {desc}" for cmd, desc in command_descriptions(f, seller=seller)]
    lines += [
        "",
        f._("<b>FAQ</b>"),
        f._(
            "<b>I don't see my orders.</b> Orders appear here once they are placed with the "
            "Telegram account you are using now. Check that you are in the right account."
        ),
        f._(
            "<b>The bot speaks the wrong language.</b> Open /settings → Language."
        ),
        f._(
            "<b>Dates are in the wrong time zone.</b> Open /settings → Time zone."
        ),
        f._(
            "<b>I pressed a button and nothing happened.</b> Old messages may carry old buttons; "
            "send /menu to get fresh ones."
        ),
        f._(
            "<b>I want to stop what I'm doing.</b> Send /cancel at any moment; nothing "
            "half-entered is saved."
        ),
    ]
    return Screen("\n".join(lines), markup([nav_row(f)]))
