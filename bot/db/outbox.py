"""Repository: the outbox.

States: ``pending`` (waiting for its due time) → ``sending`` (claimed with a lease) → ``sent``;
or ``failed`` (gave up, the error kept) or ``dropped`` (not to be sent: ``drop_reason``).
``lease_until`` on a pending row means "not before" (a retry backing off). A user with a row
leased into the future is skipped by the due scan, so a chat's messages keep their order.

The due scan and the leased-users subquery are written with literal state lists so that SQLite
can use the partial indexes ``ix_outbox_due`` and ``ix_outbox_leased``.

Several processes claim at once (README "Scale-out"): a claim locks the users whose rows it takes
(`lock_users`: ``FOR NO KEY UPDATE SKIP LOCKED``, so another claim skips them instead of waiting),
then reads those users' due rows again (`due_of_users`, ``FOR UPDATE SKIP LOCKED``) in a statement
that sees every lease committed before it. On SQLite the clauses compile to nothing: the unit of
work's ``BEGIN IMMEDIATE`` already makes claims one at a time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.dialect import insert as upsert
from bot.db.tables import outbox as t
from bot.db.tables import users as users_t
from bot.db.times import from_db_time, to_db_time

PENDING, SENDING, SENT, FAILED, DROPPED = "pending", "sending", "sent", "failed", "dropped"
ACTIVE = (PENDING, SENDING)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    user_id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    due_at: datetime
    state: str
    attempts: int
    expires_at: datetime | None = None
    last_error: str | None = None
    drop_reason: str | None = None
    sent_at: datetime | None = None
    read_at: datetime | None = None
    created_at: datetime | None = None
    lease_until: datetime | None = None


_COLUMNS = (
    t.c.id, t.c.user_id, t.c.kind, t.c.payload, t.c.dedupe_key, t.c.due_at, t.c.state, t.c.attempts,
    t.c.expires_at, t.c.last_error, t.c.drop_reason, t.c.sent_at, t.c.read_at, t.c.created_at,
    t.c.lease_until,
)


def _row(r: Any) -> OutboxRow:
    return OutboxRow(r.id, r.user_id, r.kind, json.loads(r.payload), r.dedupe_key, r.due_at, r.state,
                     r.attempts, r.expires_at, r.last_error, r.drop_reason, r.sent_at, r.read_at,
                     r.created_at, r.lease_until)


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


async def add(conn: AsyncConnection, *, user_id: int, kind: str, payload: dict[str, Any],
              dedupe_key: str, due_at: datetime, now: datetime,
              expires_at: datetime | None = None, seen: bool = False) -> bool:
    """Insert a push unless one with the same dedupe key exists. Returns whether it was added.
    `seen`: the user watched it happen — kept for the message centre, sent and read already."""
    extra: dict[str, Any] = {"state": SENT, "sent_at": now, "read_at": now} if seen else {}
    result = await conn.execute(
        upsert(t)
        .values(user_id=user_id, kind=kind, payload=_json(payload), dedupe_key=dedupe_key,
                due_at=due_at, created_at=now, expires_at=expires_at, **extra)
        .on_conflict_do_nothing(index_elements=[t.c.dedupe_key])
    )
    return bool(result.rowcount)


async def for_user(conn: AsyncConnection, user_id: int, kind: str | None = None) -> list[OutboxRow]:
    query = select(*_COLUMNS).where(t.c.user_id == user_id)
    if kind is not None:
        query = query.where(t.c.kind == kind)
    rows = (await conn.execute(query.order_by(t.c.id))).all()
    return [_row(r) for r in rows]


# -- delivery -----------------------------------------------------------------------------------

_DUE_SCAN = text(
    f"SELECT {', '.join(c.name for c in _COLUMNS)} FROM outbox "
    "WHERE state IN ('pending', 'sending') AND due_at <= :now "
    "AND (lease_until IS NULL OR lease_until <= :now) "
    "AND user_id NOT IN (SELECT user_id FROM outbox WHERE state IN ('pending', 'sending') "
    "AND lease_until IS NOT NULL AND lease_until > :now) "
    "ORDER BY due_at, id LIMIT :limit"
)


def due_scan_sql() -> str:
    """The due scan's SQL (for EXPLAIN QUERY PLAN in tests and benchmarks)."""
    return str(_DUE_SCAN)


async def due(conn: AsyncConnection, now: datetime, limit: int) -> list[OutboxRow]:
    """Rows due by `now`, oldest due first, that nobody holds, of users with nothing in flight or
    backing off."""
    result = await conn.execute(_DUE_SCAN, {"now": to_db_time(now), "limit": limit})
    return [_from_text(r) for r in result.all()]


async def due_for_user(conn: AsyncConnection, user_id: int, now: datetime, limit: int, *,
                       after_id: int = 0) -> list[OutboxRow]:
    """The due scan for one user's rows (newer than `after_id`): replaying a demo history.
    Nothing while one of the user's rows is leased into the future, as in the due scan."""
    leased = (await conn.execute(
        select(t.c.id).where(t.c.user_id == user_id, t.c.state.in_(ACTIVE), t.c.lease_until > now).limit(1)
    )).first()
    if leased is not None:
        return []
    query = (
        select(*_COLUMNS)
        .where(t.c.user_id == user_id, t.c.id > after_id, t.c.state.in_(ACTIVE), t.c.due_at <= now,
               or_(t.c.lease_until.is_(None), t.c.lease_until <= now))
        .order_by(t.c.due_at, t.c.id)
        .limit(limit)
    )
    return [_row(r) for r in (await conn.execute(query)).all()]


async def due_times(conn: AsyncConnection, user_id: int, until: datetime, *, after_id: int = 0) -> list[datetime]:
    """When the user's pending rows (newer than `after_id`) due by `until` fall due, in order."""
    query = (
        select(t.c.due_at).distinct()
        .where(t.c.user_id == user_id, t.c.id > after_id, t.c.state == PENDING, t.c.due_at <= until)
        .order_by(t.c.due_at)
    )
    return list((await conn.execute(query)).scalars())


async def last_id(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.coalesce(func.max(t.c.id), 0)))).scalar() or 0)


def _tm(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)


def _from_text(r: Any) -> OutboxRow:
    # a text() query returns the stored strings; convert the times as UTCDateTime would. Unpacked
    # by position: the due scan reads 500 rows at a time, and named access costs ~10 µs a row.
    (id_, user_id, kind, payload, dedupe_key, due_at, state, attempts, expires_at, last_error,
     drop_reason, sent_at, read_at, created_at, lease_until) = r
    return OutboxRow(id_, user_id, kind, json.loads(payload), dedupe_key, from_db_time(due_at), state,
                     attempts, _tm(expires_at), last_error, drop_reason, _tm(sent_at), _tm(read_at),
                     _tm(created_at), _tm(lease_until))


async def lock_users(conn: AsyncConnection, user_ids: Sequence[int]) -> list[int]:
    """Of these users, those no other unit of work is claiming for: their ``users`` rows locked
    until this one ends, the others skipped (``FOR NO KEY UPDATE SKIP LOCKED``, which still lets
    other transactions insert rows referring to the user). In the order given."""
    if not user_ids:
        return []
    result = await conn.execute(
        select(users_t.c.id).where(users_t.c.id.in_(list(user_ids)))
        .with_for_update(skip_locked=True, key_share=True)
    )
    locked = {r.id for r in result.all()}
    return [u for u in user_ids if u in locked]


async def due_of_users(conn: AsyncConnection, user_ids: Sequence[int], now: datetime, limit: int) -> list[OutboxRow]:
    """The due scan again, for users this unit of work holds (`lock_users`), as a new statement:
    a claim committed by another process since the first scan is seen (its user is skipped)."""
    if not user_ids:
        return []
    ids = list(user_ids)
    leased = select(t.c.user_id).where(t.c.user_id.in_(ids), t.c.state.in_(ACTIVE), t.c.lease_until > now)
    query = (
        select(*_COLUMNS)
        .where(t.c.user_id.in_(ids), t.c.state.in_(ACTIVE), t.c.due_at <= now,
               or_(t.c.lease_until.is_(None), t.c.lease_until <= now), t.c.user_id.not_in(leased))
        .order_by(t.c.due_at, t.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_row(r) for r in (await conn.execute(query)).all()]


def _claimable(now: datetime) -> Any:
    return and_(t.c.state.in_(ACTIVE), or_(t.c.lease_until.is_(None), t.c.lease_until <= now))


async def lease(conn: AsyncConnection, ids: Sequence[int], now: datetime, until: datetime) -> set[int]:
    """Claim rows: sending, leased until `until`, one attempt more — only those still claimable
    (the condition makes a second claimer get nothing). Returns the ids claimed."""
    if not ids:
        return set()
    result = await conn.execute(
        update(t)
        .where(t.c.id.in_(list(ids)), _claimable(now))
        .values(state=SENDING, lease_until=until, attempts=t.c.attempts + 1)
        .returning(t.c.id)
    )
    return {r.id for r in result.all()}


async def pending_for_user(conn: AsyncConnection, user_id: int, kinds: Sequence[str],
                           now: datetime, before: datetime) -> list[OutboxRow]:
    """A user's unclaimed pending rows of these kinds due before `before` (to join a digest)."""
    if not kinds:
        return []
    query = (
        select(*_COLUMNS)
        .where(t.c.user_id == user_id, t.c.state == PENDING, t.c.kind.in_(list(kinds)),
               t.c.due_at < before,
               or_(t.c.lease_until.is_(None), t.c.lease_until <= now))
        .order_by(t.c.due_at, t.c.id)
    )
    return [_row(r) for r in (await conn.execute(query)).all()]


async def renew(conn: AsyncConnection, ids: Sequence[int], until: datetime) -> int:
    if not ids:
        return 0
    result = await conn.execute(
        update(t).where(t.c.id.in_(list(ids)), t.c.state == SENDING).values(lease_until=until)
    )
    return result.rowcount or 0


async def mark_sent(conn: AsyncConnection, ids: Sequence[int], now: datetime, message_id: int | None) -> int:
    result = await conn.execute(
        update(t)
        .where(t.c.id.in_(list(ids)), t.c.state == SENDING)
        .values(state=SENT, sent_at=now, lease_until=None, message_id=message_id, last_error=None)
    )
    return result.rowcount or 0


async def release(conn: AsyncConnection, ids: Sequence[int], *, due_at: datetime | None = None) -> int:
    """Give claimed rows back unsent (shutdown, or held until `due_at`); the claim is not counted
    as an attempt."""
    if not ids:
        return 0
    values: dict[str, Any] = {"state": PENDING, "lease_until": None, "attempts": t.c.attempts - 1}
    if due_at is not None:
        values["due_at"] = due_at
    result = await conn.execute(
        update(t).where(t.c.id.in_(list(ids)), t.c.state == SENDING).values(**values)
    )
    return result.rowcount or 0


async def retry_later(conn: AsyncConnection, ids: Sequence[int], error: str, not_before: datetime) -> int:
    """Back off: pending again, not before `not_before`; the user's later rows wait behind."""
    result = await conn.execute(
        update(t)
        .where(t.c.id.in_(list(ids)), t.c.state == SENDING)
        .values(state=PENDING, lease_until=not_before, last_error=error[:1000])
    )
    return result.rowcount or 0


async def fail(conn: AsyncConnection, ids: Sequence[int], error: str) -> int:
    return await _end(conn, ids, state=FAILED, last_error=error[:1000])


async def drop(conn: AsyncConnection, ids: Sequence[int], reason: str) -> int:
    return await _end(conn, ids, state=DROPPED, drop_reason=reason)


async def _end(conn: AsyncConnection, ids: Sequence[int], **values: object) -> int:
    """The rows among `ids` still in play end (failed or dropped): no lease any more. Returns how many."""
    if not ids:
        return 0
    result = await conn.execute(
        update(t).where(t.c.id.in_(list(ids)), t.c.state.in_(ACTIVE)).values(lease_until=None, **values)
    )
    return result.rowcount or 0


async def drop_pending(conn: AsyncConnection, user_id: int, reason: str, *,
                       kinds: Sequence[str] | None = None) -> int:
    """Drop a user's pending rows (of these kinds); rows in flight are left to finish."""
    query = update(t).where(t.c.user_id == user_id, t.c.state == PENDING)
    if kinds is not None:
        query = query.where(t.c.kind.in_(list(kinds)))
    result = await conn.execute(query.values(state=DROPPED, lease_until=None, drop_reason=reason))
    return result.rowcount or 0


async def revive(conn: AsyncConnection, user_id: int, reason: str, *, now: datetime,
                 due_since: datetime) -> int:
    """Rows dropped for `reason` that are still relevant (not expired, due since `due_since`)
    become pending again."""
    result = await conn.execute(
        update(t)
        .where(t.c.user_id == user_id, t.c.state == DROPPED, t.c.drop_reason == reason,
               t.c.due_at >= due_since, or_(t.c.expires_at.is_(None), t.c.expires_at > now))
        .values(state=PENDING, drop_reason=None, lease_until=None, attempts=0)
    )
    return result.rowcount or 0


# -- re-planning by dedupe-key prefix -------------------------------------------------------------

def _prefix_range(prefix: str) -> Any:
    """`dedupe_key` starts with `prefix`, as a range (LIKE would be case-blind in SQLite and take
    `_` for any character). Beside `user_id = ?` the planner reads the user's rows (ix_outbox_user)
    and keeps those in the range: tests/services/test_coupons.py pins the plan."""
    if not prefix:
        raise ValueError("an empty prefix would match every row")
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(t.c.dedupe_key >= prefix, t.c.dedupe_key < upper)


async def under_prefix(conn: AsyncConnection, user_id: int, prefix: str) -> list[OutboxRow]:
    query = select(*_COLUMNS).where(t.c.user_id == user_id, _prefix_range(prefix)).order_by(t.c.id)
    return [_row(r) for r in (await conn.execute(query)).all()]


async def replace(conn: AsyncConnection, row_id: int, *, kind: str, payload: dict[str, Any],
                  due_at: datetime, expires_at: datetime | None) -> bool:
    """Put new content into a pending or dropped row (re-planned): pending again."""
    result = await conn.execute(
        update(t)
        .where(t.c.id == row_id, t.c.state.in_((PENDING, DROPPED)))
        .values(kind=kind, payload=_json(payload), due_at=due_at, expires_at=expires_at,
                state=PENDING, drop_reason=None, lease_until=None, attempts=0, last_error=None)
    )
    return bool(result.rowcount)


# -- forgetting an order ----------------------------------------------------------------------------

def _about_order(payload: dict[str, Any], order_id: int, number: str) -> bool:
    return payload.get("order_id") == order_id or (bool(number) and payload.get("number") == number)


async def forget_order(conn: AsyncConnection, user_id: int, order_id: int, number: str) -> int:
    """Delete a user's pushes about one order, in any state (the message centre's entries and what
    was still to be sent): every payload that names an order names it by ``order_id`` or, for a
    review reply, by its ``number``. The LIKE only narrows the rows read; the payload decides."""
    query = select(t.c.id, t.c.payload).where(
        t.c.user_id == user_id,
        or_(t.c.payload.like(f'%"order_id": {order_id}%'), t.c.payload.like(f'%"number": {_json(number)}%')),
    )
    ids = [r.id for r in (await conn.execute(query)).all() if _about_order(json.loads(r.payload), order_id, number)]
    if not ids:
        return 0
    result = await conn.execute(delete(t).where(t.c.id.in_(ids)))
    return result.rowcount or 0


# -- operators ----------------------------------------------------------------------------------

async def in_state(conn: AsyncConnection, state: str, limit: int) -> list[OutboxRow]:
    query = select(*_COLUMNS).where(t.c.state == state).order_by(t.c.id.desc()).limit(limit)
    return [_row(r) for r in (await conn.execute(query)).all()]


async def retry_failed(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> list[int]:
    result = await conn.execute(
        update(t)
        .where(t.c.id.in_(list(ids)), t.c.state == FAILED)
        .values(state=PENDING, attempts=0, due_at=now, lease_until=None)
        .returning(t.c.id)
    )
    return sorted(r.id for r in result.all())


async def counts(conn: AsyncConnection) -> dict[str, int]:
    rows = (await conn.execute(select(t.c.state, func.count().label("n")).group_by(t.c.state))).all()
    return {r.state: int(r.n) for r in rows}


# -- the message centre ---------------------------------------------------------------------------

def sent_page_query(user_id: int, *, offset: int, limit: int) -> Select[Any]:
    # the literal state lets SQLite use the partial index ix_outbox_sent
    return (
        select(*_COLUMNS)
        .where(t.c.user_id == user_id, text("outbox.state = 'sent'"))
        .order_by(t.c.sent_at.desc(), t.c.id.desc())
        .offset(offset)
        .limit(limit)
    )


async def sent_page(conn: AsyncConnection, user_id: int, *, offset: int, limit: int) -> list[OutboxRow]:
    query = sent_page_query(user_id, offset=offset, limit=limit)
    return [_row(r) for r in (await conn.execute(query)).all()]


async def sent_counts(conn: AsyncConnection, user_id: int) -> tuple[int, int]:
    """(all, unread) delivered notifications of a user."""
    query = select(func.count(), func.count().filter(t.c.read_at.is_(None))).where(
        t.c.user_id == user_id, text("outbox.state = 'sent'")
    )
    total, unread = (await conn.execute(query)).one()
    return int(total), int(unread)


async def sent_one(conn: AsyncConnection, user_id: int, row_id: int) -> OutboxRow | None:
    row = (await conn.execute(
        select(*_COLUMNS).where(t.c.id == row_id, t.c.user_id == user_id, t.c.state == SENT)
    )).first()
    return _row(row) if row else None


async def mark_read(conn: AsyncConnection, user_id: int, now: datetime, row_id: int | None = None) -> int:
    query = update(t).where(t.c.user_id == user_id, t.c.state == SENT, t.c.read_at.is_(None))
    if row_id is not None:
        query = query.where(t.c.id == row_id)
    result = await conn.execute(query.values(read_at=now))
    return result.rowcount or 0


# -- pruning: what the message centre no longer shows ----------------------------------------------

def _not_guarding(now: datetime) -> Any:
    """A row still before its `expires_at` may be a reminder whose object is live: its dedupe key
    keeps the reminder from being planned and sent again (reminders.replan), so it stays."""
    return or_(t.c.expires_at.is_(None), t.c.expires_at < now)


async def old_ids(conn: AsyncConnection, *, now: datetime, kept_since: datetime, dropped_since: datetime,
                  limit: int) -> list[int]:
    """Rows done with before the retention windows: sent or failed ones from before `kept_since`,
    dropped ones from before `dropped_since`. Oldest first."""
    query = (
        select(t.c.id)
        .where(
            or_(
                and_(t.c.state.in_((SENT, FAILED)), func.coalesce(t.c.sent_at, t.c.created_at) < kept_since),
                and_(t.c.state == DROPPED, t.c.created_at < dropped_since),
            ),
            _not_guarding(now),
        )
        .order_by(t.c.id)
        .limit(limit)
    )
    return [r.id for r in (await conn.execute(query)).all()]


async def beyond_newest_ids(conn: AsyncConnection, *, now: datetime, keep: int, limit: int) -> list[int]:
    """Sent rows past each user's newest `keep` (newest as the message centre orders them)."""
    rank = func.row_number().over(partition_by=t.c.user_id, order_by=(t.c.sent_at.desc(), t.c.id.desc()))
    ranked = (
        select(t.c.id, t.c.expires_at, rank.label("rank"))
        .where(t.c.user_id.in_(
            select(t.c.user_id).where(text("outbox.state = 'sent'"))
            .group_by(t.c.user_id).having(func.count() > keep)
        ), text("outbox.state = 'sent'"))
        .subquery()
    )
    query = (
        select(ranked.c.id)
        .where(ranked.c.rank > keep,
               or_(ranked.c.expires_at.is_(None), ranked.c.expires_at < now))
        .order_by(ranked.c.id)
        .limit(limit)
    )
    return [r.id for r in (await conn.execute(query)).all()]


async def delete_done(conn: AsyncConnection, ids: Sequence[int]) -> int:
    """Delete these rows unless they became active again meanwhile (an operator's "send again")."""
    if not ids:
        return 0
    result = await conn.execute(t.delete().where(t.c.id.in_(ids), t.c.state.in_((SENT, FAILED, DROPPED))))
    return result.rowcount or 0
