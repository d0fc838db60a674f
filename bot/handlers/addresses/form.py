"""The add / edit address form, as one table on the flow engine (bot/handlers/flow.py):

    country → recipient → phone → region → city → street → apartment → postal code → summary → save

The questions a country does not use are skipped (each step's `when`). Every step has Keep (the
value it has, when it fits the country), Skip (an optional field), Back and Cancel, and explains any
other kind of message; the country and the region may be chosen with buttons or typed and matched
(several that fit are offered as buttons, with Back to the question); "Edit <field>" on the summary
asks one question and comes back. Back from the first question and Cancel leave the form for where
it was opened: the address being edited, or the list. The steps: form_steps.py.
"""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, ReplyKeyboardRemove

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers import returns
from bot.handlers.addresses.book import list_screen, router
from bot.handlers.addresses.form_steps import (
    ADDRESS_ID,
    STATE_OF,
    AddressForm,
    address_id,
    address_of,
    arrive,
    ask_again,
    asked,
    country_chosen,
    country_typed,
    phone_shared,
    region_chosen,
    region_page,
    region_typed,
    step,
    summary_prompt,
    typed,
    upgrade,
)
from bot.handlers.common import REPLY_KEYBOARD, deliver, show
from bot.handlers.flow import EDITING, FLOW_ID, STALE, Button, Draft, Flow, Summary
from bot.keyboards.addresses import AddressAction, AddressCb, AddressFormCb, FormAction
from bot.services.addresses import AddressDraft, AddressInputError, AddressNotFound, AddressService, Field
from bot.services.errors import DomainError
from bot.views import addresses as views
from bot.views import menu as menu_views
from bot.views.common import Fmt, Screen


async def save(query: CallbackQuery, draft: Draft, state: FSMContext, db: Database, user: UserRow,
               addresses: AddressService, f: Fmt, **data: Any) -> None:
    """Save the address and leave the form, atomically; a field the service refuses is asked again
    (and returns to the summary). A form another flow opened (checkout) goes back to it."""
    editing = address_id(draft)
    try:
        async with db.write():
            if editing:
                address = await addresses.update(user.id, editing, address_of(draft))
            else:
                address = await addresses.add(user.id, address_of(draft), flow_id=draft.get(FLOW_ID))
            await state.clear()
    except AddressInputError as exc:
        await deliver(query, await FLOW.go(STATE_OF[exc.field], state, db, {**draft, EDITING: True}, f,
                                           views.input_error(exc, f), user=user, addresses=addresses))
        return
    except DomainError:  # a full book, the address deleted meanwhile: the section's answer (book.py)
        async with db.write():
            await state.clear()
        raise
    if await returns.come_back(draft, query, result=address.id, state=state, db=db, user=user, addresses=addresses,
                               f=f, **data):
        return
    note = views.saved_note(f, address, added=not editing)
    await show(query, views.address_card(address, f, note=note), f._("Saved"))


async def leave_form(query: CallbackQuery, draft: Draft, user: UserRow, addresses: AddressService, f: Fmt,
                     cancelled: bool = False, **data: Any) -> None:
    """Back from the first question, or Cancel (the form already cleared): where the form was opened
    — the address being edited, the list, or the flow that opened it (checkout). A reply keyboard
    showing goes with a message of its own, which says so."""
    if await returns.come_back(draft, query, result=0, user=user, addresses=addresses, f=f, **data):
        return
    note = menu_views.cancelled(f) if cancelled else None
    closing = Screen(note, ReplyKeyboardRemove()) if note else views.keyboard_closed(f)
    keyboard_shown = bool(draft.get(REPLY_KEYBOARD))
    try:
        address = await addresses.get(user.id, address_id(draft)) if address_id(draft) else None
    except AddressNotFound:
        address = None
    on_screen = None if keyboard_shown else note
    screen = (views.address_card(address, f, note=on_screen) if address
              else await list_screen(user, addresses, f, on_screen))
    await deliver(query, (closing, screen) if keyboard_shown else screen, note)


async def cancel_form(query: CallbackQuery, draft: Draft, user: UserRow, addresses: AddressService, f: Fmt,
                      **data: Any) -> None:
    """Cancel (the form already cleared): where the form was opened, saying it was cancelled."""
    await leave_form(query, draft, user, addresses, f, cancelled=True, **data)


FLOW = Flow(
    AddressForm, AddressFormCb, arrive=arrive, upgrade=upgrade, leave=leave_form, cancel=cancel_form, strays=False,
    outside=STALE,  # not used (strays=False): the form answers its own stray buttons, below
    identified=True,  # Save keeps the form's id with the address: a repeated Save finds it (Redis)
    steps=(
        step(Field.country, country_typed,
             buttons={FormAction.country: Button(country_chosen), FormAction.ask: ask_again(Field.country)}),
        step(Field.recipient, typed(Field.recipient)),
        step(Field.phone, typed(Field.phone), contact=phone_shared),
        step(Field.region, region_typed, when=asked(Field.region),
             buttons={FormAction.region: Button(region_chosen), FormAction.page: Button(region_page),
                      FormAction.ask: ask_again(Field.region)}),
        step(Field.city, typed(Field.city), when=asked(Field.city)),
        step(Field.street, typed(Field.street)),
        step(Field.apartment, typed(Field.apartment)),
        step(Field.postal_code, typed(Field.postal_code), when=asked(Field.postal_code)),
    ),
    summary=Summary(AddressForm.summary, summary_prompt, views.summary_expected, edit=FormAction.edit,
                    done=FormAction.save, finish=save, fields={field.value: STATE_OF[field] for field in Field}),
).install(router)


# --- starting it: add, or edit an address -------------------------------------------------------------
@router.callback_query(AddressCb.filter(F.action == AddressAction.add))
async def start_add(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                    addresses: AddressService, f: Fmt) -> None:
    await addresses.ensure_room(user.id)  # a full book: the section's answer (book.py)
    await deliver(query, await FLOW.start(state, db, {ADDRESS_ID: 0}, f))


@router.callback_query(AddressCb.filter(F.action == AddressAction.delete_to_add_ok))
async def delete_then_add(query: CallbackQuery, callback_data: AddressCb, state: FSMContext, db: Database,
                          user: UserRow, addresses: AddressService, f: Fmt) -> None:
    """The book was full and the buyer wanted a new address: one deleted, the form opens."""
    deletion = await addresses.delete(user.id, callback_data.id)
    await deliver(query, await FLOW.start(state, db, {ADDRESS_ID: 0}, f), views.deleted_toast(f, deletion.new_default))


@router.callback_query(AddressCb.filter(F.action == AddressAction.edit))
async def start_edit(query: CallbackQuery, callback_data: AddressCb, state: FSMContext, db: Database,
                     user: UserRow, addresses: AddressService, f: Fmt) -> None:
    """Editing opens at the summary: every field as it is, ✏️ the one to change, then Save (not the
    eight steps again to change one)."""
    address = await addresses.get(user.id, callback_data.id)
    draft = {**AddressDraft.of(address).as_dict(), ADDRESS_ID: address.id}
    await deliver(query, await FLOW.go(AddressForm.summary, state, db, draft, f, user=user, addresses=addresses))


# --- leaving it: a button of an earlier question, or of a closed form ---------------------------------
@router.callback_query(StateFilter(AddressForm), AddressFormCb.filter())
async def stale_form_button(query: CallbackQuery, f: Fmt) -> None:
    """A button of an earlier question of this form."""
    await query.answer(f._(STALE), show_alert=True)


@router.callback_query(AddressFormCb.filter())
async def form_closed(query: CallbackQuery, f: Fmt) -> None:
    """A form button after the form was saved or cancelled (e.g. a second tap on Save)."""
    await query.answer(views.form_closed(f))
