"""Settings: language, time zone (buttons, UTC±N, or typed), notifications (a toggle per kind,
quiet hours)."""

from __future__ import annotations

from typing import NoReturn

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.answers import alert, answered_by, refusals
from bot.handlers.common import show
from bot.handlers.flow import STALE, Done, Draft, question
from bot.handlers.routing import Handlers
from bot.keyboards.common import MenuCb, plain_int
from bot.keyboards.settings import SettingsAction, SettingsCb
from bot.services import notifications
from bot.services.clock import Clock
from bot.services.errors import N_
from bot.services.reminders import ReminderService
from bot.services.settings import (
    COMMON_ZONES,
    MAX_OFFSET,
    MIN_OFFSET,
    SettingsService,
    offset_zone,
    parse_time_zone,
)
from bot.views import settings as views
from bot.views.common import Fmt, Screen

router = Handlers("settings", N_("⚙️ Settings"), order=900)


class ZoneFlow(StatesGroup):
    typing = State()


refusals(router.callback_query, alert)  # a refused button: why, in an alert; the screen stays


def settings_screen(user: UserRow, f: Fmt, clock: Clock) -> Screen:
    return views.settings_screen(f, locale=user.locale, zone=user.time_zone, now=clock.now())


@router.callback_query(MenuCb.filter(F.section == "settings"))
async def open_settings(query: CallbackQuery, user: UserRow, f: Fmt, clock: Clock) -> None:
    await show(query, settings_screen(user, f, clock))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.language))
async def open_language(query: CallbackQuery, user: UserRow, f: Fmt) -> None:
    await show(query, views.language_screen(f, user.locale))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.set_language))
async def set_language(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, settings: SettingsService,
    clock: Clock, f: Fmt,
) -> None:
    user = await settings.set_locale(user.id, callback_data.value)
    f = f.rebind(user.locale, user.time_zone)  # re-render at once in the new language
    await show(query, settings_screen(user, f, clock), f._("Language: {language}").format(language=views.LANGUAGE_NAMES[user.locale]))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.zones))
async def open_zones(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow, f: Fmt, clock: Clock) -> None:
    if await state.get_state() == ZoneFlow.typing.state:
        async with db.write():
            await state.clear()
    await show(query, views.zones_screen(f, user.time_zone, clock.now()))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.offsets))
async def open_offsets(query: CallbackQuery, f: Fmt) -> None:
    await show(query, views.offsets_screen(f))


async def _save_zone(
    query: CallbackQuery, zone: str, user: UserRow, settings: SettingsService, f: Fmt, clock: Clock
) -> None:
    user = await settings.set_time_zone(user.id, zone)
    f = f.rebind(user.locale, user.time_zone)
    await show(query, settings_screen(user, f, clock), f._("Time zone saved"))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.set_zone))
async def set_zone(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, settings: SettingsService,
    f: Fmt, clock: Clock,
) -> None:
    index = plain_int(callback_data.value, high=len(COMMON_ZONES) - 1)
    if index is None:
        await query.answer(f._(STALE), show_alert=True)
        return
    await _save_zone(query, COMMON_ZONES[index], user, settings, f, clock)


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.set_offset))
async def set_offset(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, settings: SettingsService,
    f: Fmt, clock: Clock,
) -> None:
    offset = plain_int(callback_data.value, low=MIN_OFFSET, high=MAX_OFFSET)
    if offset is None:
        await query.answer(f._(STALE), show_alert=True)
        return
    await _save_zone(query, offset_zone(offset), user, settings, f, clock)


async def _to_zones(query: CallbackQuery, user: UserRow, f: Fmt, clock: Clock) -> None:
    """Back from the typed zone: the zones to choose from."""
    await show(query, views.zones_screen(f, user.time_zone, clock.now()))


async def _zone_typed(text: str, draft: Draft, f: Fmt, state: FSMContext, db: Database, user: UserRow,
                      settings: SettingsService, clock: Clock) -> NoReturn:
    zone = parse_time_zone(text)  # refused: the engine asks again with why
    async with db.write():  # save and leave the flow atomically
        user = await settings.set_time_zone(user.id, zone)
        await state.clear()
    f = f.rebind(user.locale, user.time_zone)
    raise Done(Screen(f._("Time zone saved")), settings_screen(user, f, clock))


ZONE = question(router, ZoneFlow.typing, views.type_zone_prompt, N_("Please send the time zone as text."), _zone_typed,
                leave=_to_zones)


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.type_zone))
async def ask_zone(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    await show(query, await ZONE.start(state, db, {}, f))


# -- notifications ---------------------------------------------------------------------------------

async def _notifications(user: UserRow, reminders: ReminderService, f: Fmt) -> Screen:
    return views.notifications_screen(f, notifications.toggles(), await reminders.preferences(user.id))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.notifications))
async def open_notifications(query: CallbackQuery, user: UserRow, reminders: ReminderService, f: Fmt) -> None:
    await show(query, await _notifications(user, reminders, f))


async def kind_refused(query: CallbackQuery, user: UserRow, reminders: ReminderService, f: Fmt) -> None:
    """A kind that is no longer offered: the toggles as they are now."""
    await show(query, await _notifications(user, reminders, f), f._(STALE), alert=True)


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.toggle_kind), flags=answered_by(kind_refused))
async def toggle_kind(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, reminders: ReminderService, f: Fmt
) -> None:
    prefs = await reminders.toggle(user.id, callback_data.value)
    kind = notifications.get(callback_data.value)
    assert kind is not None
    template = f._("{kind}: on") if prefs.is_on(kind.key) else f._("{kind}: off")
    await show(query, views.notifications_screen(f, notifications.toggles(), prefs),
               template.format(kind=f._(kind.label)))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.quiet))
async def open_quiet(query: CallbackQuery, user: UserRow, reminders: ReminderService, f: Fmt, clock: Clock) -> None:
    prefs = await reminders.preferences(user.id)
    await show(query, views.quiet_hours_screen(f, prefs.quiet, user.time_zone, clock.now()))


@router.callback_query(SettingsCb.filter(F.action.in_({SettingsAction.quiet_start, SettingsAction.quiet_end})))
async def pick_quiet_hour(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, reminders: ReminderService, f: Fmt
) -> None:
    quiet = (await reminders.preferences(user.id)).quiet
    start = callback_data.action == SettingsAction.quiet_start
    await show(query, views.quiet_hour_picker(f, start=start, current=quiet.start if start else quiet.end))


@router.callback_query(SettingsCb.filter(F.action.in_({
    SettingsAction.set_quiet_start, SettingsAction.set_quiet_end, SettingsAction.quiet_off, SettingsAction.quiet_on,
})))
async def set_quiet(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, reminders: ReminderService, f: Fmt,
    clock: Clock,
) -> None:
    action = callback_data.action
    if action in (SettingsAction.quiet_off, SettingsAction.quiet_on):
        prefs = await reminders.set_quiet_hours(user.id, enabled=action == SettingsAction.quiet_on)
    else:
        hour = plain_int(callback_data.value, high=99)
        hour = -1 if hour is None else hour  # the service says what an hour is
        if action == SettingsAction.set_quiet_start:
            prefs = await reminders.set_quiet_hours(user.id, start=hour)
        else:
            prefs = await reminders.set_quiet_hours(user.id, end=hour)
    await show(query, views.quiet_hours_screen(f, prefs.quiet, user.time_zone, clock.now()), f._("🌙 Quiet hours: {hours}").format(hours=views.quiet_label(f, prefs.quiet)))
