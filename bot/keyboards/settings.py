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
    toggle_kind = "tk"  # value: the notification kind
    quiet = "q"
    quiet_start = "qs"
    quiet_end = "qe"
    set_quiet_start = "ss"  # value: the hour
    set_quiet_end = "se"
    quiet_off = "qo"
    quiet_on = "qn"


class SettingsCb(CallbackData, prefix="st"):
    action: SettingsAction
    value: str = ""
