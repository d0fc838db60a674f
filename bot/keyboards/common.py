"""Callbacks shared by every section."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData


class NavAction(str, Enum):
    menu = "m"
    back = "b"
    cancel = "c"


class NavCb(CallbackData, prefix="nav"):
    action: NavAction


class MenuCb(CallbackData, prefix="mn"):
    """Opens a section from the main menu. Sections register their entries in bot.menu."""

    section: str
