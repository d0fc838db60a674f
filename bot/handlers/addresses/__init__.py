"""Shipping addresses: the list, an address (make default, edit, delete), and the add / edit form.

    book.py        the list and an address; the section's router and its answer to a refusal
    form.py        the form as one table on the flow engine: its steps, the summary, save, Cancel
    form_steps.py  the form's states and draft, how each answer is taken, how a step is shown
"""

from __future__ import annotations

from bot.handlers.addresses import book, form  # noqa: F401 — registers, in this order
from bot.handlers.addresses.book import router

__all__ = ["router"]
