"""Notification kinds. Each section registers the kinds of pushes it sends; Settings lists them.
Per-kind preferences and delivery come with the reminders section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NotificationKind:
    key: str
    label: str  # a msgid marked with N_
    order: int = 100


_KINDS: dict[str, NotificationKind] = {}


def register_kind(kind: NotificationKind) -> NotificationKind:
    _KINDS[kind.key] = kind
    return kind


def kinds() -> list[NotificationKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.key))
