"""Conversations between buyers and sellers: how a relayed message renders as a push (the header,
the text, the media by file id, a Reply button), the conversation lists of both sides, one
conversation's history, and the notes a sender gets.

Everything a participant wrote is escaped here (it was masked by the service before it was stored).
A seller sees the buyer only as "Buyer #<alias>"."""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.relay import ConversationLine
from bot.keyboards.common import MenuCb
from bot.keyboards.relay import RelayAction, RelayCb, Side
from bot.keyboards.seller import SellerAction, SellerCb
from bot.services.relay.conversations import (
    Conversation,
    ConversationPage,
    HistoryPage,
    Kind,
    Message,
    Role,
    Sent,
)
from bot.services.relay.pushes import RELAY_KIND
from bot.views.common import CAPTION_LIMIT, Fmt, Screen, button, clip, markup, nav_row, pager_row
from bot.views.pushes import register_push

UNREAD = "🔵"
PREVIEW = 60  # characters of the last message in a list's button
HISTORY_TEXT = 400  # characters of one message in the history (the rest: open the message itself)


def side_of(role: Role) -> Side:
    return Side.seller if role == Role.seller else Side.buyer


# -- the push ---------------------------------------------------------------------------------
def header(p: dict[str, Any], f: Fmt) -> str:
    number = hd.quote(str(p.get("order_number") or ""))
    alias, store = hd.quote(str(p.get("alias", ""))), hd.quote(str(p.get("store", "")))
    if p.get("to") == "colleague":  # another seller of the store answered
        if not number:
            return f._("↪️ {store} answered Buyer #{alias}").format(alias=alias, store=store)
        return f._("↪️ {store} answered Buyer #{alias} about order #{number}").format(
            alias=alias, store=store, number=number)
    if p.get("to") == "seller":
        if not number:  # a question before any order
            return f._("✉️ Buyer #{alias}, a question to {store}").format(alias=alias, store=store)
        return f._("✉️ Buyer #{alias} about order #{number}").format(alias=alias, number=number)
    if not number:
        return f._("✉️ {store}").format(store=store)
    return f._("✉️ {store} about order #{number}").format(store=store, number=number)


def relayed_push(p: dict[str, Any], f: Fmt) -> Screen:
    """The header and the (masked) text; a photo, document or voice message goes with it as its
    caption, an album right after it (bot/delivery.py `send_screen`)."""
    text = str(p.get("text") or "")
    media = tuple((str(kind), str(file_id)) for kind, file_id in p.get("media") or ())
    body = header(p, f) + ("\n\n" + hd.quote(text) if text else "")
    if len(media) == 1:  # a caption: Telegram allows 1,024 characters (the service keeps 900)
        body = body if len(body) <= CAPTION_LIMIT else header(p, f) + "\n\n" + hd.quote(clip(text, 800))
    return Screen(body, media=media)


def reply_button(p: dict[str, Any], f: Fmt) -> InlineKeyboardButton:
    side = Side.seller if p.get("to") in ("seller", "colleague") else Side.buyer
    return button(f._("↩️ Reply"), RelayCb(action=RelayAction.open, id=int(p.get("conversation_id", 0)), side=side))


register_push(RELAY_KIND, relayed_push, button=reply_button)


# -- lists and a conversation -----------------------------------------------------------------
def _kind_label(kind: Kind, f: Fmt) -> str:
    labels = {Kind.photo: f._("📷 Photo"), Kind.document: f._("📎 Document"), Kind.voice: f._("🎤 Voice message"),
              Kind.album: f._("🖼 Album")}
    return labels.get(kind, "")


def _title(c: Conversation | ConversationLine, seller: bool, f: Fmt) -> str:
    if not c.order_number:  # a question before any order
        return f._("Buyer #{alias} · a question").format(alias=c.alias) if seller else c.store
    if seller:
        return f._("Buyer #{alias} · order #{number}").format(alias=c.alias, number=c.order_number)
    return f._("{store} · order #{number}").format(store=c.store, number=c.order_number)


def _line_label(line: ConversationLine, seller: bool, f: Fmt) -> str:
    mark = f"{UNREAD} {line.unread} · " if line.unread else ""
    return clip(mark + _title(line, seller, f), PREVIEW)


def conversations_screen(page: ConversationPage, side: Side, f: Fmt) -> Screen:
    seller = side == Side.seller
    lines = [f._("<b>💬 Conversations with buyers</b>") if seller else f._("<b>💬 Conversations</b>")]
    if not page.total:
        lines += ["", f._("No conversations yet. Buyers' messages about your stores' orders will appear here.")
                  if seller else
                  f._("No conversations yet. Open an order and tap “✉️ Message seller” to write to its store.")]
    else:
        lines.append(f.ngettext("{n} unread message", "{n} unread messages", page.unread).format(n=page.unread)
                     if page.unread else f._("All read."))
    rows: list[list[InlineKeyboardButton]] = []
    for line in page.rows:
        rows.append([button(_line_label(line, seller, f), RelayCb(action=RelayAction.open, id=line.id, side=side))])
    rows.append(pager_row(page.page, page.pages, lambda n: RelayCb(action=RelayAction.list, page=n, side=side)))
    back = SellerCb(action=SellerAction.menu) if seller else MenuCb(section="messages")
    rows.append(nav_row(f, back=back))
    return Screen("\n".join(lines), markup(rows))


def _message_block(message: Message, seller: bool, store: str, f: Fmt) -> str:
    if message.mine:  # the viewer's side: themself, or (a seller) another seller of the store
        who = f._("You") if message.by_viewer else hd.quote(store)
    else:
        who = f._("Buyer") if seller else hd.quote(store)
    head = f"<b>{who}</b> · {f.datetime(message.created_at)}"
    body = _kind_label(message.kind, f)
    if message.text:
        body = (body + "\n" if body else "") + hd.quote(clip(message.text, HISTORY_TEXT))
    return f"{head}\n{body}"


def conversation_screen(history: HistoryPage, f: Fmt) -> Screen:
    """A conversation: its messages, oldest of the page first, and what typing does now."""
    c = history.conversation
    seller = c.role == Role.seller
    side = side_of(c.role)
    if not c.order_number:  # a question before any order
        title = f._("<b>💬 Buyer #{alias}</b> · {store}") if seller else "<b>💬 {store}</b>"
    else:
        title = (f._("<b>💬 Buyer #{alias}</b> · order #{number} · {store}") if seller
                 else f._("<b>💬 {store}</b> · order #{number}"))
    lines = [title.format(alias=hd.quote(c.alias), number=hd.quote(c.order_number), store=hd.quote(c.store))]
    if history.pages > 1:
        lines.append(f._("Page {page} of {pages}").format(page=history.page + 1, pages=history.pages))
    if history.rows:
        lines += ["", "\n\n".join(_message_block(m, seller, c.store, f) for m in reversed(history.rows))]
    else:
        lines += ["", f._("Nothing written yet.")]
    lines.append("")
    if c.blocked_by_me and seller:  # a store's sellers block together: maybe another one did
        lines.append(f._("🚫 Your store has blocked this conversation: nothing is delivered either way until it is "
                         "unblocked."))
    elif c.blocked_by_me:
        lines.append(f._("🚫 You have blocked this conversation: nothing is delivered either way until you unblock it."))
    elif c.blocked_by_other:
        lines.append(f._("🚫 The other side has blocked this conversation: your messages are not delivered."))
    elif seller:
        lines.append(f._("✍️ Type your answer: text, photos, an album, a document or a voice message. "
                         "The buyer sees your store's name, never yours."))
    else:
        lines.append(f._("✍️ Type your message to the seller: text, photos, an album, a document or a voice "
                         "message. The seller sees you as “Buyer #{alias}”, never your name or your account.")
                     .format(alias=hd.quote(c.alias)))
    rows: list[list[InlineKeyboardButton]] = []
    if history.pages > 1:
        paging = []
        if history.page + 1 < history.pages:
            paging.append(button(f._("‹ Older"), RelayCb(action=RelayAction.open, id=c.id, page=history.page + 1,
                                                         side=side)))
        if history.page > 0:
            paging.append(button(f._("Newer ›"), RelayCb(action=RelayAction.open, id=c.id, page=history.page - 1,
                                                         side=side)))
        rows.append(paging)
    if c.blocked_by_me:
        rows.append([button(f._("✅ Unblock"), RelayCb(action=RelayAction.unblock, id=c.id, side=side))])
    else:
        rows.append([button(f._("🚫 Block"), RelayCb(action=RelayAction.block, id=c.id, side=side))])
    rows.append(nav_row(f, back=RelayCb(action=RelayAction.list, side=side)))
    return Screen("\n".join(lines), markup(rows))


# -- what the sender is told ------------------------------------------------------------------
def sent_note(sent: Sent, conversation: Conversation, f: Fmt) -> Screen:
    """Where the message went (and what was hidden), with the conversation (writing goes on there)
    and the menu (writing ends)."""
    if conversation.role == Role.seller:
        note = f._("✓ Sent to Buyer #{alias}.").format(alias=hd.quote(conversation.alias))
    elif sent.pending:
        note = f._("✓ Saved. {store} has no seller in Kabinet yet: your message will be delivered as soon as "
                   "one joins.").format(store=hd.quote(conversation.store))
    else:
        note = f._("✓ Sent to {store}.").format(store=hd.quote(conversation.store))
    reasons = [f._(r) for r in sent.reasons]
    if reasons:
        note += "\n" + "\n".join("⚠️ " + hd.quote(r) for r in reasons)
    side = Side.seller if conversation.role == Role.seller else Side.buyer
    back = RelayCb(action=RelayAction.open, id=conversation.id, side=side)
    return Screen(note + "\n" + f._("Keep typing to send more; ☰ Menu or /cancel to stop."),
                  markup([nav_row(f, back=back)]))


def card_number_not_relayed(f: Fmt) -> str:
    return f._("⚠️ That looked like a card number, so I deleted it: a seller never needs it, and it was not "
               "passed on.")
