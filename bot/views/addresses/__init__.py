"""Shipping addresses: the list, an address, deleting, the limit, and the add / edit form; and
how an address is laid out, for these screens and the order card.

    fields.py   the form's field names and examples     layout.py   how an address is laid out and named
    book.py     the list, an address, delete, limit      form.py     the add / edit form and its summary
"""

from __future__ import annotations

from bot.views.addresses.book import *  # noqa: F403
from bot.views.addresses.fields import *  # noqa: F403
from bot.views.addresses.form import *  # noqa: F403
from bot.views.addresses.layout import *  # noqa: F403
