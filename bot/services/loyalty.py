"""Loyalty: the points ledger, five levels and their privileges.

Points are a ledger, never a counter. Every entry has a reason, a reference and an idempotency key
(unique per user), so the same event credited twice is credited once:

- ``order``: 1 point per whole US dollar of the order's total (floor(total × the USD rate stored
  with the order)), when the order completes (key ``order:<id>``);
- ``reversal``: a refund takes back points in proportion to what was refunded of the total,
  rounded down (in full on a full refund); it references its credit (key ``refund:<id>``);
- ``review``: 5 points per published review, once per order item (key ``review:<item id>``);
- ``daily_purchase``: 5 points for a purchase made on a calendar day in the user's time zone, once
  a day (key ``daily:<local date>``, on the day's first paid order); when that order is refunded in
  full it is taken back and carried by another order of that day still standing, or by the next one
  paid that day (key ``daily:<local date>:<order>``) — so paying and cancelling earns nothing.

The level counts the points of entries in the last 365 days (UTC). A reversal counts from its
credit's moment (``effective_at``), so the two age out together and the sum never goes negative.
The computed level is kept in ``loyalty_levels`` together with the moment ageing may change it
next; the sweeper rechecks those (`LoyaltyService.age`). A change of level writes a
``level_changed`` push.

Everything that depends on a level reads it through `level_of`. Privileges: faster refunds from
level 3, priority disputes from level 4. Only privileges that work are listed (price-drop alerts
come with the wishlist and the cart, which do not exist yet: issue 14).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import loyalty as repo
from bot.db import orders as orders_repo
from bot.db import refunds as refunds_repo
from bot.db import users as users_repo
from bot.db.engine import Database
from bot.db.loyalty import EntryRow
from bot.db.orders import OrderRow
from bot.services.clock import Clock, zone
from bot.services.errors import N_
from bot.services.money import precision
from bot.services.notifications import declare
from bot.services.outbox import enqueue

LEVEL_CHANGED_KIND = declare("level_changed", N_("Loyalty level changes"), order=47)
BASE_LEVEL = 1
MAX_LEVEL = 5
FAST_REFUND_LEVEL = 3
PRIORITY_DISPUTE_LEVEL = 4
DEFAULT_THRESHOLDS = (0, 200, 400, 800, 1500)
WINDOW = timedelta(days=365)
REVIEW_POINTS = 5
DAILY_PURCHASE_POINTS = 5
HISTORY_PAGE = 8

# reasons of ledger entries
ORDER, REVERSAL, REVIEW, DAILY = "order", "reversal", "review", "daily_purchase"

LEVEL_NAMES = (N_("Bronze"), N_("Silver"), N_("Gold"), N_("Platinum"), N_("Diamond"))


@dataclass(frozen=True, slots=True)
class Privilege:
    key: str
    name: str  # msgid
    description: str  # msgid
    level: int  # from this level on


PRIVILEGES = (
    Privilege("price_drops", N_("Price-drop alerts"),
              N_("You are told when a product in My wishes or the cart gets cheaper."), 1),
    Privilege("fast_refunds", N_("Faster refunds"),
              N_("Refunds reach you sooner; a return is refunded as soon as you send the item back."),
              FAST_REFUND_LEVEL),
    Privilege("priority_disputes", N_("Priority disputes"),
              N_("Your disputes are decided sooner."), PRIORITY_DISPUTE_LEVEL),
)


@dataclass(frozen=True, slots=True)
class LoyaltyPolicy:
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS

    def __post_init__(self) -> None:
        t = self.thresholds
        if len(t) != MAX_LEVEL or t[0] != 0 or any(b <= a for a, b in pairwise(t)):
            raise ValueError("loyalty thresholds are five increasing numbers starting at 0")

    def level_for(self, points: int) -> int:
        level = BASE_LEVEL
        for i, threshold in enumerate(self.thresholds, 1):
            if points >= threshold:
                level = i
        return level


_policy = LoyaltyPolicy()


def configure(policy: LoyaltyPolicy) -> None:
    """Set the thresholds (from Settings at start-up)."""
    global _policy
    _policy = policy


def policy() -> LoyaltyPolicy:
    return _policy


def fast_refunds(level: int) -> bool:
    return level >= FAST_REFUND_LEVEL


def priority_disputes(level: int) -> bool:
    return level >= PRIORITY_DISPUTE_LEVEL


async def level_of(conn_or_db: Any, user_id: int) -> int:
    """The buyer's loyalty level, 1…5, as last computed from the ledger (kept current by every
    ledger write and by the sweeper's ageing). Takes an open connection or the Database."""
    if isinstance(conn_or_db, Database):
        async with conn_or_db.read() as conn:
            row = await repo.level(conn, user_id)
    else:
        row = await repo.level(conn_or_db, user_id)
    return row.level if row else BASE_LEVEL


# -- points of an order -------------------------------------------------------------------------------
def order_points(total_minor: int, currency: str, usd_rate: str | Decimal | None) -> int:
    """1 point per whole US dollar: floor(total × rate). No rate (a non-USD order without one): 0."""
    if usd_rate is None:
        if currency.upper() != "USD":
            return 0
        usd_rate = Decimal(1)
    try:
        rate = Decimal(str(usd_rate))
    except InvalidOperation:
        return 0
    if not rate.is_finite() or rate <= 0:
        return 0
    usd = Decimal(total_minor).scaleb(-precision(currency)) * rate
    return max(0, math.floor(usd))


def unrated(currencies: Iterable[str], usd_rates: Mapping[str, Decimal]) -> list[str]:
    """Of these currencies, those an order placed without its own rate earns no points in: not
    USD and not in USD_RATES."""
    return sorted({c for c in currencies if c.upper() != "USD" and c not in usd_rates})


def reversal_target(credit: int, refunded_minor: int, total_minor: int) -> int:
    """How many of a credit's points a refund of `refunded_minor` (in all) takes back: in
    proportion, rounded down; all of them on a full refund."""
    if total_minor <= 0 or refunded_minor >= total_minor:
        return credit
    return credit * max(refunded_minor, 0) // total_minor


# -- the hooks other sections call inside their unit of work --------------------------------------------
async def _credit(conn: AsyncConnection, *, user_id: int, points: int, reason: str, ref_id: int, key: str,
                  now: datetime, effective_at: datetime | None = None, reverses_id: int | None = None) -> int | None:
    """Write an entry unless its key is already there. Returns the new entry's id, or None."""
    if points == 0 or await repo.by_key(conn, user_id, key) is not None:
        return None
    entry_id = await repo.insert(conn, user_id=user_id, points=points, reason=reason, ref_id=ref_id, key=key,
                                 now=now, effective_at=effective_at, reverses_id=reverses_id)
    await refresh_level(conn, user_id, now)
    return entry_id


async def on_order_completed(conn: AsyncConnection, order: OrderRow, now: datetime) -> None:
    """Credit the order's points (once), and take back what refunds issued before completion took."""
    points = order_points(order.total_minor, order.currency, order.usd_rate)
    await _credit(conn, user_id=order.user_id, points=points, reason=ORDER, ref_id=order.id,
                  key=f"order:{order.id}", now=now)
    refunds = await refunds_repo.for_order(conn, order.id)
    if refunds:
        await _reverse(conn, order, refunds[-1].id, now)


async def user_zone(conn: AsyncConnection, user_id: int) -> ZoneInfo:
    """The user's time zone (their calendar day: the daily bonus, a return's day to send it by)."""
    user = await users_repo.get(conn, user_id)
    return zone(user.time_zone if user else "UTC")


async def on_order_paid(conn: AsyncConnection, order: OrderRow, now: datetime) -> None:
    """5 points for a purchase made on the user's calendar day (in their time zone), once a day: the
    day's first paid order carries it — or the next one, when the order that carried it was
    refunded in full (`_daily_moves_on`)."""
    day = now.astimezone(await user_zone(conn, order.user_id)).date().isoformat()
    if await repo.standing_daily(conn, order.user_id, day, DAILY):
        return
    key = f"daily:{day}" if await repo.by_key(conn, order.user_id, f"daily:{day}") is None else f"daily:{day}:{order.id}"
    await _credit(conn, user_id=order.user_id, points=DAILY_PURCHASE_POINTS, reason=DAILY, ref_id=order.id,
                  key=key, now=now)


async def _daily_moves_on(conn: AsyncConnection, order: OrderRow, daily: EntryRow, now: datetime) -> None:
    """The order that carried its day's purchase bonus was refunded in full: another purchase of
    that day, not refunded in full, carries it now (a new entry; the ledger shows the move)."""
    day = daily.key.split(":")[1]
    if await repo.standing_daily(conn, order.user_id, day, DAILY):
        return
    start = datetime.combine(date.fromisoformat(day), time(0), tzinfo=await user_zone(conn, order.user_id))
    for other in await repo.paid_between(conn, order.user_id, start, start + timedelta(days=1)):
        if other.id == order.id or await repo.standing_for(conn, order.user_id, DAILY, other.id):
            continue  # (an order of another day, seen through a zone changed since, carries its own)
        if await refunds_repo.refunded_total(conn, other.id) < other.total_minor:
            await _credit(conn, user_id=order.user_id, points=DAILY_PURCHASE_POINTS, reason=DAILY, ref_id=other.id,
                          key=f"daily:{day}:{other.id}", now=now, effective_at=other.paid_at)
            return


async def on_refund(conn: AsyncConnection, *, order_id: int, refund_id: int, now: datetime) -> None:
    """A refund was issued: take back the order's points in proportion (nothing before completion:
    nothing was credited yet; `on_order_completed` settles it then)."""
    order = await orders_repo.get(conn, order_id)
    if order is not None:
        await _reverse(conn, order, refund_id, now)


async def _reverse(conn: AsyncConnection, order: OrderRow, refund_id: int, now: datetime) -> None:
    refunded = await refunds_repo.refunded_total(conn, order.id)
    if refunded >= order.total_minor:  # all the money back: the day's purchase bonus goes back too
        for n, daily in enumerate(await repo.standing_for(conn, order.user_id, DAILY, order.id)):
            key = f"refund:{refund_id}:daily" + (f":{daily.id}" if n else "")  # more than one: after a move
            await _credit(conn, user_id=order.user_id, points=-daily.points, reason=REVERSAL, ref_id=refund_id,
                          key=key, now=now, effective_at=daily.effective_at,
                          reverses_id=daily.id)
            await _daily_moves_on(conn, order, daily, now)
    credit = await repo.by_key(conn, order.user_id, f"order:{order.id}")
    if credit is None or credit.points <= 0:
        return
    take = reversal_target(credit.points, refunded, order.total_minor) - await repo.reversed_total(conn, credit.id)
    if take > 0:
        await _credit(conn, user_id=order.user_id, points=-take, reason=REVERSAL, ref_id=refund_id,
                      key=f"refund:{refund_id}", now=now, effective_at=credit.effective_at, reverses_id=credit.id)


async def on_review_published(conn: AsyncConnection, *, user_id: int, item_id: int, now: datetime) -> None:
    await _credit(conn, user_id=user_id, points=REVIEW_POINTS, reason=REVIEW, ref_id=item_id,
                  key=f"review:{item_id}", now=now)


async def refresh_level(conn: AsyncConnection, user_id: int, now: datetime, cause: str = "points") -> int:
    """Recompute the level from the ledger; a change writes a `level_changed` push. `cause`:
    "points" (an entry was written: earned, or taken back by a refund) or "ageing" (the sweeper)."""
    points, earliest = await repo.window(conn, user_id, now - WINDOW)
    points = max(points, 0)
    level = _policy.level_for(points)
    current = await repo.level(conn, user_id)
    previous = current.level if current else BASE_LEVEL
    recheck_at = earliest + WINDOW if earliest is not None else None
    await repo.save_level(conn, user_id=user_id, level=level, points=points, recheck_at=recheck_at, now=now,
                          exists=current is not None)
    if level != previous:
        await enqueue(conn, user_id=user_id, kind=LEVEL_CHANGED_KIND.key, payload={
            "level": level, "previous": previous, "points": points, "cause": cause,
        }, dedupe_key=f"level:{user_id}:{now.isoformat()}:{level}", now=now)
    return level


# -- the privilege centre -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LevelInfo:
    level: int
    points: int  # in the 365-day window
    thresholds: tuple[int, ...]
    total: int  # all points ever (the ledger's sum)

    @property
    def next_level(self) -> int | None:
        return self.level + 1 if self.level < MAX_LEVEL else None

    @property
    def to_next(self) -> int:
        nxt = self.next_level
        return max(self.thresholds[nxt - 1] - self.points, 0) if nxt else 0

    @property
    def progress(self) -> float:
        """0…1 between this level's threshold and the next one's (1 at the top)."""
        nxt = self.next_level
        if nxt is None:
            return 1.0
        low, high = self.thresholds[self.level - 1], self.thresholds[nxt - 1]
        return min(max((self.points - low) / (high - low), 0.0), 1.0)

    def active(self, privilege: Privilege) -> bool:
        return self.level >= privilege.level


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: tuple[EntryRow, ...]
    total: int
    page: int
    pages: int


class LoyaltyService:
    def __init__(self, db: Database, clock: Clock, policy: LoyaltyPolicy | None = None) -> None:
        self.db = db
        self.clock = clock
        if policy is not None:
            configure(policy)

    async def info(self, user_id: int) -> LevelInfo:
        now = self.clock.now()
        async with self.db.read() as conn:
            points, _ = await repo.window(conn, user_id, now - WINDOW)
            total = await repo.total(conn, user_id)
            stored = await repo.level(conn, user_id)
        points = max(points, 0)
        # the stored level is what privileges use; it equals the computed one unless ageing is due
        level = stored.level if stored and stored.points == points else _policy.level_for(points)
        return LevelInfo(level, points, _policy.thresholds, total)

    async def history(self, user_id: int, page: int = 0) -> HistoryPage:
        async with self.db.read() as conn:
            rows, total = await repo.page(conn, user_id, offset=max(page, 0) * HISTORY_PAGE, limit=HISTORY_PAGE)
            pages = max(1, -(-total // HISTORY_PAGE))
            if not rows and total:
                page = pages - 1
                rows, total = await repo.page(conn, user_id, offset=page * HISTORY_PAGE, limit=HISTORY_PAGE)
        return HistoryPage(tuple(rows), total, min(max(page, 0), pages - 1), pages)

    async def age(self, now: datetime, batch: int = 200) -> int:
        """The sweeper: recompute the levels whose points age out by now. Idempotent."""
        changed = 0
        while True:
            async with self.db.write() as conn:
                due = await repo.due_rechecks(conn, now, batch)
                for user_id in due:
                    before = await repo.level(conn, user_id)
                    if await refresh_level(conn, user_id, now, "ageing") != (before.level if before else BASE_LEVEL):
                        changed += 1
            if len(due) < batch:
                return changed
