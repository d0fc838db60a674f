"""Composition root: everything is wired here and nowhere else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import BotCommand, BotCommandScopeDefault, CallbackQuery
from aiogram.utils.i18n import I18n

import bot.demo_orders
import bot.demo_reviews  # noqa: F401  (registers the reviews and points demo seeder)
from bot import menu as menu_registry
from bot.config import Settings, card_fingerprint_key
from bot.db.engine import Database, current_scope
from bot.db.fsm import SqlStorage
from bot.db.migrate import migrate
from bot.handlers import cards as card_flow
from bot.handlers import errors as error_handlers
from bot.handlers import routers
from bot.i18n import build_i18n
from bot.integrations.payments import PaymentGateway, SandboxGateway
from bot.keyboards.common import MenuCb
from bot.middlewares.card_guard import CardNumberGuard
from bot.middlewares.i18n import UserI18nMiddleware
from bot.middlewares.isolation import FreeingEventIsolation
from bot.middlewares.requests import ReplyRetries, Sleep
from bot.middlewares.requests import install as install_reply_retries
from bot.middlewares.throttling import Throttle, ThrottlingMiddleware
from bot.middlewares.typed_buttons import TypedButtonsMiddleware, install
from bot.middlewares.update import InFlight, UpdateScopeMiddleware
from bot.middlewares.user import UserMiddleware
from bot.services import reminders as reminder_rules
from bot.services.addresses import AddressService
from bot.services.cards import CardService, detect_brand
from bot.services.clock import Clock, SystemClock
from bot.services.coupons import CouponService
from bot.services.disputes import DisputeService
from bot.services.groups import GroupService
from bot.services.links import OrderAddressUsage, OrderCardUsage, WalletCardLookup
from bot.services.loyalty import LoyaltyPolicy, LoyaltyService
from bot.services.messages import MessageService
from bot.services.ops import OpsService
from bot.services.orders import OrderPolicy, OrderService
from bot.services.outbox import OutboxService
from bot.services.pay import PayService
from bot.services.ratelimit import SendBudget
from bot.services.refunds import RefundService
from bot.services.relay.conversations import RelayService
from bot.services.relay.sellers import SellerService
from bot.services.reminders import ReminderService
from bot.services.reviews import ReviewService
from bot.services.settings import SettingsService
from bot.services.users import UserService
from bot.views import relay as _relay_push  # noqa: F401  (registers how a relayed message renders)
from bot.views.common import Fmt
from bot.views.help import command_descriptions

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a handler may ask for by name, besides aiogram's own arguments."""

    db: Database
    clock: Clock
    i18n: I18n
    users: UserService
    settings: SettingsService
    addresses: AddressService
    reminders: ReminderService
    messages: MessageService
    outbox: OutboxService
    coupons: CouponService
    payments: PaymentGateway
    cards: CardService
    orders: OrderService
    disputes: DisputeService
    refunds: RefundService
    pay: PayService
    reviews: ReviewService
    loyalty: LoyaltyService
    ops: OpsService
    groups: GroupService
    sellers: SellerService
    relay: RelayService
    in_flight: InFlight = field(default_factory=InFlight)
    # Telegram's overall budget, shared by the replies (counted, first) and the outbox's delivery;
    # the bot's session holds it, handlers never ask for it
    budget: SendBudget = field(default_factory=lambda: SendBudget(SystemClock().now),
                               metadata={"handlers": False})

    def as_workflow_data(self) -> dict[str, object]:
        """Each field by its name (what a handler asks for), but those marked for no handler."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("handlers", True)}


def build_services(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Services:
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    users = UserService(db, clock, settings.default_locale)
    # a user who blocks the bot loses their pending pushes; what is still relevant comes back
    users.on_unreachable.append(reminder_rules.on_unreachable)
    users.on_reachable.append(reminder_rules.on_reachable)
    # The sandbox gateway; a production deployment plugs a real provider's adapter in here.
    payments = SandboxGateway(clock, card_fingerprint_key(settings), detect_brand)
    # sections built apart, wired here: orders tell the wallet and the address book what uses a
    # card or an address; the wallet tells refunds what became of the card that paid
    cards = CardService(db, clock, payments, usage=OrderCardUsage(db))
    orders = OrderService(db, clock, OrderPolicy.from_settings(settings), cards=WalletCardLookup(cards))
    coupons = CouponService(db, clock)
    refunds = RefundService(db, clock, payments)
    outbox = OutboxService(db, clock, users)
    orders.on_unpaid_cancelled.append(coupons.give_back)  # a cancelled unpaid order returns its coupons
    return Services(
        db=db,
        clock=clock,
        i18n=build_i18n(settings.default_locale),
        users=users,
        settings=SettingsService(db),
        addresses=AddressService(db, clock, usage=OrderAddressUsage(db)),
        reminders=ReminderService(db, clock),
        messages=MessageService(db, clock),
        outbox=outbox,
        coupons=coupons,
        payments=payments,
        cards=cards,
        orders=orders,
        disputes=DisputeService(db, clock, orders),
        refunds=refunds,
        pay=PayService(db, clock, cards, orders),
        reviews=ReviewService(db, clock),
        loyalty=LoyaltyService(db, clock, LoyaltyPolicy(settings.loyalty_thresholds)),
        ops=OpsService(refunds, outbox),
        budget=SendBudget(clock.now),
        groups=GroupService(db, clock),
        sellers=SellerService(db, clock),
        relay=RelayService(db, clock),
    )


def prepare_database(settings: Settings) -> None:
    """Apply migrations (quickly skipped when the schema is current)."""
    migrate(settings.database_url, settings.sqlite_path)


def build_dispatcher(settings: Settings, services: Services) -> Dispatcher:
    dp = Dispatcher(
        # every change of a flow passes the storage: leaving the card flow ends its gateway session
        storage=SqlStorage(services.db, services.clock.now, watchers=[card_flow.ends_card_sessions(services.cards)]),
        events_isolation=FreeingEventIsolation(),
        admin_ids=frozenset(settings.admin_ids),
        **services.as_workflow_data(),
    )
    dp.update.outer_middleware(UpdateScopeMiddleware(services.clock, services.in_flight))
    dp.update.outer_middleware(UserMiddleware(services.users))
    dp.update.outer_middleware(UserI18nMiddleware(services.i18n))
    # before flood protection, so that a card number is deleted even from a dropped message
    dp.update.outer_middleware(CardNumberGuard())
    if settings.throttle_rate > 0:
        throttle = Throttle(settings.throttle_rate, settings.throttle_burst)
        dp.update.outer_middleware(ThrottlingMiddleware(throttle, services.clock.now))
    dp.message.outer_middleware(TypedButtonsMiddleware())  # a typed label acts as its button
    for router in [error_handlers.router, *routers()]:
        # Routers are module-level singletons; a dispatcher rebuilt in the same process (an
        # in-process restart, as the tests and the console do) takes them over from the old one.
        router._parent_router = None
        dp.include_router(router)
    gate_callbacks_by_prefix(dp)
    inline_sync_filters(dp)
    unpack_once_per_update(dp)
    return dp


def gate_callbacks_by_prefix(dp: Dispatcher) -> int:
    """A router whose every button handler is guarded by a ``XxxCb.filter(…)`` gets one root filter:
    the pressed button's prefix must be one of theirs. A press then skips a section that can't take
    it with one check, instead of trying each of its handlers (~65 filter checks for a press of a
    late section's button). Nothing else changes: those handlers could not have matched. Routers
    with a handler for any press (the fallback) are left alone. Idempotent; returns how many
    routers it gated."""
    gated = 0
    for router in dp.chain_tail:
        observer = router.callback_query
        if getattr(observer, "_prefix_gate", None) is not None:
            continue
        guards: list[CallbackQueryFilter] = []
        for handler in observer.handlers:
            own = [f.callback for f in handler.filters or () if isinstance(f.callback, CallbackQueryFilter)]
            if not own:
                guards = []
                break
            guards += own
        if not guards:
            continue
        gate = _prefix_gate(guards)
        observer.filter(gate)
        observer._prefix_gate = gate  # type: ignore[attr-defined]
        gated += 1
    return gated


def _prefix_gate(guards: list[CallbackQueryFilter]) -> Callable[[CallbackQuery], Awaitable[bool]]:
    """What the guards can let through: any data of their CallbackData classes, except the main
    menu's buttons, which every section guards with `MenuCb.filter(F.section == "…")`: for those,
    only the sections the rules accept (else each menu press would be tried by every section)."""
    starts: set[str] = set()
    exact: set[str] = set()
    for guard in guards:
        kind = guard.callback_data
        if kind is MenuCb and guard.rule is not None:
            exact.update(cb.pack() for cb in (MenuCb(section=e.section) for e in menu_registry.entries())
                         if guard.rule.resolve(cb))
        else:
            starts.add(kind.__prefix__ + kind.__separator__)
            exact.add(kind.__prefix__)  # a CallbackData without fields packs to its prefix
    prefixes = tuple(starts)

    async def gate(query: CallbackQuery) -> bool:
        data = query.data or ""
        return data in exact or data.startswith(prefixes)

    return gate


def inline_sync_filters(dp: Dispatcher) -> int:
    """Run synchronous filters (``F.text``, ``F.data == …``, plain functions) in the event loop.

    aiogram calls a synchronous filter through ``asyncio.to_thread``: a thread hop for every magic
    filter every update passes on its way through the routers — ~75 for a text message, most of
    its time (bench/). Our filters only read the update, so they run inline. Idempotent (routers
    are module-level and a dispatcher may be rebuilt); returns how many filters it changed."""
    changed = 0
    for router in dp.chain_tail:
        for observer in router.observers.values():
            for handler in [observer._handler, *observer.handlers]:
                for filter_ in handler.filters or ():
                    if filter_.awaitable:
                        continue
                    filter_.callback = _as_coroutine(filter_.callback)
                    filter_.awaitable = True  # params/varkw stay those of the original callable
                    changed += 1
    return changed


def unpack_once_per_update(dp: Dispatcher) -> int:
    """Button filters (``XxxCb.filter(…)``) unpack the callback data once per update and class.

    aiogram's filter unpacks the data into a new pydantic model in every handler it guards: a press
    of a main-menu button was unpacked by each section's ``MenuCb.filter(F.section == …)`` in turn
    (~15 validations, ~80 filter calls per press). The unpacked value (or the failure) is kept in
    the update's scope (bot/db/engine.py) and each rule checks it; a handler gets the same value as
    before. Idempotent; returns how many filters it changed."""
    changed = 0
    for router in dp.chain_tail:
        for observer in router.observers.values():
            for handler in [observer._handler, *observer.handlers]:
                for filter_ in handler.filters or ():
                    if isinstance(filter_.callback, CallbackQueryFilter):
                        filter_.callback = _unpack_once(filter_.callback)  # params stay (query)
                        changed += 1
    return changed


def _unpack_once(original: CallbackQueryFilter) -> Callable[[CallbackQuery], Awaitable[Any]]:
    kind, rule = original.callback_data, original.rule

    async def check(query: CallbackQuery) -> Any:
        if not isinstance(query, CallbackQuery) or not query.data:
            return False
        scope = current_scope()
        key = ("callback_data", kind, query.data)
        if scope is not None and key in scope.cache:
            data = scope.cache[key]
        else:
            try:
                data = kind.unpack(query.data)
            except (TypeError, ValueError):
                data = None
            if scope is not None:
                scope.cache[key] = data
        if data is None:
            return False
        if rule is None or rule.resolve(data):
            return {"callback_data": data}
        return False

    check.callback_data_filter = original  # type: ignore[attr-defined]  # what it guards (tests)
    return check


def _as_coroutine(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def inline(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    inline.__wrapped__ = fn  # type: ignore[attr-defined]  # the filter it runs (tests read it)
    return inline


def build_bot(settings: Settings, session: BaseSession | None = None, *,
              services: Services | None = None, sleep: Sleep | None = None) -> Bot:
    """The Bot, its replies retried on 429 and transient errors (`middlewares/requests.py`) and
    counted in the services' shared budget. `sleep` is the pause between tries (tests: no sleep)."""
    if session is None:
        session = AiohttpSession()
        if settings.telegram_api_base:
            session.api = TelegramAPIServer.from_base(
                settings.telegram_api_base, is_local=settings.telegram_api_local
            )
    install_reply_retries(session, ReplyRetries(budget=services.budget if services else None,
                                                sleep=sleep or asyncio.sleep))
    install(session)  # remembers the keyboard on screen, so its labels typed act as its buttons
    token = settings.bot_token or "0:offline"
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def set_commands(bot: Bot, i18n: I18n, default_locale: str) -> None:
    """The command list per language, and the default scope in the default locale."""
    for locale in ("en", "ru"):
        f = Fmt(i18n, locale)
        commands = [BotCommand(command=c, description=d) for c, d in command_descriptions(f)]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=locale)
    f = Fmt(i18n, default_locale)
    commands = [BotCommand(command=c, description=d) for c, d in command_descriptions(f)]
    await bot.set_my_commands(commands, scope=BotCommandScopeDefault())
