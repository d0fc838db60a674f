"""How a relayed message renders as a push (the header, and a text message's text). The
conversation screens come with the seller-mode handlers (issue 18).

For a photo, document, voice message or album the header is what `send_message` delivers today;
the copy itself (`copyMessage` with the masked caption, `sendMediaGroup` for an album) needs the
delivery change described in bot/services/relay/pushes.py's payload."""

from __future__ import annotations

from typing import Any

from aiogram.utils.text_decorations import html_decoration as hd

from bot.services.relay.pushes import RELAY_KIND
from bot.views.common import Fmt, Screen
from bot.views.pushes import register_push


def header(p: dict[str, Any], f: Fmt) -> str:
    number = hd.quote(str(p.get("order_number", "")))
    if p.get("to") == "seller":
        return f._("✉️ Buyer #{alias} about order #{number}").format(alias=hd.quote(str(p.get("alias", ""))),
                                                                      number=number)
    return f._("✉️ {store} about order #{number}").format(store=hd.quote(str(p.get("store", ""))), number=number)


def relayed_push(p: dict[str, Any], f: Fmt) -> Screen:
    text = str(p.get("text") or "")
    return Screen(header(p, f) + ("\n\n" + hd.quote(text) if text else ""))


register_push(RELAY_KIND, relayed_push)
