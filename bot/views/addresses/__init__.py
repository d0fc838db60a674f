"""Shipping addresses: the list, an address, deleting, the limit, and the add / edit form; and
how an address is laid out, for these screens and the order card.

    fields.py   the form's field names and examples     layout.py   how an address is laid out and named
    book.py     the list, an address, delete, limit      form.py     the add / edit form and its summary
"""

from __future__ import annotations

from bot.views.addresses.book import (
    address_card,
    address_list,
    delete_confirm,
    deleted_note,
    limit_reached,
    open_orders_note,
    saved_note,
)
from bot.views.addresses.fields import (
    CITY_EXAMPLES,
    FIELD_NAMES,
    LABEL_MAX,
    REGION_EXAMPLES,
    REGION_PAGE,
    STREET_EXAMPLES,
    field_name,
)
from bot.views.addresses.form import (
    country_choices,
    form_closed,
    keyboard_closed,
    not_text,
    phone_taken,
    region_choices,
    share_phone_keyboard,
    step_screen,
    summary,
)
from bot.views.addresses.layout import (
    address_block,
    address_lines,
    apartment_text,
    country_in_text,
    country_name,
    flag,
    input_error,
    one_line,
    region_name,
    region_text,
    script_of,
    short,
)

__all__ = [
    "CITY_EXAMPLES",
    "FIELD_NAMES",
    "LABEL_MAX",
    "REGION_EXAMPLES",
    "REGION_PAGE",
    "STREET_EXAMPLES",
    "address_block",
    "address_card",
    "address_lines",
    "address_list",
    "apartment_text",
    "country_choices",
    "country_in_text",
    "country_name",
    "delete_confirm",
    "deleted_note",
    "field_name",
    "flag",
    "form_closed",
    "input_error",
    "keyboard_closed",
    "limit_reached",
    "not_text",
    "one_line",
    "open_orders_note",
    "phone_taken",
    "region_choices",
    "region_name",
    "region_text",
    "saved_note",
    "script_of",
    "share_phone_keyboard",
    "short",
    "step_screen",
    "summary",
]
