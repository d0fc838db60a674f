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


_ENTRIES: dict[str, MenuEntry] = {}


def register(entry: MenuEntry) -> MenuEntry:
    _ENTRIES[entry.section] = entry
    return entry


def entries() -> list[MenuEntry]:
    return sorted(_ENTRIES.values(), key=lambda e: (e.order, e.section))
