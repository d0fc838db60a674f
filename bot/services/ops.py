"""What operators (ADMIN_IDS) see in the chat with /ops: the refunds that wait for them, those on
their way, the pushes that failed for good and the delivery backlog — and the two things they can
do there: send a stuck refund to the payment gateway again, and send the failed pushes again —
and the shops' webhooks that fail (retrying, or given up: those can be sent again too), and the
payments the gateway could not be asked about (their outcome unknown, or a charge still to give
back), which the sweeper keeps asking about.

The same service calls back the CLI (`main.py order refunds / refund-retry`, `main.py outbox`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.disputes import EscalatedLine
from bot.db.pay import UnansweredRow
from bot.db.refunds import RefundRow
from bot.db.webhooks import Failing
from bot.services.disputes import DisputeService
from bot.services.outbox import OutboxService
from bot.services.pay import PayService
from bot.services.refunds import Payout, PendingRefund, RefundService
from bot.services.shops.webhooks import WebhookService

SHOWN = 10  # stuck refunds listed by name; the rest are counted


@dataclass(frozen=True, slots=True)
class OpsSummary:
    stuck: tuple[PendingRefund, ...]  # the gateway refused them: an operator decides (at most SHOWN)
    stuck_total: int
    on_the_way: int  # to be sent to the gateway, or accepted by it and not finished
    outside: int  # orders paid outside the gateway: an operator pays them and says so
    failed_pushes: int
    waiting_pushes: int
    webhooks: tuple[Failing, ...] = ()  # shops whose webhooks fail (retrying, or given up)
    unanswered: tuple[UnansweredRow, ...] = ()  # payments the gateway could not be asked about (oldest SHOWN)
    unanswered_total: int = 0
    escalated: tuple[EscalatedLine, ...] = ()  # disputes the buyers escalated: priority first (at most SHOWN)
    escalated_total: int = 0
    now: datetime | None = None  # when it was read (a decision day before it is overdue)

    @property
    def failed_webhooks(self) -> int:
        return sum(w.failed for w in self.webhooks)


class OpsService:
    def __init__(self, refunds: RefundService, outbox: OutboxService, webhooks: WebhookService | None = None,
                 pay: PayService | None = None, disputes: DisputeService | None = None) -> None:
        self.refunds = refunds
        self.outbox = outbox
        self.webhooks = webhooks
        self.pay = pay
        self.disputes = disputes

    async def summary(self) -> OpsSummary:
        pending = await self.refunds.pending(limit=10_000)
        stuck = [r for r in pending if r.where is Payout.operator]
        counts = await self.outbox.counts()
        unanswered_total, unanswered = await self.pay.unanswered(SHOWN) if self.pay is not None else (0, [])
        escalated_total, escalated = await self.disputes.escalated(SHOWN) if self.disputes is not None else (0, [])
        return OpsSummary(
            stuck=tuple(stuck[:SHOWN]), stuck_total=len(stuck),
            on_the_way=sum(1 for r in pending if r.where in (Payout.accepted, Payout.queued)),
            outside=sum(1 for r in pending if r.where is Payout.outside),
            failed_pushes=counts.get("failed", 0),
            waiting_pushes=counts.get("pending", 0) + counts.get("sending", 0),
            webhooks=tuple(await self.webhooks.failing()) if self.webhooks is not None else (),
            unanswered=tuple(unanswered), unanswered_total=unanswered_total,
            escalated=tuple(escalated), escalated_total=escalated_total,
            now=self.disputes.clock.now() if self.disputes is not None else None,
        )

    async def retry_refund(self, refund_id: int) -> RefundRow:
        """Raises RefundNotFound, RefundNotRetriable."""
        return await self.refunds.retry(refund_id)

    async def retry_failed_pushes(self) -> int:
        """The failed pushes (up to 500) go back to delivery. Returns how many."""
        ids = [row.id for row in await self.outbox.dead_letters(limit=500)]
        return len(await self.outbox.retry_failed(ids)) if ids else 0

    async def retry_failed_webhooks(self) -> int:
        """The webhooks given up (every shop's) are tried again from now. Returns how many."""
        return await self.webhooks.retry() if self.webhooks is not None else 0
