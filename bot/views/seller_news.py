"""What a store's sellers are told as it happens (bot/services/seller_news.py, kind `seller_news`):
a dispute to decide, escalated or closed, a returned item sent back, an order to ship, a review to
answer — each with a button to it in seller mode."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.seller import SellerAction, SellerCb
from bot.services.errors import N_
from bot.services.seller_news import SELLER_NEWS_KIND, News
from bot.views.common import Fmt, Screen, button, clip
from bot.views.pushes import register_push
from bot.views.reviews import stars
from bot.views.seller import TITLE_SHOWN

# -- pushes: what the store's sellers are told as it happens ----------------------------------------------
_NEWS_OPENS = {News.dispute: (SellerAction.dispute, N_("⚖️ Open the dispute")),
               News.escalated: (SellerAction.dispute, N_("⚖️ Open the dispute")),
               News.dispute_closed: (SellerAction.dispute, N_("⚖️ Open the dispute")),
               News.sent_back: (SellerAction.dispute, N_("⚖️ Open the dispute")),
               News.paid: (SellerAction.order, N_("📦 Open the order")),
               News.review: (SellerAction.review, N_("⭐ Open the review"))}


def seller_news_push(p: dict[str, Any], f: Fmt) -> Screen:
    """"seller_news": a dispute to decide, an order to ship, a review to answer."""
    number, store = hd.quote(str(p.get("number", ""))), hd.quote(str(p.get("store", "")))
    news = p.get("news")
    if news == News.dispute and p.get("outcome") == "return_refund":
        return Screen(f._("⚖️ {store}: a return is asked for on order #{number}: the buyer wants to send the item "
                          "back for {amount}. Please decide by {date}.").format(
            store=store, number=number, amount=f.money(int(p.get("amount_minor") or 0), str(p.get("currency") or "USD")),
            date=f.date(datetime.fromisoformat(str(p["decide_by"])))))
    if news == News.dispute:
        return Screen(f._("⚖️ {store}: a dispute on order #{number}, {amount} asked. Please decide by {date}.").format(
            store=store, number=number, amount=f.money(int(p.get("amount_minor") or 0), str(p.get("currency") or "USD")),
            date=f.date(datetime.fromisoformat(str(p["decide_by"])))))
    if news == News.escalated:
        return Screen(f._("⚖️ {store}: the buyer asked the platform to decide the dispute on order #{number}.").format(
            store=store, number=number))
    if news == News.dispute_closed:
        refund = int(p.get("refund_minor") or 0)
        amount = f.money(refund, str(p.get("currency") or "USD"))
        if p.get("by") == "overdue":  # the store did not answer by the decision day
            text = f._("⚖️ {store}: the dispute on order #{number} was not answered by {date}, so the platform "
                       "decided it for the buyer: {amount} refunded.").format(
                store=store, number=number, amount=amount, date=f.date(datetime.fromisoformat(str(p["decide_by"]))))
            return Screen(text)
        if p.get("by") == "unconfirmed":  # a returned item the store did not confirm in time
            return Screen(f._("⚖️ {store}: the return on order #{number} was not confirmed in time, so the buyer "
                              "was refunded {amount}.").format(store=store, number=number, amount=amount))
        if p.get("by") == "not_sent":
            return Screen(f._("⚖️ {store}: the buyer did not send the item of order #{number} back in time: the "
                              "dispute is closed without a refund.").format(store=store, number=number))
        if p.get("by") == "platform":
            text = (f._("⚖️ {store}: the platform decided the dispute on order #{number}: {amount} refunded.")
                    if refund else f._("⚖️ {store}: the platform decided the dispute on order #{number}: no refund."))
        else:
            text = (f._("⚖️ {store}: the buyer accepted the answer on order #{number}: {amount} refunded.")
                    if refund else
                    f._("⚖️ {store}: the buyer accepted the answer on order #{number}: closed without a refund."))
        return Screen(text.format(store=store, number=number, amount=amount))
    if news == News.sent_back:
        track = f"<code>{hd.quote(str(p.get('track', '')))}</code>"
        if p.get("refunded") and p.get("receive_by"):
            return Screen(f._("📦 {store}: the buyer sent the item of order #{number} back, track {track}, and their "
                              "loyalty level refunded them at once. Confirm it came back, or say it did not, by "
                              "{date}.").format(store=store, number=number, track=track,
                                                date=f.date(datetime.fromisoformat(str(p["receive_by"])))))
        if p.get("refunded"):  # (news of before 2026-12-07: a fast refund closed the return)
            return Screen(f._("📦 {store}: the buyer sent the item of order #{number} back, track {track}. Their "
                              "loyalty level refunds them at once; the dispute is closed.").format(
                store=store, number=number, track=track))
        return Screen(f._("📦 {store}: the buyer sent the item of order #{number} back, track {track}. Confirm it "
                          "came back by {date}, or the buyer is refunded then.").format(
            store=store, number=number, track=track, date=f.date(datetime.fromisoformat(str(p["receive_by"])))))
    if news == News.paid:
        return Screen(f._("📦 {store}: order #{number} is paid, {amount}. Please ship it.").format(
            store=store, number=number, amount=f.money(int(p.get("total_minor") or 0), str(p.get("currency") or "USD"))))
    return Screen(f._("⭐ {store}: a new review of {title} on order #{number}, {stars}.").format(
        store=store, number=number, title=hd.quote(clip(str(p.get("title", "")), TITLE_SHOWN)), stars=stars(int(p.get("rating") or 0))))


def _open_news(p: dict[str, Any], f: Fmt) -> InlineKeyboardButton | None:
    try:
        action, label = _NEWS_OPENS[News(str(p.get("news")))]
    except (KeyError, ValueError):
        return None
    return button(f._(label), SellerCb(action=action, id=int(p.get("id") or 0)))


register_push(SELLER_NEWS_KIND, seller_news_push, button=_open_news)
