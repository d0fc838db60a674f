"""The add / edit form: a step's question (with Keep and Skip, country and region choices, the
share-phone keyboard), the summary before saving."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.addresses import AddressFormCb, FormAction
from bot.keyboards.common import NavAction, NavCb
from bot.services import addresses as rules
from bot.services.addresses import COMMON_COUNTRIES, AddressDraft, Field
from bot.services.errors import N_
from bot.views import countries
from bot.views.addresses.book import open_orders_note
from bot.views.addresses.fields import (
    CITY_EXAMPLES,
    REGION_EXAMPLES,
    REGION_PAGE,
    STREET_EXAMPLES,
    field_name,
)
from bot.views.addresses.layout import address_block, country_in_text, country_name, flag, region_name, short
from bot.views.common import Fmt, Screen, button, chunk, flow_row, markup

__all__ = [
    "country_choices",
    "form_closed",
    "keyboard_closed",
    "not_text",
    "phone_taken",
    "region_choices",
    "share_phone_keyboard",
    "step_screen",
    "summary",
    "summary_expected",
]


_SKIP_HINT = N_("Not needed for this address? Tap “Skip”.")


def _heading(f: Fmt, editing: bool, field: Field, country: str) -> str:
    steps = rules.steps_for(country)
    position = steps.index(field) + 1 if field in steps else len(steps)
    title = f._("<b>Editing the address</b>") if editing else f._("<b>New address</b>")
    return title + " · " + f._("step {n} of {total}").format(n=position, total=len(steps))


def _value_text(f: Fmt, field: Field, draft: AddressDraft) -> str:
    value = draft.get(field)
    if field is Field.country:
        return f"{flag(value)} {country_name(f, value)}"
    if field is Field.phone:
        return rules.format_phone(value)
    if field is Field.region:
        return region_name(f, draft.country, value)
    return value


def _keep_skip_row(f: Fmt, field: Field, draft: AddressDraft, *, keep: bool, skip: bool) -> list:
    row = []
    if keep:
        label = f._("✅ Keep: {value}").format(value=short(_value_text(f, field, draft), 28))
        row.append(button(label, AddressFormCb(action=FormAction.keep, value=field.value)))
    if skip:
        row.append(button(f._("⏭ Skip"), AddressFormCb(action=FormAction.skip, value=field.value)))
    return row


def _prompt(f: Fmt, field: Field, draft: AddressDraft) -> str:
    country = draft.country
    where = hd.quote(country_in_text(f, country)) if country else ""
    where_in = hd.quote(countries.country_in(f, country)) if country else ""
    optional = rules.is_optional(field, country)
    if field is Field.country:
        return f._(
            "Which country is the address in? Choose below, or type its name or code, "
            "e.g. <code>Germany</code> or <code>DE</code>."
        )
    if field is Field.recipient:
        return f._(
            "Who will receive the parcel? Type their full name as in their passport, "
            "e.g. <code>{example}</code>."
        ).format(example=hd.quote(f._("Anna Smirnova")))
    if field is Field.phone:
        return f._(
            "The recipient's phone number in {country}, e.g. <code>{example}</code>. The courier "
            "calls it before delivery."
        ).format(country=where, country_in=where_in, example=hd.quote(rules.phone_example(country)))
    if field is Field.region:
        if rules.country_rules(country).regions:
            example = region_name(f, country, rules.region_example(country))
            text = f._(
                "Choose the region, or type the first letters of its name, e.g. <code>{example}</code>."
            ).format(example=hd.quote(example))
        else:
            example = REGION_EXAMPLES.get(country)
            if example:
                text = f._("Type the region, e.g. <code>{example}</code>.").format(example=hd.quote(f._(example)))
            else:
                text = f._("Type the region, province or state.")
        if optional:
            text += "\n" + f._(_SKIP_HINT)
        return text
    if field is Field.city:
        example = CITY_EXAMPLES.get(country)
        text = (
            f._("Type the city, town or village, e.g. <code>{example}</code>.").format(example=hd.quote(f._(example)))
            if example else f._("Type the city, town or village.")
        )
        return text + ("\n" + f._(_SKIP_HINT) if optional else "")
    if field is Field.street:
        example = STREET_EXAMPLES.get(country) or N_("12 Central St")
        return f._("Type the street, house and building, e.g. <code>{example}</code>.").format(
            example=hd.quote(f._(example))
        )
    if field is Field.apartment:
        return f._(
            "Apartment or office, e.g. <code>12</code>. A private house or no apartment? Tap “Skip”."
        )
    kind_zip = rules.country_rules(country).postal_kind == "zip"
    example = hd.quote(rules.postal_example(country, draft.region))
    if kind_zip:
        text = f._("The ZIP code, e.g. <code>{example}</code>.").format(example=example)
    else:
        text = f._("The postal code in {country}, e.g. <code>{example}</code>.").format(
            country=where, country_in=where_in, example=example
        )
    if optional:
        text += "\n" + f._("Don't know it? Tap “Skip”.")
    return text


def step_screen(f: Fmt, field: Field, draft: AddressDraft, *, editing: bool, error: str | None = None,
                keep: bool = False, page: int = 0) -> Screen:
    """One question of the form, with the current value and "Keep" when there is one."""
    parts = []
    if error:
        parts += [error, ""]
    parts += [_heading(f, editing, field, draft.country), "", _prompt(f, field, draft)]
    if keep:
        parts += ["", f._("Now: <b>{value}</b>").format(value=hd.quote(_value_text(f, field, draft)))]
    rows = []
    if field is Field.country:
        buttons = [
            button(f"{flag(c)} {country_name(f, c)}", AddressFormCb(action=FormAction.country, value=c))
            for c in COMMON_COUNTRIES
        ]
        rows += chunk(buttons, 2)
    elif field is Field.region and rules.country_rules(draft.country).regions:
        region_rows, page_text = _region_rows(f, draft.country, page)
        if page_text:
            parts += ["", page_text]
        rows += region_rows
    skip = rules.is_optional(field, draft.country)
    rows.append(_keep_skip_row(f, field, draft, keep=keep, skip=skip))
    rows.append(flow_row(f))
    return Screen("\n".join(parts), markup(rows))


def _region_rows(f: Fmt, country: str, page: int) -> tuple[list[list], str]:
    regions = rules.country_rules(country).regions
    index = {r.key: i for i, r in enumerate(regions)}
    ordered = rules.labels(regions, f.locale)
    pages = max(1, -(-len(ordered) // REGION_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = ordered[page * REGION_PAGE : (page + 1) * REGION_PAGE]
    buttons = [
        button(short(label, 32), AddressFormCb(action=FormAction.region, value=country, n=index[key]))
        for key, label in shown
    ]
    width = 2 if all(len(label) <= 18 for _, label in shown) else 1
    rows = chunk(buttons, width)
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(button("‹ " + str(page), AddressFormCb(action=FormAction.page, value=str(page - 1))))
        if page < pages - 1:
            nav.append(button(str(page + 2) + " ›", AddressFormCb(action=FormAction.page, value=str(page + 1))))
        rows.append(nav)
        return rows, f._("Page {page} of {pages}").format(page=page + 1, pages=pages)
    return rows, ""


def _choices_row(f: Fmt, field: Field) -> list:
    """Back (to the question the choices answer) and Cancel, under offered countries or regions."""
    return [button(f._("‹ Back"), AddressFormCb(action=FormAction.ask, value=field.value)),
            button(f._("✖ Cancel"), NavCb(action=NavAction.cancel))]


def country_choices(f: Fmt, codes: tuple[str, ...], *, sure: bool, editing: bool) -> Screen:
    """Several countries fit what was typed (or it looks like a typo): one button each."""
    head = f._("Several countries match. Which one?") if sure else f._("I don't know this country. Did you mean one of these?")
    ordered = sorted(codes, key=lambda c: rules.fold(country_name(f, c)))
    rows = [[button(f"{flag(c)} {country_name(f, c)}", AddressFormCb(action=FormAction.country, value=c))]
            for c in ordered]
    rows.append(_choices_row(f, Field.country))
    return Screen(_heading(f, editing, Field.country, "") + "\n\n" + head, markup(rows))


def region_choices(f: Fmt, country: str, keys: tuple[str, ...], *, editing: bool) -> Screen:
    regions = rules.country_rules(country).regions
    index = {r.key: i for i, r in enumerate(regions)}
    chosen = [r for r in regions if r.key in keys]
    rows = [
        [button(label, AddressFormCb(action=FormAction.region, value=country, n=index[key]))]
        for key, label in rules.labels(chosen, f.locale)
    ]
    rows.append(_choices_row(f, Field.region))
    text = _heading(f, editing, Field.region, country) + "\n\n" + f._("Several regions match. Which one?")
    return Screen(text, markup(rows))


def share_phone_keyboard(f: Fmt, country: str) -> Screen:
    """The reply keyboard with "Share my number" (request_contact), sent before the phone question."""
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=f._("📱 Share my number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=rules.phone_example(country),
    )
    return Screen(f._("📱 Is it your own number? Tap “Share my number” at the bottom of the screen."), keyboard)


def phone_taken(f: Fmt, phone: str) -> Screen:
    """Closes the reply keyboard once the phone question is answered."""
    return Screen("📞 " + hd.quote(rules.format_phone(phone)), ReplyKeyboardRemove())


def keyboard_closed(f: Fmt) -> Screen:
    """Closes the reply keyboard when the phone question is left without an answer."""
    return Screen(f._("‹ Back to the previous question."), ReplyKeyboardRemove())


def summary(f: Fmt, draft: AddressDraft, *, editing: bool, open_orders: int = 0) -> Screen:
    title = f._("<b>Editing the address</b>") if editing else f._("<b>Check the new address</b>")
    parts = [title, "", address_block(draft, f)]
    if open_orders:
        parts += ["", open_orders_note(f, open_orders)]
    parts += ["", f._("All correct? Save it, or change a field.")]
    steps = rules.steps_for(draft.country)
    edits = [
        button("✏️ " + field_name(f, field, draft.country), AddressFormCb(action=FormAction.edit, value=field.value))
        for field in steps
    ]
    rows = chunk(edits, 2)
    rows.append([button(f._("✅ Save"), AddressFormCb(action=FormAction.save))])
    rows.append(flow_row(f))
    return Screen("\n".join(parts), markup(rows))


def form_closed(f: Fmt) -> str:
    return f._("This form is already closed: the address was saved or the form was cancelled.")


def not_text(f: Fmt, field: Field) -> str:
    if field is Field.phone:
        return "⚠️ " + f._("Please type the number or tap “Share my number”; other kinds of messages can't be read here.")
    if field in (Field.country, Field.region):
        return "⚠️ " + f._("Please type the name or choose a button; other kinds of messages can't be read here.")
    return "⚠️ " + f._("Please answer with text; other kinds of messages can't be read here.")


def summary_expected(f: Fmt) -> str:
    """Said when something is typed at the summary, above the summary again."""
    return "⚠️ " + f._("Please use the buttons: “Save”, or the field you want to change.")
