"""A flow opened on the way by another comes back to it: checkout opens the address form ("➕ New
address"), and once the address is saved — or the form is left — checkout goes on where it was.

The opening flow keeps its own state and draft in a storage slot of its own (the same chat and
user, another `destiny`: `stash`), marks the inner flow's draft with `RETURN` = its name, and
registers how it comes back (`on_return`); the inner flow, when it ends, calls `come_back`, which
does nothing for a draft without the mark."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram.dispatcher.event.handler import CallableObject
from aiogram.fsm.context import FSMContext

RETURN = "return_to"  # the inner flow's FSM data: the name of the flow to come back to

_resumers: dict[str, CallableObject] = {}


def on_return(name: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register how the flow `name` comes back; the function is called like a handler (the event,
    then what it names of the handler's data, and `result`: what the inner flow made, e.g. the
    new address's id, or 0 when it was left)."""

    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        _resumers[name] = CallableObject(fn)
        return fn

    return register


def stash(state: FSMContext, name: str) -> FSMContext:
    """The opening flow's own slot: its state and draft, kept while the inner flow runs."""
    return FSMContext(storage=state.storage, key=replace(state.key, destiny=name))


async def come_back(draft: dict[str, Any], event: Any, *, result: int = 0, **data: Any) -> bool:
    """The inner flow ended: go back to the flow that opened it, if one did. Returns whether it did."""
    resumer = _resumers.get(str(draft.get(RETURN) or ""))
    if resumer is None:
        return False
    await resumer.call(event, result=result, **data)
    return True
