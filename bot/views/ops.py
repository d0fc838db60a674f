"""The operators' screen: what waits for them, and the two things they can do from the chat."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.db.pay import STARTED
from bot.keyboards.ops import OpsAction, OpsCb
from bot.services.ops import OpsSummary
from bot.views.common import Fmt, Screen, button, clip, markup, nav_row


def ops_screen(summary: OpsSummary, f: Fmt, note: str | None = None) -> Screen:
    lines = [note, ""] if note else []
    lines.append(f._("<b>🛠 Operations</b>"))
    lines.append("")
    if summary.stuck_total:
        lines.append(f.ngettext("⚠️ {n} refund waits for an operator: the payment service refused it.",
                                "⚠️ {n} refunds wait for an operator: the payment service refused them.",
                                summary.stuck_total).format(n=summary.stuck_total))
        for refund in summary.stuck:
            lines.append(f._("• Refund {id}, order #{number}: {amount} ({error})").format(
                id=refund.id, number=hd.quote(refund.number), amount=f.money(refund.amount_minor, refund.currency),
                error=hd.quote(refund.last_error or "")))
        more = summary.stuck_total - len(summary.stuck)
        if more > 0:
            lines.append(f.ngettext("…and {n} more.", "…and {n} more.", more).format(n=more))
        lines.append(f._("Send one again below, or pay it another way and run "
                         "<code>main.py order refund-done ID</code>."))
    else:
        lines.append(f._("✅ No refund waits for an operator."))
    lines.append(f.ngettext("{n} refund is on its way through the payment service.",
                            "{n} refunds are on their way through the payment service.",
                            summary.on_the_way).format(n=summary.on_the_way))
    if summary.outside:
        lines.append(f.ngettext(
            "{n} refund of an order paid outside the payment service: pay it, then run "
            "<code>main.py order refund-done ID</code>.",
            "{n} refunds of orders paid outside the payment service: pay them, then run "
            "<code>main.py order refund-done ID</code>.", summary.outside).format(n=summary.outside))
    lines.append("")
    lines.append(f.ngettext("{n} notification is waiting to be sent.", "{n} notifications are waiting to be sent.",
                            summary.waiting_pushes).format(n=summary.waiting_pushes))
    if summary.failed_pushes:
        lines.append(f.ngettext("⚠️ {n} notification failed for good (see <code>main.py outbox</code>).",
                                "⚠️ {n} notifications failed for good (see <code>main.py outbox</code>).",
                                summary.failed_pushes).format(n=summary.failed_pushes))
    if summary.unanswered_total:
        lines.append("")
        lines.append(f.ngettext(
            "⚠️ {n} payment could not be checked with the payment service; it is asked again every hour "
            "until it answers. Look it up in the payment service:",
            "⚠️ {n} payments could not be checked with the payment service; each is asked again every hour "
            "until it answers. Look them up in the payment service:",
            summary.unanswered_total).format(n=summary.unanswered_total))
        for attempt in summary.unanswered:
            what = (f._("was it charged?") if attempt.state == STARTED
                    else f._("the charge is to be given back"))
            lines.append(f._("• Order #{number}, {amount}, since {when}: {what} — {tries} ({error})").format(
                number=hd.quote(attempt.order_number), amount=f.money(attempt.amount_minor, attempt.currency),
                when=f.datetime(attempt.created_at), what=what,
                tries=f.ngettext("asked {n} time", "asked {n} times", attempt.checks).format(n=attempt.checks),
                error=hd.quote(attempt.last_error)))
        more = summary.unanswered_total - len(summary.unanswered)
        if more > 0:
            lines.append(f.ngettext("…and {n} more.", "…and {n} more.", more).format(n=more))
    if summary.escalated_total:
        lines.append("")
        lines.append(f.ngettext(
            "⚖️ {n} dispute waits for the platform's decision (<code>main.py order decide NUMBER</code>):",
            "⚖️ {n} disputes wait for the platform's decision (<code>main.py order decide NUMBER</code>):",
            summary.escalated_total).format(n=summary.escalated_total))
        for line in summary.escalated:
            late = summary.now is not None and line.decide_by <= summary.now
            lines.append((f._("• ⚡ Order #{number}, {amount} asked, decide by {date}") if line.priority
                          else f._("• Order #{number}, {amount} asked, decide by {date}")).format(
                number=hd.quote(line.number), amount=f.money(line.amount_minor, line.currency),
                date=f.date(line.decide_by)) + (" " + f._("(overdue)") if late else ""))
            if line.return_problem:  # the store says the return did not come back as sent
                lines.append("   " + f._("↩️ A return, track <code>{track}</code>. The store: {problem}").format(
                    track=hd.quote(line.return_track or ""), problem=f"<i>{hd.quote(clip(line.return_problem, 300))}</i>"))
        more = summary.escalated_total - len(summary.escalated)
        if more > 0:
            lines.append(f.ngettext("…and {n} more.", "…and {n} more.", more).format(n=more))
    for hook in summary.webhooks:
        lines.append(f._("⚠️ Webhooks of {shop}: {retrying} being retried, {failed} given up — {error}").format(
            shop=hd.quote(hook.shop), retrying=hook.retrying, failed=hook.failed, error=hd.quote(hook.last_error)))
    rows = [[button(f._("🔁 Send refund {id} again").format(id=r.id), OpsCb(action=OpsAction.refund, id=r.id))]
            for r in summary.stuck]
    if summary.failed_pushes:
        rows.append([button(f._("🔁 Send the failed notifications again"), OpsCb(action=OpsAction.pushes))])
    if summary.failed_webhooks:
        rows.append([button(f._("🔁 Send the given-up webhooks again"), OpsCb(action=OpsAction.webhooks))])
    rows.append([button(f._("🔄 Refresh"), OpsCb(action=OpsAction.refresh))])
    rows.append(nav_row(f))
    return Screen("\n".join(lines), markup(rows))


def refund_sent_again(refund_id: int, f: Fmt) -> str:
    return f._("Refund {id} goes to the payment service again at the next sweep.").format(id=refund_id)


def pushes_sent_again(count: int, f: Fmt) -> str:
    return f.ngettext("{n} notification goes out again.", "{n} notifications go out again.", count).format(n=count)


def webhooks_sent_again(count: int, f: Fmt) -> str:
    return f.ngettext("{n} webhook goes out again.", "{n} webhooks go out again.", count).format(n=count)
