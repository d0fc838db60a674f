"""Callbacks shared by every section, and the bounded number types every factory uses.

Callback data comes from outside: a client can send any string up to 64 bytes. Numbers in it are
bounded where the data is unpacked (DESIGN.md §9): an id is plain ASCII digits and fits SQLite's
64-bit integer; a page or an index is small, so no offset (page × page size) can overflow. A value
out of range fails to unpack, no handler takes the press, and the fallback answers it as an item
that is no longer available (handlers/fallback.py)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from pydantic import BeforeValidator, Field

MAX_ID = 2**63 - 1  # SQLite's largest integer
MAX_PAGE = 100_000  # far past any list we page; × any page size stays far below MAX_ID
MAX_INDEX = 9_999  # a position in a short fixed list (a region, a star, a step)


def plain_int(value: object, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """`value` as an int when it is one, or a string of plain ASCII digits (an optional leading
    minus when `low` < 0), within [low, high]; else None. Unlike `int()`, never takes "²", "١٢",
    " 7", "1_0" or "+7", and never raises."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        digits = value[1:] if value.startswith("-") and low < 0 else value
        if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(max(high, -low))):
            return None
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None


def _bounded(high: int) -> Any:
    def check(value: object) -> int:
        number = plain_int(value, high=high)
        if number is None:
            raise ValueError(f"not a plain number in 0..{high}")
        return number

    return BeforeValidator(check)


Id = Annotated[int, _bounded(MAX_ID), Field(ge=0, le=MAX_ID)]
"""A row id in callback data: 0 ≤ id ≤ 2⁶³−1, plain ASCII digits."""
Page = Annotated[int, _bounded(MAX_PAGE), Field(ge=0, le=MAX_PAGE)]
"""A 0-based page: a page past the end shows the last one; past MAX_PAGE it does not unpack."""
Index = Annotated[int, _bounded(MAX_INDEX), Field(ge=0, le=MAX_INDEX)]
"""A position in a short list, or a small code (a star, a step)."""


class NavAction(str, Enum):
    menu = "m"
    back = "b"
    cancel = "c"


class NavCb(CallbackData, prefix="nav"):
    action: NavAction


class MenuCb(CallbackData, prefix="mn"):
    """Opens a section from the main menu. Sections register their entries in bot.menu."""

    section: str


def _factories() -> dict[str, type[CallbackData]]:
    """Every CallbackData factory by prefix."""
    found: dict[str, type[CallbackData]] = {}
    pending = list(CallbackData.__subclasses__())
    while pending:
        kind = pending.pop()
        pending += kind.__subclasses__()
        found[kind.__prefix__] = kind
    return found


def out_of_range(data: str) -> bool:
    """Whether `data` is one of our buttons (its prefix is a factory's) whose values do not
    unpack: a forged id, page or index, or a button of an older layout."""
    prefix = data.split(":", 1)[0]
    kind = _factories().get(prefix)
    if kind is None:
        return False
    try:
        kind.unpack(data)
    except (TypeError, ValueError):
        return True
    return False
