"""What a buyer sees of a shop's customer link (`/start l_<token>`, bot/services/shops/customers.py)."""

from __future__ import annotations

from dataclasses import replace

from aiogram.utils.text_decorations import html_decoration as hd

from bot.services.shops import Linked
from bot.views.common import Fmt, Screen


def linked(result: Linked, menu: Screen, f: Fmt) -> Screen:
    """The main menu under a note: the shop account is linked, and how many of its orders came in."""
    text = f._("✅ Your account at <b>{shop}</b> is now linked: its orders and messages come here.").format(
        shop=hd.quote(result.shop))
    if result.placed:
        text += "\n" + f.ngettext(
            "{n} order from this shop is now in 📦 My orders.",
            "{n} orders from this shop are now in 📦 My orders.",
            result.placed).format(n=result.placed)
    return replace(menu, text=text + "\n\n" + menu.text)
