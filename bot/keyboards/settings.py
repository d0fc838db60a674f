from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData


class SettingsAction(str, Enum):
    language = "l"
    set_language = "sl"
    zones = "z"
    set_zone = "sz"
    offsets = "o"
    set_offset = "so"
    type_zone = "t"
    notifications = "n"


class SettingsCb(CallbackData, prefix="st"):
    action: SettingsAction
    value: str = ""
