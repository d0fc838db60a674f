"""What can go wrong with a card (each error with its msgid), the bank's declines among them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.integrations.payments import DeclineReason
from bot.services.cards.policy import CARD_LIMIT
from bot.services.errors import N_, DomainError, InvalidInput, NotFound

if TYPE_CHECKING:
    pass

__all__ = [
    "GATEWAY_NO_ANSWER",
    "AlreadyDefault",
    "CardAlreadyDeleted",
    "CardAlreadySaved",
    "CardLimitReached",
    "CardNotFound",
    "CardSessionExpired",
    "ExpiredCard",
    "HolderNeedsLatin",
    "InvalidCardNumber",
    "InvalidCvc",
    "InvalidExpiry",
    "InvalidHolder",
    "PaymentDeclined",
    "TooManyChecks",
]


class InvalidCardNumber(InvalidInput, msgid=N_("There is no such card: the number has a typo. Check it digit by digit and send it again.")): ...


class InvalidExpiry(InvalidInput, msgid=N_("Send the expiry date as it is on the card: month and year, for example 05/28.")): ...


class InvalidHolder(InvalidInput, msgid=N_("Type the name as it is printed on the card, in Latin letters, for example IVAN PETROV.")): ...


class HolderNeedsLatin(InvalidHolder, msgid=N_("The name on a bank card is in Latin letters (A–Z). Type it as it is printed on your card.")):
    def __init__(self, offer: str | None) -> None:
        super().__init__()
        self.offer = offer  # a transliteration the user may take with one tap


class InvalidCvc(InvalidInput, msgid=N_("The CVC is the 3 digits on the back of the card, next to the signature strip.")): ...


class CardNotFound(NotFound, msgid=N_("This card is no longer available.")): ...


class CardAlreadyDeleted(NotFound, msgid=N_("This card has already been deleted.")): ...


class CardLimitReached(DomainError, msgid=N_("You already have {limit} cards, the most a wallet can hold. Delete one to add another.")):
    def __init__(self) -> None:
        super().__init__(limit=CARD_LIMIT)


class CardAlreadySaved(DomainError, msgid=N_("This card is already in your wallet. If the bank reissued it with "
                                             "a new expiry date, open it and choose Replace.")): ...


class CardSessionExpired(DomainError, msgid=N_("For your safety the card number is kept only for a few minutes, "
                                               "and it is gone now. Please send the card number again.")): ...


class TooManyChecks(DomainError, msgid=N_("Too many card checks in a short time. For your safety, please try again in an hour.")): ...


class AlreadyDefault(DomainError, msgid=N_("This card is already your default.")): ...


class ExpiredCard(DomainError, msgid=N_("This card has expired. Add a new card, or replace this one.")): ...


GATEWAY_NO_ANSWER = N_("The payment service did not answer. Nothing was charged; please try again in a few minutes.")

_DECLINE_MSGIDS: dict[DeclineReason, str] = {
    DeclineReason.insufficient_funds: N_("The bank declined the card: there isn't enough money on it."),
    DeclineReason.declined: N_("The bank declined the card. Your bank can tell you why: call the number on the back of the card."),
    DeclineReason.expired_card: N_("The bank says this card has expired."),
    DeclineReason.incorrect_cvc: N_("The bank says the CVC is wrong."),
    DeclineReason.processing_error: GATEWAY_NO_ANSWER,
}


class PaymentDeclined(DomainError):
    def __init__(self, reason: DeclineReason) -> None:
        super().__init__(_DECLINE_MSGIDS[reason])
        self.reason = reason

    @property
    def may_retry(self) -> bool:
        """Send the CVC again (a wrong CVC, a temporary failure) rather than another card."""
        return self.reason in (DeclineReason.incorrect_cvc, DeclineReason.processing_error)
