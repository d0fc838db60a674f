"""The address book's screens: the list, an address, the limit, deleting, and the notes after a
change."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.keyboards.addresses import AddressAction, AddressCb
from bot.services import addresses as rules
from bot.services.addresses import Address
from bot.views.addresses.layout import address_block, one_line, short
from bot.views.common import Fmt, Screen, button, markup, nav_row

__all__ = [
    "address_card",
    "address_list",
    "delete_confirm",
    "deleted_note",
    "deleted_toast",
    "limit_reached",
    "saved_note",
]


def _list_line(n: int, address: Address, f: Fmt) -> str:
    star = "⭐ " if address.is_default else ""
    return f"{n}. {star}<b>{hd.quote(address.recipient)}</b> — {hd.quote(one_line(address))}"


def _open_label(n: int, address: Address, f: Fmt) -> str:
    star = "⭐ " if address.is_default else ""
    return short(f"{n}. {star}{one_line(address)}")


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
        [button("🗑 " + _open_label(n, a, f), AddressCb(action=AddressAction.delete_to_add, id=a.id))]
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


def delete_confirm(address: Address, f: Fmt, *, open_orders: int = 0, others: int = 0, to_add: bool = False) -> Screen:
    """`to_add`: asked from "the book is full": Yes deletes it and opens the new address's form, No
    goes back to that choice."""
    parts = [f._("<b>Delete this address?</b>"), "", address_block(address, f)]
    if address.is_default and others:
        parts += ["", f._("It is your default address; the most recently added other address will become the default.")]
    if open_orders:
        parts += ["", open_orders_note(f, open_orders)]
    yes, no = ((AddressCb(action=AddressAction.delete_to_add_ok, id=address.id), AddressCb(action=AddressAction.add))
               if to_add else (AddressCb(action=AddressAction.delete_ok, id=address.id),
                               AddressCb(action=AddressAction.open, id=address.id)))
    rows = [[button(f._("🗑 Yes, delete"), yes)], [button(f._("‹ No, keep it"), no)]]
    return Screen("\n".join(parts), markup(rows))


def deleted_note(f: Fmt, new_default: Address | None) -> str:
    note = f._("🗑 Address deleted.")
    if new_default is not None:
        note += "\n" + f._("Your default address is now: {address}").format(
            address=hd.quote(one_line(new_default))
        )
    return note


def deleted_toast(f: Fmt, new_default: Address | None) -> str:
    """The same as `deleted_note`, as a toast's plain text (the form opens under it)."""
    note = f._("Address deleted")
    if new_default is not None:
        note += "\n" + f._("Your default address is now: {address}").format(address=one_line(new_default))
    return note


def saved_note(f: Fmt, address: Address, *, added: bool) -> str:
    note = f._("✅ Address saved.") if added else f._("✅ Changes saved.")
    if added and address.is_default:
        note += " " + f._("It is your default address.")
    return note
