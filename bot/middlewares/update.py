"""Per-update scope: de-duplication of redelivered updates and tracking of handler tasks in
flight (aiogram's polling does not wait for them on shutdown; we do, bounded)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update

from bot.db.engine import DuplicateUpdate, update_scope
from bot.middlewares.base import Proceed, UpdateMiddleware
from bot.services.clock import Clock

log = logging.getLogger(__name__)


class InFlight:
    """The handler tasks currently running, so shutdown can wait for them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def add(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)

    def discard(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)

    def __len__(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout: float) -> int:
        """Wait for the tasks in flight, at most `timeout` seconds. Returns how many were left."""
        me = asyncio.current_task()
        pending = {t for t in self._tasks if t is not me and not t.done()}
        if not pending:
            return 0
        _done, still = await asyncio.wait(pending, timeout=timeout)
        return len(still)


async def _stop_the_spinner(update: Update, data: dict[str, Any]) -> None:
    """A press Telegram delivers again after a crash (its change committed, its answer lost) is
    not applied twice, but it is answered: otherwise the button spins until Telegram gives up. The
    screen it changed shows the change when the user looks again."""
    query, bot = update.callback_query, data.get("bot")
    if query is None or bot is None:
        return
    with contextlib.suppress(TelegramAPIError):  # answered already, or too old to answer
        await bot.answer_callback_query(query.id)


class UpdateScopeMiddleware(UpdateMiddleware):
    def __init__(self, clock: Clock, in_flight: InFlight) -> None:
        self.clock = clock
        self.in_flight = in_flight

    async def on_update(self, update: Update, data: dict[str, Any], proceed: Proceed) -> Any:
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        try:
            with update_scope(update.update_id, self.clock.now):
                return await proceed()
        except DuplicateUpdate:
            log.info("update %s was already applied; dropped", update.update_id)
            await _stop_the_spinner(update, data)
            return None
        finally:
            if task is not None:
                self.in_flight.discard(task)
