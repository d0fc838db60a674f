"""Long polling — or, with WEBHOOK_URL, a webhook (bot/webhook.py) — with a graceful shutdown.

On SIGINT/SIGTERM aiogram stops fetching updates (in webhook mode: the HTTP server stops taking
requests), then runs the shutdown hooks, then closes the Bot session. Our hook: stop delivery (the messages being sent finish, the rest is given back),
stop the scheduler and let a running job finish (bounded), wait for the
handler tasks still in flight (bounded: aiogram's polling does not wait for them), close the
database. Updates that were fetched but not finished inside the bound are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.app import Services, build_bot, build_dispatcher, build_services, prepare_database
from bot.command_menu import set_commands
from bot.config import Settings
from bot.delivery import Delivery, DeliveryConfig
from bot.middlewares.card_guard import allowed_updates
from bot.scheduler import JobLeases, Scheduler, Sweeper
from bot.services import housekeeping, loyalty
from bot.services.catalog.viewed import FLUSH_SECONDS
from bot.services.shops.webhooks import WebhookDelivery
from bot.webhook import TelegramWebhook, set_webhook

log = logging.getLogger(__name__)


def build_sweeper(services: Services) -> Sweeper:
    sweeper = Sweeper()
    sweeper.register("prune_update_ids", housekeeping.prune_processed_updates(services.db))
    sweeper.register("abandoned_flows", housekeeping.sweep_abandoned_flows(services.db))
    sweeper.register("coupon_code_attempts", services.coupons.prune_attempts)
    sweeper.register("card_holds_release", services.cards.release_due_holds)
    sweeper.register("card_tokens_detach", services.cards.detach_deleted)
    # before the clock cancels unpaid orders: a payment found to have gone through completes first
    sweeper.register("payments_reconcile", services.pay.reconcile)
    sweeper.register("refunds_pay_out", services.refunds.pay_out_due)
    sweeper.register("expire_unpaid_orders", services.orders.expire_unpaid)
    sweeper.register("complete_protected_orders", services.orders.auto_complete)
    sweeper.register("disputes_overdue", services.disputes.close_overdue)
    sweeper.register("poll_parcel_tracking", services.orders.poll_tracking)
    sweeper.register("loyalty_levels_ageing", services.loyalty.age)
    sweeper.register("outbox_prune", services.outbox.prune)
    sweeper.register("api_idempotency_prune", services.shops.prune_answers)
    return sweeper


def build_delivery(services: Services, bot: Bot, settings: Settings) -> Delivery:
    config = DeliveryConfig(per_second=settings.delivery_rate, concurrency=settings.delivery_concurrency,
                            lease=timedelta(seconds=settings.delivery_lease))
    return Delivery(services.outbox, bot, services.i18n, services.clock, config=config,
                    budget=services.budget)


class Runtime:
    """A bot process: dispatcher, bot, scheduler, and what shuts them down in order."""

    def __init__(self, settings: Settings, services: Services, dp: Dispatcher, bot: Bot) -> None:
        self.settings = settings
        self.services = services
        self.dp = dp
        self.bot = bot
        # with several instances the sweeper runs in one of them per period (README "Scale-out")
        self.scheduler = Scheduler(services.clock, JobLeases(services.db))
        self.sweeper = build_sweeper(services)
        self.scheduler.add_job("sweeper", self.sweeper, settings.sweep_interval, once=True)
        self.delivery = build_delivery(services, bot, settings)
        self.scheduler.add_job("delivery", self.delivery, settings.delivery_interval, long_running=True)
        # the shops' webhooks (bot/services/shops/webhooks.py): a shop with no URL queues nothing
        self.webhooks = WebhookDelivery(services.db, services.clock)
        self.scheduler.add_job("webhooks", self.webhooks, settings.delivery_interval * 2.5, long_running=True)
        self.scheduler.add_job("recently_viewed", services.viewed.flush, FLUSH_SECONDS)
        self.scheduler.add_job("wal_checkpoint", services.db.checkpoint, 1.0)  # SQLite: off the updates' path
        dp.startup.register(self.on_startup)
        dp.shutdown.register(self.on_shutdown)
        self.stopped = False
        self.api: web.AppRunner | None = None
        self.webhook: TelegramWebhook | None = None  # webhook mode (WEBHOOK_URL), once started
        self._stop: asyncio.Event | None = None

    async def on_startup(self) -> None:
        await set_commands(self.bot, self.services.i18n, self.settings.default_locale)
        await self.check_usd_rates()
        self.scheduler.start()
        await self.start_api()
        log.info("started")

    async def check_usd_rates(self) -> list[str]:
        """Products priced in a currency without a rate in USD_RATES: their orders placed in the bot
        earn no points for their amount (1 point per whole dollar needs the dollars). Said once at
        start, so a shop that sells in roubles is not left wondering where the points went."""
        missing = loyalty.unrated(await self.services.catalog.currencies(), self.settings.usd_rates)
        if missing:
            log.warning("products are priced in %s with no rate in USD_RATES: orders placed in the bot earn no points "
                        "for their amount; set USD_RATES, e.g. USD_RATES=%s=0.011", ", ".join(missing), missing[0])
        return missing

    async def start_api(self) -> None:
        """The bot's HTTP server on API_LISTEN: the shop API (bot/api/) when a shop has a key, and
        in webhook mode the webhook route beside it (one application, one port)."""
        address = self.settings.api_address
        if address is None:
            return
        webhook = self.settings.webhook_url is not None
        shops = await self.services.shops.any()
        if not shops:
            log.info("shop API: off (no shop has a key: main.py shop add NAME)")
            if not webhook:
                return
        if shops:
            from bot.api import ApiConfig, build_api

            username = self.settings.bot_username or (await self.bot.me()).username
            app = build_api(self.services, ApiConfig(bot_username=username, rate=self.settings.api_rate,
                                                     burst=self.settings.api_burst))
        else:
            app = web.Application()
        if webhook:
            self.webhook = self.build_webhook()
            self.webhook.register(app, str(self.settings.webhook_path))
        self.api = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.api.setup()
        await web.TCPSite(self.api, address[0], address[1]).start()
        if shops:
            log.info("shop API: listening on %s:%d", *address)
        if webhook:
            log.info("webhook: listening on %s:%d at %s", *address, self.settings.webhook_path)
            assert self.settings.webhook_url is not None and self.settings.webhook_secret is not None
            await set_webhook(self.bot, self.dp, self.settings.webhook_url,
                              self.settings.webhook_secret.get_secret_value())

    def build_webhook(self) -> TelegramWebhook:
        assert self.settings.webhook_secret is not None
        return TelegramWebhook(self.dp, self.bot, self.settings.webhook_secret.get_secret_value(),
                               self.services.in_flight, concurrency=self.settings.tasks_concurrency_limit)

    async def on_shutdown(self) -> None:
        budget = self.settings.shutdown_timeout
        if self.api is not None:  # no new requests; those in flight finish (bounded) before the database closes
            await asyncio.wait_for(self.api.cleanup(), budget)
            self.api = None
        self.delivery.stop()  # the message being sent finishes; the rest is given back
        left_jobs = await self.scheduler.shutdown(budget)
        left_updates = await self.services.in_flight.wait(budget)
        albums = self.dp.workflow_data.get("albums")
        if albums is not None:  # an album still gathering goes out now, before the database closes
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(albums.complete(), budget)
        try:  # the views noted since the last flush, before the database closes
            await self.services.viewed.flush()
        except Exception:
            log.exception("shutdown: recently viewed not written")
        if left_jobs or left_updates:
            log.warning(
                "shutdown: %d job(s) and %d update(s) still running after %.0fs",
                left_jobs, left_updates, budget,
            )
        await self.services.db.dispose()
        if self.services.redis is not None:
            await self.services.redis.aclose()
        self.stopped = True
        log.info("stopped")

    async def run(self, *, handle_signals: bool = True) -> None:
        if self.settings.webhook_url is not None:
            await self.serve_webhook(handle_signals=handle_signals)
            return
        await self.dp.start_polling(
            self.bot,
            allowed_updates=allowed_updates(self.dp),
            tasks_concurrency_limit=self.settings.tasks_concurrency_limit,
            handle_signals=handle_signals,
        )

    async def serve_webhook(self, *, handle_signals: bool = True) -> None:
        """Webhook mode: start (the HTTP server, then setWebhook), serve until SIGTERM/SIGINT or
        `stop()`, then the same shutdown as polling's; the Bot's session is closed last."""
        self._stop = asyncio.Event()
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, self._stop.set)
        data = {"dispatcher": self.dp, "bots": [self.bot], **self.dp.workflow_data}
        try:
            await self.dp.emit_startup(bot=self.bot, **data)
            await self._stop.wait()
            log.info("webhook: stopping")
        finally:
            try:
                await self.dp.emit_shutdown(bot=self.bot, **data)
            finally:
                await self.bot.session.close()

    def stop(self) -> None:
        """Stop serving the webhook (what SIGTERM does)."""
        if self._stop is not None:
            self._stop.set()


def build_runtime(settings: Settings, bot: Bot | None = None, services: Services | None = None) -> Runtime:
    prepare_database(settings)
    services = services or build_services(settings)
    dp = build_dispatcher(settings, services)
    return Runtime(settings, services, dp, bot or build_bot(settings, services=services))
