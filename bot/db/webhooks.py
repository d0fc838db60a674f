"""Outgoing webhooks: which shop wants to hear of a store's buyers, the deliveries waiting, claimed,
sent, retried or given up, and what /ops shows of those failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.rows import record
from bot.db.tables import shop_stores as ss
from bot.db.tables import shops as sh
from bot.db.tables import webhook_deliveries as wd


async def listening_shop(conn: AsyncConnection, store_id: int) -> int | None:
    """The shop that owns the store, when it has a webhook URL."""
    found = (await conn.execute(
        select(sh.c.id).select_from(ss.join(sh, sh.c.id == ss.c.shop_id))
        .where(ss.c.store_id == store_id, sh.c.webhook_url.is_not(None)))).scalar()
    return None if found is None else int(found)


async def add(conn: AsyncConnection, *, shop_id: int, event_id: str, event: str, body: str, now: datetime) -> None:
    await conn.execute(wd.insert().values(shop_id=shop_id, event_id=event_id, event=event, body=body,
                                          state="pending", attempts=0, created_at=now, due_at=now))


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: int
    shop_id: int
    event_id: str
    event: str
    body: str
    attempts: int
    url: str | None
    secret: str | None


async def claim(conn: AsyncConnection, now: datetime, lease_until: datetime, limit: int) -> list[DueDelivery]:
    """The due deliveries no other run holds, leased to this one (inside its unit of work).

    Several processes claim at once (README "Scale-out"), and a shop's events go out in order, one
    run at a time: the shops with something due are locked (``FOR NO KEY UPDATE SKIP LOCKED``: a
    shop another claim holds is skipped, not waited for), a shop with a delivery leased into the
    future is left to that run, and the locked shops' due rows are read again in a new statement
    (``FOR UPDATE SKIP LOCKED``), which sees every lease committed meanwhile. On SQLite the clauses
    compile to nothing: the unit of work's ``BEGIN IMMEDIATE`` already makes claims one at a time."""
    free = or_(wd.c.lease_until.is_(None), wd.c.lease_until < now)
    due = and_(wd.c.state == "pending", wd.c.due_at <= now, free)
    shops = [int(shop_id) for shop_id in (await conn.execute(
        select(wd.c.shop_id).where(due).order_by(wd.c.due_at, wd.c.id).limit(limit))).scalars()]
    shops = list(dict.fromkeys(shops))
    if not shops:
        return []
    locked = {int(r.id) for r in (await conn.execute(
        select(sh.c.id).where(sh.c.id.in_(shops)).with_for_update(skip_locked=True, key_share=True))).all()}
    held = select(wd.c.shop_id).where(wd.c.shop_id.in_(locked), wd.c.state == "pending", wd.c.lease_until >= now)
    rows = (await conn.execute(
        select(wd.c.id, wd.c.shop_id, wd.c.event_id, wd.c.event, wd.c.body, wd.c.attempts,
               sh.c.webhook_url.label("url"), sh.c.webhook_secret.label("secret"))
        .select_from(wd.join(sh, sh.c.id == wd.c.shop_id))
        .where(wd.c.shop_id.in_(locked), due, wd.c.shop_id.not_in(held))
        .order_by(wd.c.due_at, wd.c.id).limit(limit)
        .with_for_update(of=wd, skip_locked=True))).all()
    if not rows:
        return []
    claimed = {int(r.id) for r in (await conn.execute(
        update(wd).where(wd.c.id.in_([r.id for r in rows]), wd.c.state == "pending", free)
        .values(lease_until=lease_until).returning(wd.c.id))).all()}
    return [record(DueDelivery, r) for r in rows if int(r.id) in claimed]


async def mark_sent(conn: AsyncConnection, delivery_id: int, now: datetime) -> None:
    await conn.execute(update(wd).where(wd.c.id == delivery_id)
                       .values(state="sent", sent_at=now, lease_until=None, attempts=wd.c.attempts + 1,
                               last_error=None))


async def mark_failed(conn: AsyncConnection, delivery_id: int, error: str, *, retry_at: datetime | None) -> None:
    """A try that failed: again at `retry_at`, or (None) given up."""
    values: dict[str, object] = {"attempts": wd.c.attempts + 1, "lease_until": None, "last_error": error[:255]}
    if retry_at is None:
        values["state"] = "failed"
    else:
        values["due_at"] = retry_at
    await conn.execute(update(wd).where(wd.c.id == delivery_id, wd.c.state == "pending").values(**values))


@dataclass(frozen=True, slots=True)
class Failing:
    shop: str
    retrying: int  # pending after at least one failed try
    failed: int  # given up
    last_error: str


async def failing(conn: AsyncConnection) -> list[Failing]:
    rows = (await conn.execute(
        select(sh.c.name.label("shop"),
               func.sum(case((and_(wd.c.state == "pending", wd.c.attempts > 0), 1), else_=0)).label("retrying"),
               func.sum(case((wd.c.state == "failed", 1), else_=0)).label("failed"),
               func.max(wd.c.last_error).label("last_error"))
        .select_from(wd.join(sh, sh.c.id == wd.c.shop_id))
        .where(or_(wd.c.state == "failed", and_(wd.c.state == "pending", wd.c.attempts > 0)))
        .group_by(sh.c.name).order_by(sh.c.name))).all()
    return [Failing(r.shop, int(r.retrying or 0), int(r.failed or 0), r.last_error or "") for r in rows]


async def retry_failed(conn: AsyncConnection, shop_id: int | None, now: datetime) -> int:
    where = [wd.c.state == "failed"]
    if shop_id is not None:
        where.append(wd.c.shop_id == shop_id)
    result = await conn.execute(update(wd).where(*where).values(state="pending", attempts=0, due_at=now))
    return int(result.rowcount or 0)


async def set_webhook(conn: AsyncConnection, shop_id: int, url: str | None, secret: str | None) -> None:
    await conn.execute(update(sh).where(sh.c.id == shop_id).values(webhook_url=url, webhook_secret=secret))
