"""What a relayed text or caption may not carry (pure): card numbers — the card-number guard's
rule (`services/card_numbers.py`) — and one-time codes: 4–8 digits after a word such as "code",
"код", "SMS", "пароль". Their digits become "•"; the rest of the text stays. The result says what
was masked, so the sender can be told why (`MASK_REASONS`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.services.card_numbers import card_number_spans
from bot.services.errors import N_

MASK = "•"


class Masked(StrEnum):
    card = "card"
    code = "code"


MASK_REASONS = {
    Masked.card: N_("A card number was hidden: never send card numbers in messages."),
    Masked.code: N_("A one-time code was hidden: never share codes from SMS with anyone."),
}

# a keyword, then up to 24 characters without digits on the same line (": ", " from the SMS is "),
# then the code: 4–8 digits, possibly in two groups ("123 456"), not part of a longer number
_KEYWORDS = (
    r"codes?|passcode|passwords?|pin|otp|sms|"
    r"код(?:а|у|ом|е|ы|ов)?|смс|sms-код|пароль|пароля|паролем|пин(?:-код)?"
)
_CODE = re.compile(
    rf"(?<!\w)(?:{_KEYWORDS})(?!\w)[^\d\n]{{0,24}}?(?<!\d)(\d{{4,8}}|\d{{3,4}}[ \-]\d{{3,4}})(?!\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Guarded:
    text: str
    masked: frozenset[Masked]

    @property
    def reasons(self) -> list[str]:
        """The msgids that tell the sender why, in a stable order."""
        return [MASK_REASONS[k] for k in Masked if k in self.masked]


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i].isdigit():
                chars[i] = MASK
    return "".join(chars)


def guard(text: str) -> Guarded:
    if not text:
        return Guarded(text or "", frozenset())
    masked: set[Masked] = set()
    cards = card_number_spans(text)
    if cards:
        masked.add(Masked.card)
        text = _blank(text, cards)
    codes = [match.span(1) for match in _CODE.finditer(text)]
    if codes:
        masked.add(Masked.code)
        text = _blank(text, codes)
    return Guarded(text, frozenset(masked))
