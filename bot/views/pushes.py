"""How pushes look. A section's service declares its kinds (`services/notifications.declare`:
key, the Settings toggle's label, category — "order" | "message": never held; "reminder": held);
the section registers, next to its views, how each renders:

    register_push(
        SHIPPED_KIND,                         # declare("order_shipped", N_("Order status"))
        lambda p, f: Screen(f._("📦 Order #{id} is on its way").format(id=p["order_id"])),
        button=lambda p, f: button(f._("Open order"), OrderCb(action=OrderAction.open, id=p["order_id"])),
    )

`render(payload, f) -> Screen` gets the row's payload (JSON primitives) and a `Fmt` in the user's
language and time zone, exactly like a screen. `button(payload, f)` is the one button straight to
the object: it is added under a push that has no keyboard of its own, one per item in a reminder
digest, and under the notification in the message centre. A renderer should state dates rather
than "tomorrow": a held reminder may arrive a few hours after it was due.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards.common import MenuCb
from bot.services import notifications
from bot.services.notifications import NotificationKind
from bot.views.common import Fmt, Screen, button, markup

Render = Callable[[dict[str, Any], Fmt], Screen]
ButtonFn = Callable[[dict[str, Any], Fmt], InlineKeyboardButton | None]

DIGEST_MAX_ITEMS = 10  # one button per item; the rest are in the message centre
TEXT_BUDGET = 3500  # Telegram allows 4096 characters


@dataclass(frozen=True, slots=True)
class PushView:
    kind: str
    render: Render
    button: ButtonFn | None = None


_VIEWS: dict[str, PushView] = {}


def register_push(kind: NotificationKind, render: Render, *, button: ButtonFn | None = None) -> PushView:
    """How a kind its service declared renders."""
    view = PushView(kind.key, render, button)
    _VIEWS[kind.key] = view
    return view


def unregister_push(kind: str) -> None:
    _VIEWS.pop(kind, None)


def unrendered_kinds() -> list[str]:
    """Declared kinds no view renders (their pushes would fail): empty once the app is built."""
    return [k.key for k in notifications.kinds() if k.key not in _VIEWS]


class RenderError(Exception):
    """A push cannot be rendered (unknown kind, or its view failed on this payload)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A push's own screen and its button to the object."""

    screen: Screen
    button: InlineKeyboardButton | None


def render_one(kind: str, payload: dict[str, Any], f: Fmt) -> Rendered:
    view = _VIEWS.get(kind)
    if view is None:
        raise RenderError(f"unknown kind {kind!r}: no push view is registered for it")
    try:
        screen = view.render(payload, f)
        btn = view.button(payload, f) if view.button is not None else None
    except Exception as exc:
        raise RenderError(f"the {kind!r} view failed: {exc!r}") from exc
    return Rendered(screen, btn)


def push_screen(rendered: Rendered) -> Screen:
    """A push as sent: its own keyboard, or else its button."""
    screen = rendered.screen
    if screen.reply_markup is None and rendered.button is not None:
        return Screen(screen.text, markup([[rendered.button]]), screen.extra, screen.media)
    return screen


def digest_screen(items: Sequence[Rendered], f: Fmt) -> Screen:
    """Several reminders in one message: each one's text, and one button per item."""
    if len(items) == 1:
        return push_screen(items[0])
    head = f.ngettext("🔔 <b>{n} reminder</b>", "🔔 <b>{n} reminders</b>", len(items)).format(n=len(items))
    blocks = [head]
    rows: list[list[InlineKeyboardButton]] = []
    used = len(head)
    shown = 0
    for item in items:
        text = item.screen.text
        if shown >= DIGEST_MAX_ITEMS or used + len(text) + 2 > TEXT_BUDGET:
            break
        blocks.append(text)
        used += len(text) + 2
        shown += 1
        if item.button is not None:
            rows.append([item.button])
    rest = len(items) - shown
    if rest:
        blocks.append(f.ngettext("…and {n} more in 🔔 Messages.", "…and {n} more in 🔔 Messages.", rest).format(n=rest))
        rows.append([button(f._("🔔 Messages"), MenuCb(section="messages"))])
    return Screen("\n\n".join(blocks), markup(rows) if rows else None)


_TAG = re.compile(r"<[^>]+>")


def title(text: str, limit: int = 48) -> str:
    """A push's first line as plain text, for a button in the message centre."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    plain = html.unescape(_TAG.sub("", first)).strip()
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def keyboard_buttons(screen: Screen) -> list[list[InlineKeyboardButton]]:
    markup_ = screen.reply_markup
    return list(markup_.inline_keyboard) if isinstance(markup_, InlineKeyboardMarkup) else []
