"""Review management screens: the section's home, Awaiting review, My reviews, a review's card,
the review flow's steps, and the pushes "the seller answered your review" and the review
deadline reminder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardButton
from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.reviews import (
    EDIT_PHOTOS,
    EDIT_RATING,
    EDIT_TEXT,
    DraftAction,
    ReviewAction,
    ReviewCb,
    ReviewDraftCb,
)
from bot.services.errors import DomainError
from bot.services.reviews import (
    MAX_PHOTOS,
    REMINDER_KIND,
    REPLY_KIND,
    TEXT_MAX,
    AwaitingPage,
    OrderReviews,
    ReviewCard,
    ReviewNotFound,
    ReviewPage,
    ReviewWindowClosed,
)
from bot.views.common import Fmt, Screen, button, flow_row, markup, nav_row, pager_row
from bot.views.pushes import register_push

HOME = ReviewCb(action=ReviewAction.home)
SNIPPET = 150  # characters of each text in the list (five reviews stay under Telegram's 4096)
REPLY_SHOWN = 1200  # of the seller's reply on a review's card


def title(text: str, limit: int = 48) -> str:
    """A title cut to `limit` characters (not escaped: escape where it goes into HTML)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cut(text: str, limit: int) -> str:
    """Cut raw text before it is escaped (never inside an HTML entity)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating)


def days_left(f: Fmt, n: int) -> str:
    return f.ngettext("{n} day left", "{n} days left", n).format(n=n)


def not_found(f: Fmt) -> str:
    return f._(ReviewNotFound.msgid)


def error_text(f: Fmt, exc: DomainError) -> str:
    """A domain error for people; a closed window states its date in the user's zone."""
    if isinstance(exc, ReviewWindowClosed):
        return f._(exc.msgid).format(date=f.date(exc.deadline))
    return f.error(exc)


def _pager(action: ReviewAction, page: int, pages: int) -> list[InlineKeyboardButton]:
    return pager_row(page, pages, lambda n: ReviewCb(action=action, page=n), ReviewCb(action=ReviewAction.noop))


# -- home and lists -------------------------------------------------------------------------------------
def home(f: Fmt, awaiting: int, mine: int) -> Screen:
    text = "\n".join([
        f._("<b>⭐ Review management</b>"),
        "",
        f._("Rate the items of your completed orders within 30 days after completion: every published review brings 5 points. You can add to a review within 150 days."),
    ])
    rows = [
        [button(f._("✍️ Awaiting review ({n})").format(n=awaiting), ReviewCb(action=ReviewAction.awaiting))],
        [button(f._("🗂 My reviews ({n})").format(n=mine), ReviewCb(action=ReviewAction.mine))],
        nav_row(f),
    ]
    return Screen(text, markup(rows))


def _item_title(title_text: str, options: str = "") -> str:
    return hd.quote(title(title_text, 64))


def awaiting_list(page: AwaitingPage, f: Fmt) -> Screen:
    lines = [f._("<b>✍️ Awaiting review</b>")]
    if not page.rows:
        lines += ["", f._("Nothing to review right now. Items of completed orders appear here for 30 days.")]
    rows = []
    for i, entry in enumerate(page.rows, page.page * 5 + 1):
        ref = entry.item
        lines += ["", f"{i}. <b>{_item_title(ref.title)}</b>",
                  f._("Order #{number} · {store}").format(number=hd.quote(ref.number), store=hd.quote(ref.store)),
                  f._("⏳ {left}, until {when}").format(left=days_left(f, entry.days_left),
                                                       when=f.datetime(entry.deadline))]
        rows.append([button(f._("{i}. ✍️ {title}").format(i=i, title=title(ref.title, 28)),
                            ReviewCb(action=ReviewAction.write, id=ref.item_id))])
    rows.append(_pager(ReviewAction.awaiting, page.page, page.pages))
    rows.append(nav_row(f, back=HOME))
    return Screen("\n".join(lines), markup(rows))


def order_targets(order: OrderReviews, f: Fmt) -> Screen:
    """An order's items: ✍️ those to review (while the 30 days last), ⭐ those reviewed (their
    review, to edit or add to)."""
    lines = [f._("<b>⭐ Reviews of order #{number}</b>").format(number=hd.quote(order.number)), ""]
    if order.writable:
        lines.append(f._("Reviews can be left until {when}.").format(when=f.datetime(order.deadline)))
    elif all(target.item.review_id is not None for target in order.targets):
        lines.append(f._("You have reviewed every item of this order. Thank you!"))
    else:
        lines.append(f._("The time for a review ended on {date}.").format(date=f.date(order.deadline)))
    rows = []
    for target in order.targets:
        label = title(target.item.title, 40)
        if target.item.review_id is not None:
            rows.append([button(f._("⭐ {title}").format(title=label),
                                ReviewCb(action=ReviewAction.open, id=target.item.review_id))])
        elif order.open:
            rows.append([button(f._("✍️ {title}").format(title=label),
                                ReviewCb(action=ReviewAction.write, id=target.item.item_id))])
    rows.append([button(f._("🗂 My reviews"), ReviewCb(action=ReviewAction.mine))])
    rows.append(nav_row(f, back=HOME))
    return Screen("\n".join(lines), markup(rows))


def additional_head(f: Fmt, at: datetime, rating: int, extra_rating: int | None) -> list[str]:
    """The head of an additional review, for the buyer and the store: when, and the stars when they
    changed."""
    lines = ["", f._("<b>Additional review</b> · {date}").format(date=f.date(at))]
    if extra_rating:
        lines.append(f._("Stars changed: {was} → {stars}").format(was=stars(rating), stars=stars(extra_rating)))
    return lines


def _review_lines(card: ReviewCard, f: Fmt, *, full: bool) -> list[str]:
    review = card.review
    text = review.text if full else _cut(review.text, SNIPPET)
    lines = [f"<b>{_item_title(review.title)}</b>", f"{stars(review.rating)}"]
    if text:
        lines.append(hd.quote(text))
    if review.photos:
        lines.append(f.ngettext("📷 {n} photo", "📷 {n} photos", len(review.photos)).format(n=len(review.photos)))
    lines.append(f._("Order #{number} · {store} · {date}").format(
        number=hd.quote(review.number), store=hd.quote(review.store), date=f.date(review.created_at)))
    if review.extra_at is not None:
        lines += additional_head(f, review.extra_at, review.rating, review.extra_rating)
        if review.extra_text:
            lines.append(hd.quote(review.extra_text if full else _cut(review.extra_text, SNIPPET)))
        if review.extra_photos:
            n = len(review.extra_photos)
            lines.append(f.ngettext("📷 {n} photo", "📷 {n} photos", n).format(n=n))
    if review.reply_text:
        lines += ["", f._("💬 <b>The seller's reply</b> · {date}").format(
            date=f.date(review.reply_at) if review.reply_at else ""),
            hd.quote(_cut(review.reply_text, REPLY_SHOWN if full else SNIPPET))]
    return lines


def my_reviews(page: ReviewPage, f: Fmt) -> Screen:
    lines = [f._("<b>🗂 My reviews</b>")]
    if not page.rows:
        lines += ["", f._("You haven't written any reviews yet.")]
    rows = []
    for i, card in enumerate(page.rows, page.page * 5 + 1):
        lines += ["", f"{i}. " + "\n".join(_review_lines(card, f, full=False))]
        rows.append([button(f._("{i}. {title}").format(i=i, title=title(card.review.title, 36)),
                            ReviewCb(action=ReviewAction.open, id=card.review.id, page=page.page))])
    rows.append(_pager(ReviewAction.mine, page.page, page.pages))
    rows.append(nav_row(f, back=HOME))
    return Screen("\n".join(lines), markup(rows))


def review_card(card: ReviewCard, f: Fmt, page: int = 0) -> Screen:
    lines = _review_lines(card, f, full=True)
    if card.can_edit:
        lines += ["", f._("You can change the rating, text and photos until {when}.").format(
            when=f.datetime(card.deadline))]
    if card.can_add_extra:
        lines += [f._("You can add an additional review until {date}.").format(date=f.date(card.extra_deadline))]
    rid = card.review.id
    rows = []
    if card.can_edit:
        rows.append([button(f._("✏️ Edit the review"), ReviewCb(action=ReviewAction.write, id=card.review.item_id))])
    if card.can_add_extra:
        rows.append([button(f._("➕ Additional review"), ReviewCb(action=ReviewAction.extra, id=rid, page=page))])
    if card.review.photos or card.review.extra_photos:
        rows.append([button(f._("📷 Show photos"), ReviewCb(action=ReviewAction.photos, id=rid, page=page))])
    rows.append(nav_row(f, back=ReviewCb(action=ReviewAction.mine, page=page)))
    return Screen("\n".join(lines), markup(rows))


def published(f: Fmt, created: bool, points: int) -> str:
    if not created:
        return f._("Your review is updated.")
    return f.ngettext("Thank you! Your review is published: +{n} point.",
                      "Thank you! Your review is published: +{n} points.", points).format(n=points)


# -- the flow ---------------------------------------------------------------------------------------------
def _head(data: dict[str, Any], f: Fmt) -> str:
    if data.get("mode") == "extra":
        head = f._("<b>➕ Additional review</b>")
    elif data.get("review_id"):
        head = f._("<b>✏️ Editing your review</b>")
    else:
        head = f._("<b>✍️ Your review</b>")
    return head + "\n" + f"<i>{hd.quote(title(str(data.get('title', '')), 64))}</i>"


def _with_error(lines: list[str], error: str | None) -> str:
    if error:
        lines += ["", "⚠️ " + error]
    return "\n".join(lines)


def step_rating(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    was = int(data.get("was") or 0)  # an additional review: the stars given first
    if was:
        lines = [_head(data, f), "", f._("Step 1 of 3. Has your opinion of the item changed? Choose the stars it "
                                         "deserves now or keep them — or just write your additional review.")]
    else:
        lines = [_head(data, f), "", f._("Step 1 of 3. How many stars does the item deserve?")]
    current = int(data.get("rating") or 0)
    if current:
        lines += ["", f._("Now: {text}").format(text=stars(current))]
    rows = [[button(str(n), ReviewDraftCb(action=DraftAction.star, value=n)) for n in range(1, 6)]]
    if was:
        rows.append([button(f._("Keep {stars} ›").format(stars=stars(was)),
                            ReviewDraftCb(action=DraftAction.keep_stars))])
    return Screen(_with_error(lines, error), markup([*rows, flow_row(f)]))


def step_text(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    step = f._("Step 2 of 3.")
    lines = [_head(data, f), "", step + " " + f._("Tell others about the item in a message (up to {max} characters). This step can be skipped.").format(max=TEXT_MAX)]
    if data.get("text"):
        lines += ["", f._("Now: {text}").format(text=hd.quote(_cut(str(data["text"]), SNIPPET)))]
    rows = [[button(f._("Skip ›") if not data.get("text") else f._("Keep ›"), ReviewDraftCb(action=DraftAction.skip_text))],
            flow_row(f)]
    return Screen(_with_error(lines, error), markup(rows))


def step_photos(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    photos = list(data.get("photos") or [])
    step = f._("Step 3 of 3.")
    lines = [_head(data, f), "", step + " " + f.ngettext(
        "Send up to {n} photo of the item, then tap “Done”.",
        "Send up to {n} photos of the item, then tap “Done”.", MAX_PHOTOS).format(n=MAX_PHOTOS)]
    if photos:
        lines.append(f.ngettext("Added: {n} photo.", "Added: {n} photos.", len(photos)).format(n=len(photos)))
    rows = [[button(f._("✅ Done"), ReviewDraftCb(action=DraftAction.photos_done))]]
    if photos:
        rows.append([button(f._("🗑 Remove the photos"), ReviewDraftCb(action=DraftAction.photos_clear))])
    rows.append(flow_row(f))
    return Screen(_with_error(lines, error), markup(rows))


def summary(f: Fmt, data: dict[str, Any], error: str | None = None) -> Screen:
    extra = data.get("mode") == "extra"
    photos = list(data.get("photos") or [])
    lines = [_head(data, f), ""]
    rating, was = int(data.get("rating") or 0), int(data.get("was") or 0)
    if extra and rating != was:
        lines.append(f._("Rating: {was} → {stars}").format(was=stars(was), stars=stars(rating)))
    elif extra:
        lines.append(f._("Rating: {stars}, unchanged").format(stars=stars(rating)))
    else:
        lines.append(f._("Rating: {stars}").format(stars=stars(rating)))
    text = str(data.get("text") or "")
    lines.append(f._("Text: {text}").format(text=hd.quote(text) if text else f._("none")))
    lines.append(f._("Photos: {n}").format(n=len(photos)) if photos else f._("Photos: none"))
    lines += ["", f._("Check the review and publish it.")]
    rows = [[button(f._("✏️ Rating"), ReviewDraftCb(action=DraftAction.edit, value=EDIT_RATING))]]
    rows.append([button(f._("✏️ Text"), ReviewDraftCb(action=DraftAction.edit, value=EDIT_TEXT)),
                 button(f._("✏️ Photos"), ReviewDraftCb(action=DraftAction.edit, value=EDIT_PHOTOS))])
    rows.append([button(f._("📣 Publish"), ReviewDraftCb(action=DraftAction.publish))])
    rows.append(flow_row(f))
    return Screen(_with_error(lines, error), markup(rows))


# -- pushes ----------------------------------------------------------------------------------------------
def _reply_push(p: dict[str, Any], f: Fmt) -> Screen:
    return Screen(f._("💬 The seller answered your review of “{title}” (order #{number}).").format(
        title=hd.quote(title(str(p.get("title", "")))), number=hd.quote(str(p.get("number", "")))))


def _deadline_push(p: dict[str, Any], f: Fmt) -> Screen:
    deadline = datetime.fromisoformat(str(p["deadline"]))
    return Screen(f._("⭐ Rate “{title}” from order #{number}: reviews can be left until {when}.").format(
        title=hd.quote(title(str(p.get("title", "")))), number=hd.quote(str(p.get("number", ""))),
        when=f.datetime(deadline)))


register_push(
    REPLY_KIND, _reply_push,
    button=lambda p, f: button(f._("Open the review"), ReviewCb(action=ReviewAction.open, id=int(p["review_id"]))),
)
register_push(
    REMINDER_KIND, _deadline_push,
    button=lambda p, f: button(f._("✍️ Write a review"), ReviewCb(action=ReviewAction.write, id=int(p["item_id"]))),
)

