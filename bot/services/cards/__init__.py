"""Bank cards: the wallet (at most 5, one default), adding a card through the gateway's card
session with a $1 verification hold, replacing and deleting; what the orders section needs to pay
and refund.

The card number and the CVC pass through here only as local values on their way to the gateway:
`CardNumber` hides its digits from repr and str, errors never carry them, and nothing here stores
them. What is stored is the gateway's token and fingerprint, the brand, the last 4 digits, the
expiry and the holder's name.
    policy.py    the wallet's numbers (limit, hold, checks an hour) and the push kinds
    brands.py    Brand, detect_brand        errors.py   what can go wrong (each with its msgid)
    expiry.py    when a card ends; the reminder before it
    parsing.py   the number (CardNumber), the expiry and the CVC as typed
    holder.py    the holder's name; transliteration to Latin
    results.py   what the service returns; CardUsage (which orders a card pays)
    service.py   CardService
"""

from __future__ import annotations

from bot.services.cards.brands import (
    BRAND_LENGTHS,
    Brand,
    detect_brand,
)
from bot.services.cards.errors import (
    AlreadyDefault,
    CardAlreadyDeleted,
    CardAlreadySaved,
    CardLimitReached,
    CardNotFound,
    CardSessionExpired,
    ExpiredCard,
    HolderNeedsLatin,
    InvalidCardNumber,
    InvalidCvc,
    InvalidExpiry,
    InvalidHolder,
    PaymentDeclined,
    TooManyChecks,
)
from bot.services.cards.expiry import (
    is_expired,
    plan_expiry_reminder,
    valid_until,
)
from bot.services.cards.holder import (
    parse_holder,
    transliterate,
)
from bot.services.cards.parsing import (
    CardNumber,
    cvc_length,
    looks_like_card_number,
    parse_cvc,
    parse_expiry,
    parse_number,
)
from bot.services.cards.policy import (
    CARD_LIMIT,
    EXPIRY_KIND,
    EXPIRY_NOTICE,
    HOLD_AMOUNT_MINOR,
    HOLD_CURRENCY,
    HOLD_RELEASE_AFTER,
    HOLD_RELEASED_KIND,
    HOLD_RETRY_AFTER,
    HOLDER_MAX,
    MAX_YEARS_AHEAD,
    VERIFY_LIMIT,
    VERIFY_WINDOW,
)
from bot.services.cards.results import (
    REPLACEMENTS_FOLLOWED,
    AddOutcome,
    AddRefused,
    Card,
    CardStatus,
    CardUsage,
    CardUsageSummary,
    Deleted,
    NoCardUsage,
    NumberAccepted,
    card_of,
    next_default,
)
from bot.services.cards.service import (
    CardService,
)

__all__ = [
    "BRAND_LENGTHS",
    "CARD_LIMIT",
    "EXPIRY_KIND",
    "EXPIRY_NOTICE",
    "HOLDER_MAX",
    "HOLD_AMOUNT_MINOR",
    "HOLD_CURRENCY",
    "HOLD_RELEASED_KIND",
    "HOLD_RELEASE_AFTER",
    "HOLD_RETRY_AFTER",
    "MAX_YEARS_AHEAD",
    "REPLACEMENTS_FOLLOWED",
    "VERIFY_LIMIT",
    "VERIFY_WINDOW",
    "AddOutcome",
    "AddRefused",
    "AlreadyDefault",
    "Brand",
    "Card",
    "CardAlreadyDeleted",
    "CardAlreadySaved",
    "CardLimitReached",
    "CardNotFound",
    "CardNumber",
    "CardService",
    "CardSessionExpired",
    "CardStatus",
    "CardUsage",
    "CardUsageSummary",
    "Deleted",
    "ExpiredCard",
    "HolderNeedsLatin",
    "InvalidCardNumber",
    "InvalidCvc",
    "InvalidExpiry",
    "InvalidHolder",
    "NoCardUsage",
    "NumberAccepted",
    "PaymentDeclined",
    "TooManyChecks",
    "card_of",
    "cvc_length",
    "detect_brand",
    "is_expired",
    "looks_like_card_number",
    "next_default",
    "parse_cvc",
    "parse_expiry",
    "parse_holder",
    "parse_number",
    "plan_expiry_reminder",
    "transliterate",
    "valid_until",
]
