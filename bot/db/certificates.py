"""Repository: gift certificates and their ledger (part of the coupons section; `bot.db.coupons`
re-exports these names). A certificate's balance is the sum of its ledger rows, never stored; every
read of a user's certificate goes through the user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.dialect import insert as upsert
from bot.db.rows import record
from bot.db.tables import gift_certificate_ledger as ledger_t
from bot.db.tables import gift_certificates as certs_t
from bot.db.tables import orders as orders_t
from bot.db.tables import shops as shops_t


@dataclass(frozen=True, slots=True)
class Certificate:
    id: int
    user_id: int
    currency: str
    face_minor: int
    balance_minor: int  # the sum of its ledger rows
    title: str | None
    valid_to: datetime
    source: str
    created_at: datetime
    shop_id: int | None = None  # a shop's (granted through the shop API): it pays only in its stores
    shop: str | None = None  # that shop's name

    def is_expired(self, now: datetime) -> bool:
        return self.valid_to <= now

    def pays_in(self, shop_id: int | None) -> bool:
        """Whether it pays an order of a store of `shop_id` (None: a store of no shop)."""
        return self.shop_id is None or self.shop_id == shop_id


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    kind: str  # issue | spend | refund
    delta_minor: int
    order_ref: str | None
    created_at: datetime
    order_number: str | None = None  # the order of `order_ref`, when it is one of the owner's (not erased)


_BALANCE = (
    select(func.coalesce(func.sum(ledger_t.c.delta_minor), 0))
    .where(ledger_t.c.certificate_id == certs_t.c.id)
    .scalar_subquery()
)
_SHOP = select(shops_t.c.name).where(shops_t.c.id == certs_t.c.shop_id).scalar_subquery()
_CERT = select(certs_t, _BALANCE.label("balance"), _SHOP.label("shop"))


def _certificate(row: Any) -> Certificate:
    return Certificate(row.id, row.user_id, row.currency, row.face_minor, int(row.balance),
                       row.title, row.valid_to, row.source, row.created_at, row.shop_id, row.shop)


async def insert_certificate(conn: AsyncConnection, *, user_id: int, currency: str, face_minor: int,
                             valid_to: datetime, title: str | None, source: str, now: datetime,
                             code_id: int | None = None, shop_id: int | None = None) -> int | None:
    """A certificate with its "issue" ledger row; None when this user already redeemed the code."""
    cert_id = (await conn.execute(
        upsert(certs_t)
        .values(user_id=user_id, currency=currency, face_minor=face_minor, title=title,
                valid_to=valid_to, source=source, code_id=code_id, shop_id=shop_id, created_at=now)
        .on_conflict_do_nothing()
        .returning(certs_t.c.id)
    )).scalar_one_or_none()
    if cert_id is not None:
        await add_ledger(conn, certificate_id=cert_id, kind="issue", delta_minor=face_minor,
                         order_ref=None, now=now)
    return cert_id


async def certificates_for(conn: AsyncConnection, user_id: int) -> list[Certificate]:
    rows = (await conn.execute(
        _CERT.where(certs_t.c.user_id == user_id).order_by(certs_t.c.valid_to, certs_t.c.id)
    )).all()
    return [_certificate(r) for r in rows]


async def get_certificate(conn: AsyncConnection, user_id: int, certificate_id: int) -> Certificate | None:
    row = (await conn.execute(
        _CERT.where(certs_t.c.id == certificate_id, certs_t.c.user_id == user_id)
    )).first()
    return _certificate(row) if row else None


async def ledger(conn: AsyncConnection, certificate_id: int) -> list[LedgerEntry]:
    order = (select(orders_t.c.number).where(orders_t.c.number == ledger_t.c.order_ref,
                                             orders_t.c.user_id == certs_t.c.user_id, orders_t.c.purged_at.is_(None))
             .limit(1).scalar_subquery())
    rows = (await conn.execute(
        select(ledger_t.c.id, ledger_t.c.kind, ledger_t.c.delta_minor, ledger_t.c.order_ref,
               ledger_t.c.created_at, order.label("order_number"))
        .join(certs_t, certs_t.c.id == ledger_t.c.certificate_id)
        .where(ledger_t.c.certificate_id == certificate_id).order_by(ledger_t.c.id)
    )).all()
    return [record(LedgerEntry, r) for r in rows]


async def add_ledger(conn: AsyncConnection, *, certificate_id: int, kind: str, delta_minor: int,
                     order_ref: str | None, now: datetime) -> bool:
    """A ledger row; False when this certificate already paid for this order (a second spend)."""
    result = await conn.execute(
        upsert(ledger_t)
        .values(certificate_id=certificate_id, kind=kind, delta_minor=delta_minor,
                order_ref=order_ref, created_at=now)
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def extend(conn: AsyncConnection, certificate_id: int, valid_to: datetime) -> None:
    """The certificate is valid until `valid_to` (never shortened)."""
    await conn.execute(update(certs_t).where(certs_t.c.id == certificate_id, certs_t.c.valid_to < valid_to)
                       .values(valid_to=valid_to))


async def net_spent_on_order(conn: AsyncConnection, user_id: int, order_ref: str) -> list[tuple[int, int]]:
    """(certificate id, spent minus refunded) for each of this user's certificates that paid for
    the order, the latest spend first."""
    rows = (await conn.execute(
        select(ledger_t.c.certificate_id, func.sum(ledger_t.c.delta_minor).label("net"))
        .join(certs_t, certs_t.c.id == ledger_t.c.certificate_id)
        .where(ledger_t.c.order_ref == order_ref, certs_t.c.user_id == user_id)
        .group_by(ledger_t.c.certificate_id)
        .order_by(func.max(ledger_t.c.id).desc())
    )).all()
    return [(r.certificate_id, -int(r.net)) for r in rows if int(r.net) < 0]
