"""`python main.py shop …`: operators give shops their keys for the HTTP API (`bot/api/`).

  shop add <NAME> [--store STORE …]   a new shop; its key is printed once (only its hash is kept).
                                      --store: existing stores (id or exact name) it takes over
  shop key <NAME>                     a new key for the shop (printed once); the old one stops working
  shop list                           shops and their stores
  shop webhook <NAME> <URL> | --off   where the shop's webhooks go; prints the signing secret once
  shop webhook-retry [NAME]           send the given-up webhooks again

A shop creates its own stores through the API (`POST /api/v1/stores`); the API starts with the bot
when API_LISTEN is set and at least one shop exists."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import ServiceCommand, UsageError, command_group

if TYPE_CHECKING:
    from bot.app import Services


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmds = command_group(sub, "shop", "operators: shops that use the HTTP API, and their keys")
    add = cmds.add_parser("add", help="a new shop; prints its API key once")
    add.add_argument("name", metavar="NAME", help="the shop's name")
    add.add_argument("--store", action="append", default=[], metavar="STORE",
                     help="an existing store (id or exact name) the shop takes over; repeat for more")
    add.set_defaults(func=ServiceCommand(add_shop))
    rotate = cmds.add_parser("key", help="a new API key for the shop (printed once); the old one stops working")
    rotate.add_argument("name", metavar="NAME", help="the shop's name")
    rotate.set_defaults(func=ServiceCommand(new_key))
    listing = cmds.add_parser("list", help="shops and their stores")
    listing.set_defaults(func=ServiceCommand(list_shops))
    add_webhook_parsers(cmds)


async def add_shop(args: argparse.Namespace, services: Services) -> str:
    store_ids = tuple([(await services.sellers.store(ref))[0] for ref in args.store])
    made = await services.shops.add(args.name, store_ids)
    stores = ", ".join(f"{i} ({n})" for i, n in made.stores) or "none yet (POST /api/v1/stores)"
    return (f"shop {made.shop.id} ({made.shop.name}), stores: {stores}\n"
            f"API key (shown once, keep it secret): {made.key}")


async def new_key(args: argparse.Namespace, services: Services) -> str:
    made = await services.shops.new_key(args.name)
    return (f"shop {made.shop.id} ({made.shop.name}): the old API key no longer works\n"
            f"API key (shown once, keep it secret): {made.key}")


async def list_shops(args: argparse.Namespace, services: Services) -> str:
    rows = await services.shops.listing()
    if not rows:
        return "no shops"
    return "\n".join(
        f"shop {r.shop.id} ({r.shop.name}), since {r.shop.created_at:%Y-%m-%d}: "
        + (", ".join(f"store {i} ({n})" for i, n in r.stores) or "no stores")
        for r in rows)


def add_webhook_parsers(cmds: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hook = cmds.add_parser("webhook", help="where the shop's webhooks go (prints the signing secret once)")
    hook.add_argument("name", metavar="NAME", help="the shop's name")
    hook.add_argument("url", metavar="URL", nargs="?", help="https://… (omit with --off)")
    hook.add_argument("--off", action="store_true", help="stop sending the shop's webhooks")
    hook.set_defaults(func=ServiceCommand(set_webhook))
    again = cmds.add_parser("webhook-retry", help="send the given-up webhooks again (of one shop, or all)")
    again.add_argument("name", metavar="NAME", nargs="?", help="the shop's name")
    again.set_defaults(func=ServiceCommand(retry_webhooks))


async def set_webhook(args: argparse.Namespace, services: Services) -> str:
    if args.off == bool(args.url):
        raise UsageError("give a URL, or --off")
    hook = await services.webhooks.set(args.name, None if args.off else args.url)
    if hook.url is None:
        return f"shop {hook.shop}: webhooks off"
    return (f"shop {hook.shop}: webhooks go to {hook.url}\n"
            f"signing secret (shown once, keep it secret): {hook.secret}")


async def retry_webhooks(args: argparse.Namespace, services: Services) -> str:
    return f"{await services.webhooks.retry(args.name)} webhook(s) go out again"
