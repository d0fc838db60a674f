"""`python main.py coupon …`: operators grant platform coupons and gift certificates, create codes
and store coupons buyers collect.

  coupon grant --user 1001 [--user 1002 …] --amount 5 --currency USD --min 20 --days 30
  coupon grant --user 1001 --percent 10 --cap 15 --currency USD --until 2026-12-31 \\
               [--category 7 --category-name Phones] [--new-buyers] [--campaign winter]
  coupon grant --user 1001 --certificate 50 --currency USD --days 365
  coupon code WELCOME5 --amount 5 --currency USD --min 25 --days 60 [--uses 1000] [--for-user ID]
  coupon code GIFT25 --certificate 25 --currency USD --days 365 --uses 1
  coupon offer --store 101 --store-name "Xiaomi Official Store" --amount 3 --currency USD \\
               --min 20 --days 14 [--quantity 500]

Amounts are in major units ("5", "5.50"); --until is the last valid day (UTC) or an ISO time;
--from defaults to now. Exit codes: 0 done, 1 nothing granted, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

# Only argparse at import time: main.py builds its parser on every start. The rest is imported when
# a coupon command runs.
from bot.cli.common import command_group

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services.coupons import CouponService, Scope, Terms

Verb = Callable[[argparse.Namespace, "CouponService", datetime], Awaitable[int]]


def add_parser(sub: Any) -> None:
    verbs = command_group(sub, "coupon", "operators: grant coupons and certificates, create codes", metavar="VERB")

    def value_args(p: argparse.ArgumentParser, *, certificate: bool) -> None:
        value = p.add_mutually_exclusive_group(required=True)
        value.add_argument("--amount", help="a fixed amount off, e.g. 5 or 5.50")
        value.add_argument("--percent", type=int, help="a percent off, 1–100")
        if certificate:
            value.add_argument("--certificate", metavar="AMOUNT", help="a gift certificate of this amount")
        p.add_argument("--cap", help="the most a percent coupon takes off")
        p.add_argument("--currency", required=True, help="ISO 4217, e.g. USD, EUR, RUB")
        p.add_argument("--min", default="0", help="the minimum order amount (default: none)")
        until = p.add_mutually_exclusive_group(required=True)
        until.add_argument("--days", type=float, help="valid for this many days from now")
        until.add_argument("--until", help="the last valid day (UTC), YYYY-MM-DD, or an ISO time")
        p.add_argument("--from", dest="start", help="valid from this day (UTC) or ISO time; default now")
        p.add_argument("--title", help="a short name shown with the coupon")

    def special_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--category", help="special: the order must include a product of this category (its code, as products have it: audio, phones, …)")
        p.add_argument("--category-name", help="the category's name shown to buyers (default: the catalog's)")
        p.add_argument("--new-buyers", action="store_true", help="special: new buyers only")
        p.add_argument("--campaign", help="special: one coupon per user for this key")

    grant = verbs.add_parser("grant", help="put a platform coupon or a gift certificate into wallets")
    grant.add_argument("--user", type=int, action="append", required=True, help="a Telegram user id")
    value_args(grant, certificate=True)
    special_args(grant)
    grant.set_defaults(func=_command(grant_coupons))

    code = verbs.add_parser("code", help="create a code that buyers redeem in the bot")
    code.add_argument("code", help="4–32 Latin letters and digits")
    value_args(code, certificate=True)
    special_args(code)
    code.add_argument("--store", type=int, help="a store coupon: the store's id")
    code.add_argument("--store-name", help="the store's name, shown to buyers")
    code.add_argument("--uses", type=int, help="how many users may redeem it (default: any)")
    code.add_argument("--for-user", type=int, help="only this user may redeem it")
    code.set_defaults(func=_command(create_code))

    offer = verbs.add_parser("offer", help="a store coupon buyers collect on the store's page")
    offer.add_argument("--store", type=int, required=True, help="the store's id")
    offer.add_argument("--store-name", required=True, help="the store's name, shown to buyers")
    value_args(offer, certificate=False)
    offer.add_argument("--quantity", type=int, help="how many can be collected (default: any)")
    offer.set_defaults(func=_command(create_offer))


class BadInput(Exception):
    pass


def _moment(text: str, *, end_of_day: bool) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadInput(f"not a date: {text!r} (use YYYY-MM-DD)") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start + timedelta(days=1) if end_of_day else start


def _amount(text: str, currency: str, name: str, *, zero: bool = False) -> int:
    from bot.services.errors import DomainError
    from bot.services.money import parse_amount

    try:
        if zero and Decimal(text.strip().replace(",", ".")) == 0:
            return 0
    except InvalidOperation:
        pass
    try:
        return parse_amount(text, currency)
    except DomainError:
        raise BadInput(f"{name}: not an amount in {currency}: {text!r}") from None


def build_terms(args: argparse.Namespace, now: datetime, *, scope: Scope) -> Terms:
    from bot.services.coupons import Terms, ValueKind
    from bot.services.errors import DomainError
    from bot.services.money import check_currency

    try:
        currency = check_currency(args.currency)
    except DomainError:
        raise BadInput(f"--currency: unknown currency {args.currency!r}") from None
    start = _moment(args.start, end_of_day=False) if args.start else now
    end = now + timedelta(days=args.days) if args.days is not None else _moment(args.until, end_of_day=True)
    minimum = _amount(args.min, currency, "--min", zero=True)
    certificate = getattr(args, "certificate", None)
    if args.percent is not None:
        kind, amount = ValueKind.percent, None
    else:
        kind, amount = ValueKind.amount, _amount(certificate or args.amount, currency,
                                                 "--certificate" if certificate else "--amount")
    return Terms(
        scope=scope, value_kind=kind, currency=currency, valid_from=start, valid_to=end,
        amount_minor=amount, percent=args.percent,
        cap_minor=_amount(args.cap, currency, "--cap") if args.cap else None,
        min_order_minor=minimum,
        store_id=getattr(args, "store", None), store_name=getattr(args, "store_name", None),
        category=(getattr(args, "category", None) or "").strip().casefold() or None,
        category_name=getattr(args, "category_name", None),
        new_buyers_only=bool(getattr(args, "new_buyers", False)),
        campaign=getattr(args, "campaign", None), title=args.title,
    )


def _command(verb: Verb) -> Callable[[argparse.Namespace, Settings], int]:
    """A coupon verb over the services: bad input is one line on stdout and exit 2."""

    def command(args: argparse.Namespace, settings: Settings) -> int:
        return asyncio.run(_run(verb, args, settings))

    return command


async def _run(verb: Verb, args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_services, prepare_database
    from bot.services.errors import DomainError

    prepare_database(settings)
    services = build_services(settings)
    try:
        return await verb(args, services.coupons, services.clock.now())
    except BadInput as exc:
        print(f"error: {exc}")
        return 2
    except DomainError as exc:
        print("error: " + (exc.msgid.format(**exc.params) if exc.params else exc.msgid))
        return 2
    finally:
        await services.db.dispose()


def _certificate_terms(args: argparse.Namespace, now: datetime) -> Terms:
    from bot.services.coupons import Scope

    terms = build_terms(args, now, scope=Scope.platform)
    if terms.cap_minor or terms.min_order_minor or terms.category is not None \
            or terms.new_buyers_only or terms.campaign or terms.store_id is not None:
        raise BadInput("a gift certificate has no cap, minimum, store or special conditions")
    return terms


async def grant_coupons(args: argparse.Namespace, coupons: CouponService, now: datetime) -> int:
    from bot.services.coupons import Scope
    from bot.services.errors import NotFound

    if not args.certificate:
        result = await coupons.grant(args.user, build_terms(args, now, scope=Scope.platform))
        for user_id, coupon_id in result.granted.items():
            print(f"coupon #{coupon_id} for user {user_id}")
        for user_id in result.unknown_users:
            print(f"user {user_id} has not started the bot: skipped")
        for user_id in result.already_had:
            print(f"user {user_id} already has a coupon of campaign {args.campaign!r}: skipped")
        return 0 if result.granted else 1
    terms = _certificate_terms(args, now)
    assert terms.amount_minor is not None
    done = 0
    for user_id in dict.fromkeys(args.user):
        try:
            cert = await coupons.grant_certificate(
                user_id, amount_minor=terms.amount_minor, currency=terms.currency,
                valid_to=terms.valid_to, title=terms.title)
        except NotFound:
            print(f"user {user_id} has not started the bot: skipped")
            continue
        print(f"gift certificate #{cert.id} for user {user_id}")
        done += 1
    return 0 if done else 1


async def create_code(args: argparse.Namespace, coupons: CouponService, now: datetime) -> int:
    from bot.services.coupons import Scope, normalise_code

    if args.certificate:
        _certificate_terms(args, now)
    scope = Scope.store if args.store is not None else Scope.platform
    terms = build_terms(args, now, scope=scope)
    code_id = await coupons.create_code(
        args.code, terms, certificate=bool(args.certificate), max_uses=args.uses,
        for_user_id=args.for_user)
    print(f"code #{code_id} {normalise_code(args.code)} created")
    return 0


async def create_offer(args: argparse.Namespace, coupons: CouponService, now: datetime) -> int:
    from bot.services.coupons import Scope

    offer_id = await coupons.create_store_offer(build_terms(args, now, scope=Scope.store), quantity=args.quantity)
    print(f"store coupon offer #{offer_id} created")
    return 0
