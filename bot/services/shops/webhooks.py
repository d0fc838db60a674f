"""Outgoing webhooks: a shop with a webhook URL is told, by an HTTP POST, when a buyer of one of its
stores cancels an order, confirms receipt, opens a dispute, writes a review or sends a message.

- The event is written in the unit of work of the buyer's action (`emit`): it is sent if and only
  if the action happened. Delivery (`WebhookDelivery`, a scheduler job) POSTs it afterwards.
- Body: JSON `{"id": "evt_…", "type": "order.cancelled", "created_at": "…", "data": {…}}`; the id
  is the same on every try, for the shop to drop a repeat. Headers `Kabinet-Event`,
  `Kabinet-Delivery` (the id) and `Kabinet-Signature: t=<unix time>,v1=<hex>` where v1 is
  HMAC-SHA256 with the shop's webhook secret over `"<t>.<body>"`: the shop checks it and that t is
  within five minutes (`verify`), so a captured request can't be replayed later.
- A 2xx answer is sent; anything else (or no answer in 10 s) is tried again after 30 s, 1, 2, 4 …
  minutes up to an hour, 12 tries in all (about 5 hours); then it is given up and shown in /ops
  until an operator sends it again (`main.py shop webhook-retry`). At least once: a crash between
  the POST and recording it sends it again after the lease (2 minutes).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import shops as shops_repo
from bot.db import webhooks as repo
from bot.db.engine import Database
from bot.db.webhooks import DueDelivery, Failing
from bot.services.backoff import doubling
from bot.services.clock import Clock
from bot.services.errors import N_, InvalidInput, NotFound
from bot.services.webhook_events import EVENTS, emit  # noqa: F401  (the events are declared there)

log = logging.getLogger(__name__)

TOLERANCE = timedelta(minutes=5)
TRIES = 12
FIRST_PAUSE, LONGEST_PAUSE = timedelta(seconds=30), timedelta(hours=1)
LEASE = timedelta(minutes=2)
BATCH = 50
TIMEOUT = 10.0  # seconds a shop has to answer

# (url, body, headers) -> the HTTP status; raises when there is no answer
Poster = Callable[[str, bytes, dict[str, str]], Awaitable[int]]


class ShopNotFound(NotFound, msgid=N_("No such shop.")): ...


class BadWebhookUrl(InvalidInput, msgid=N_("A webhook URL starts with https:// (or http:// for a local test).")): ...


# -- signing ----------------------------------------------------------------------------------------
def sign(secret: str, timestamp: int, body: str | bytes) -> str:
    raw = body.encode() if isinstance(body, str) else body
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: str | bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: str | bytes, now: datetime, tolerance: timedelta = TOLERANCE) -> bool:
    """What a shop does with a request (here for tests and as the reference): the signature over
    the body as received, made within `tolerance` of now."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    return hmac.compare_digest(parts.get("v1", ""), sign(secret, timestamp, body))


# -- delivery -----------------------------------------------------------------------------------------
async def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    import aiohttp  # the bot's own HTTP client (aiogram's dependency); imported when a webhook is sent

    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session, \
            session.post(url, data=body, headers=headers, allow_redirects=False) as response:
        return response.status


class WebhookDelivery:
    """The scheduler's job: POST what is due, each shop's events in order, shops side by side."""

    def __init__(self, db: Database, clock: Clock, post: Poster | None = None) -> None:
        self.db = db
        self.clock = clock
        self.post = post or http_post

    async def __call__(self, now: datetime | None = None) -> int:
        now = now or self.clock.now()
        async with self.db.write() as conn:
            due = await repo.claim(conn, now, now + LEASE, BATCH)
        by_shop: dict[int, list[DueDelivery]] = {}
        for row in due:
            by_shop.setdefault(row.shop_id, []).append(row)
        sent = await asyncio.gather(*(self._shop(rows) for rows in by_shop.values()))
        return sum(sent)

    async def _shop(self, rows: list[DueDelivery]) -> int:
        sent = 0
        for row in rows:
            error = await self._try(row)
            now = self.clock.now()
            async with self.db.write() as conn:
                if error is None:
                    await repo.mark_sent(conn, row.id, now)
                    sent += 1
                else:
                    last = row.attempts + 1 >= TRIES
                    retry_at = None if last else now + doubling(FIRST_PAUSE, LONGEST_PAUSE, row.attempts)
                    await repo.mark_failed(conn, row.id, error, retry_at=retry_at)
                    log.warning("webhook %s (%s) to shop %d: %s%s", row.event_id, row.event, row.shop_id, error,
                                " — given up" if last else "")
        return sent

    async def _try(self, row: DueDelivery) -> str | None:
        if not row.url or not row.secret:
            return "the shop has no webhook URL any more"
        timestamp = int(self.clock.now().timestamp())
        headers = {"Content-Type": "application/json", "Kabinet-Event": row.event, "Kabinet-Delivery": row.event_id,
                   "Kabinet-Signature": signature_header(row.secret, timestamp, row.body)}
        try:
            status = await self.post(row.url, row.body.encode(), headers)
        except Exception as exc:  # no answer: a network error, a timeout, a refused connection
            return f"no answer: {type(exc).__name__}"
        return None if 200 <= status < 300 else f"HTTP {status}"


# -- operators ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Webhook:
    shop: str
    url: str | None
    secret: str | None  # shown when it is set


class WebhookService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def _shop_id(self, conn: AsyncConnection, name: str) -> int:
        shop = await shops_repo.shop_by_name(conn, name)
        if shop is None:
            raise ShopNotFound()
        return shop.id

    async def set(self, shop: str, url: str | None) -> Webhook:
        """Point a shop's webhooks at `url` with a new secret (returned once), or (None) turn them
        off; what is queued for it stays, and is sent if they are turned on again."""
        if url is not None and not url.startswith(("https://", "http://")):
            raise BadWebhookUrl()
        secret = f"whsec_{secrets.token_urlsafe(24)}" if url else None
        async with self.db.write() as conn:
            await repo.set_webhook(conn, await self._shop_id(conn, shop), url, secret)
        return Webhook(shop, url, secret)

    async def failing(self) -> list[Failing]:
        async with self.db.read() as conn:
            return await repo.failing(conn)

    async def retry(self, shop: str | None = None) -> int:
        """Given-up deliveries (of one shop, or all) are tried again from now."""
        async with self.db.write() as conn:
            shop_id = None if shop is None else await self._shop_id(conn, shop)
            return await repo.retry_failed(conn, shop_id, self.clock.now())
