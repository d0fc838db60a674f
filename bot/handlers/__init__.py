"""One Router per section. The order of `routers()` is the order of matching."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    # Imported here so that importing bot.handlers registers nothing by side effect twice.
    from bot.handlers import (
        addresses,
        cards,
        commands,
        coupons,
        disputes,
        fallback,
        groups,
        help,
        loyalty,
        messages,
        ops,
        orders,
        pay,
        reviews,
        settings,
        users,
    )

    return [
        groups.router,  # first: anything from a group or channel stops here (private chats only)
        commands.router,  # /cancel, /start, /menu … work in every state
        ops.router,  # /ops, for ADMIN_IDS only
        users.router,
        help.router,
        settings.router,
        orders.router,
        pay.router,
        disputes.router,
        reviews.router,
        loyalty.router,
        addresses.router,
        messages.router,
        coupons.router,
        cards.router,
        fallback.router,  # last: text outside a flow, stale buttons, anything else
    ]
