"""The main menu registry: each section's router registers its entry at import time, so a new
section adds a button without editing the menu code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MenuEntry:
    section: str  # the MenuCb value, also the handler module's name
    label: str  # a msgid marked with N_; the view translates it
    order: int
    wide: bool = False  # a row of its own
    sellers_only: bool = False  # shown only to the sellers of a store (`UserRow.is_seller`)


_ENTRIES: dict[str, MenuEntry] = {}


def register(entry: MenuEntry) -> MenuEntry:
    _ENTRIES[entry.section] = entry
    return entry


def entries() -> list[MenuEntry]:
    return sorted(_ENTRIES.values(), key=lambda e: (e.order, e.section))


def shown(is_seller: bool) -> list[MenuEntry]:
    """The entries a user's main menu shows: the sellers' own only to a seller."""
    return [e for e in entries() if is_seller or not e.sellers_only]
