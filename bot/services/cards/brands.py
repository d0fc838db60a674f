"""Card brands: which brand a number belongs to (by its prefix ranges) and the lengths it may have."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

__all__ = [
    "Brand", "detect_brand",
]


class Brand(StrEnum):
    mir = "mir"
    visa = "visa"
    mastercard = "mastercard"
    amex = "amex"
    unionpay = "unionpay"
    maestro = "maestro"
    jcb = "jcb"


BRAND_LENGTHS: dict[Brand, tuple[int, ...]] = {
    Brand.mir: (16, 17, 18, 19),
    Brand.visa: (13, 16, 19),
    Brand.mastercard: (16,),
    Brand.amex: (15,),
    Brand.unionpay: (16, 17, 18, 19),
    Brand.maestro: tuple(range(12, 20)),
    Brand.jcb: (16, 17, 18, 19),
}

# (first, last, brand) over prefixes of one length; longer prefixes are tried first, so the most
# specific range wins (Mir 2200–2204 before anything starting with 2, Maestro 6304 before 6…).
_RANGES: tuple[tuple[int, tuple[tuple[int, int, Brand], ...]], ...] = (
    (4, (
        (2200, 2204, Brand.mir),
        (2221, 2720, Brand.mastercard),
        (3528, 3589, Brand.jcb),
        (6304, 6304, Brand.maestro),
    )),
    (3, ((639, 639, Brand.maestro),)),
    (2, (
        (34, 34, Brand.amex),
        (37, 37, Brand.amex),
        (50, 50, Brand.maestro),
        (51, 55, Brand.mastercard),
        (56, 58, Brand.maestro),
        (62, 62, Brand.unionpay),
        (67, 67, Brand.maestro),
    )),
    (1, ((4, 4, Brand.visa),)),
)


def detect_brand(digits: str) -> Brand | None:
    """The brand from the number's prefix, most specific first; None for a card we don't take."""
    for length, ranges in _RANGES:
        if len(digits) < length or not digits[:length].isdigit():
            continue
        prefix = int(digits[:length])
        for first, last, brand in ranges:
            if first <= prefix <= last:
                return brand
    return None
