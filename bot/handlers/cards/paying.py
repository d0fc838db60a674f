"""Paying an order with a new card: the add-card flow started from Pay (bot/handlers/pay.py), and
the screen its end shows. What happens to the card and the order is the service's rule
(`PayService.new_card`); here it is only shown."""

from __future__ import annotations

from bot.handlers.cards.steps import (
    PAY_NUMBER,
    CardContext,
    join,
    wallet_screen,
)
from bot.keyboards.orders import OrderAction, OrderCb, Tab
from bot.services.cards import PaymentDeclined
from bot.services.errors import DomainError, NotFound
from bot.services.orders import OrderService
from bot.services.pay import NewCard, PaymentBeingChecked, PayService
from bot.views import cards as views
from bot.views import orders as order_views
from bot.views import pay as pay_views
from bot.views.common import Screen


async def pay_choice(flow: CardContext, pay: PayService, order_id: int, tab: Tab, page: int,
                      note: str | None = None) -> Screen:
    """Back to choosing a card for the order (or the wallet, when the order can't be paid now)."""
    try:
        options = await pay.options(flow.user.id, order_id)
    except DomainError as exc:
        return await wallet_screen(flow, note=join(note, flow.f.error(exc)))
    return pay_views.choose(options, flow.f, tab, page, note=note)


async def new_card_screen(flow: CardContext, pay: PayService, orders: OrderService, result: NewCard,
                          warning: str | None) -> Screen:
    """The flow's last screen, once the card is verified: the wallet with what became of the card;
    when the flow was started to pay an order, the order (paid, or why not) or, when the card was
    refused, the choice of a card again."""
    f = flow.f
    order_id, tab, page = flow.pays, flow.pay_tab, flow.pay_page
    if result.refused is not None:
        refused = result.refused
        note = join(warning, views.refused_note(f.error(refused.error), refused.hold_minor, refused.hold_currency, f))
        if order_id:
            return await pay_choice(flow, pay, order_id, tab, page, note=note)
        return await wallet_screen(flow, note=note)
    note = join(warning, views.added_note(result.saved, f) if result.saved is not None else None)
    if not order_id:
        return await wallet_screen(flow, note=note)
    return await _order_screen(flow, orders, order_id, result, tab, page, note)


async def _order_screen(flow: CardContext, orders: OrderService, order_id: int, result: NewCard, tab: Tab, page: int,
                        note: str) -> Screen:
    """The order the new card paid for — or tried to."""
    f = flow.f
    back = OrderCb(action=OrderAction.open, id=order_id, tab=tab, page=page)
    exc = result.failed
    if isinstance(exc, PaymentDeclined):
        number = str(flow.data.get(PAY_NUMBER, ""))
        screen = pay_views.declined(order_id, number, f.error(exc), f, tab, page)
        return pay_views.with_note(note, screen) if note else screen
    if exc is not None:  # paid meanwhile, cancelled by the clock…
        try:
            card = await orders.card(flow.user.id, order_id)
        except NotFound:
            return await wallet_screen(flow, note=join(note, f.error(exc)))
        icon = "⏳ " if isinstance(exc, PaymentBeingChecked) else "⚠️ "  # (being checked: it may be charged)
        return pay_views.with_note(join(note, icon + f.error(exc)), order_views.order_card(card, f, back))
    assert result.paid is not None
    card = await orders.card(flow.user.id, order_id)
    return pay_views.with_note(join(note, pay_views.paid_note(result.paid, f)), order_views.order_card(card, f, back))
