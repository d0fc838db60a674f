"""Settings: language, time zone (buttons, UTC±N, or typed), notifications."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import menu as registry
from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.common import reply, send_or_edit
from bot.keyboards.common import MenuCb, NavAction, NavCb
from bot.keyboards.settings import SettingsAction, SettingsCb
from bot.services import notifications
from bot.services.clock import Clock
from bot.services.errors import N_, DomainError
from bot.services.settings import COMMON_ZONES, SettingsService, offset_zone, parse_time_zone
from bot.views import settings as views
from bot.views.common import Fmt, Screen

router = Router(name="settings")
registry.register(registry.MenuEntry("settings", N_("⚙️ Settings"), order=900))


class ZoneFlow(StatesGroup):
    typing = State()


def settings_screen(user: UserRow, f: Fmt, clock: Clock) -> Screen:
    return views.settings_screen(f, locale=user.locale, zone=user.time_zone, now=clock.now())


@router.callback_query(MenuCb.filter(F.section == "settings"))
async def open_settings(query: CallbackQuery, user: UserRow, f: Fmt, clock: Clock) -> None:
    await send_or_edit(query, settings_screen(user, f, clock))
    await query.answer()


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.language))
async def open_language(query: CallbackQuery, user: UserRow, f: Fmt) -> None:
    await send_or_edit(query, views.language_screen(f, user.locale))
    await query.answer()


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.set_language))
async def set_language(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, settings: SettingsService,
    clock: Clock, f: Fmt,
) -> None:
    try:
        user = await settings.set_locale(user.id, callback_data.value)
    except DomainError as exc:
        await query.answer(f.error(exc), show_alert=True)
        return
    f = f.rebind(user.locale, user.time_zone)  # re-render at once in the new language
    await send_or_edit(query, settings_screen(user, f, clock))
    await query.answer(f._("Language: {language}").format(language=views.LANGUAGE_NAMES[user.locale]))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.zones))
async def open_zones(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow, f: Fmt, clock: Clock) -> None:
    if await state.get_state() == ZoneFlow.typing.state:
        async with db.write():
            await state.clear()
    await send_or_edit(query, views.zones_screen(f, user.time_zone, clock.now()))
    await query.answer()


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.offsets))
async def open_offsets(query: CallbackQuery, f: Fmt) -> None:
    await send_or_edit(query, views.offsets_screen(f))
    await query.answer()


async def _save_zone(
    query: CallbackQuery, zone: str, user: UserRow, settings: SettingsService, f: Fmt, clock: Clock
) -> None:
    user = await settings.set_time_zone(user.id, zone)
    f = f.rebind(user.locale, user.time_zone)
    await send_or_edit(query, settings_screen(user, f, clock))
    await query.answer(f._("Time zone saved"))


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.set_zone))
async def set_zone(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, settings: SettingsService,
    f: Fmt, clock: Clock,
) -> None:
    index = int(callback_data.value) if callback_data.value.isdigit() else -1
    if not 0 <= index < len(COMMON_ZONES):
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await _save_zone(query, COMMON_ZONES[index], user, settings, f, clock)


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.set_offset))
async def set_offset(
    query: CallbackQuery, callback_data: SettingsCb, user: UserRow, settings: SettingsService,
    f: Fmt, clock: Clock,
) -> None:
    try:
        zone = offset_zone(int(callback_data.value))
    except (ValueError, DomainError):
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await _save_zone(query, zone, user, settings, f, clock)


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.type_zone))
async def ask_zone(query: CallbackQuery, state: FSMContext, db: Database, f: Fmt) -> None:
    async with db.write():
        await state.set_state(ZoneFlow.typing)
    await send_or_edit(query, views.type_zone_prompt(f))
    await query.answer()


@router.message(ZoneFlow.typing, F.text)
async def zone_typed(
    message: Message, state: FSMContext, db: Database, user: UserRow, settings: SettingsService,
    f: Fmt, clock: Clock,
) -> None:
    try:
        zone = parse_time_zone(message.text or "")
    except DomainError as exc:
        await reply(message, views.type_zone_prompt(f, error=f.error(exc)))
        return
    async with db.write():  # save and leave the flow atomically
        user = await settings.set_time_zone(user.id, zone)
        await state.clear()
    f = f.rebind(user.locale, user.time_zone)
    await message.answer(f._("Time zone saved"))
    await reply(message, settings_screen(user, f, clock))


@router.message(ZoneFlow.typing)
async def zone_not_text(message: Message, f: Fmt) -> None:
    await reply(message, views.type_zone_prompt(f, error=f._("Please send the time zone as text.")))


@router.callback_query(StateFilter(ZoneFlow.typing), NavCb.filter(F.action == NavAction.back))
async def zone_back(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow, f: Fmt, clock: Clock) -> None:
    async with db.write():
        await state.clear()
    await send_or_edit(query, views.zones_screen(f, user.time_zone, clock.now()))
    await query.answer()


@router.callback_query(SettingsCb.filter(F.action == SettingsAction.notifications))
async def open_notifications(query: CallbackQuery, f: Fmt) -> None:
    await send_or_edit(query, views.notifications_screen(f, notifications.kinds()))
    await query.answer()
