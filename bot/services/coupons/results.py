"""What the coupon service returns: the wallet's tabs and pages, a certificate's card, what a
redeemed code gave, what a grant did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from bot.db.coupons import Certificate, Coupon, LedgerEntry

__all__ = [
    "CertificateCard",
    "Redeemed",
    "Tab",
    "WalletPage",
    "certificate_tab",
    "coupon_tab",
]


class Tab(str, Enum):
    active = "a"
    used = "u"
    expired = "e"

    @property
    def key(self) -> str:
        return self.name


Item = Coupon | Certificate


def certificate_tab(cert: Certificate, now: datetime) -> Tab:
    if cert.balance_minor <= 0:
        return Tab.used
    return Tab.expired if cert.is_expired(now) else Tab.active


def coupon_tab(coupon: Coupon, now: datetime) -> Tab:
    if coupon.status == "used":
        return Tab.used
    return Tab.expired if coupon.is_expired(now) else Tab.active


@dataclass(frozen=True, slots=True)
class WalletPage:
    tab: Tab
    page: int
    pages: int
    counts: dict[Tab, int]
    items: tuple[Item, ...]
    now: datetime
    first_index: int = 0  # the number of the first item on this page, from 0


@dataclass(frozen=True, slots=True)
class CertificateCard:
    certificate: Certificate
    history: tuple[LedgerEntry, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class Redeemed:
    """What a code put in the wallet: a coupon or a gift certificate."""

    coupon: Coupon | None = None
    certificate: Certificate | None = None


@dataclass(frozen=True, slots=True)
class GrantResult:
    granted: dict[int, int] = field(default_factory=dict)  # user id → coupon id
    unknown_users: tuple[int, ...] = ()
    already_had: tuple[int, ...] = ()  # one per user: they had this campaign's coupon
