"""`python main.py seller …`: operators link Telegram accounts to stores as their sellers.

  seller invite <STORE> [--bot USERNAME]   a one-time deep link (24 h) that makes its opener the seller
  seller list [--store STORE]              stores' sellers
  seller remove <STORE> <USER_ID>          unlink a seller

STORE is a store's id or its exact name. The link needs the bot's username: --bot, or BOT_USERNAME
in the settings; without either the /start parameter is printed with a note."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import ServiceCommand, command_group

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings


class _WithUsername(ServiceCommand):
    """Passes the configured bot username on to the command (the services don't carry settings)."""

    def __call__(self, args: argparse.Namespace, settings: Settings) -> int:
        if not getattr(args, "bot", None):
            args.bot = settings.bot_username
        return super().__call__(args, settings)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmds = command_group(sub, "seller", "operators: link Telegram accounts to stores as sellers")
    invite = cmds.add_parser("invite", help="a one-time link (24 h) that makes whoever opens it the store's seller")
    invite.add_argument("store", metavar="STORE", help="the store's id or exact name")
    invite.add_argument("--bot", metavar="USERNAME", help="the bot's username for the link (default: BOT_USERNAME)")
    invite.set_defaults(func=_WithUsername(invite_seller))
    listing = cmds.add_parser("list", help="stores' sellers")
    listing.add_argument("--store", metavar="STORE", help="only this store (id or exact name)")
    listing.set_defaults(func=ServiceCommand(list_sellers))
    remove = cmds.add_parser("remove", help="unlink a seller from a store")
    remove.add_argument("store", metavar="STORE", help="the store's id or exact name")
    remove.add_argument("user_id", type=int, metavar="USER_ID", help="the seller's Telegram id")
    remove.set_defaults(func=ServiceCommand(remove_seller))


async def invite_seller(args: argparse.Namespace, services: Services) -> str:
    from bot.services.relay.sellers import deep_link, start_parameter

    store_id, _ = await services.sellers.store(args.store)
    invite = await services.sellers.invite(store_id)
    until = invite.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    head = f"store {invite.store_id} ({invite.store}): a one-time seller invite, valid until {until}"
    username = getattr(args, "bot", None)
    if username:
        return f"{head}\n{deep_link(username, invite.token)}"
    return (f"{head}\nstart={start_parameter(invite.token)}\n"
            "(the bot's username is not known: pass --bot USERNAME or set BOT_USERNAME for the full link "
            "https://t.me/<bot>?start=…)")


async def list_sellers(args: argparse.Namespace, services: Services) -> str:
    store_id = (await services.sellers.store(args.store))[0] if args.store else None
    rows = await services.sellers.list_sellers(store_id)
    if not rows:
        return "no sellers"
    return "\n".join(f"store {r.store_id} ({r.store}): user {r.user_id}, linked {r.linked_at:%Y-%m-%d %H:%M} UTC"
                     for r in rows)


async def remove_seller(args: argparse.Namespace, services: Services) -> str:
    store_id, name = await services.sellers.store(args.store)
    dropped = await services.sellers.remove_seller(store_id, args.user_id)
    note = f"; {dropped} message(s) waiting for them were dropped" if dropped else ""
    return f"store {store_id} ({name}): user {args.user_id} is no longer a seller{note}"
