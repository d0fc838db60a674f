"""The message centre: the list of notifications and one notification."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton

from bot.db.outbox import OutboxRow
from bot.keyboards.messages import MessagesAction, MessagesCb
from bot.keyboards.relay import RelayAction, RelayCb
from bot.services.messages import Inbox
from bot.views import pushes
from bot.views.common import Fmt, Screen, button, markup, nav_row

UNREAD = "🔵"


def _rendered(row: OutboxRow, f: Fmt) -> pushes.Rendered | None:
    try:
        return pushes.render_one(row.kind, row.payload, f)
    except pushes.RenderError:
        return None  # a kind that is no longer sent (or a payload its view rejects)


def _entry_label(row: OutboxRow, f: Fmt) -> str:
    rendered = _rendered(row, f)
    title = pushes.title(rendered.screen.text) if rendered else f._("Notification")
    when = f.date(row.sent_at) if row.sent_at else ""
    mark = f"{UNREAD} " if row.read_at is None else ""
    return f"{mark}{when} · {title}" if when else f"{mark}{title}"


def inbox_screen(inbox: Inbox, f: Fmt, *, conversations_unread: int = 0) -> Screen:
    lines = [f._("<b>🔔 Messages</b>")]
    if not inbox.total:
        lines += ["", f._("No notifications yet. Order updates, reminders and seller messages will appear here.")]
    else:
        if inbox.unread:
            lines.append(f.ngettext("{n} unread", "{n} unread", inbox.unread).format(n=inbox.unread))
        else:
            lines.append(f._("All read."))
        if inbox.pages > 1:
            lines.append(f._("Page {page} of {pages}").format(page=inbox.page + 1, pages=inbox.pages))
    rows: list[list[InlineKeyboardButton]] = [
        [button(_entry_label(row, f), MessagesCb(action=MessagesAction.open, id=row.id, page=inbox.page))]
        for row in inbox.rows
    ]
    paging = []
    if inbox.page > 0:
        paging.append(button(f._("‹ Newer"), MessagesCb(action=MessagesAction.page, page=inbox.page - 1)))
    if inbox.page + 1 < inbox.pages:
        paging.append(button(f._("Older ›"), MessagesCb(action=MessagesAction.page, page=inbox.page + 1)))
    rows.append(paging)
    if inbox.unread:
        rows.append([button(f._("✓ Mark all as read"), MessagesCb(action=MessagesAction.read_all, page=inbox.page))])
    conversations = f._("💬 Conversations")
    if conversations_unread:
        conversations = f"{conversations} · {UNREAD} {conversations_unread}"
    rows.append([button(conversations, RelayCb(action=RelayAction.list))])
    rows.append(nav_row(f))
    return Screen("\n".join(lines), markup(rows))


def message_screen(row: OutboxRow, f: Fmt, *, page: int = 0) -> Screen:
    """One notification as it was sent (rendered again, in today's language), with its button to
    the object and the way back to the list."""
    rendered = _rendered(row, f)
    when = f.datetime(row.sent_at) if row.sent_at else ""
    if rendered is None:
        text = f._("This notification can no longer be shown.")
        rows: list[list[InlineKeyboardButton]] = []
    else:
        screen = pushes.push_screen(rendered)
        text = screen.text
        rows = pushes.keyboard_buttons(screen)
    if when:
        text = f"{text}\n\n<i>{when}</i>"
    rows = [*rows, nav_row(f, back=MessagesCb(action=MessagesAction.page, page=page))]
    return Screen(text, markup(rows))
