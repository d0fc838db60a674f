"""Help: what the bot does, the commands, a short FAQ."""

from __future__ import annotations

from bot.services.errors import N_
from bot.views.common import Fmt, Screen, markup, nav_row, url_button

# (command, description msgid) — also what set_my_commands registers, per language.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Start and open the menu")),
    ("menu", N_("Main menu")),
    ("help", N_("Help and FAQ")),
    ("settings", N_("Language, time zone, notifications")),
    ("cancel", N_("Leave what you are doing")),
    ("privacy", N_("What Kabinet keeps about you")),
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


def privacy_screen(f: Fmt, policy_url: str | None = None, forget_days: int = 30) -> Screen:
    """/privacy (Telegram opens it from the bot's profile when no policy URL is set in BotFather):
    what is kept and why, who sees what, what the buyer removes themselves; the shop's full policy
    behind a button when PRIVACY_URL is set."""
    lines = [
        f._("<b>🔒 Privacy</b>"),
        "",
        f._("<b>What Kabinet keeps about you, and why</b>"),
        f._("• Your Telegram id, name and language, your time zone and notification settings: to answer you "
            "and to send you notifications."),
        f._("• Your shipping addresses, with the recipient's name and phone: to deliver your orders. The store "
            "of an order sees the address it ships to."),
        f._("• Your cards: the brand, the last 4 digits, the expiry date, the cardholder's name and the payment "
            "provider's token. The card number and CVC are never kept, and the message that carried the number "
            "is deleted."),
        f._("• Your orders, disputes, reviews, conversations with sellers, coupons and points: the history of "
            "your account. A store sees your reviews and disputes of its orders and your loyalty level; in a "
            "conversation it sees you as a buyer with a number, never your name or Telegram account."),
        f.ngettext("• What you type into a form you leave unfinished is forgotten after {n} day.",
                   "• What you type into a form you leave unfinished is forgotten after {n} days.",
                   forget_days).format(n=forget_days),
        "",
        f._("<b>What you can remove yourself</b>"),
        f._("• An address or a card: in 📍 Shipping addresses and 💳 Bank cards."),
        f._("• An order: 🗑 Delete, then 🗑 Delete for good in Deleted orders. Its address and notifications "
            "are erased; the shop keeps its record of the payment."),
        f._("• Recently viewed items, My wishes and favourite stores: in 🛍 Shopping."),
    ]
    rows = []
    if policy_url:
        rows.append([url_button(f._("📄 The shop's privacy policy"), policy_url)])
    rows.append(nav_row(f))
    return Screen("\n".join(lines), markup(rows))
