"""The address form's steps for the flow engine (bot/handlers/flow.py): its states, its draft, how
each answer is taken, and how a step is shown (form.py holds the table).

The draft is flat FSM data (JSON primitives): the address's fields under their own names, the id
of the address being edited (0 while adding), the engine's EDITING, and REPLY_KEYBOARD while the
phone step shows "Share my number". The reply keyboard comes and goes only with messages of its
own, so a step shown while it is up, or the phone step itself, is sent as new messages (`arrive`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from functools import partial
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup

from bot.db.users import UserRow
from bot.handlers.common import REPLY_KEYBOARD
from bot.handlers.flow import EDITING, Button, Draft, Go, Parse, Predicate, Reply, Retry, Stale, Step
from bot.keyboards.addresses import AddressFormCb, FormAction
from bot.keyboards.common import MAX_PAGE, plain_int
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

# the form's steps are the address's fields (Field), in their order, then the summary:
# AddressForm.country … AddressForm.postal_code, AddressForm.summary ("AddressForm:country", …)
AddressForm = type("AddressForm", (StatesGroup,), {**{field.value: State() for field in Field}, "summary": State(),
                                                  "__module__": __name__})

STATE_OF: dict[Field, State] = {field: getattr(AddressForm, field.value) for field in Field}
ADDRESS_ID = "address_id"  # FSM data: the address being edited; 0 (or absent) while adding
OLD_FORM = "address_form"  # FSM data of the form before it was a table: {"draft", "id", "single"}


def address_of(draft: Draft) -> AddressDraft:
    return AddressDraft.from_dict(draft)


def address_id(draft: Draft) -> int:
    value = draft.get(ADDRESS_ID)
    return value if isinstance(value, int) else 0


def upgrade(data: Draft) -> Draft:
    """A form stored before the form was a table on the engine, read as today's flat draft (so a
    form in progress during the deploy goes on at its step)."""
    old = data.get(OLD_FORM)
    if not isinstance(old, dict):
        return data
    nested = old.get("draft")
    old_id = old.get("id")
    return {**{k: v for k, v in data.items() if k != OLD_FORM},
            **AddressDraft.from_dict(nested if isinstance(nested, dict) else None).as_dict(),
            ADDRESS_ID: old_id if isinstance(old_id, int) else 0, EDITING: bool(old.get("single"))}


def asked(field: Field) -> Predicate:
    """The step is asked when the draft's country uses the field (every field while none is chosen)."""
    return lambda draft: field in rules.steps_for(str(draft.get(Field.country.value) or ""))


# --- taking an answer -----------------------------------------------------------------------------

def answered(field: Field, value: str, draft: Draft, f: Fmt) -> Go:
    """A checked answer: on to the next step the country uses, or the summary. A new country
    re-checks the other answers, step by step with "Keep"; the phone closes its reply keyboard
    with a message that shows the number."""
    taken = {**draft, field.value: value}
    before = address_of(draft)
    if field is Field.country and value != before.country:
        taken[EDITING] = False
        if before.region and rules.is_country(before.country) and rules.country_rules(before.country).region(before.region):
            taken[Field.region.value] = ""  # one of the old country's listed regions: never "Keep" it
    if field is Field.phone:
        return Go(taken, leaving=views.phone_taken(f, value))
    return Go(taken)


def typed(field: Field) -> Callable[..., Go]:
    """A typed answer checked by its field's rule in `TYPED`."""

    def take(text: str, draft: Draft, f: Fmt) -> Go:
        try:
            value = TYPED[field](address_of(draft), text)
        except AddressInputError as exc:
            raise Retry(views.input_error(exc, f)) from None
        return answered(field, value, draft, f)

    return take


def country_typed(text: str, draft: Draft, f: Fmt) -> Go:
    """A country by its name or code; several that fit (or a typo) are offered as buttons."""
    match = rules.match_country(text)
    if match.sure and len(match.codes) == 1:
        return answered(Field.country, match.codes[0], draft, f)
    if match.codes:
        raise Reply(views.country_choices(f, match.codes, sure=match.sure, editing=bool(address_id(draft))))
    raise Retry(views.input_error(AddressInputError(Field.country, COUNTRY_UNKNOWN), f))


def region_typed(text: str, draft: Draft, f: Fmt) -> Go:
    """A region matched against the library's list (several that fit are offered as buttons), or
    free text where the library lists none."""
    country = address_of(draft).country
    try:
        if not rules.country_rules(country).regions:
            return answered(Field.region, rules.clean_region(country, text), draft, f)
        keys = rules.match_region(country, text)
        if not keys:
            raise AddressInputError(Field.region, REGION_UNKNOWN, country=country,
                                    region=rules.region_example(country))
    except AddressInputError as exc:
        raise Retry(views.input_error(exc, f)) from None
    if len(keys) > 1:
        raise Reply(views.region_choices(f, country, keys, editing=bool(address_id(draft))))
    return answered(Field.region, keys[0], draft, f)


def phone_shared(number: str, draft: Draft, f: Fmt) -> Go:
    """"Share my number": Telegram sends the number without its "+"."""
    return typed(Field.phone)(rules.contact_phone(number), draft, f)


# typed answers, checked by one rule each; the rule gets the draft, since some depend on the country
# (and the postal code on the region)
TYPED: dict[Field, Callable[[AddressDraft, str], str]] = {
    Field.recipient: lambda address, text: rules.clean_recipient(text),
    Field.phone: lambda address, text: rules.parse_phone(text, address.country),
    Field.city: lambda address, text: rules.clean_city(address.country, text),
    Field.street: lambda address, text: rules.clean_street(text),
    Field.apartment: lambda address, text: rules.clean_apartment(text),
    Field.postal_code: lambda address, text: rules.clean_postal(address.country, address.region, text),
}


# --- the steps' buttons ------------------------------------------------------------------------------

def keep(field: Field) -> Button:
    """"Keep: <value>": the draft's value, when it fits the country."""

    def kept(value: object, draft: Draft, f: Fmt) -> Go:
        address = address_of(draft)
        if value != field.value or not rules.is_acceptable(field, address):
            raise Stale
        return answered(field, rules.check_field(field, address), draft, f)

    return Button(kept)


def skip(field: Field) -> Button:
    """"Skip": an optional field left empty."""

    def skipped(value: object, draft: Draft, f: Fmt) -> Go:
        if value != field.value or not rules.is_optional(field, address_of(draft).country):
            raise Stale
        return answered(field, "", draft, f)

    return Button(skipped)


def ask_again(field: Field) -> Button:
    """Back from the countries or regions offered for what was typed: the question again."""

    def again(value: object, draft: Draft, f: Fmt) -> Go:
        if value != field.value:
            raise Stale
        return Go(draft, stay=True)

    return Button(again)


def country_chosen(value: object, draft: Draft, f: Fmt) -> Go:
    if not isinstance(value, str) or not rules.is_country(value):
        raise Stale
    return answered(Field.country, value, draft, f)


def region_chosen(value: object, draft: Draft, f: Fmt, callback_data: AddressFormCb) -> Go:
    """A region's button carries the country and the region's index in the library's list."""
    country = address_of(draft).country
    regions = rules.country_rules(country).regions if value == country else ()
    if not 0 <= callback_data.n < len(regions):
        raise Stale
    return answered(Field.region, regions[callback_data.n].key, draft, f)


def region_page(value: object, draft: Draft, f: Fmt) -> Go:
    return Go(draft, stay=True, page=plain_int(str(value), high=MAX_PAGE) or 0)


# --- showing a step ----------------------------------------------------------------------------------

async def arrive(target: State, draft: Draft, f: Fmt, state: FSMContext,
                 leaving: Screen | None = None) -> tuple[State, Draft, dict[str, Any]]:
    """Before a step is shown. At the summary the whole address is checked: a field that is not
    right (after the country changed) is asked again first, and fields the country does not use
    are emptied. The phone step sends "Share my number" first (once); a step shown while that
    keyboard is up closes it with a message of its own (`leaving`: the number just taken)."""
    shown: dict[str, Any] = {}
    if target == AddressForm.summary:
        try:
            draft.update(rules.validate_draft(address_of(draft)).as_dict())
        except AddressInputError as exc:
            target, draft[EDITING], shown["error"] = STATE_OF[exc.field], True, views.input_error(exc, f)
    keyboard_shown = bool((await state.get_data()).get(REPLY_KEYBOARD))
    if target == AddressForm.phone:
        draft[REPLY_KEYBOARD] = True
        entering = await state.get_state() != AddressForm.phone.state
        share = views.share_phone_keyboard(f, address_of(draft).country)
        shown["lead"] = (share,) if entering or not keyboard_shown else ()  # the step: a new message
    else:
        draft.pop(REPLY_KEYBOARD, None)
        if keyboard_shown:
            shown["lead"] = (leaving or views.keyboard_closed(f),)
    return target, draft, shown


def _led(screen: Screen, lead: tuple[Screen, ...] | None) -> Screen | tuple[Screen, ...]:
    """One screen in place of the pressed message, or, after `lead`, all as new messages."""
    return screen if lead is None else (*lead, screen)


def prompt(field: Field) -> Callable[..., Screen | tuple[Screen, ...]]:
    """A step's question, with the current value and "Keep" when it fits."""

    def question(f: Fmt, draft: Draft, error: str | None, page: int = 0,
                 lead: tuple[Screen, ...] | None = None) -> Screen | tuple[Screen, ...]:
        address = address_of(draft)
        return _led(views.step_screen(f, field, address, editing=bool(address_id(draft)), error=error, page=page,
                                      keep=rules.is_acceptable(field, address)), lead)

    return question


async def summary_prompt(f: Fmt, draft: Draft, error: str | None, user: UserRow, addresses: AddressService,
                         lead: tuple[Screen, ...] | None = None) -> Screen | tuple[Screen, ...]:
    """The whole address for a last look (with the orders it would not change, when editing);
    what was said instead of a button comes first, in a message of its own."""
    editing = address_id(draft)
    in_use = await addresses.open_orders(user.id, editing) if editing else 0
    screen = views.summary(f, address_of(draft), editing=bool(editing), open_orders=in_use)
    if error:
        return (*(lead or ()), Screen(error), screen)
    return _led(screen, lead)


def step(field: Field, text: Parse, *, buttons: Mapping[Enum, Button] | None = None, **more: Any) -> Step:
    """A field's step: its question, its typed answer, Keep and Skip (each offered when it applies),
    and the sentence for anything else (a sticker, a photo…)."""
    return Step(STATE_OF[field], prompt(field), partial(views.not_text, field=field), text=text,
                buttons={FormAction.keep: keep(field), FormAction.skip: skip(field), **(buttons or {})}, **more)
