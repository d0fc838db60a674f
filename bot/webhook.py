"""Webhook mode: Telegram posts each update to WEBHOOK_URL instead of the bot polling for it.

The route lives in the same aiohttp application as the shop API (bot/runner.py). A request is
checked, parsed and handed to the dispatcher in a task of its own; Telegram gets its 200 at once
(it waits for the answer before it sends that chat's next update, and retries what is not
answered in time). Like polling:

- at most TASKS_CONCURRENCY_LIMIT updates are handled at once: a request past the limit waits for a
  free place before it is answered, so Telegram slows down instead of the bot queueing without end;
- every task is in `services.in_flight` from the moment it exists, so the graceful shutdown
  (Runtime.on_shutdown) waits for it, bounded, before the database closes;
- a redelivered update is dropped by the de-duplication of the unit of work (middlewares/update.py).

Why not aiogram's SimpleRequestHandler: it checks the secret the same way and answers 401, but its
tasks are its own (the shutdown could not wait for them), it takes no concurrency limit, it closes
the Bot's session when the application stops (ours is closed last, after the database), and a
secret header with a non-ASCII character makes `secrets.compare_digest` raise (500, not 401).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.middlewares.card_guard import allowed_updates
from bot.middlewares.isolation import handling
from bot.middlewares.update import InFlight

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # an update is a few KB; Telegram's own limit for a message is far below this


class TelegramWebhook:
    def __init__(self, dp: Dispatcher, bot: Bot, secret: str, in_flight: InFlight, *,
                 concurrency: int = 64) -> None:
        self.dp = dp
        self.bot = bot
        self._secret = secret.encode()
        self.in_flight = in_flight
        self._places = asyncio.Semaphore(concurrency)
        self.accepted = 0  # updates handed to the dispatcher (what the tests and the log count)

    def register(self, app: web.Application, path: str) -> None:
        app.router.add_post(path, self.handle)

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogatepass")
        return hmac.compare_digest(given, self._secret)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            log.warning("webhook: a request without the right secret token from %s; refused", request.remote)
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"ok": False, "error": "too large"}, status=413)
        try:
            raw = await request.json(loads=self.bot.session.json_loads)
            update = Update.model_validate(raw, context={"bot": self.bot})
        except (ValueError, ValidationError, TypeError):
            log.warning("webhook: a body that is not an update; refused")
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        await self._places.acquire()  # a full house: Telegram waits here, as polling stops fetching
        task = asyncio.create_task(self._process(update))
        self.in_flight.add(task)  # before it runs: a shutdown starting now waits for it
        task.add_done_callback(self._done)
        self.accepted += 1
        return web.json_response({"ok": True})

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.in_flight.discard(task)
        self._places.release()

    async def _process(self, update: Update) -> None:
        try:
            with handling(update.update_id):  # several instances: the user's updates in the order of their ids
                result = await self.dp.feed_update(self.bot, update)
            if isinstance(result, TelegramMethod):
                await self.dp.silent_call_request(self.bot, result)
        except Exception:
            log.exception("webhook: update %s failed", update.update_id)


async def set_webhook(bot: Bot, dp: Dispatcher, url: str, secret: str) -> None:
    """Point Telegram at this deployment. The webhook is not deleted on shutdown: other instances
    may be serving it, and Telegram keeps updates for a while when none answers."""
    types = allowed_updates(dp)
    await bot.set_webhook(url=url, secret_token=secret, allowed_updates=types, drop_pending_updates=False)
    log.info("webhook: set (%d update types)", len(types))
