"""`python main.py product …`: the shop's side of the catalog, for operators.

  product add <STORE> <TITLE> <PRICE> <CURRENCY> [--ru TITLE] [--category C] [--option NAME=A,B …]
                                                    add or update a product (by store and title)
  product price <PRODUCT_ID> <PRICE>                a new price; a lower one alerts the buyers who
                                                    keep the product in My wishes or the cart
  product list <STORE>                              a store's products with their ids

STORE is a store's id or its exact name (a new name makes a new store with `add`). PRICE is an
amount as people write it: 12.99, 1 290, 1290,50."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import ServiceCommand, command_group

if TYPE_CHECKING:
    from bot.app import Services


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmds = command_group(sub, "product", "operators: add products and change prices")
    add = cmds.add_parser("add", help="add or update a product (by store and title)")
    add.add_argument("store", metavar="STORE", help="the store's id or exact name (a new name: a new store)")
    add.add_argument("title", metavar="TITLE", help="the title (in English, or the only one)")
    add.add_argument("price", metavar="PRICE", help="the price, e.g. 12.99")
    add.add_argument("currency", metavar="CURRENCY", help="USD, RUB, EUR …")
    add.add_argument("--ru", default="", metavar="TITLE", help="the title in Russian")
    add.add_argument("--category", default="", metavar="CATEGORY", help="audio, home, clothing …")
    add.add_argument("--option", action="append", default=[], metavar="NAME=A,B", type=_option,
                     help="an option and its values, e.g. colour=black,white (repeat for more)")
    add.set_defaults(func=ServiceCommand(add_product))
    price = cmds.add_parser("price", help="a new price (a lower one alerts the buyers who keep the product)")
    price.add_argument("product_id", type=int, metavar="PRODUCT_ID")
    price.add_argument("price", metavar="PRICE")
    price.set_defaults(func=ServiceCommand(set_price))
    listing = cmds.add_parser("list", help="a store's products with their ids")
    listing.add_argument("store", metavar="STORE", help="the store's id or exact name")
    listing.set_defaults(func=ServiceCommand(list_products))


def _option(spec: str) -> tuple[str, list[str]]:
    """`--option colour=black,white` → ("colour", ["black", "white"]); argparse says what is wrong."""
    name, _, values = spec.partition("=")
    parsed = [v.strip() for v in values.split(",") if v.strip()]
    if not name.strip() or not parsed:
        raise argparse.ArgumentTypeError("an option is NAME=A,B, for example colour=black,white")
    return name.strip(), parsed


async def _store(services: Services, ref: str, *, create: bool = False) -> tuple[int, str]:
    from bot.services.relay.sellers import NoSuchStore

    try:
        return await services.sellers.store(ref)
    except NoSuchStore:
        if not create or ref.strip().isdigit():
            raise
        return await services.orders.ensure_store(ref), ref.strip()


async def add_product(args: argparse.Namespace, services: Services) -> str:
    from bot.services.money import parse_amount

    options = dict(args.option)
    store_id, store = await _store(services, args.store, create=True)
    currency = args.currency.strip().upper()
    product_id = await services.catalog.upsert(store_id, args.title, price_minor=parse_amount(args.price, currency),
                                               currency=currency, title_ru=args.ru, category=args.category,
                                               options=options)
    return f"product {product_id} in store {store_id} ({store}): {args.title}"


async def set_price(args: argparse.Namespace, services: Services) -> str:
    from bot.services.money import parse_amount

    card = await services.catalog.product(0, args.product_id, record=False)
    alerted = await services.catalog.set_price(args.product_id, parse_amount(args.price, card.product.currency))
    return f"product {args.product_id}: new price {args.price} {card.product.currency}; {alerted} buyer(s) alerted"


async def list_products(args: argparse.Namespace, services: Services) -> str:
    store_id, store = await _store(services, args.store)
    page = await services.catalog.store(0, store_id)
    lines = [f"store {store_id} ({store}): {page.products.total} product(s)"]
    for n in range(page.products.pages):
        for p in (await services.catalog.store(0, store_id, n)).products.rows:
            lines.append(f"{p.id}\t{p.price_minor} {p.currency}\t{p.title}" + ("" if p.active else "\t(not sold)"))
    return "\n".join(lines)
