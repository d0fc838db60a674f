"""Composition root: everything is wired here and nowhere else."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, fields
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.utils.i18n import I18n

from bot.config import Settings, card_fingerprint_key
from bot.db.engine import Database
from bot.db.fsm import SqlStorage
from bot.db.migrate import migrate
from bot.handlers import cards as card_flow
from bot.handlers import routers
from bot.handlers.relay import AlbumItems, Albums, LeaveWriting
from bot.i18n import build_i18n
from bot.integrations.payments import PaymentGateway, SandboxGateway
from bot.middlewares.card_guard import CardNumberGuard
from bot.middlewares.i18n import UserI18nMiddleware
from bot.middlewares.isolation import FreeingEventIsolation, SharedIsolation
from bot.middlewares.requests import ReplyRetries, Sleep
from bot.middlewares.requests import install as install_reply_retries
from bot.middlewares.throttling import Buckets, Throttle, ThrottlingMiddleware
from bot.middlewares.typed_buttons import KeyboardMemory, TypedButtonsMiddleware, install
from bot.middlewares.update import InFlight, UpdateScopeMiddleware
from bot.middlewares.user import UserMiddleware
from bot.services import housekeeping
from bot.services import reminders as reminder_rules
from bot.services.addresses import AddressService
from bot.services.cards import CardService, detect_brand
from bot.services.catalog.checkout import CheckoutService
from bot.services.catalog.kept import KeptService
from bot.services.catalog.products import CatalogService
from bot.services.catalog.viewed import PendingViews, ViewedLog
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
from bot.services.ratelimit import SendBudget, SharedBudget
from bot.services.refunds import RefundService
from bot.services.relay.conversations import RelayService
from bot.services.relay.sellers import SellerService
from bot.services.reminders import ReminderService
from bot.services.reviews import ReviewService
from bot.services.seller import SellerModeService
from bot.services.settings import SettingsService
from bot.services.shops import CustomerService, ShopService
from bot.services.shops.webhooks import WebhookService
from bot.services.users import UserService
from bot.views import relay as _relay_push  # noqa: F401  (registers how a relayed message renders)
from bot.views import seller_news as _seller_news_push  # noqa: F401  (registers how a store's news renders)

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
    catalog: CatalogService
    kept: KeptService
    viewed: ViewedLog  # Recently viewed, written behind
    checkout: CheckoutService
    seller_mode: SellerModeService
    shops: ShopService
    webhooks: WebhookService
    customers: CustomerService
    in_flight: InFlight = field(default_factory=InFlight)
    # Telegram's overall budget, shared by the replies (counted, first) and the outbox's delivery;
    # the bot's session holds it, handlers never ask for it
    budget: SendBudget | SharedBudget = field(default_factory=lambda: SendBudget(SystemClock().now),
                               metadata={"handlers": False})
    # REDIS_URL's client (FSM storage, event isolation, flood buckets, the send budget, the keyboard
    # on screen, Recently viewed's notes), closed last by the runtime
    redis: Any = field(default=None, metadata={"handlers": False})

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
    webhooks = WebhookService(db, clock)
    pay = PayService(db, clock, cards, orders)
    redis = _redis(settings)
    viewed = ViewedLog(db, _pending_views(settings, redis))
    orders.on_cancelled.append(coupons.give_back)  # a cancelled order returns its coupons, paid or not
    orders.on_unpaid_cancelled.append(coupons.refund)  # an unpaid one what its gift certificates paid
    reviews = ReviewService(db, clock)
    disputes = DisputeService(db, clock, orders)
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
        disputes=disputes,
        refunds=refunds,
        pay=pay,
        reviews=reviews,
        loyalty=LoyaltyService(db, clock, LoyaltyPolicy(settings.loyalty_thresholds)),
        ops=OpsService(refunds, outbox, webhooks, pay, disputes),
        budget=_budget(settings, clock, redis),
        groups=GroupService(db, clock),
        sellers=SellerService(db, clock),
        relay=RelayService(db, clock),
        catalog=CatalogService(db, clock, viewed),
        kept=KeptService(db, clock, viewed),
        viewed=viewed,
        checkout=CheckoutService(db, clock, orders, coupons),
        seller_mode=SellerModeService(db, clock, orders, reviews, disputes),
        shops=ShopService(db, clock, orders),
        webhooks=webhooks,
        customers=CustomerService(db, clock, orders),
        redis=redis,
    )


def _redis(settings: Settings) -> Any:
    if settings.redis_url is None:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(settings.redis_url)


def _budget(settings: Settings, clock: Clock, redis: Any) -> SendBudget | SharedBudget:
    """Telegram's overall budget: this process's, or with REDIS_URL every process's."""
    if redis is None:
        return SendBudget(clock.now, settings.telegram_rate)
    from bot.db.budget_redis import RedisSendBudget

    return RedisSendBudget(redis, clock.now, settings.telegram_rate, prefix=settings.redis_prefix)


def _pending_views(settings: Settings, redis: Any) -> PendingViews | None:
    """Recently viewed's notes: in this process, or with REDIS_URL where every instance flushes them."""
    if redis is None:
        return None
    from bot.db.viewed_redis import RedisPendingViews

    return RedisPendingViews(redis, prefix=settings.redis_prefix)


def _album_items(settings: Settings, redis: Any) -> AlbumItems | None:
    """Where an album's items wait: in this process, or with REDIS_URL where every instance's meet."""
    if redis is None:
        return None
    from bot.db.albums_redis import RedisAlbumItems

    return RedisAlbumItems(redis, prefix=settings.redis_prefix)


def _keyboards(settings: Settings, redis: Any) -> KeyboardMemory | None:
    if redis is None:
        return None  # the session's own memory
    from bot.db.keyboards_redis import RedisKeyboards

    return RedisKeyboards(redis, prefix=settings.redis_prefix)


def prepare_database(settings: Settings) -> None:
    """Apply migrations (quickly skipped when the schema is current)."""
    migrate(settings.database_url, settings.sqlite_path)


def build_dispatcher(settings: Settings, services: Services) -> Dispatcher:
    # every change of a flow passes the storage: leaving the card flow ends its gateway session
    watchers = [card_flow.ends_card_sessions(services.cards)]
    storage: BaseStorage
    isolation: BaseEventIsolation
    if services.redis is not None:  # REDIS_URL: shared by every process (README "Scale-out")
        from bot.db.fsm_redis import OrderedTurns, build_isolation, build_storage

        storage = build_storage(services.redis, services.db, prefix=settings.redis_prefix,
                                ttl_days=settings.fsm_ttl_days, watchers=watchers)
        isolation = SharedIsolation(build_isolation(services.redis, prefix=settings.redis_prefix),
                                    OrderedTurns(services.redis, prefix=settings.redis_prefix))
    else:
        storage = SqlStorage(services.db, services.clock.now, watchers=watchers)
        isolation = FreeingEventIsolation()
    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        admin_ids=frozenset(settings.admin_ids),
        privacy_url=settings.privacy_url,  # /privacy links the shop's full policy, and says when an
        # unfinished form is forgotten: the sweeper's 30 days, or Redis's FSM_TTL_DAYS
        forget_days=settings.fsm_ttl_days if settings.redis_url else housekeeping.ABANDONED_FLOW.days,
        disable_fsm=True,  # registered below, inside the update's scope
        **services.as_workflow_data(),
    )
    dp.update.outer_middleware(UpdateScopeMiddleware(services.clock, services.in_flight))
    # aiogram's FSM middleware (the user's lock, then the state read) runs inside the update's scope,
    # so that its read of the FSM row is the one the handlers reuse (the scope's cache)
    dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(UserMiddleware(services.users))
    dp.update.outer_middleware(UserI18nMiddleware(services.i18n))
    # before flood protection, so that a card number is deleted even from a dropped message
    dp.update.outer_middleware(CardNumberGuard())
    if settings.throttle_rate > 0:
        throttle: Buckets = Throttle(settings.throttle_rate, settings.throttle_burst)
        if services.redis is not None:  # one bucket per user across every process
            from bot.db.throttle_redis import RedisThrottle

            throttle = RedisThrottle(services.redis, settings.throttle_rate, settings.throttle_burst,
                                     prefix=settings.redis_prefix)
        dp.update.outer_middleware(ThrottlingMiddleware(throttle, services.clock.now))
    dp.message.outer_middleware(TypedButtonsMiddleware())  # a typed label acts as its button
    dp.callback_query.outer_middleware(LeaveWriting())  # a conversation's writing mode ends elsewhere
    dp["albums"] = Albums(shared=_album_items(settings, services.redis))  # an album's items, relayed as one
    dp.include_routers(*routers())  # fresh ones: each dispatcher has its own (handlers/routing.py)
    return dp


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
    # remembers the keyboard on screen, so its labels typed act as its buttons: in this process,
    # or with REDIS_URL in Redis, where every instance finds it
    install(session, _keyboards(settings, services.redis if services else None))
    token = settings.bot_token or "0:offline"
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
