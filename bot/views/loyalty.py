"""The Privilege centre: level, points, progress to the next level, privileges, points history;
and the "level changed" push."""

from __future__ import annotations

from typing import Any

from bot.db.loyalty import EntryRow
from bot.keyboards.common import MenuCb
from bot.keyboards.loyalty import LoyaltyAction, LoyaltyCb
from bot.services import loyalty
from bot.services.errors import N_
from bot.services.loyalty import LEVEL_CHANGED_KIND, LEVEL_NAMES, PRIVILEGES, HistoryPage, LevelInfo
from bot.views.common import Fmt, Screen, button, markup, nav_row, page_label
from bot.views.pushes import register_push

BAR = 10
HOME = LoyaltyCb(action=LoyaltyAction.home)

REASONS = {
    loyalty.ORDER: N_("Order completed"),
    loyalty.REVIEW: N_("Review published"),
    loyalty.DAILY: N_("First purchase of the day"),
    loyalty.REVERSAL: N_("Refund"),
}


def level_name(f: Fmt, level: int) -> str:
    return f._(LEVEL_NAMES[max(1, min(level, len(LEVEL_NAMES))) - 1])


def level_label(f: Fmt, level: int) -> str:
    return f._("Level {level} · {name}").format(level=level, name=level_name(f, level))


def points(f: Fmt, n: int) -> str:
    return f.ngettext("{n} point", "{n} points", n).format(n=f.number(n))


def progress_bar(fraction: float) -> str:
    filled = round(fraction * BAR)
    return "▰" * filled + "▱" * (BAR - filled)


def centre(info: LevelInfo, f: Fmt) -> Screen:
    lines = [f._("<b>🏆 Privilege centre</b>"), "",
             f"<b>{level_label(f, info.level)}</b>",
             f._("Points in the last 365 days: {points}").format(points=points(f, info.points)),
             f"{progress_bar(info.progress)} {round(info.progress * 100)}%"]
    if info.next_level:
        lines.append(f.ngettext("{n} more point to {level}", "{n} more points to {level}", info.to_next).format(
            n=f.number(info.to_next), level=level_label(f, info.next_level)))
    else:
        lines.append(f._("You have the highest level."))
    lines += ["", f._("<b>Privileges</b>")]
    for privilege in PRIVILEGES:
        if info.active(privilege):
            lines.append(f._("✅ {name}: {description}").format(
                name=f._(privilege.name), description=f._(privilege.description)))
        else:
            lines.append(f._("🔒 {name}: from {level}").format(
                name=f._(privilege.name), level=level_label(f, privilege.level)))
    lines += ["", f._("<b>How to earn points</b>"),
              f._("• 1 point for every whole US dollar of a completed order"),
              f._("• 5 points for a published review"),
              f._("• 5 points for a purchase made on a day (once a day)"),
              f._("Points count for 365 days; a refund takes back the order's points in proportion.")]
    rows = [[button(f._("📜 Points history"), LoyaltyCb(action=LoyaltyAction.history))], nav_row(f)]
    return Screen("\n".join(lines), markup(rows))


def _entry(entry: EntryRow, f: Fmt) -> str:
    sign = "+" if entry.points > 0 else "−"
    return f._("{date} · {points} · {reason}").format(
        date=f.date(entry.created_at), points=f"{sign}{f.number(abs(entry.points))}",
        reason=f._(REASONS.get(entry.reason, N_("Other"))))


def history(page: HistoryPage, f: Fmt) -> Screen:
    lines = [f._("<b>📜 Points history</b>"), ""]
    if not page.rows:
        lines.append(f._("No points yet. Complete an order or write a review to earn some."))
    lines += [_entry(e, f) for e in page.rows]
    rows = []
    if page.pages > 1:
        pager = []
        if page.page > 0:
            pager.append(button("‹", LoyaltyCb(action=LoyaltyAction.history, page=page.page - 1)))
        pager.append(button(page_label(page.page, page.pages), LoyaltyCb(action=LoyaltyAction.noop)))
        if page.page < page.pages - 1:
            pager.append(button("›", LoyaltyCb(action=LoyaltyAction.history, page=page.page + 1)))
        rows.append(pager)
    rows.append(nav_row(f, back=HOME))
    return Screen("\n".join(lines), markup(rows))


def _level_push(p: dict[str, Any], f: Fmt) -> Screen:
    level, previous = int(p["level"]), int(p.get("previous", 1))
    if level > previous:
        text = f._("🏆 Your level went up: {level}! Open the Privilege centre to see what it gives you.")
    elif p.get("cause") == "ageing":
        text = f._("Your level is now {level}: some points are older than 365 days and no longer count.")
    else:
        text = f._("Your level is now {level}: a refund took back the points of its order.")
    return Screen(text.format(level=level_label(f, level)))


register_push(
    LEVEL_CHANGED_KIND, _level_push,
    button=lambda p, f: button(f._("🏆 Privilege centre"), MenuCb(section="loyalty")),
)
