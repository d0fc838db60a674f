"""Forged callback values (issue 15, item 10): ids past SQLite's 64-bit integers, negative ids,
digits that `str.isdigit()` accepts and `int()` refuses, and pages whose offset overflows. Every
CallbackData factory in bot/keyboards, every action, every field; each pressed in no state and in
every state a handler of that factory waits in. Each press gets a polite answer: no "Something
went wrong", no call of the error handler, no ERROR log, nothing unhandled."""

from __future__ import annotations

import enum
import importlib
import logging
import pkgutil
from typing import Any

import pytest
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

import bot.keyboards
from bot.config import Settings
from bot.fakebot import Player
from tests.conftest import App
from tests.figures import tally

FORGED = (
    str(2**63),  # one past SQLite's largest integer
    str(2**64),
    "-1",
    "²",  # str.isdigit() says yes, int() says no
    "١٢",  # Arabic-Indic digits: int() takes them, a plain ASCII parser must not
    " 7",
    "1_0",
    str(2**63 - 1),  # the largest id: valid, and owned by nobody
    str(2**63 // 10 + 1),  # a page whose offset (page × page size) overflows
    "99999999999999999999999999",
)


def factories() -> list[type[CallbackData]]:
    found: dict[str, type[CallbackData]] = {}
    for module_info in pkgutil.iter_modules(bot.keyboards.__path__):
        module = importlib.import_module(f"bot.keyboards.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, CallbackData) and value is not CallbackData:
                found[value.__prefix__] = value
    return sorted(found.values(), key=lambda kind: kind.__prefix__)


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, enum.Enum):
        return str(value.value)
    return "" if value is None else str(value)


def _sample(kind: type[CallbackData]) -> dict[str, Any]:
    """A value for every field: the default, or something that fits (1 for a required id)."""
    values: dict[str, Any] = {}
    for name, info in kind.model_fields.items():
        if not info.is_required():
            values[name] = info.default
        elif isinstance(info.annotation, type) and issubclass(info.annotation, enum.Enum):
            values[name] = next(iter(info.annotation))
        elif info.annotation in (str, "str"):
            values[name] = "x"
        else:
            values[name] = 1
    return values


def forged_presses(kind: type[CallbackData]) -> list[tuple[str, str, str]]:
    """(control, description, data) for every action (when the factory has one) × field × forged
    value; the control is the same button with plain values."""
    fields = list(kind.model_fields)
    action_field = next((name for name in fields if name == "action"), None)
    base = _sample(kind)
    actions: list[Any] = [None]
    if action_field is not None:
        actions = list(kind.model_fields[action_field].annotation)  # type: ignore[arg-type]
    presses = []
    for action in actions:
        values = dict(base)
        if action is not None:
            values["action"] = action
        control = kind.__separator__.join([kind.__prefix__, *(_encode(values[name]) for name in fields)])
        for target in fields:
            if target == "action":
                continue
            for forged in FORGED:
                parts = [forged if name == target else _encode(values[name]) for name in fields]
                data = kind.__separator__.join([kind.__prefix__, *parts])
                if len(data.encode()) <= 64:
                    presses.append((control, f"{kind.__name__}({action and action.name}).{target}={forged!r}", data))
    return presses


def handler_states(app: App, kind: type[CallbackData]) -> list[State | None]:
    """No state, and every state in which a handler of this factory waits."""
    states: list[State | None] = [None]
    for router in app.dp.chain_tail:
        for handler in router.callback_query.handlers:
            callbacks = [getattr(f.callback, "inlined", f.callback) for f in handler.filters or ()]
            guards = [getattr(c, "callback_data_filter", c) for c in callbacks]
            if not any(getattr(g, "callback_data", None) is kind for g in guards):
                continue
            for callback in callbacks:
                found = callback.states if isinstance(callback, StateFilter) else [callback]
                states += [s for s in found if isinstance(s, State) and s not in states]
    return states


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_ids": (1001,)})  # the ops buttons too


def test_every_factory_is_probed() -> None:
    prefixes = {kind.__prefix__ for kind in factories()}
    assert {"adr", "adf", "cd", "nav", "mn", "cp", "dp", "o", "py", "rv", "st", "msg", "op"} <= prefixes
    assert all(forged_presses(kind) for kind in factories() if len(kind.model_fields) > 1)


@pytest.mark.parametrize("kind", factories(), ids=lambda kind: kind.__name__)
async def test_forged_values_get_a_polite_answer(app: App, alex: Player, kind: type[CallbackData],
                                                 caplog: pytest.LogCaptureFixture,
                                                 request: pytest.FixtureRequest) -> None:
    tally(request, "forged callbacks (a value of every field of every factory and action, in every state)", 0)
    pressed = 0
    await alex.send("/start")
    menu = alex.last
    alex.strict = False  # an unhandled press is collected below, with the others
    problems: list[str] = []
    caplog.set_level(logging.DEBUG)
    context = app.dp.fsm.get_context(app.bot, chat_id=alex.user.id, user_id=alex.user.id)
    for state in handler_states(app, kind):
        controls: dict[str, bool] = {}
        for control, description, data in forged_presses(kind):
            await context.set_state(state)
            if control not in controls:
                # a state forced without its flow's data may fail with plain values too: such a
                # (state, button) can't be reached by a person, so it is not judged here
                errors_before = len(app.errors.errors)
                await alex.press_data(control, menu)
                controls[control] = len(app.errors.errors) == errors_before
                del app.errors.errors[errors_before:]
                await context.set_state(state)
            if not controls[control]:
                continue
            calls_before, errors_before = len(app.session.calls), len(app.errors.errors)
            caplog.clear()
            pressed += 1
            result = await alex.press_data(data, menu)
            new_calls = app.session.calls[calls_before:]
            answers = [c for c in new_calls if isinstance(c, AnswerCallbackQuery)]
            texts = [c.text or "" for c in new_calls if isinstance(c, SendMessage | EditMessageText)]
            texts += [c.text or "" for c in answers]
            where = f"{description} in state {state and state.state}"
            if len(app.errors.errors) > errors_before:
                problems.append(f"{where}: error handler called: {app.errors.errors[-1]!r}")
            elif result is UNHANDLED:
                problems.append(f"{where}: unhandled")
            elif not answers:
                problems.append(f"{where}: the press was not answered")
            elif any("Something went wrong" in t for t in texts):
                problems.append(f"{where}: 'Something went wrong'")
            if errors := [r for r in caplog.records if r.levelno >= logging.ERROR]:
                problems.append(f"{where}: logged {errors[0].levelname} {errors[0].getMessage()}")
    app.errors.errors.clear()  # reported above, one line each
    tally(request, "forged callbacks (a value of every field of every factory and action, in every state)", pressed)
    assert not problems, f"{len(problems)} forged presses misbehaved:\n" + "\n".join(problems[:40])


async def test_digits_that_int_refuses_in_the_region_pages(app: App, alex: Player) -> None:
    """"²" passed `isdigit()` and failed `int()`: the address form's region page."""
    await alex.send("/start")
    await alex.press("📍 Shipping addresses")
    await alex.press("➕ Add an address")
    await alex.press("🇺🇸 United States")
    await alex.send("John Smith")
    await alex.send("+1 617 555 0123")
    for page in ("²", "١", str(2**64), "-1"):
        await alex.press_data(f"adf:p:{page}:0")
        assert "Page 1 of 8" in alex.last_text and "step 4 of 8" in alex.last_text
    await alex.press_data("adf:p:7:0")  # a real page still works
    assert "Page 8 of 8" in alex.last_text


async def test_digits_that_int_refuses_in_settings(app: App, alex: Player) -> None:
    """Settings' zone index, UTC offset and quiet hours are strings in the callback data."""
    await alex.send("/settings")
    for data in ("st:sz:²", "st:so:²", "st:so:-²", "st:so:９", "st:ss:²", "st:se:²", f"st:sz:{2**64}"):
        await alex.press_data(data)
        assert alex.alerts()[-1] in ("This button is no longer active.",
                                     "Quiet hours start and end on a whole hour from 0 to 23."), data
    user = await app.services.users.get(alex.user.id)
    assert user is not None and user.time_zone == "UTC"
    await alex.press_data("st:so:3")  # a real offset still works
    assert alex.alerts()[-1] == "Time zone saved"


async def test_an_id_out_of_range_is_no_longer_available(app: App, alex: Player,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await alex.send("/start")
    for data in (f"adr:o:{2**63}", f"o:o:{2**64}:a:0:", "o:l::a:922337203685477581:", "adr:o:²"):
        await alex.press_data(data)
        assert alex.alerts()[-1] == "This item is no longer available.", data
    assert not [r for r in caplog.records if r.levelno > logging.DEBUG and "out of range" in r.getMessage()]
    assert any("out of range" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    # in range, owned by nobody: the section's own answer
    await alex.press_data(f"adr:o:{2**63 - 1}")
    assert alex.alerts()[-1] == "This address is no longer available."
