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

from bot.services.cards.brands import *  # noqa: F403
from bot.services.cards.errors import *  # noqa: F403
from bot.services.cards.expiry import *  # noqa: F403
from bot.services.cards.holder import *  # noqa: F403
from bot.services.cards.parsing import *  # noqa: F403
from bot.services.cards.policy import *  # noqa: F403
from bot.services.cards.results import *  # noqa: F403
from bot.services.cards.service import *  # noqa: F403
