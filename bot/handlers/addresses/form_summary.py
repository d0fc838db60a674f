"""The address form's summary (edit a field, save) and every step's Keep, Skip, Back and Cancel."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.addresses.book import list_screen, router
from bot.handlers.addresses.form import FIELD_OF, AddressForm, Form, answered, ask, load, send, show_summary
from bot.handlers.common import send_or_edit, show
from bot.keyboards.addresses import AddressFormCb, FormAction
from bot.keyboards.common import NavAction, NavCb
from bot.services import addresses as rules
from bot.services.addresses import AddressInputError, AddressNotFound, AddressService, Field
from bot.services.errors import DomainError
from bot.views import addresses as views
from bot.views import menu as menu_views
from bot.views.common import Fmt, Screen

# --- 7. summary: change a field, or save ----------------------------------------------------------

@router.callback_query(AddressForm.summary, AddressFormCb.filter(F.action == FormAction.edit))
async def change_field(query: CallbackQuery, callback_data: AddressFormCb, state: FSMContext,
                       db: Database, f: Fmt) -> None:
    form, _ = await load(state)
    if callback_data.value not in {field.value for field in rules.steps_for(form.draft.country)}:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    form.single = True
    await ask(query, state, db, f, form, Field(callback_data.value))


@router.callback_query(AddressForm.summary, AddressFormCb.filter(F.action == FormAction.save))
async def save(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
               addresses: AddressService, f: Fmt) -> None:
    form, _ = await load(state)
    try:
        async with db.write():  # save and leave the form atomically
            if form.editing:
                address = await addresses.update(user.id, form.address_id, form.draft)
            else:
                address = await addresses.add(user.id, form.draft)
            await state.clear()
    except AddressInputError as exc:
        form.single = True
        await ask(query, state, db, f, form, exc.field, error=views.input_error(exc, f))
        return
    except DomainError:  # a full book, the address deleted meanwhile: the section's answer (book.py)
        async with db.write():
            await state.clear()
        raise
    note = views.saved_note(f, address, added=not form.editing)
    await show(query, views.address_card(address, f, note=note), f._("Saved"))


@router.message(AddressForm.summary)
async def summary_not_buttons(message: Message, state: FSMContext, db: Database, user: UserRow,
                              addresses: AddressService, f: Fmt) -> None:
    form, _ = await load(state)
    await message.answer("⚠️ " + f._("Please use the buttons: “Save”, or the field you want to change."))
    await show_summary(message, state, db, f, form, user, addresses)


# --- every step: Keep, Skip, Back ---------------------------------------------------------------

@router.callback_query(StateFilter(AddressForm), AddressFormCb.filter(F.action == FormAction.keep))
async def keep(query: CallbackQuery, callback_data: AddressFormCb, state: FSMContext, db: Database,
               user: UserRow, addresses: AddressService, f: Fmt) -> None:
    form, _ = await load(state)
    field = FIELD_OF.get(await state.get_state())
    if field is None or callback_data.value != field.value or not rules.is_acceptable(field, form.draft):
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    value = rules.check_field(field, form.draft)
    await answered(query, state, db, f, form, field, value, user, addresses)


@router.callback_query(StateFilter(AddressForm), AddressFormCb.filter(F.action == FormAction.skip))
async def skip(query: CallbackQuery, callback_data: AddressFormCb, state: FSMContext, db: Database,
               user: UserRow, addresses: AddressService, f: Fmt) -> None:
    form, _ = await load(state)
    field = FIELD_OF.get(await state.get_state())
    if field is None or callback_data.value != field.value or not rules.is_optional(field, form.draft.country):
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await answered(query, state, db, f, form, field, "", user, addresses)


@router.callback_query(StateFilter(AddressForm), NavCb.filter(F.action == NavAction.back))
async def back(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
               addresses: AddressService, f: Fmt) -> None:
    form, keyboard_shown = await load(state)
    current = await state.get_state()
    steps = rules.steps_for(form.draft.country)
    if current == AddressForm.summary.state:
        form.single = False
        await ask(query, state, db, f, form, steps[-1])
        return
    field = FIELD_OF.get(current, Field.country)
    if form.single:
        await show_summary(query, state, db, f, form, user, addresses)
        return
    earlier = steps[: steps.index(field)] if field in steps else ()
    if earlier:
        await ask(query, state, db, f, form, earlier[-1])
        return
    # Back from the first question leaves the form for where it was opened
    await leave_form(query, state, db, user, addresses, f, form, keyboard_shown)


@router.callback_query(StateFilter(AddressForm), NavCb.filter(F.action == NavAction.cancel))
async def cancel(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                 addresses: AddressService, f: Fmt) -> None:
    """Cancel leaves the form for where it was opened: the address being edited, or the list."""
    form, keyboard_shown = await load(state)
    await leave_form(query, state, db, user, addresses, f, form, keyboard_shown, cancelled=True)


async def leave_form(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                      addresses: AddressService, f: Fmt, form: Form, keyboard_shown: bool, *,
                      cancelled: bool = False) -> None:
    async with db.write():
        await state.clear()
    note = menu_views.cancelled(f) if cancelled else None
    if keyboard_shown:  # the reply keyboard goes with a message of its own, which says it
        await send(query, Screen(note, ReplyKeyboardRemove()) if note else views.keyboard_closed(f))
        note = None
    try:
        address = await addresses.get(user.id, form.address_id) if form.editing else None
    except AddressNotFound:
        address = None
    screen = views.address_card(address, f, note=note) if address else await list_screen(user, addresses, f, note)
    if keyboard_shown:
        await send(query, screen)
    else:
        await send_or_edit(query, screen)
    await query.answer(menu_views.cancelled(f) if cancelled else None)


@router.callback_query(StateFilter(AddressForm), AddressFormCb.filter(F.action == FormAction.ask))
async def ask_again(query: CallbackQuery, callback_data: AddressFormCb, state: FSMContext, db: Database,
                    f: Fmt) -> None:
    """Back from the buttons offered for a typed country or region: that question again."""
    form, _ = await load(state)
    field = FIELD_OF.get(await state.get_state())
    if field is None or callback_data.value != field.value:
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await ask(query, state, db, f, form, field)


@router.callback_query(StateFilter(AddressForm), AddressFormCb.filter())
async def stale_form_button(query: CallbackQuery, f: Fmt) -> None:
    """A button of an earlier question of this form."""
    await query.answer(f._("This button is no longer active."), show_alert=True)


@router.callback_query(AddressFormCb.filter())
async def form_closed(query: CallbackQuery, f: Fmt) -> None:
    """A form button after the form was saved or cancelled (e.g. a second tap on Save)."""
    await query.answer(views.form_closed(f))

