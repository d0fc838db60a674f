"""The address book: the list, an address (make default, delete), and the section's router and
its one answer to a refusal (a stale or forged address id, a full book)."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery

from bot.db.users import UserRow
from bot.handlers.answers import refusals
from bot.handlers.common import show
from bot.handlers.routing import Handlers
from bot.keyboards.addresses import AddressAction, AddressCb
from bot.keyboards.common import MenuCb
from bot.services.addresses import AddressLimitReached, AddressService
from bot.services.errors import N_, DomainError
from bot.views import addresses as views
from bot.views.common import Fmt, Screen

router = Handlers("addresses", N_("📍 Shipping addresses"), order=50)


async def list_screen(user: UserRow, addresses: AddressService, f: Fmt, note: str | None = None) -> Screen:
    return views.address_list(await addresses.list(user.id), f, note=note, limit=addresses.limit)


async def refused(query: CallbackQuery, error: DomainError, user: UserRow, addresses: AddressService,
                  f: Fmt) -> None:
    """A full book: the list with the limit. A stale or forged address id: say so, and show the
    user's own list."""
    if isinstance(error, AddressLimitReached):
        await show(query, views.limit_reached(await addresses.list(user.id), f, addresses.limit))
        return
    await show(query, await list_screen(user, addresses, f), f.error(error), alert=True)


refusals(router.callback_query, refused)


@router.callback_query(MenuCb.filter(F.section == "addresses"))
@router.callback_query(AddressCb.filter(F.action == AddressAction.list))
async def open_list(query: CallbackQuery, user: UserRow, addresses: AddressService, f: Fmt) -> None:
    await show(query, await list_screen(user, addresses, f))


@router.callback_query(AddressCb.filter(F.action == AddressAction.open))
async def open_address(query: CallbackQuery, callback_data: AddressCb, user: UserRow,
                       addresses: AddressService, f: Fmt) -> None:
    await show(query, views.address_card(await addresses.get(user.id, callback_data.id), f))


@router.callback_query(AddressCb.filter(F.action == AddressAction.set_default))
async def set_default(query: CallbackQuery, callback_data: AddressCb, user: UserRow,
                      addresses: AddressService, f: Fmt) -> None:
    change = await addresses.set_default(user.id, callback_data.id)
    await show(query, views.address_card(change.address, f),
               f._("⭐ This is now your default address.") if change.changed
               else f._("This already is your default address."))


@router.callback_query(AddressCb.filter(F.action.in_({AddressAction.delete, AddressAction.delete_to_add})))
async def ask_delete(query: CallbackQuery, callback_data: AddressCb, user: UserRow,
                     addresses: AddressService, f: Fmt) -> None:
    address = await addresses.get(user.id, callback_data.id)
    in_use = await addresses.open_orders(user.id, address.id)
    others = len(await addresses.list(user.id)) - 1 if address.is_default else 0
    await show(query, views.delete_confirm(address, f, open_orders=in_use, others=others,
                                           to_add=callback_data.action == AddressAction.delete_to_add))


@router.callback_query(AddressCb.filter(F.action == AddressAction.delete_ok))
async def delete(query: CallbackQuery, callback_data: AddressCb, user: UserRow,
                 addresses: AddressService, f: Fmt) -> None:
    deletion = await addresses.delete(user.id, callback_data.id)
    note = views.deleted_note(f, deletion.new_default)
    await show(query, await list_screen(user, addresses, f, note=note), f._("Address deleted"))
