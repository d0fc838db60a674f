"""How a section declares its handlers, and how a dispatcher gets fresh routers of them.

A section module declares ``router = Handlers("orders")`` and decorates its handlers as on an
aiogram Router (``@router.message(…)``, ``@router.callback_query(…)``, ``router.message.filter(…)``).
Nothing is registered then: ``Handlers.build()`` makes a new ``Router`` each time it is called and
registers everything on it through aiogram's public API. Every dispatcher (the bot, an in-process
restart in the console, each test) so gets routers of its own; none is taken over from another.

On the way, ``build()`` makes three changes that keep routing as it was and make it cheaper:

- **Synchronous filters run inline** (``inline``). aiogram's ``CallableObject.call`` runs a
  callable that is not a coroutine function through ``asyncio.to_thread``: a thread hop for each
  ``F.text``, ``F.data == …`` or plain function a filter is, on every update that passes it
  (~75 for a text message, most of its time: bench/). Ours only read the update, so each is wrapped
  in a coroutine function with the original's signature (aiogram reads the signature to pass the
  filter only the arguments it names). This relies on how aiogram decides (``inspect.unwrap`` then
  ``iscoroutinefunction``; ``inspect.signature`` for the arguments):
  ``tests/test_routing.py::test_aiogram_awaits_an_inlined_filter_and_passes_its_arguments`` pins it.
- **Button filters unpack a press once per update and class** (``unpack_once``). aiogram's
  ``XxxCb.filter(…)`` unpacks the callback data into a new pydantic model in every handler it
  guards: a main-menu press was unpacked by each section's ``MenuCb.filter(F.section == …)`` in
  turn. The unpacked value (or the failure) is kept in the update's scope (bot/db/engine.py).
- **A section that takes only its own buttons is gated** (``prefix_gate``). A router whose every
  button handler is guarded by ``XxxCb.filter(…)`` gets one router-level filter
  (``router.callback_query.filter``): the pressed button's data must be one of those classes'
  (for the main menu's ``MenuCb``, one of the sections its rules accept). A press then skips a
  section that can't take it with one check instead of trying each of its handlers.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Router
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.filters.base import Filter as AiogramFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery
from magic_filter import MagicFilter

from bot import menu
from bot.db.engine import current_scope

Filter = Any  # what aiogram takes as a filter: a callable, a MagicFilter, an aiogram Filter


@dataclass
class _Registration:
    callback: Callable[..., Any]
    filters: tuple[Filter, ...]
    flags: dict[str, Any] | None
    kwargs: dict[str, Any]
    fast: list[Filter] = field(init=False)  # the filters as every build registers them

    def __post_init__(self) -> None:
        # made once per process: every build (each Dispatcher) registers these same objects
        self.fast = fast_filters(self.filters)
        keep_signature(self.callback)


def keep_signature(callable_: Any) -> None:
    """Store a callable's signature on it (`__signature__`, which `inspect.signature` returns as
    it is): aiogram reads the signature of every handler and filter each time one is registered,
    and a Dispatcher registers about 300 of them: 46 ms a build without this, 18 ms with it."""
    target = inspect.unwrap(callable_)
    if inspect.ismethod(target):  # a bound method's is its function's, less the first parameter
        target = target.__func__
    if getattr(target, "__signature__", None) is not None:
        return
    try:
        target.__signature__ = inspect.signature(target)
    except (TypeError, ValueError, AttributeError):  # a builtin, or an object that takes no attributes
        pass


@dataclass
class Observer:
    """One event type's handlers of a section, declared as on aiogram's ``TelegramEventObserver``:
    decorate or ``register`` handlers, ``filter`` (router-level filters), ``middleware`` and
    ``outer_middleware`` (aiogram's own managers: callable to register, iterable)."""

    router: Handlers
    event_name: str
    root_filters: list[Filter] = field(default_factory=list)
    registrations: list[_Registration] = field(default_factory=list)
    # the same middleware objects go onto every build's router
    middleware: MiddlewareManager = field(default_factory=MiddlewareManager)
    outer_middleware: MiddlewareManager = field(default_factory=MiddlewareManager)

    def filter(self, *filters: Filter) -> None:
        """Filters every handler of this event type in the section must pass (a router-level filter)."""
        self.root_filters.extend(fast_filters(filters))

    def register(self, callback: Callable[..., Any], *filters: Filter, flags: dict[str, Any] | None = None,
                 **kwargs: Any) -> Callable[..., Any]:
        self.registrations.append(_Registration(callback, filters, flags, kwargs))
        return callback

    def __call__(self, *filters: Filter, flags: dict[str, Any] | None = None,
                 **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(callback: Callable[..., Any]) -> Callable[..., Any]:
            return self.register(callback, *filters, flags=flags, **kwargs)

        return decorator


_EVENT_TYPES = tuple(Router().observers)  # message, callback_query, …, error


class Handlers:
    """A section's handlers, declared at import; ``build()`` registers them on a new Router."""

    def __init__(self, name: str, menu_label: str | None = None, *, order: int = 0, wide: bool = False,
                 sellers_only: bool = False) -> None:
        """`menu_label` (a msgid) puts the section in the main menu, under its name, at `order`."""
        self.name = name
        if menu_label is not None:
            menu.register(menu.MenuEntry(name, menu_label, order, wide=wide, sellers_only=sellers_only))
        self.observers: dict[str, Observer] = {event: Observer(self, event) for event in _EVENT_TYPES}

    def __repr__(self) -> str:
        return f"Handlers({self.name!r})"

    def __getattr__(self, event: str) -> Observer:
        # router.message, router.callback_query, …; router.errors as on aiogram's Router
        observers = self.__dict__.get("observers", {})
        event = "error" if event == "errors" else event
        if event in observers:
            return observers[event]
        raise AttributeError(event)

    def build(self) -> Router:
        router = Router(name=self.name)
        for event, declared in self.observers.items():
            observer = router.observers[event]
            if event == "callback_query":
                gate = prefix_gate(declared.registrations)
                if gate is not None:
                    observer.filter(gate)
            if declared.root_filters:
                observer.filter(*declared.root_filters)
            for middleware in declared.outer_middleware:
                observer.outer_middleware(middleware)
            for middleware in declared.middleware:
                observer.middleware(middleware)
            for r in declared.registrations:
                # a copy: aiogram adds to the flags it is given (a Command filter, the callback's own)
                flags = dict(r.flags) if r.flags is not None else None
                observer.register(r.callback, *r.fast, flags=flags, **r.kwargs)
        return router


def fast_filters(filters: Iterable[Filter]) -> list[Filter]:
    """The filters as they are registered: button filters unpack once, synchronous ones run inline,
    and each keeps its signature."""
    fast = [unpack_once(f) if isinstance(f, CallbackQueryFilter) else inline(f) for f in filters]
    for filter_ in fast:
        keep_signature(filter_)
    return fast


def inline(filter_: Filter) -> Filter:
    """A synchronous filter as a coroutine function with its signature (see the module's doc);
    an awaitable one (an aiogram ``Filter``, a coroutine function) as it is."""
    if isinstance(filter_, AiogramFilter):
        return filter_
    fn = filter_.resolve if isinstance(filter_, MagicFilter) else filter_
    target = inspect.unwrap(fn)
    if inspect.isawaitable(target) or inspect.iscoroutinefunction(target):
        return filter_
    signature = inspect.signature(fn)

    async def inlined(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    inlined.__signature__ = signature  # type: ignore[attr-defined]  # what aiogram passes it
    inlined.inlined = filter_  # type: ignore[attr-defined]  # the filter it runs (tests read it)
    return inlined


def unpack_once(original: CallbackQueryFilter) -> Callable[[CallbackQuery], Awaitable[Any]]:
    """``XxxCb.filter(rule)`` that unpacks a press once per update and class (see the module's doc);
    a handler gets the same ``callback_data`` as from aiogram's filter."""
    kind, rule = original.callback_data, original.rule

    async def check(query: CallbackQuery) -> Any:
        if not isinstance(query, CallbackQuery) or not query.data:
            return False
        scope = current_scope()
        key = ("callback_data", kind, query.data)
        if scope is not None and key in scope.cache:
            data = scope.cache[key]
        else:
            try:
                data = kind.unpack(query.data)
            except (TypeError, ValueError):
                data = None
            if scope is not None:
                scope.cache[key] = data
        if data is None:
            return False
        if rule is None or rule.resolve(data):
            return {"callback_data": data}
        return False

    check.callback_data_filter = original  # type: ignore[attr-defined]  # what it guards (tests)
    return check


def prefix_gate(registrations: list[_Registration]) -> Callable[[CallbackQuery], Awaitable[bool]] | None:
    """The gate of a section whose every button handler is guarded by ``XxxCb.filter(…)``, or None
    (a handler for any press, e.g. the fallback's, or no button handlers). It lets through any data
    of those CallbackData classes, except the main menu's buttons, which every section guards with
    ``MenuCb.filter(F.section == "…")``: for those, only the sections the rules accept (else each
    menu press would be tried by every section). Nothing else changes: the handlers it keeps a press
    from could not have matched it."""
    from bot.keyboards.common import MenuCb

    guards: list[CallbackQueryFilter] = []
    for registration in registrations:
        own = [f for f in registration.filters if isinstance(f, CallbackQueryFilter)]
        if not own:
            return None
        guards += own
    if not guards:
        return None
    starts: set[str] = set()
    exact: set[str] = set()
    for guard in guards:
        kind = guard.callback_data
        if kind is MenuCb and guard.rule is not None:
            exact.update(cb.pack() for cb in (MenuCb(section=e.section) for e in menu.entries())
                         if guard.rule.resolve(cb))
        else:
            starts.add(kind.__prefix__ + kind.__separator__)
            exact.add(kind.__prefix__)  # a CallbackData without fields packs to its prefix
    prefixes = tuple(starts)

    async def gate(query: CallbackQuery) -> bool:
        data = query.data or ""
        return data in exact or data.startswith(prefixes)

    gate.guards = guards  # type: ignore[attr-defined]  # the button filters it stands for (tests)
    return gate
