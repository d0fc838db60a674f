"""Shipping addresses: the list, an address (make default, edit, delete), and the add / edit form.

    book.py          the list and an address; the section's router and its answer to a refusal
    form.py          the form's state, how a step is shown, and the steps (country … postal code)
    form_summary.py  the summary (edit a field, save) and every step's Keep, Skip, Back, Cancel
"""

from __future__ import annotations

from bot.handlers.addresses import book, form, form_summary  # noqa: F401 — registers, in this order
from bot.handlers.addresses.book import router

__all__ = ["router"]
