"""`CardService`: the wallet (at most 5, one default), adding a card through the gateway's card
session with a $1 verification hold, replacing and deleting; releasing holds and detaching deleted
cards on the sweeper's tick; charging and refunding for the orders section."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.db import cards as repo
from bot.db.engine import Database
from bot.integrations.payments import (
    CardDeclined,
    CardSession,
    Charge,
    PaymentGateway,
    Refund,
    SessionNotFound,
    VerifiedCard,
)
from bot.services import reminders
from bot.services.cards.errors import (
    AlreadyDefault,
    CardAlreadyDeleted,
    CardAlreadySaved,
    CardLimitReached,
    CardNotFound,
    CardSessionExpired,
    ExpiredCard,
    PaymentDeclined,
    TooManyChecks,
)
from bot.services.cards.expiry import is_expired, plan_expiry_reminder
from bot.services.cards.holder import parse_holder
from bot.services.cards.parsing import parse_cvc, parse_expiry, parse_number
from bot.services.cards.policy import (
    CARD_LIMIT,
    HOLD_AMOUNT_MINOR,
    HOLD_CURRENCY,
    HOLD_RELEASE_AFTER,
    HOLD_RELEASED_KIND,
    HOLD_RETRY_AFTER,
    VERIFY_LIMIT,
    VERIFY_WINDOW,
)
from bot.services.cards.results import (
    REPLACEMENTS_FOLLOWED,
    AddOutcome,
    AddRefused,
    Card,
    CardStatus,
    CardUsage,
    CardUsageSummary,
    Deleted,
    NoCardUsage,
    NumberAccepted,
    card_of,
    next_default,
)
from bot.services.clock import Clock
from bot.services.errors import DomainError
from bot.services.outbox import enqueue
from bot.services.refunds import CardSnapshot

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "CardService",
]


log = logging.getLogger(__name__)


class CardService:
    def __init__(self, db: Database, clock: Clock, gateway: PaymentGateway,
                 usage: CardUsage | None = None) -> None:
        self.db = db
        self.clock = clock
        self.gateway = gateway
        self.usage: CardUsage = usage or NoCardUsage()
        self._checks: dict[int, list[datetime]] = {}  # user → recent card checks (this process)

    def _count_check(self, user_id: int) -> None:
        """At most VERIFY_LIMIT card checks per user per VERIFY_WINDOW (kept in memory: a restart
        forgets them, which only ever errs on the user's side)."""
        now = self.clock.now()
        recent = [t for t in self._checks.get(user_id, ()) if t > now - VERIFY_WINDOW]
        if len(recent) >= VERIFY_LIMIT:
            self._checks[user_id] = recent
            raise TooManyChecks()
        recent.append(now)
        self._checks[user_id] = recent
        if len(self._checks) > 10_000:  # forget users with nothing recent
            self._checks = {u: ts for u, ts in self._checks.items() if ts and ts[-1] > now - VERIFY_WINDOW}

    # -- reading ------------------------------------------------------------------------------
    async def wallet(self, user_id: int) -> list[Card]:
        rows = await repo.active_hot(self.db, user_id)  # one statement through the driver
        now = self.clock.now()
        return [card_of(r, now) for r in rows]

    async def get(self, user_id: int, card_id: int) -> Card:
        async with self.db.read() as conn:
            row = await repo.get(conn, user_id, card_id)
        if row is None:
            raise CardNotFound()
        return card_of(row, self.clock.now())

    async def status(self, user_id: int, card_id: int) -> CardStatus:
        """active, expired or deleted; NotFound for a card that is not this user's. A card
        replaced by the same card reissued (Replace with the same number) has the status of its
        replacement: it is still in the wallet, with a new expiry."""
        async with self.db.read() as conn:
            row = await repo.get(conn, user_id, card_id, deleted_too=True)
            for _ in range(REPLACEMENTS_FOLLOWED):
                if row is None or row.deleted_at is None:
                    break
                successor = await repo.replaced_by(conn, user_id, row.id)
                if successor is None:
                    break
                replacement = await repo.get(conn, user_id, successor, deleted_too=True)
                if replacement is None:
                    break
                row = replacement
        if row is None:
            raise CardNotFound()
        if row.deleted_at is not None:
            return CardStatus.deleted
        if is_expired(row.exp_month, row.exp_year, self.clock.now()):
            return CardStatus.expired
        return CardStatus.active

    async def snapshot(self, user_id: int, card_id: int) -> CardSnapshot:
        """Brand, last 4 and expiry of a card, deleted or not (an order shows where its refund
        goes); NotFound for a card that is not this user's."""
        async with self.db.read() as conn:
            row = await repo.get(conn, user_id, card_id, deleted_too=True)
        if row is None:
            raise CardNotFound()
        return CardSnapshot(row.id, row.brand, row.last4, row.exp_month, row.exp_year)

    async def pending_orders(self, user_id: int, card_id: int) -> CardUsageSummary:
        await self.get(user_id, card_id)  # through the user first
        return await self.usage.pending_orders(user_id, card_id)

    # -- changing -----------------------------------------------------------------------------
    async def set_default(self, user_id: int, card_id: int) -> Card:
        now = self.clock.now()
        async with self.db.write() as conn:
            row = await repo.get(conn, user_id, card_id)
            if row is None:
                raise CardNotFound()
            if row.is_default:
                raise AlreadyDefault()
            if is_expired(row.exp_month, row.exp_year, now):
                raise ExpiredCard()
            if not await repo.make_default(conn, user_id, card_id):
                raise AlreadyDefault()
            fresh = await repo.get(conn, user_id, card_id)
        assert fresh is not None
        return card_of(fresh, now)

    async def delete(self, user_id: int, card_id: int) -> Deleted:
        """Soft delete: the card leaves the wallet; its row stays for the orders it paid. When it
        was the default, the most recently added remaining card takes over."""
        now = self.clock.now()
        async with self.db.write() as conn:
            row = await repo.get(conn, user_id, card_id, deleted_too=True)
            if row is None:
                raise CardNotFound()
            if row.deleted_at is not None or not await repo.soft_delete(conn, user_id, card_id, now):
                raise CardAlreadyDeleted()
            await reminders.cancel(conn, user_id=user_id, prefix=f"card:{card_id}:", now=now)
            new_default = None
            if row.is_default:
                pick = next_default(await repo.active(conn, user_id), now)
                if pick is not None:
                    await repo.make_default(conn, user_id, pick.id)
                    new_default = await repo.get(conn, user_id, pick.id)
        return Deleted(card_of(row, now), card_of(new_default, now) if new_default else None)

    # -- adding: the card session -------------------------------------------------------------
    async def has_room(self, user_id: int, *, replaces: int | None = None) -> bool:
        async with self.db.read() as conn:
            return await repo.count_active(conn, user_id, besides=replaces) < CARD_LIMIT

    async def ensure_room(self, user_id: int, *, replaces: int | None = None) -> None:
        """Refuse a sixth card early, before the user types anything (counted again on saving)."""
        if not await self.has_room(user_id, replaces=replaces):
            raise CardLimitReached()

    async def enter_number(self, user_id: int, session_id: str | None, text: str, *,
                           replaces: int | None = None) -> NumberAccepted:
        """Check the number and hand it to the gateway (a new session when there is none or the
        gateway forgot it). Raises InvalidCardNumber, CardAlreadySaved. The number of one of the
        wallet's *expired* cards is its reissue (a new expiry date, the same number): accepted, and
        `reissue_of` names that card, for the flow to replace it."""
        number = parse_number(text)
        preview = None
        if session_id:
            try:
                preview = await self.gateway.submit_number(session_id, number.reveal())
            except SessionNotFound:
                preview = None
        if preview is None:
            session_id = await self.gateway.start_card_session()
            preview = await self.gateway.submit_number(session_id, number.reveal())
        del number
        assert session_id is not None
        async with self.db.read() as conn:
            same = await repo.by_fingerprint(conn, user_id, preview.fingerprint)
        if same is not None and same.id != replaces:
            if is_expired(same.exp_month, same.exp_year, self.clock.now()):
                return NumberAccepted(session_id, preview.brand, preview.last4, reissue_of=same.id)
            await self.gateway.cancel_session(session_id)  # the number leaves the gateway too
            raise CardAlreadySaved()
        return NumberAccepted(session_id, preview.brand, preview.last4)

    async def card_session(self, session_id: str | None) -> CardSession:
        if not session_id:
            raise CardSessionExpired()
        try:
            return await self.gateway.get_session(session_id)
        except SessionNotFound:
            raise CardSessionExpired() from None

    async def enter_expiry(self, session_id: str | None, text: str) -> CardSession:
        month, year = parse_expiry(text, self.clock.now())
        session = await self.card_session(session_id)
        await self.gateway.submit_expiry(session.id, month, year)
        return await self.card_session(session.id)

    async def enter_holder(self, session_id: str | None, text: str) -> CardSession:
        holder = parse_holder(text)
        session = await self.card_session(session_id)
        await self.gateway.submit_holder(session.id, holder)
        return await self.card_session(session.id)

    async def cancel_session(self, session_id: str | None) -> None:
        if session_id:
            await self.gateway.cancel_session(session_id)

    async def verify(self, user_id: int, session_id: str | None, cvc_text: str, *,
                     replaces: int | None = None, for_wallet: bool = True) -> VerifiedCard:
        """Check the card with the CVC and a $1 hold. The CVC goes to the gateway and nowhere
        else. Raises InvalidCvc, PaymentDeclined, CardSessionExpired, CardLimitReached (only
        `for_wallet`: a card used once for a payment takes no place in the wallet),
        CardAlreadySaved, TooManyChecks. No transaction is open while the gateway works."""
        session = await self.card_session(session_id)
        cvc = parse_cvc(cvc_text, session.brand)
        if not session.complete:
            raise CardSessionExpired()
        if for_wallet:
            await self.ensure_room(user_id, replaces=replaces)
        self._count_check(user_id)
        try:
            return await self.gateway.verify(
                session.id, cvc, amount_minor=HOLD_AMOUNT_MINOR, currency=HOLD_CURRENCY,
                idempotency_key=f"verify:{session.id}",
            )
        except SessionNotFound:
            raise CardSessionExpired() from None
        except CardDeclined as exc:
            raise PaymentDeclined(exc.reason) from None

    async def save(self, user_id: int, verified: VerifiedCard, *,
                   replaces: int | None = None) -> AddOutcome | AddRefused:
        """Save a verified card. Joins the caller's unit of work, so the flow can end in the same
        transaction. The limit and duplicates are counted here, inside the transaction. With
        `replaces`, the old card is removed in the same transaction and the new one takes its
        default status. A card refused here is not saved, but its hold is recorded all the same
        (the sweeper releases it and the gateway forgets the token)."""
        now = self.clock.now()
        hold = verified.hold
        async with self.db.write() as conn:
            seen = await repo.hold_by_gateway_id(conn, hold.id)
            if seen is not None:  # this verification was saved before (a redelivered update)
                row = await repo.get(conn, user_id, seen.card_id) if seen.card_id else None
                if row is None:
                    return AddRefused(CardAlreadySaved(), hold.amount_minor, hold.currency)
                return AddOutcome(card_of(row, now), hold.amount_minor, hold.currency, bool(row.is_default))
            old = await repo.get(conn, user_id, replaces) if replaces else None
            refusal: DomainError | None = None
            same = await repo.by_fingerprint(conn, user_id, verified.fingerprint)
            if same is not None and (old is None or same.id != old.id):
                refusal = CardAlreadySaved()
            elif await repo.count_active(conn, user_id, besides=old.id if old else None) >= CARD_LIMIT:
                refusal = CardLimitReached()
            if refusal is not None:
                await self._record_hold(conn, user_id, None, verified, now, orphan=True)
                return AddRefused(refusal, hold.amount_minor, hold.currency)
            if old is not None:
                await repo.soft_delete(conn, user_id, old.id, now)
                await reminders.cancel(conn, user_id=user_id, prefix=f"card:{old.id}:", now=now)
            current = next((r for r in await repo.active(conn, user_id) if r.is_default), None)
            becomes_default = (
                (old is not None and old.is_default)
                or current is None
                or is_expired(current.exp_month, current.exp_year, now)
            )
            card_id = await repo.insert(
                conn, user_id=user_id, gateway=self.gateway.name, token=verified.token,
                fingerprint=verified.fingerprint, brand=verified.brand, last4=verified.last4,
                exp_month=verified.exp_month, exp_year=verified.exp_year, holder=verified.holder,
                is_default=False, now=now,
            )
            if becomes_default:
                await repo.make_default(conn, user_id, card_id)
            if old is not None and same is not None and same.id == old.id:
                # the same number reissued: orders paid with the old card refund to this one
                await repo.set_replaced_by(conn, user_id, old.id, card_id)
            await self._record_hold(conn, user_id, card_id, verified, now, orphan=False)
            await plan_expiry_reminder(conn, user_id=user_id, card_id=card_id, brand=verified.brand,
                                       last4=verified.last4, exp_month=verified.exp_month,
                                       exp_year=verified.exp_year, now=now)
            row = await repo.get(conn, user_id, card_id)
        assert row is not None
        return AddOutcome(card_of(row, now), hold.amount_minor, hold.currency, becomes_default,
                          card_of(old, now) if old else None)

    async def use_once(self, user_id: int, verified: VerifiedCard) -> None:
        """A verified card the buyer pays with once, without keeping it: it never enters the
        wallet (so a full wallet is no obstacle). Its hold is recorded like any other — the sweeper
        releases it, tells the buyer and has the gateway forget the token. Joins the caller's unit
        of work; a redelivered update records the hold once."""
        now = self.clock.now()
        async with self.db.write() as conn:
            if await repo.hold_by_gateway_id(conn, verified.hold.id) is None:
                await self._record_hold(conn, user_id, None, verified, now, orphan=True)

    async def _record_hold(self, conn: AsyncConnection, user_id: int, card_id: int | None,
                           verified: VerifiedCard, now: datetime, *, orphan: bool) -> None:
        await repo.insert_hold(
            conn, user_id=user_id, card_id=card_id, gateway=self.gateway.name,
            gateway_hold_id=verified.hold.id, orphan_token=verified.token if orphan else None,
            brand=verified.brand, last4=verified.last4, amount_minor=verified.hold.amount_minor,
            currency=verified.hold.currency, now=now, due_at=now + HOLD_RELEASE_AFTER,
        )

    # -- due transitions (the sweeper) --------------------------------------------------------
    async def release_due_holds(self, now: datetime) -> int:
        """Release the verification holds that are due and tell each user (an outbox row).
        Idempotent: a hold is marked released once; a failed release is retried later. The
        gateway is called outside any transaction; the results are written in one."""
        async with self.db.read() as conn:
            due = await repo.due_holds(conn, now, limit=200)
        if not due:
            return 0
        released, failed = [], []
        for hold in due:
            try:
                await self.gateway.release_hold(hold.gateway_hold_id)
                if hold.orphan_token:
                    await self.gateway.detach(hold.orphan_token)
            except Exception as exc:
                log.warning("card hold %s: release failed (%s); will retry", hold.id, type(exc).__name__)
                failed.append(hold)
            else:
                released.append(hold)
        count = 0
        async with self.db.write() as conn:
            for hold in failed:
                await repo.postpone(conn, hold.id, now + HOLD_RETRY_AFTER)
            for hold in released:
                if not await repo.mark_released(conn, hold.id, now):
                    continue
                await enqueue(
                    conn, user_id=hold.user_id, kind=HOLD_RELEASED_KIND.key,
                    payload={"hold_id": hold.id, "card_id": hold.card_id, "brand": hold.brand,
                             "last4": hold.last4, "amount_minor": hold.amount_minor,
                             "currency": hold.currency},
                    dedupe_key=f"card_hold:{hold.id}:released", now=now,
                )
                count += 1
        return count

    async def detach_deleted(self, now: datetime) -> int:
        """Ask the gateway to forget the tokens of deleted cards, then drop them here."""
        async with self.db.read() as conn:
            pending = await repo.to_detach(conn, limit=100)
        done = 0
        for card_id, token in pending:
            try:
                await self.gateway.detach(token)
            except Exception as exc:
                log.warning("card %s: detaching the token failed (%s); will retry", card_id, type(exc).__name__)
                continue
            async with self.db.write() as conn:
                done += await repo.clear_token(conn, card_id, token)
        return done

    # -- for the orders section ---------------------------------------------------------------
    async def charge(self, user_id: int, card_id: int, amount_minor: int, currency: str,
                     idempotency_key: str) -> Charge:
        """Charge a saved card. The same idempotency key (e.g. "order:42:pay") charges once.
        Raises CardNotFound, ExpiredCard, PaymentDeclined. No transaction is open meanwhile."""
        async with self.db.read() as conn:
            row = await repo.get(conn, user_id, card_id)
            token = await repo.token(conn, user_id, card_id)
        if row is None or token is None:
            raise CardNotFound()
        if is_expired(row.exp_month, row.exp_year, self.clock.now()):
            raise ExpiredCard()
        try:
            return await self.gateway.charge(token, amount_minor, currency, idempotency_key)
        except CardDeclined as exc:
            raise PaymentDeclined(exc.reason) from None

    async def charge_once(self, verified: VerifiedCard, amount_minor: int, currency: str,
                          idempotency_key: str) -> Charge:
        """Charge a card verified just now and not kept (`use_once`). Raises PaymentDeclined."""
        try:
            return await self.gateway.charge(verified.token, amount_minor, currency, idempotency_key)
        except CardDeclined as exc:
            raise PaymentDeclined(exc.reason) from None

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        """What a charge request with this key took (None: nothing) — for a request whose answer
        was lost. Raises PaymentError when the gateway can't tell now."""
        return await self.gateway.find_charge(idempotency_key)

    async def refund(self, charge_id: str, amount_minor: int, currency: str, idempotency_key: str) -> Refund:
        """Refund to the card that paid (by the charge, so it works after the card is deleted)."""
        try:
            return await self.gateway.refund(charge_id, amount_minor, currency, idempotency_key)
        except CardDeclined as exc:
            raise PaymentDeclined(exc.reason) from None
