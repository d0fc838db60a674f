"""A payment gateway that outlives a killed process, and the process that is killed.

`FileSandbox` is the sandbox gateway with its charges and refunds kept in a JSON file (as a real
provider keeps them on its side), so a test can kill a bot process between the gateway's charge and
the database write and then ask the gateway about it from the test process.

`python -m tests.paykill DB STATE NOW USER ORDER CARD` pays ORDER with the saved CARD through the
real services over DB (the clock standing at NOW), prints "charged <id>" once the gateway has
charged, and then hangs before anything is written about it, waiting to be killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from bot.integrations.payments import (
    CardDeclined,
    Charge,
    DeclineReason,
    Refund,
    RefundStatus,
    SandboxGateway,
)


class FileSandbox(SandboxGateway):
    state_file: ClassVar[Path]

    @classmethod
    def at(cls, path: Path) -> type[FileSandbox]:
        return type("FileSandboxAt", (cls,), {"state_file": path})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._load()

    def _load(self) -> None:
        if not self.state_file.exists():
            return
        data = json.loads(self.state_file.read_text())
        self.charges = [Charge(**c) for c in data["charges"]]
        self._charged = {c.id: c for c in self.charges}
        self._charge_keys = {
            key: self._charged[v["charge"]] if "charge" in v else CardDeclined(DeclineReason(v["declined"]))
            for key, v in data["charge_keys"].items()
        }
        self.refunds = [Refund(r["id"], r["charge_id"], r["amount_minor"], r["currency"], RefundStatus(r["status"]))
                        for r in data["refunds"]]
        self._refunds_by_id = {r.id: r for r in self.refunds}
        self._refund_keys = {key: self._refunds_by_id[rid] for key, rid in data["refund_keys"].items()}
        self._refunded = {}
        for r in self.refunds:
            self._refunded[r.charge_id] = self._refunded.get(r.charge_id, 0) + r.amount_minor

    def _save(self) -> None:
        data = {
            "charges": [{"id": c.id, "token": c.token, "amount_minor": c.amount_minor, "currency": c.currency}
                        for c in self.charges],
            "charge_keys": {key: {"charge": v.id} if isinstance(v, Charge) else {"declined": v.reason.value}
                            for key, v in self._charge_keys.items()},
            "refunds": [{"id": r.id, "charge_id": r.charge_id, "amount_minor": r.amount_minor,
                         "currency": r.currency, "status": r.status.value} for r in self.refunds],
            "refund_keys": {key: r.id for key, r in self._refund_keys.items()},
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.state_file)

    async def charge(self, token: str, amount_minor: int, currency: str, idempotency_key: str) -> Charge:
        self._load()
        try:
            return await super().charge(token, amount_minor, currency, idempotency_key)
        finally:
            self._save()

    async def refund(self, charge_id: str, amount_minor: int, currency: str, idempotency_key: str) -> Refund:
        self._load()
        try:
            return await super().refund(charge_id, amount_minor, currency, idempotency_key)
        finally:
            self._save()

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        self._load()
        return await super().find_charge(idempotency_key)  # type: ignore[misc]


async def _main(db: str, state: str, now: str, user_id: int, order_id: int, card_id: int) -> None:
    import bot.app
    from bot.config import Settings
    from bot.services.clock import FakeClock

    bot.app.SandboxGateway = FileSandbox.at(Path(state))  # type: ignore[misc]
    settings = Settings(_env_file=None, bot_token=None, database_url=db,  # type: ignore[call-arg]
                        default_locale="en")
    services = bot.app.build_services(settings, clock=FakeClock(datetime.fromisoformat(now)))
    gateway = services.payments
    charge = gateway.charge

    async def charge_then_hang(*args: Any) -> Charge:
        done = await charge(*args)
        print("charged", done.id, flush=True)
        await asyncio.Event().wait()  # killed here: after the charge, before anything is recorded
        return done

    gateway.charge = charge_then_hang  # type: ignore[method-assign]
    await services.pay.pay(user_id, order_id, card_id)
    print("not killed", flush=True)


if __name__ == "__main__":
    db, state, now, user, order, card = sys.argv[1:7]
    asyncio.run(_main(db, state, now, int(user), int(order), int(card)))
