"""Repository: coupons, codes, store coupon offers, gift certificates and their ledger, failed code
attempts. Core queries only; every read of a user's coupon or certificate goes through the user."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import Database
from bot.db.tables import coupon_code_attempts as attempts_t
from bot.db.tables import coupon_codes as codes_t
from bot.db.tables import coupons as t
from bot.db.tables import gift_certificate_ledger as ledger_t
from bot.db.tables import gift_certificates as certs_t
from bot.db.tables import store_coupon_offers as offers_t
from bot.db.types import from_db_time, to_db_time


class Scope(StrEnum):
    store = "store"  # a seller's coupon: only in that store
    platform = "platform"  # the marketplace's: in every store


class ValueKind(StrEnum):
    amount = "amount"  # a fixed amount off
    percent = "percent"  # a percent off, up to a cap


@dataclass(frozen=True, slots=True)
class Terms:
    """What a coupon takes off and when it applies; shared by coupons, codes and store offers."""

    scope: Scope
    value_kind: ValueKind
    currency: str
    valid_from: datetime
    valid_to: datetime  # exclusive: valid while valid_from <= now < valid_to
    amount_minor: int | None = None
    percent: int | None = None
    cap_minor: int | None = None
    min_order_minor: int = 0
    store_id: int | None = None
    store_name: str | None = None
    category_id: int | None = None
    category_name: str | None = None
    new_buyers_only: bool = False
    campaign: str | None = None  # one coupon per user per campaign
    title: str | None = None

    @property
    def is_special(self) -> bool:
        """A platform coupon with extra conditions: a category, new buyers, one per user."""
        return self.scope == Scope.platform and (
            self.category_id is not None or self.new_buyers_only or self.campaign is not None
        )


@dataclass(frozen=True, slots=True)
class Coupon:
    id: int
    user_id: int
    terms: Terms
    status: str  # active | used (expired is an active coupon past valid_to)
    used_at: datetime | None
    order_ref: str | None
    source: str
    created_at: datetime

    def is_expired(self, now: datetime) -> bool:
        return self.status == "active" and self.terms.valid_to <= now


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

    def is_expired(self, now: datetime) -> bool:
        return self.valid_to <= now


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    kind: str  # issue | spend | refund
    delta_minor: int
    order_ref: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Code:
    id: int
    code: str
    kind: str  # coupon | certificate
    terms: Terms  # for a certificate: amount_minor is the face value, valid_to its expiry
    max_uses: int | None
    uses: int
    for_user_id: int | None


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    terms: Terms
    quantity: int | None
    collected: int


_TERM_COLUMNS = (
    "scope", "value_kind", "currency", "valid_from", "valid_to", "amount_minor", "percent",
    "cap_minor", "min_order_minor", "store_id", "store_name", "category_id", "category_name",
    "new_buyers_only", "campaign", "title",
)
_OFFER_TERM_COLUMNS = (
    "value_kind", "currency", "valid_from", "valid_to", "amount_minor", "percent", "cap_minor",
    "min_order_minor", "store_id", "store_name", "title",
)


def _terms(row: Any) -> Terms:
    m = row._mapping
    return Terms(
        scope=Scope(m["scope"]), value_kind=ValueKind(m["value_kind"]), currency=m["currency"],
        valid_from=m["valid_from"], valid_to=m["valid_to"], amount_minor=m["amount_minor"],
        percent=m["percent"], cap_minor=m["cap_minor"], min_order_minor=m["min_order_minor"],
        store_id=m["store_id"], store_name=m["store_name"], category_id=m["category_id"],
        category_name=m["category_name"], new_buyers_only=bool(m["new_buyers_only"]),
        campaign=m["campaign"], title=m["title"],
    )


def _term_values(terms: Terms, columns: Iterable[str] = _TERM_COLUMNS) -> dict[str, Any]:
    values = {name: getattr(terms, name) for name in columns}
    for name in ("scope", "value_kind"):
        if name in values:
            values[name] = str(values[name])
    return values


# -- coupons ------------------------------------------------------------------------------------

def _coupon(row: Any) -> Coupon:
    return Coupon(row.id, row.user_id, _terms(row), row.status, row.used_at, row.order_ref,
                  row.source, row.created_at)


_COUPON = select(t)


async def insert_coupon(conn: AsyncConnection, *, user_id: int, terms: Terms, source: str,
                        now: datetime, code_id: int | None = None,
                        offer_id: int | None = None) -> int | None:
    """A new coupon; None when the user already has one of this campaign, code or offer."""
    stmt = (
        sqlite_insert(t)
        .values(user_id=user_id, source=source, code_id=code_id, offer_id=offer_id,
                created_at=now, **_term_values(terms))
        .on_conflict_do_nothing()
        .returning(t.c.id)
    )
    return (await conn.execute(stmt)).scalar_one_or_none()


async def get_coupon(conn: AsyncConnection, user_id: int, coupon_id: int) -> Coupon | None:
    row = (await conn.execute(_COUPON.where(t.c.id == coupon_id, t.c.user_id == user_id))).first()
    return _coupon(row) if row else None


async def coupons_by_ids(conn: AsyncConnection, user_id: int, ids: Sequence[int]) -> list[Coupon]:
    rows = (await conn.execute(_COUPON.where(t.c.user_id == user_id, t.c.id.in_(list(ids))))).all()
    return [_coupon(r) for r in rows]


async def usable_coupons(conn: AsyncConnection, user_id: int, now: datetime) -> list[Coupon]:
    """Active, not expired (possibly not valid yet), soonest expiry first."""
    rows = (await conn.execute(
        _COUPON.where(t.c.user_id == user_id, t.c.status == "active", t.c.valid_to > now)
        .order_by(t.c.valid_to, t.c.id)
    )).all()
    return [_coupon(r) for r in rows]


def _tab_filter(tab: str, now: datetime) -> Any:
    if tab == "active":
        return and_(t.c.status == "active", t.c.valid_to > now)
    if tab == "expired":
        return and_(t.c.status == "active", t.c.valid_to <= now)
    return t.c.status == "used"


_TAB_ORDER = {
    "active": (t.c.valid_to, t.c.id),
    "used": (t.c.used_at.desc(), t.c.id.desc()),
    "expired": (t.c.valid_to.desc(), t.c.id.desc()),
}


async def count_coupons(conn: AsyncConnection, user_id: int, now: datetime) -> dict[str, int]:
    live = and_(t.c.status == "active", t.c.valid_to > now)
    row = (await conn.execute(
        select(
            func.coalesce(func.sum(case((live, 1), else_=0)), 0),
            func.coalesce(func.sum(case((t.c.status == "used", 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(t.c.status == "active", t.c.valid_to <= now), 1),
                                        else_=0)), 0),
        ).where(t.c.user_id == user_id)
    )).one()
    return {"active": int(row[0]), "used": int(row[1]), "expired": int(row[2])}


async def list_coupons(conn: AsyncConnection, user_id: int, tab: str, now: datetime, *,
                       limit: int, offset: int) -> list[Coupon]:
    rows = (await conn.execute(
        _COUPON.where(t.c.user_id == user_id, _tab_filter(tab, now))
        .order_by(*_TAB_ORDER[tab]).limit(limit).offset(offset)
    )).all()
    return [_coupon(r) for r in rows]


# -- the wallet, on the hot path -------------------------------------------------------------------
# The counts of the three tabs, every gift certificate with its balance and the first try at the
# page of coupons in one statement through the driver (`Database.fetch_all`): ~0.2 ms instead of
# ~2.5 ms for three SQLAlchemy queries and their row mapping. Certificates and coupons come back as
# JSON arrays (one row); the coupons' order is restored here, as `_TAB_ORDER` sorts them.
_HOT_COUPON = (
    "id", "user_id", "scope", "value_kind", "currency", "valid_from", "valid_to", "amount_minor",
    "percent", "cap_minor", "min_order_minor", "store_id", "store_name", "category_id",
    "category_name", "new_buyers_only", "campaign", "title", "status", "used_at", "order_ref",
    "source", "created_at",
)
_HOT_TAB = {
    "active": ("status = 'active' AND valid_to > ?", "valid_to, id"),
    "used": ("status = 'used'", "used_at DESC, id DESC"),
    "expired": ("status = 'active' AND valid_to <= ?", "valid_to DESC, id DESC"),
}
_HOT_CERT = ("c.id, c.user_id, c.currency, c.face_minor, (SELECT coalesce(sum(l.delta_minor), 0) FROM "
             "gift_certificate_ledger l WHERE l.certificate_id = c.id), c.title, c.valid_to, c.source, "
             "c.created_at")


def _wallet_sql(tab: str) -> str:
    where, order = _HOT_TAB[tab]
    cols = ", ".join(_HOT_COUPON)
    return (
        "SELECT coalesce(sum(status = 'active' AND valid_to > ?), 0), coalesce(sum(status = 'used'), 0),"
        " coalesce(sum(status = 'active' AND valid_to <= ?), 0),"
        f" (SELECT json_group_array(json_array({_HOT_CERT})) FROM gift_certificates c WHERE c.user_id = ?),"
        f" (SELECT json_group_array(json_array({cols})) FROM (SELECT {cols} FROM coupons"
        f" WHERE user_id = ? AND {where} ORDER BY {order} LIMIT ? OFFSET ?))"
        " FROM coupons WHERE user_id = ?"
    )


_WALLET_SQL = {tab: _wallet_sql(tab) for tab in _HOT_TAB}


def _hot_coupon(v: list[Any]) -> Coupon:
    (id_, user_id, scope, value_kind, currency, valid_from, valid_to, amount_minor, percent, cap_minor,
     min_order_minor, store_id, store_name, category_id, category_name, new_buyers_only, campaign, title,
     status, used_at, order_ref, source, created_at) = v
    terms = Terms(
        scope=Scope(scope), value_kind=ValueKind(value_kind), currency=currency,
        valid_from=from_db_time(valid_from), valid_to=from_db_time(valid_to), amount_minor=amount_minor,
        percent=percent, cap_minor=cap_minor, min_order_minor=min_order_minor, store_id=store_id,
        store_name=store_name, category_id=category_id, category_name=category_name,
        new_buyers_only=bool(new_buyers_only), campaign=campaign, title=title,
    )
    return Coupon(id_, user_id, terms, status, from_db_time(used_at) if used_at else None, order_ref,
                  source, from_db_time(created_at))


def _hot_order(tab: str) -> Any:
    """The sort key and direction of `_TAB_ORDER[tab]` over the raw JSON arrays (times are text
    that sorts as time; a NULL used_at goes last, as SQLite puts NULLs last when descending)."""
    if tab == "active":
        return (lambda v: (v[6], v[0])), False
    if tab == "used":
        return (lambda v: (v[19] is not None, v[19] or "", v[0])), True
    return (lambda v: (v[6], v[0])), True


@dataclass(frozen=True, slots=True)
class WalletRead:
    counts: dict[str, int]  # active, used, expired coupons
    certificates: list[Certificate]  # every certificate, valid_to then id
    coupons: list[Coupon]  # the page of coupons read with `limit` and `offset`
    limit: int
    offset: int


async def wallet_read(db: Database, user_id: int, tab: str, now: datetime, *, limit: int,
                      offset: int) -> WalletRead:
    """`count_coupons`, `certificates_for` and `list_coupons(tab, limit, offset)` in one read."""
    at = to_db_time(now)
    tab_params = (at,) if tab != "used" else ()
    row = (await db.fetch_all(_WALLET_SQL[tab], (at, at, user_id, user_id, *tab_params, limit, offset, user_id)))[0]
    certs = sorted(
        (Certificate(c[0], c[1], c[2], c[3], int(c[4]), c[5], from_db_time(c[6]), c[7], from_db_time(c[8]))
         for c in json.loads(row[3] or "[]")),
        key=lambda c: (c.valid_to, c.id),
    )
    key, reverse = _hot_order(tab)
    coupons = [_hot_coupon(v) for v in sorted(json.loads(row[4] or "[]"), key=key, reverse=reverse)]
    return WalletRead({"active": int(row[0]), "used": int(row[1]), "expired": int(row[2])}, certs, coupons,
                      limit, offset)


async def mark_used(conn: AsyncConnection, *, user_id: int, coupon_id: int, order_ref: str,
                    now: datetime) -> bool:
    """Active and valid now → used by this order. False when it was not (used, expired…)."""
    result = await conn.execute(
        update(t)
        .where(t.c.id == coupon_id, t.c.user_id == user_id, t.c.status == "active",
               t.c.valid_from <= now, t.c.valid_to > now)
        .values(status="used", used_at=now, order_ref=order_ref)
    )
    return bool(result.rowcount)


async def give_back(conn: AsyncConnection, *, user_id: int, order_ref: str) -> list[int]:
    """The coupons this order used become active again. Returns their ids."""
    rows = (await conn.execute(
        update(t)
        .where(t.c.user_id == user_id, t.c.order_ref == order_ref, t.c.status == "used")
        .values(status="active", used_at=None, order_ref=None)
        .returning(t.c.id)
    )).all()
    return sorted(r[0] for r in rows)


async def has_demo(conn: AsyncConnection, user_id: int) -> bool:
    found = await conn.execute(
        select(t.c.id).where(t.c.user_id == user_id, t.c.source == "demo").limit(1)
    )
    return found.first() is not None


# -- gift certificates --------------------------------------------------------------------------

_BALANCE = (
    select(func.coalesce(func.sum(ledger_t.c.delta_minor), 0))
    .where(ledger_t.c.certificate_id == certs_t.c.id)
    .scalar_subquery()
)
_CERT = select(certs_t, _BALANCE.label("balance"))


def _certificate(row: Any) -> Certificate:
    return Certificate(row.id, row.user_id, row.currency, row.face_minor, int(row.balance),
                       row.title, row.valid_to, row.source, row.created_at)


async def insert_certificate(conn: AsyncConnection, *, user_id: int, currency: str, face_minor: int,
                             valid_to: datetime, title: str | None, source: str, now: datetime,
                             code_id: int | None = None) -> int | None:
    """A certificate with its "issue" ledger row; None when this user already redeemed the code."""
    cert_id = (await conn.execute(
        sqlite_insert(certs_t)
        .values(user_id=user_id, currency=currency, face_minor=face_minor, title=title,
                valid_to=valid_to, source=source, code_id=code_id, created_at=now)
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
    rows = (await conn.execute(
        select(ledger_t.c.id, ledger_t.c.kind, ledger_t.c.delta_minor, ledger_t.c.order_ref,
               ledger_t.c.created_at)
        .where(ledger_t.c.certificate_id == certificate_id).order_by(ledger_t.c.id)
    )).all()
    return [LedgerEntry(*r) for r in rows]


async def add_ledger(conn: AsyncConnection, *, certificate_id: int, kind: str, delta_minor: int,
                     order_ref: str | None, now: datetime) -> bool:
    """A ledger row; False when this certificate already paid for this order (a second spend)."""
    result = await conn.execute(
        sqlite_insert(ledger_t)
        .values(certificate_id=certificate_id, kind=kind, delta_minor=delta_minor,
                order_ref=order_ref, created_at=now)
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def net_spent_on_order(conn: AsyncConnection, user_id: int, order_ref: str) -> list[tuple[int, int]]:
    """(certificate id, spent minus refunded) for each of this user's certificates that paid for
    the order, the latest spend first."""
    rows = (await conn.execute(
        select(ledger_t.c.certificate_id, func.sum(ledger_t.c.delta_minor), func.max(ledger_t.c.id))
        .join(certs_t, certs_t.c.id == ledger_t.c.certificate_id)
        .where(ledger_t.c.order_ref == order_ref, certs_t.c.user_id == user_id)
        .group_by(ledger_t.c.certificate_id)
        .order_by(func.max(ledger_t.c.id).desc())
    )).all()
    return [(r[0], -int(r[1])) for r in rows if int(r[1]) < 0]


# -- codes --------------------------------------------------------------------------------------

async def insert_code(conn: AsyncConnection, *, code: str, kind: str, terms: Terms,
                      max_uses: int | None, for_user_id: int | None, now: datetime) -> int | None:
    """None when the code exists already."""
    return (await conn.execute(
        sqlite_insert(codes_t)
        .values(code=code, kind=kind, max_uses=max_uses, for_user_id=for_user_id, created_at=now,
                **_term_values(terms))
        .on_conflict_do_nothing()
        .returning(codes_t.c.id)
    )).scalar_one_or_none()


async def find_code(conn: AsyncConnection, code: str) -> Code | None:
    row = (await conn.execute(select(codes_t).where(codes_t.c.code == code))).first()
    if row is None:
        return None
    return Code(row.id, row.code, row.kind, _terms(row), row.max_uses, row.uses, row.for_user_id)


async def take_code_use(conn: AsyncConnection, code_id: int) -> bool:
    """Count one redemption, unless the code is used up."""
    result = await conn.execute(
        update(codes_t)
        .where(codes_t.c.id == code_id,
               (codes_t.c.max_uses.is_(None)) | (codes_t.c.uses < codes_t.c.max_uses))
        .values(uses=codes_t.c.uses + 1)
    )
    return bool(result.rowcount)


async def user_has_code(conn: AsyncConnection, user_id: int, code_id: int) -> bool:
    coupon = select(t.c.id).where(t.c.user_id == user_id, t.c.code_id == code_id)
    cert = select(certs_t.c.id).where(certs_t.c.user_id == user_id, certs_t.c.code_id == code_id)
    return (await conn.execute(coupon.union_all(cert).limit(1))).first() is not None


async def user_has_campaign(conn: AsyncConnection, user_id: int, campaign: str) -> bool:
    found = await conn.execute(
        select(t.c.id).where(t.c.user_id == user_id, t.c.campaign == campaign).limit(1)
    )
    return found.first() is not None


# -- store coupon offers ------------------------------------------------------------------------

async def insert_offer(conn: AsyncConnection, *, terms: Terms, quantity: int | None,
                       now: datetime) -> int:
    result = await conn.execute(
        insert(offers_t).values(quantity=quantity, created_at=now,
                                **_term_values(terms, _OFFER_TERM_COLUMNS))
        .returning(offers_t.c.id)
    )
    return int(result.scalar_one())


async def get_offer(conn: AsyncConnection, offer_id: int) -> Offer | None:
    row = (await conn.execute(select(offers_t).where(offers_t.c.id == offer_id))).first()
    if row is None:
        return None
    m = row._mapping
    terms = Terms(
        scope=Scope.store, value_kind=ValueKind(m["value_kind"]), currency=m["currency"],
        valid_from=m["valid_from"], valid_to=m["valid_to"], amount_minor=m["amount_minor"],
        percent=m["percent"], cap_minor=m["cap_minor"], min_order_minor=m["min_order_minor"],
        store_id=m["store_id"], store_name=m["store_name"], title=m["title"],
    )
    return Offer(row.id, terms, row.quantity, row.collected)


async def take_offer(conn: AsyncConnection, offer_id: int) -> bool:
    """Count one collected coupon, unless none are left."""
    result = await conn.execute(
        update(offers_t)
        .where(offers_t.c.id == offer_id,
               (offers_t.c.quantity.is_(None)) | (offers_t.c.collected < offers_t.c.quantity))
        .values(collected=offers_t.c.collected + 1)
    )
    return bool(result.rowcount)


# -- failed code attempts -----------------------------------------------------------------------

async def add_attempt(conn: AsyncConnection, user_id: int, now: datetime) -> None:
    await conn.execute(insert(attempts_t).values(user_id=user_id, created_at=now))


async def recent_attempts(conn: AsyncConnection, user_id: int, since: datetime, limit: int) -> list[datetime]:
    """Failed attempts after `since`, newest first."""
    rows = (await conn.execute(
        select(attempts_t.c.created_at)
        .where(attempts_t.c.user_id == user_id, attempts_t.c.created_at > since)
        .order_by(attempts_t.c.created_at.desc()).limit(limit)
    )).all()
    return [r[0] for r in rows]


async def prune_attempts(conn: AsyncConnection, before: datetime) -> int:
    result = await conn.execute(delete(attempts_t).where(attempts_t.c.created_at < before))
    return result.rowcount or 0


async def user_has_offer(conn: AsyncConnection, user_id: int, offer_id: int) -> bool:
    found = await conn.execute(
        select(t.c.id).where(t.c.user_id == user_id, t.c.offer_id == offer_id).limit(1)
    )
    return found.first() is not None
