"""Codes, amounts and terms as typed or given: read and checked."""

from __future__ import annotations

import re

from bot.db.coupons import Scope, Terms, ValueKind
from bot.services.coupons.errors import CodeFormat, NotAnAmount
from bot.services.errors import N_, InvalidInput
from bot.services.money import check_currency

__all__ = [
    "normalise_code",
]


# Russian keyboards: letters that look like Latin ones are read as those.
_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")
_CODE_RE = re.compile(r"^[A-Z0-9]{4,32}$")


def normalise_code(text: str) -> str:
    """What a user typed → the stored form: upper case, without spaces and dashes, Cyrillic
    look-alike letters read as Latin. Raises CodeFormat when it cannot be a code."""
    raw = text.strip().upper().translate(_LOOKALIKES)
    raw = re.sub(r"[\s\-_–—]", "", raw)
    if not _CODE_RE.match(raw):
        raise CodeFormat()
    return raw


def check_terms(terms: Terms) -> Terms:
    """Terms an operator typed, checked before they are stored."""
    check_currency(terms.currency)
    if terms.value_kind == ValueKind.amount:
        if not terms.amount_minor or terms.amount_minor <= 0 or terms.percent is not None:
            raise InvalidInput(N_("A coupon takes off an amount or a percent."))
    elif not terms.percent or not 1 <= terms.percent <= 100 or terms.amount_minor is not None:
        raise InvalidInput(N_("A percent is between 1 and 100."))
    if terms.cap_minor is not None and (terms.cap_minor <= 0 or terms.value_kind != ValueKind.percent):
        raise InvalidInput(N_("A cap applies to a percent coupon and is positive."))
    if terms.min_order_minor < 0:
        raise NotAnAmount()
    if terms.valid_to <= terms.valid_from:
        raise InvalidInput(N_("A coupon must end after it starts."))
    if terms.scope == Scope.store and (terms.store_id is None or not terms.store_name):
        raise InvalidInput(N_("A store coupon needs the store's id and name."))
    if terms.scope == Scope.platform and terms.store_id is not None:
        raise InvalidInput(N_("A platform coupon belongs to no store."))
    return terms
