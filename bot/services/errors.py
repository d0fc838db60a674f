"""Domain errors carry a msgid (marked with N_ so it is extracted) and format arguments.
Views translate them; services never format for people."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


class DomainError(Exception):
    """`class Gone(NotFound, msgid=N_("…")): ...` declares an error with its sentence."""

    msgid: str = N_("This action is not possible right now.")

    def __init_subclass__(cls, msgid: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if msgid is not None:
            cls.msgid = msgid

    def __init__(self, msgid: str | None = None, **params: Any) -> None:
        if msgid is not None:
            self.msgid = msgid
        self.params = params
        super().__init__(self.msgid)

    @property
    def english(self) -> str:
        """The English msgid with its parameters: for operators' terminals and API clients."""
        return self.msgid.format(**self.params) if self.params else self.msgid


class NotFound(DomainError, msgid=N_("This item is no longer available.")): ...


class InvalidInput(DomainError):
    msgid = N_("That doesn't look right. Please try again.")
