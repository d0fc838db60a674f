"""What can go wrong with a code, a coupon or a certificate: the errors (each with its msgid), and
`Why` a coupon does not apply to an order."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from bot.services.errors import N_, DomainError, InvalidInput, NotFound

__all__ = [
    "AlreadySpent",
    "CampaignTaken",
    "CertificateCurrency",
    "CertificateExpired",
    "CertificateNotFound",
    "CertificateOtherShop",
    "CodeAlreadyYours",
    "CodeExpired",
    "CodeForeign",
    "CodeFormat",
    "CodeNotYetValid",
    "CodeUnknown",
    "CodeUsedUp",
    "CouponAlreadyUsed",
    "CouponCombination",
    "CouponNotFound",
    "CouponNotUsable",
    "NotAnAmount",
    "NotEnoughBalance",
    "OfferAlreadyCollected",
    "OfferGone",
    "OfferSoldOut",
    "RefundTooLarge",
    "TooManyAttempts",
    "Why",
]


class CouponNotFound(NotFound, msgid=N_("This coupon is no longer available.")): ...


class CertificateNotFound(NotFound, msgid=N_("This gift certificate is no longer available.")): ...


class CodeFormat(InvalidInput, msgid=N_("That doesn't look like a code: a code is 4 to 32 Latin letters and digits.")): ...


class NotAnAmount(InvalidInput, msgid=N_("That is not an amount.")): ...


class CodeUnknown(DomainError, msgid=N_("There is no such code. Check the letters and digits and try again.")): ...


class CodeUsedUp(DomainError, msgid=N_("This code has already been used.")): ...


class CodeAlreadyYours(DomainError, msgid=N_("You have already added this code: it is in My coupons.")): ...


class CodeExpired(DomainError, msgid=N_("This code expired on {date}.")): ...


class CodeNotYetValid(DomainError, msgid=N_("This code can be added from {date}.")): ...


class CodeForeign(DomainError, msgid=N_("This code was issued to another account, so it can't be added here.")): ...


class CampaignTaken(DomainError, msgid=N_("You already have this coupon: it is one per customer.")): ...


class TooManyAttempts(DomainError, msgid=N_("Too many wrong codes. Please try again later.")):
    def __init__(self, retry_at: datetime) -> None:
        super().__init__()
        self.retry_at = retry_at


class OfferGone(NotFound, msgid=N_("This store coupon is no longer available.")): ...


class OfferSoldOut(DomainError, msgid=N_("All coupons of this store have been collected.")): ...


class OfferAlreadyCollected(DomainError, msgid=N_("You have already collected this coupon.")): ...


class CouponAlreadyUsed(DomainError, msgid=N_("This coupon has already been used.")): ...


class CouponNotUsable(DomainError):
    """A coupon that does not apply to this order; `why` says what is wrong."""

    def __init__(self, why: Why) -> None:
        super().__init__(WHY_MSGIDS[why])
        self.why = why


class CouponCombination(DomainError, msgid=N_("An order takes one store coupon and one platform coupon at most.")): ...


class CertificateExpired(DomainError, msgid=N_("This gift certificate has expired.")): ...


class CertificateCurrency(DomainError, msgid=N_("This gift certificate pays only for orders in {currency}.")): ...


class CertificateOtherShop(DomainError, msgid=N_("This gift certificate pays only in the stores of {shop}.")): ...


class NotEnoughBalance(DomainError, msgid=N_("There is not enough money left on this gift certificate.")): ...


class AlreadySpent(DomainError, msgid=N_("This gift certificate has already paid for this order.")): ...


class RefundTooLarge(DomainError, msgid=N_("The refund is larger than what gift certificates paid for this order.")): ...


# -- why a coupon does not apply ---------------------------------------------------------------

class Why(str, Enum):
    """Why a coupon does not apply to an order."""

    used = "used"
    not_yet = "not_yet"
    expired = "expired"
    currency = "currency"
    other_store = "other_store"
    minimum = "minimum"
    category = "category"
    new_buyers = "new_buyers"


WHY_MSGIDS: dict[Why, str] = {
    Why.used: CouponAlreadyUsed.msgid,
    Why.not_yet: N_("This coupon is not valid yet."),
    Why.expired: N_("This coupon has expired."),
    Why.currency: N_("This coupon is for orders in another currency."),
    Why.other_store: N_("This coupon works only in its own store."),
    Why.minimum: N_("The order is below this coupon's minimum."),
    Why.category: N_("The order has no item of this coupon's category."),
    Why.new_buyers: N_("This coupon is for new buyers only."),
}
