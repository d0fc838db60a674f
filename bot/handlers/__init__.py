"""The sections' routers. The order of `SECTIONS` is the order of matching; `routers()` builds
fresh ones for each dispatcher (bot/handlers/routing.py)."""

from __future__ import annotations

from aiogram import Router

from bot.handlers.routing import Handlers


def sections() -> list[Handlers]:
    """Each section's declared handlers, in the order of matching; importing them registers the
    sections' menu entries and push views."""
    # Imported here so that importing bot.handlers registers nothing by side effect twice.
    from bot.handlers import (
        addresses,
        cards,
        catalog,
        catalog_links,
        checkout,
        commands,
        coupons,
        disputes,
        errors,
        fallback,
        groups,
        help,
        loyalty,
        messages,
        ops,
        orders,
        pay,
        relay,
        reviews,
        seller,
        settings,
        users,
    )

    return [
        errors.router,  # the error handler: any update that fails in a section below
        groups.router,  # first: anything from a group or channel stops here (private chats only)
        catalog_links.router,  # /start p<id>: a product's deep link, before the plain /start
        commands.router,  # /cancel, /start, /menu … work in every state
        ops.router,  # /ops, for ADMIN_IDS only
        users.router,
        help.router,
        settings.router,
        orders.router,
        catalog.router,
        checkout.router,
        pay.router,
        disputes.router,
        reviews.router,
        loyalty.router,
        addresses.router,
        messages.router,
        coupons.router,
        cards.router,
        seller.router,  # seller mode: the seller's menu, reviews, disputes and orders of their stores
        relay.router,  # conversations: writing mode, native replies to relayed messages
        fallback.router,  # last: text outside a flow, stale buttons, anything else
    ]


def routers() -> list[Router]:
    """New routers of every section, for one dispatcher (a second dispatcher gets its own)."""
    declared = sections()  # all imported (so every menu entry is known) before any is built
    return [section.build() for section in declared]
