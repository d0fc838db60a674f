"""Notification kinds are declared once, in the sections' services; views only say how they render."""

from __future__ import annotations

from bot.services import notifications
from bot.services.notifications import Category
from bot.views import pushes
from tests.conftest import App

SECTION_KINDS = {
    "order_status": Category.order, "order_tracking": Category.order, "dispute": Category.order,
    "dispute_return": Category.order,
    "refund": Category.order, "payment_checked": Category.order, "protection_ending": Category.reminder,
    "coupon_expiry": Category.reminder, "review_reply": Category.message, "review_deadline": Category.reminder,
    "level_changed": Category.order, "card_hold_released": Category.order, "card_expiry": Category.reminder,
    "relay": Category.message, "price_drop": Category.reminder, "seller_news": Category.order,
}


def test_every_kind_a_service_declares_has_a_view(app: App) -> None:
    declared = {k.key: k.category for k in notifications.kinds()}
    assert declared == SECTION_KINDS
    assert pushes.unrendered_kinds() == []


def test_a_kind_without_a_view_is_reported(app: App) -> None:
    notifications.declare("t_silent", "Test: silent")
    try:
        assert pushes.unrendered_kinds() == ["t_silent"]
    finally:
        notifications.unregister_kind("t_silent")
