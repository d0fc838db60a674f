"""Where a card number hides in what a user typed: the rule behind the guard that keeps card
numbers out of everything but the card flow's number step (bot/middlewares/card_guard.py).

Pure: text in, yes or no out.

A card number is a run of 13 to 19 digits that passes the Luhn check, written plain or in groups
with spaces or dashes between them (“4111 1111 1111 1111”, “4111-1111-1111-1111”). Groups are
tried as consecutive windows, so a number followed by an expiry or a code in the same message
(“4111 1111 1111 1111 05 28”) is still found. A run written as an international phone number
(“+86 138 0013 8000”) is not a card number: no card is written with a leading +.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MIN_DIGITS, MAX_DIGITS = 13, 19

_DIGITS = "0-9"  # ASCII digits only: that is how card numbers are typed and pasted
# groups of digits joined by up to three spaces or dashes (" – "; a hyphen or the dashes phones type)
_RUN = re.compile(rf"(?<![{_DIGITS}])[{_DIGITS}]+(?:[ \t\u00a0\-\u2010\u2011\u2012\u2013\u2014]{{1,3}}[{_DIGITS}]+)*")
_GROUP = re.compile(rf"[{_DIGITS}]+")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """True when `text` holds a Luhn-valid run of 13–19 digits (spaces and dashes allowed
    between them), not written as an international phone number."""
    return next(_card_runs(text), None) is not None


def card_number_spans(text: str) -> list[tuple[int, int]]:
    """Where `contains_card_number` finds card numbers: (start, end) of each run of digit groups
    that holds one (the relay masks them)."""
    return list(_card_runs(text))


def _card_runs(text: str) -> Iterator[tuple[int, int]]:
    if not text:
        return
    for run in _RUN.finditer(text):
        if run.start() > 0 and text[run.start() - 1] == "+":
            continue
        groups = _GROUP.findall(run.group())
        if sum(map(len, groups)) < MIN_DIGITS:
            continue
        if _holds_card(groups):
            yield run.span()


def _holds_card(groups: list[str]) -> bool:
    for first in range(len(groups)):
        digits = ""
        for group in groups[first:]:
            digits += group
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS and luhn_ok(digits):
                return True
    return False
