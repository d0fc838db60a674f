"""Notification kinds. Each section's service declares the kinds of pushes it sends (`declare`:
key, label, category); its views register only how each renders (`views/pushes.register_push`).
Settings lists the ones with a label as toggles, delivery asks for a kind's category.

Categories decide how a kind is delivered:
- ``order``: order status, tracking, disputes, refunds — sent as soon as due, never held;
- ``message``: seller messages, review replies — never held either;
- ``reminder``: deadlines and suggestions — wait for the end of the user's quiet hours and are
  merged into at most one message a day (see `services/reminders.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# (conn, the outbox row, the chat, the Telegram message ids it went out as): in the unit of work
# that marks the row sent
OnSent = Callable[[Any, Any, int, Sequence[int]], Awaitable[None]]


class Category(str, Enum):
    order = "order"
    reminder = "reminder"
    message = "message"


@dataclass(frozen=True, slots=True)
class NotificationKind:
    key: str  # the outbox kind; short (it travels in callback data)
    label: str  # a msgid marked with N_; "" = no toggle in Settings (always delivered)
    order: int = 100
    category: Category = Category.order
    # what the kind's service records once Telegram accepted the push (the relay: where its copies
    # are, so a native reply finds the conversation)
    on_sent: OnSent | None = field(default=None, compare=False)

    @property
    def held(self) -> bool:
        """Whether quiet hours and the daily digest apply."""
        return self.category is Category.reminder


MAX_KEY_LENGTH = 40  # "st:tk:<key>" stays far below Telegram's 64 bytes of callback data

_KINDS: dict[str, NotificationKind] = {}


def register_kind(kind: NotificationKind) -> NotificationKind:
    if not kind.key or len(kind.key.encode()) > MAX_KEY_LENGTH or ":" in kind.key:
        raise ValueError(f"a notification kind is a short key without ':', got {kind.key!r}")
    _KINDS[kind.key] = kind
    return kind


def declare(key: str, label: str = "", *, category: Category = Category.order, order: int = 100,
            on_sent: OnSent | None = None) -> NotificationKind:
    """A section's kind, declared once in its service; its view registers only how it renders."""
    return register_kind(NotificationKind(key, label, order, category, on_sent))


def unregister_kind(key: str) -> None:
    _KINDS.pop(key, None)


def get(key: str) -> NotificationKind | None:
    return _KINDS.get(key)


def kinds() -> list[NotificationKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.key))


def toggles() -> list[NotificationKind]:
    """The kinds a user can turn off, in Settings order."""
    return [k for k in kinds() if k.label]


def reminder_kinds() -> list[str]:
    return [k.key for k in _KINDS.values() if k.held]
