"""A runtime with a handler that blocks until told, and a record of the order in which it finished
and the database closed: what the shutdown tests (polling and webhook mode) watch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiogram import F
from aiogram.types import Message

from bot.runner import Runtime


@dataclass
class Blocked:
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    order: list[str] = field(default_factory=list)


def block_on_slow(runtime: Runtime) -> Blocked:
    """A text "slow" is handled by a handler that waits for `release`; closing the database is
    recorded after it in `order`."""
    blocked = Blocked()

    async def slow(message: Message) -> None:
        blocked.started.set()
        await blocked.release.wait()
        await message.answer("done")
        blocked.order.append("handler finished")

    runtime.dp.message.register(slow, F.text == "slow")
    original_dispose = runtime.services.db.dispose

    async def dispose() -> None:
        blocked.order.append("database closed")
        await original_dispose()

    runtime.services.db.dispose = dispose  # type: ignore[method-assign]
    return blocked
