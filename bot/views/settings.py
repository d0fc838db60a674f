"""Settings screens: language, time zone, notifications."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from aiogram.utils.text_decorations import html_decoration as hd
from babel.dates import format_time, get_timezone_location

from bot.keyboards.common import MenuCb
from bot.keyboards.settings import SettingsAction, SettingsCb
from bot.services.notifications import NotificationKind
from bot.services.reminders import Preferences, QuietHours
from bot.services.settings import COMMON_ZONES, MAX_OFFSET, MIN_OFFSET
from bot.views.common import Fmt, Screen, button, chunk, flow_row, markup, nav_row

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


def zone_label(f: Fmt, zone: str, now: datetime) -> str:
    """"Moscow (UTC+3)": the zone's place in the user's language and its offset now."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset()
    total = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if total >= 0 else "−"
    hours, minutes = divmod(abs(total), 60)
    utc = f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")
    if zone == "UTC":
        return "UTC"
    if zone.startswith("Etc/"):
        return utc
    try:
        place = get_timezone_location(zone, locale=f.babel, return_city=True)
    except (LookupError, ValueError):
        place = zone
    return f"{place} ({utc})"


def settings_screen(f: Fmt, *, locale: str, zone: str, now: datetime) -> Screen:
    text = "\n".join(
        [
            f._("<b>Settings</b>"),
            "",
            f._("Language: {language}").format(language=LANGUAGE_NAMES.get(locale, locale)),
            f._("Time zone: {zone}").format(zone=hd.quote(zone_label(f, zone, now))),
            f._("Local time: {time}").format(time=f.time(now)),
        ]
    )
    rows = [
        [button(f._("🌐 Language"), SettingsCb(action=SettingsAction.language))],
        [button(f._("🕒 Time zone"), SettingsCb(action=SettingsAction.zones))],
        [button(f._("🔔 Notifications"), SettingsCb(action=SettingsAction.notifications))],
        nav_row(f),
    ]
    return Screen(text, markup(rows))


def language_screen(f: Fmt, current: str) -> Screen:
    buttons = [
        button(("✅ " if code == current else "") + name, SettingsCb(action=SettingsAction.set_language, value=code))
        for code, name in LANGUAGE_NAMES.items()
    ]
    return Screen(
        f._("Choose the language of the bot:"),
        markup([buttons, nav_row(f, back=MenuCb(section="settings"))]),
    )


def zones_screen(f: Fmt, current: str, now: datetime) -> Screen:
    buttons = [
        button(
            ("✅ " if zone == current else "") + zone_label(f, zone, now),
            SettingsCb(action=SettingsAction.set_zone, value=str(i)),
        )
        for i, zone in enumerate(COMMON_ZONES)
    ]
    rows = chunk(buttons, 2)
    rows.append([button(f._("UTC±N…"), SettingsCb(action=SettingsAction.offsets))])
    rows.append([button(f._("⌨️ Type a zone"), SettingsCb(action=SettingsAction.type_zone))])
    rows.append(nav_row(f, back=MenuCb(section="settings")))
    return Screen(f._("Choose your time zone. Dates and reminders follow it."), markup(rows))


def offsets_screen(f: Fmt) -> Screen:
    buttons = []
    for hours in range(MIN_OFFSET, MAX_OFFSET + 1):
        label = "UTC" if hours == 0 else f"UTC{'+' if hours > 0 else '−'}{abs(hours)}"
        buttons.append(button(label, SettingsCb(action=SettingsAction.set_offset, value=str(hours))))
    rows = chunk(buttons, 4)
    rows.append(nav_row(f, back=SettingsCb(action=SettingsAction.zones)))
    return Screen(f._("Choose your offset from UTC:"), markup(rows))


def type_zone_prompt(f: Fmt, error: str | None = None) -> Screen:
    text = f._(
        "Type your time zone: an offset such as <code>UTC+3</code> or <code>-5</code>, "
        "or a zone name such as <code>Europe/Moscow</code> or <code>Asia/Kolkata</code>."
    )
    if error:
        text = f"{error}\n\n{text}"
    return Screen(text, markup([flow_row(f)]))


def hour_label(f: Fmt, hour: int) -> str:
    """A whole hour in the locale's style: "10:00 PM", "22:00"."""
    return format_time(time(hour), format="short", locale=f.babel)


def quiet_label(f: Fmt, quiet: QuietHours) -> str:
    if not quiet.enabled:
        return f._("off")
    return f"{hour_label(f, quiet.start)}–{hour_label(f, quiet.end)}"


def notifications_screen(f: Fmt, kinds: list[NotificationKind], prefs: Preferences) -> Screen:
    lines = [
        f._("<b>Notifications</b>"),
        "",
        f._("Reminders wait for the end of quiet hours and come at most once a day, in one message. "
            "Order updates, refunds and seller messages come at once."),
        "",
        f._("🌙 Quiet hours: {hours}").format(hours=quiet_label(f, prefs.quiet)),
    ]
    if kinds:
        lines += ["", f._("Tap a notification type to turn it on or off:")]
    rows = [
        [button(("✅ " if prefs.is_on(k.key) else "🔕 ") + f._(k.label),
                SettingsCb(action=SettingsAction.toggle_kind, value=k.key))]
        for k in kinds
    ]
    rows.append([button(f._("🌙 Quiet hours"), SettingsCb(action=SettingsAction.quiet))])
    rows.append(nav_row(f, back=MenuCb(section="settings")))
    return Screen("\n".join(lines), markup(rows))


def quiet_hours_screen(f: Fmt, quiet: QuietHours, zone: str, now: datetime) -> Screen:
    text = "\n".join([
        f._("<b>Quiet hours</b>"),
        "",
        f._("Reminders that fall inside quiet hours wait until they end. Order updates, refunds and "
            "seller messages are never held."),
        "",
        f._("Quiet hours: {hours}").format(hours=quiet_label(f, quiet)),
        f._("Time zone: {zone}").format(zone=hd.quote(zone_label(f, zone, now))),
    ])
    rows = []
    if quiet.enabled:
        rows.append([
            button(f._("Start: {hour}").format(hour=hour_label(f, quiet.start)),
                   SettingsCb(action=SettingsAction.quiet_start)),
            button(f._("End: {hour}").format(hour=hour_label(f, quiet.end)),
                   SettingsCb(action=SettingsAction.quiet_end)),
        ])
        rows.append([button(f._("🔔 Turn quiet hours off"), SettingsCb(action=SettingsAction.quiet_off))])
    else:
        rows.append([button(f._("🌙 Turn quiet hours on"), SettingsCb(action=SettingsAction.quiet_on))])
    rows.append(nav_row(f, back=SettingsCb(action=SettingsAction.notifications)))
    return Screen(text, markup(rows))


def quiet_hour_picker(f: Fmt, *, start: bool, current: int) -> Screen:
    action = SettingsAction.set_quiet_start if start else SettingsAction.set_quiet_end
    buttons = [
        button(("✅ " if hour == current else "") + hour_label(f, hour), SettingsCb(action=action, value=str(hour)))
        for hour in range(24)
    ]
    rows = chunk(buttons, 4)
    rows.append(nav_row(f, back=SettingsCb(action=SettingsAction.quiet)))
    prompt = f._("Quiet hours start at:") if start else f._("Quiet hours end at:")
    return Screen(prompt, markup(rows))
