"""The add / edit address form: its state, how a step is shown, and the steps.

One StatesGroup, read top to bottom: country → recipient → phone → region → city → street →
apartment → postal code → summary (the questions a country does not use are skipped). Each step
has a handler for the right input (the typed ones share one, with a rule per field in `TYPED`),
and one fallback after them all explains what the current step expects, with an example for that
country. Everything entered lives in FSM data as JSON primitives, so a restart resumes at the same
step. Editing walks the same steps with a "Keep" button; "Edit <field>" on the summary asks one
question and comes back (form_summary.py: the summary, Keep, Skip, Back, Cancel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers.addresses.book import router
from bot.handlers.common import REPLY_KEYBOARD, cancel_returns_itself, reply, send_or_edit
from bot.keyboards.addresses import AddressAction, AddressCb, AddressFormCb, FormAction
from bot.keyboards.common import MAX_PAGE, plain_int
from bot.middlewares.card_guard import asks_again
from bot.services import addresses as rules
from bot.services.addresses import (
    COUNTRY_UNKNOWN,
    REGION_UNKNOWN,
    AddressDraft,
    AddressInputError,
    AddressService,
    Field,
)
from bot.views import addresses as views
from bot.views.common import Fmt, Screen

Event = Message | CallbackQuery


# --- the form: its state and how a step is shown ----------------------------------------------

class AddressForm(StatesGroup):
    country = State()
    recipient = State()
    phone = State()
    region = State()
    city = State()
    street = State()
    apartment = State()
    postal_code = State()
    summary = State()


cancel_returns_itself(AddressForm)

STATE_OF: dict[Field, State] = {field: getattr(AddressForm, field.value) for field in Field}
FIELD_OF: dict[str | None, Field] = {state.state: field for field, state in STATE_OF.items()}
FORM = "address_form"


@dataclass
class Form:
    """What the form has gathered (FSM data, JSON primitives)."""

    draft: AddressDraft
    address_id: int = 0  # the address being edited; 0 while adding
    single: bool = False  # one field asked from the summary: back to the summary after it

    @property
    def editing(self) -> bool:
        return self.address_id != 0

    def as_data(self) -> dict[str, object]:
        return {"draft": self.draft.as_dict(), "id": self.address_id, "single": self.single}

    @classmethod
    def from_data(cls, data: dict[str, object]) -> Form:
        raw = data.get(FORM)
        raw = raw if isinstance(raw, dict) else {}
        draft = raw.get("draft")
        return cls(
            draft=AddressDraft.from_dict(draft if isinstance(draft, dict) else None),
            address_id=int(raw.get("id") or 0),
            single=bool(raw.get("single")),
        )


async def load(state: FSMContext) -> tuple[Form, bool]:
    """The form, and whether the reply keyboard ("Share my number") is showing."""
    data = await state.get_data()
    return Form.from_data(data), bool(data.get(REPLY_KEYBOARD))


async def _store(state: FSMContext, db: Database, target: State, form: Form, *, keyboard: bool) -> None:
    data = {FORM: form.as_data(), REPLY_KEYBOARD: keyboard} if keyboard else {FORM: form.as_data()}
    if await state.get_state() == target.state and await state.get_data() == data:
        return
    async with db.write():
        await state.set_state(target)
        await state.set_data(data)


async def send(event: Event, screen: Screen) -> None:
    """A new message at the bottom of the chat."""
    if isinstance(event, Message):
        await reply(event, screen)
        return
    assert event.bot is not None
    await event.bot.send_message(chat_id=event.from_user.id, **screen.as_kwargs())


async def _done(event: Event) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()


async def _present(event: Event, f: Fmt, screen: Screen, keyboard_shown: bool, leaving_note: Screen | None) -> None:
    """Show a step: in place of the pressed message, or below; when the reply keyboard ("Share my
    number") is showing, a message of its own removes it first."""
    if keyboard_shown:
        await send(event, leaving_note or views.keyboard_closed(f))
        await send(event, screen)
    elif isinstance(event, CallbackQuery):
        await send_or_edit(event, screen)
    else:
        await send(event, screen)
    await _done(event)


async def ask(event: Event, state: FSMContext, db: Database, f: Fmt, form: Form, field: Field, *,
              error: str | None = None, page: int = 0, leaving_note: Screen | None = None) -> None:
    """Show one question (again, with `error`, when the answer was not right)."""
    _, keyboard_shown = await load(state)
    entering_phone = field is Field.phone and await state.get_state() != AddressForm.phone.state
    await _store(state, db, STATE_OF[field], form, keyboard=field is Field.phone)
    screen = views.step_screen(
        f, field, form.draft, editing=form.editing, error=error, page=page,
        keep=rules.is_acceptable(field, form.draft),
    )
    if field is Field.phone:
        if entering_phone or not keyboard_shown:
            await send(event, views.share_phone_keyboard(f, form.draft.country))
        await send(event, screen)
        await _done(event)
        return
    await _present(event, f, screen, keyboard_shown, leaving_note)


async def show_summary(event: Event, state: FSMContext, db: Database, f: Fmt, form: Form,
                       user: UserRow, addresses: AddressService, *, leaving_note: Screen | None = None) -> None:
    """The whole address for a last look; a field that is not right (after the country changed)
    is asked again first."""
    try:
        form.draft = rules.validate_draft(form.draft)
    except AddressInputError as exc:
        form.single = True
        await ask(event, state, db, f, form, exc.field, error=views.input_error(exc, f), leaving_note=leaving_note)
        return
    _, keyboard_shown = await load(state)
    form.single = False
    await _store(state, db, AddressForm.summary, form, keyboard=False)
    in_use = await addresses.open_orders(user.id, form.address_id) if form.editing else 0
    screen = views.summary(f, form.draft, editing=form.editing, open_orders=in_use)
    await _present(event, f, screen, keyboard_shown, leaving_note)


async def answered(event: Event, state: FSMContext, db: Database, f: Fmt, form: Form, field: Field,
                   value: str, user: UserRow, addresses: AddressService) -> None:
    """Take a checked answer and move on: the next question, or the summary."""
    country_changed = field is Field.country and value != form.draft.country
    form.draft = form.draft.with_value(field, value)
    note = views.phone_taken(f, value) if field is Field.phone else None
    if country_changed:
        form.single = False  # the other answers are re-checked for the new country, with "Keep"
    steps = rules.steps_for(form.draft.country)
    later = steps[steps.index(field) + 1 :] if field in steps else ()
    if form.single or not later:
        await show_summary(event, state, db, f, form, user, addresses, leaving_note=note)
        return
    await ask(event, state, db, f, form, later[0], leaving_note=note)


async def _checked(message: Message, state: FSMContext, db: Database, user: UserRow, addresses: AddressService,
                   f: Fmt, field: Field, check: Callable[[AddressDraft], str]) -> None:
    """A typed answer: checked against the draft, then taken, or the question asked again with why."""
    form, _ = await load(state)
    try:
        value = check(form.draft)
    except AddressInputError as exc:
        await ask(message, state, db, f, form, field, error=views.input_error(exc, f))
        return
    await answered(message, state, db, f, form, field, value, user, addresses)


# --- the form: starting it ----------------------------------------------------------------------

@router.callback_query(AddressCb.filter(F.action == AddressAction.add))
async def start_add(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow,
                    addresses: AddressService, f: Fmt) -> None:
    await addresses.ensure_room(user.id)  # a full book: the section's answer (book.py)
    await ask(query, state, db, f, Form(AddressDraft()), Field.country)


@router.callback_query(AddressCb.filter(F.action == AddressAction.edit))
async def start_edit(query: CallbackQuery, callback_data: AddressCb, state: FSMContext, db: Database,
                     user: UserRow, addresses: AddressService, f: Fmt) -> None:
    address = await addresses.get(user.id, callback_data.id)
    form = Form(AddressDraft.of(address), address_id=address.id)
    await ask(query, state, db, f, form, Field.country)


# --- 1. country ---------------------------------------------------------------------------------

@router.callback_query(AddressForm.country, AddressFormCb.filter(F.action == FormAction.country))
async def country_chosen(query: CallbackQuery, callback_data: AddressFormCb, state: FSMContext,
                         db: Database, user: UserRow, addresses: AddressService, f: Fmt) -> None:
    form, _ = await load(state)
    if not rules.is_country(callback_data.value):
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await answered(query, state, db, f, form, Field.country, callback_data.value, user, addresses)


@router.message(AddressForm.country, F.text)
async def country_typed(message: Message, state: FSMContext, db: Database, user: UserRow,
                        addresses: AddressService, f: Fmt) -> None:
    form, _ = await load(state)
    match = rules.match_country(message.text or "")
    if match.sure and len(match.codes) == 1:
        await answered(message, state, db, f, form, Field.country, match.codes[0], user, addresses)
    elif match.codes:
        await reply(message, views.country_choices(f, match.codes, sure=match.sure, editing=form.editing))
    else:
        error = views.input_error(AddressInputError(Field.country, COUNTRY_UNKNOWN), f)
        await ask(message, state, db, f, form, Field.country, error=error)


# --- 2. recipient: typed, see `TYPED` below --------------------------------------------------------

# --- 3. phone: typed, or shared with the reply keyboard -------------------------------------------

async def _phone(message: Message, raw: str, state: FSMContext, db: Database, user: UserRow,
                 addresses: AddressService, f: Fmt) -> None:
    await _checked(message, state, db, user, addresses, f, Field.phone,
                   lambda draft: rules.parse_phone(raw, draft.country))


@router.message(AddressForm.phone, F.contact)
async def phone_shared(message: Message, state: FSMContext, db: Database, user: UserRow,
                       addresses: AddressService, f: Fmt) -> None:
    assert message.contact is not None
    await _phone(message, rules.contact_phone(message.contact.phone_number), state, db, user, addresses, f)


@router.message(AddressForm.phone, F.text)
async def phone_typed(message: Message, state: FSMContext, db: Database, user: UserRow,
                      addresses: AddressService, f: Fmt) -> None:
    await _phone(message, message.text or "", state, db, user, addresses, f)


# --- 4. region: paged buttons, or typed and matched; free text where the library lists none -------

@router.callback_query(AddressForm.region, AddressFormCb.filter(F.action == FormAction.region))
async def region_chosen(query: CallbackQuery, callback_data: AddressFormCb, state: FSMContext,
                        db: Database, user: UserRow, addresses: AddressService, f: Fmt) -> None:
    form, _ = await load(state)
    country, index = callback_data.value, callback_data.n
    regions = rules.country_rules(country).regions if country == form.draft.country else ()
    if not 0 <= index < len(regions):
        await query.answer(f._("This button is no longer active."), show_alert=True)
        return
    await answered(query, state, db, f, form, Field.region, regions[index].key, user, addresses)


@router.callback_query(AddressForm.region, AddressFormCb.filter(F.action == FormAction.page))
async def region_page(query: CallbackQuery, callback_data: AddressFormCb, state: FSMContext,
                      db: Database, f: Fmt) -> None:
    form, _ = await load(state)
    page = plain_int(callback_data.value, high=MAX_PAGE) or 0
    await ask(query, state, db, f, form, Field.region, page=page)


@router.message(AddressForm.region, F.text)
async def region_typed(message: Message, state: FSMContext, db: Database, user: UserRow,
                       addresses: AddressService, f: Fmt) -> None:
    form, _ = await load(state)
    country = form.draft.country
    try:
        if rules.country_rules(country).regions:
            keys = rules.match_region(country, message.text or "")
            if len(keys) > 1:
                await reply(message, views.region_choices(f, country, keys, editing=form.editing))
                return
            if not keys:
                raise AddressInputError(
                    Field.region, REGION_UNKNOWN, country=country, region=rules.region_example(country)
                )
            value = keys[0]
        else:
            value = rules.clean_region(country, message.text or "")
    except AddressInputError as exc:
        await ask(message, state, db, f, form, Field.region, error=views.input_error(exc, f))
        return
    await answered(message, state, db, f, form, Field.region, value, user, addresses)


# --- 2, 5, 6. recipient; city, street and house, apartment; postal code -----------------------------

# typed, checked by one rule each; the rule gets the draft, since some depend on the country (and
# the postal code on the region)
TYPED: dict[Field, Callable[[AddressDraft, str], str]] = {
    Field.recipient: lambda draft, text: rules.clean_recipient(text),
    Field.city: lambda draft, text: rules.clean_city(draft.country, text),
    Field.street: lambda draft, text: rules.clean_street(text),
    Field.apartment: lambda draft, text: rules.clean_apartment(text),
    Field.postal_code: lambda draft, text: rules.clean_postal(draft.country, draft.region, text),
}


@router.message(StateFilter(*(STATE_OF[field] for field in TYPED)), F.text)
async def typed(message: Message, state: FSMContext, raw_state: str | None, db: Database, user: UserRow,
                addresses: AddressService, f: Fmt) -> None:
    field, text = FIELD_OF[raw_state], message.text or ""
    await _checked(message, state, db, user, addresses, f, field, lambda draft: TYPED[field](draft, text))


# --- every step: what is not the expected input (a sticker, a photo…) ---------------------------

# what the step expects, asked again; registered after the steps' own handlers
@router.message(StateFilter(*STATE_OF.values()))
async def not_text(message: Message, state: FSMContext, raw_state: str | None, db: Database, f: Fmt) -> None:
    field = FIELD_OF[raw_state]
    form, _ = await load(state)
    await ask(message, state, db, f, form, field, error=views.not_text(f, field))


@asks_again(AddressForm)
async def card_number_removed(message: Message, state: FSMContext, raw_state: str | None, db: Database,
                              user: UserRow, addresses: AddressService, f: Fmt, warning: str) -> None:
    """The guard removed a card number typed into a field: the same question again, the draft
    as it was."""
    form, _ = await load(state)
    field = FIELD_OF.get(raw_state)
    if field is None:  # the summary
        await message.answer(warning)
        await show_summary(message, state, db, f, form, user, addresses)
        return
    await ask(message, state, db, f, form, field, error=warning)


