"""Checkout (issue 17), one table on the flow engine:

    quantity (Buy now only) → shipping address → coupons → card → summary → Place order

(no card step when gift certificates pay the whole order)

Started by ⚡ Buy now on a product card (its chosen options) or ✅ Check out on a store's part of
the cart. Preselected: the default address, the best coupons (the coupons engine's plan), the
default card. "➕ New address" opens the address form, "➕ New card" the card flow (the card is
saved), and each comes back with what it made chosen (bot/handlers/returns.py); with a full
wallet the new card pays this order just this once: Place order hands the order to the pay
section's new-card flow, which pays it. Every step has Back and
Cancel; the summary has "✏️ <field>" and says when a price changed since the buyer saw it.

The coupons step also shows what the buyer's gift certificates pay (what the coupons leave, the
soonest to expire first) and switches them off or on; the card pays the rest.

Place order creates the order (its coupons marked used, its certificates' part spent, the cart
lines removed) and writes its id into the draft in one unit of work, then pays the rest with the
chosen card (`PayService.pay`: one idempotency key per order and attempt) — or nothing, when the
certificates paid it all. A crash between the two, or a second press, pays the same order, never a
second one. A decline leaves the order unpaid in My orders with the bank's reason. When the
amounts changed since the summary was drawn (a price, a certificate spent elsewhere), Place order
shows the summary again with why, and places nothing.
"""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.db.engine import Database
from bot.db.users import UserRow
from bot.handlers import returns
from bot.handlers.answers import alert, refusals
from bot.handlers.common import show
from bot.handlers.flow import (
    EDITING,
    Button,
    Done,
    Draft,
    Flow,
    Retry,
    Stale,
    Step,
    Summary,
    deliver,
    unchanged,
)
from bot.handlers.routing import Handlers
from bot.keyboards.catalog import (
    CartCheckoutCb,
    CheckoutAction,
    CheckoutCb,
    CheckoutField,
    ProductAction,
    ProductCb,
    ShopAction,
    ShopCb,
    Src,
)
from bot.keyboards.orders import OrderAction, OrderCb, Tab
from bot.services.addresses import AddressNotFound, AddressService
from bot.services.cards import CardService, PaymentDeclined
from bot.services.catalog.checkout import BadQuantity, CheckoutService, Item, Quote, check_quantity
from bot.services.catalog.kept import KeptService
from bot.services.catalog.products import CatalogService
from bot.services.errors import N_, DomainError
from bot.services.orders import OrderService
from bot.services.pay import PaymentBeingChecked, PayService
from bot.views import catalog as catalog_views
from bot.views import checkout as views
from bot.views import orders as order_views
from bot.views import pay as pay_views
from bot.views.common import Fmt, Screen

router = Handlers("checkout")
# a refused button (nothing left to check out, products in two currencies, no longer sold): why, in an
# alert; the screen it was pressed on stays
refusals(router.callback_query, alert)

ITEMS, SOURCE, ADDRESS, COUPONS, CARD, ORDER, BACK = "items", "source", "address", "coupons", "card", "order", "back"
CERTIFICATES = "certificates"  # False: the buyer switched gift certificates off
COVERED = "covered"  # gift certificates pay it all: no card step (set before each step is shown)
SHOWN = "shown"  # [total, card part] as the summary showed them: Place order places that, or says why not
CHOSEN = "coupons_chosen"  # the buyer switched coupons: no longer the engine's best plan
PRODUCT, CART = "product", "cart"
NAME = "checkout"  # its slot while the address form or the card flow runs (bot/handlers/returns.py)
FROM_ADDRESS, FROM_CARD = "checkout.address", "checkout.card"  # where each comes back
CLOSED = N_("This checkout is closed. Open the product or the cart to check out again.")
PAUSED = N_("This checkout waits for the address or card you are adding: save it, or leave the form, and the "
            "checkout goes on.")


class CheckoutFlow(StatesGroup):
    quantity = State()
    address = State()
    coupons = State()
    card = State()
    summary = State()


def items_of(draft: Draft) -> list[Item]:
    return [Item.of(raw) for raw in draft.get(ITEMS) or []]


def _coupons(draft: Draft) -> list[int]:
    return [int(i) for i in draft.get(COUPONS) or []]


def _step(draft: Draft, state: State) -> tuple[int, int]:
    steps = [s for s in FLOW.steps if s.applies(draft)]
    index = next((n for n, s in enumerate(steps, 1) if s.state == state), 1)
    return index, len(steps)


def _certificates(draft: Draft) -> bool:
    return draft.get(CERTIFICATES) is not False


async def _quote(draft: Draft, user: UserRow, checkout: CheckoutService, *, coupons: bool = True) -> Quote:
    return await checkout.quote(user.id, items_of(draft), _coupons(draft) if coupons else [],
                                certificates=coupons and _certificates(draft))


# -- prompts (they read what they show, then draw it with the pure views) ------------------------
async def ask_quantity(f: Fmt, draft: Draft, error: str | None, user: UserRow, checkout: CheckoutService) -> Screen:
    step, steps = _step(draft, CheckoutFlow.quantity)
    return views.quantity_screen(f, await _quote(draft, user, checkout, coupons=False),
                                 quantity=items_of(draft)[0].quantity, step=step, steps=steps, error=error)


async def ask_address(f: Fmt, draft: Draft, error: str | None, user: UserRow, checkout: CheckoutService,
                      addresses: AddressService) -> Screen:
    step, steps = _step(draft, CheckoutFlow.address)
    book = await addresses.list(user.id)
    return views.address_screen(f, await _quote(draft, user, checkout, coupons=False), book,
                                chosen=int(draft.get(ADDRESS) or 0), step=step, steps=steps,
                                room=await addresses.has_room(user.id), error=error)


async def ask_coupons(f: Fmt, draft: Draft, error: str | None, user: UserRow, checkout: CheckoutService) -> Screen:
    step, steps = _step(draft, CheckoutFlow.coupons)
    applies = await checkout.coupons_for(user.id, items_of(draft))
    quote = await _quote(draft, user, checkout)
    # what the certificates would pay when switched off (0: there are none for this order)
    could = quote if _certificates(draft) else await checkout.quote(user.id, items_of(draft), _coupons(draft))
    return views.coupons_screen(f, quote, applies, chosen=_coupons(draft), certificates_could=could.certificates_minor,
                                step=step, steps=steps, error=error)


async def ask_card(f: Fmt, draft: Draft, error: str | None, user: UserRow, checkout: CheckoutService,
                   cards: CardService) -> Screen:
    step, steps = _step(draft, CheckoutFlow.card)
    chosen = draft.get(CARD)
    return views.card_screen(f, await _quote(draft, user, checkout), await cards.wallet(user.id),
                             chosen=None if chosen is None else int(chosen), step=step, steps=steps, error=error)


async def ask_summary(f: Fmt, draft: Draft, error: str | None, user: UserRow, checkout: CheckoutService,
                      addresses: AddressService, cards: CardService) -> Screen:
    quote = await _quote(draft, user, checkout)
    try:
        address = await addresses.get(user.id, int(draft.get(ADDRESS) or 0))
    except AddressNotFound:
        address = None
    card_id = int(draft.get(CARD) or 0)
    card = next((c for c in await cards.wallet(user.id) if c.id == card_id), None)
    return views.summary_screen(f, quote, address=address, card=card, new_card=card_id == 0,
                                product=draft.get(SOURCE) == PRODUCT, error=error)


async def arrive(target: State, draft: Draft, f: Fmt, user: UserRow, checkout: CheckoutService,
                 addresses: AddressService, cards: CardService) -> tuple[State, Draft, dict[str, Any]]:
    """Before a step is shown: what it needs is still there — an address chosen before the card and
    the summary; the coupons: the best plan for the items as they are now until the buyer chooses,
    and those chosen still applying (else the best ones again, and why); whether gift certificates
    pay it all (then no card is asked); a card still usable; the amounts the summary shows."""
    shown: dict[str, Any] = {}
    order = [CheckoutFlow.quantity, CheckoutFlow.address, CheckoutFlow.coupons, CheckoutFlow.card,
             CheckoutFlow.summary]
    if order.index(target) > order.index(CheckoutFlow.address):
        try:
            await addresses.get(user.id, int(draft.get(ADDRESS) or 0))
        except AddressNotFound:
            return CheckoutFlow.address, {**draft, EDITING: False}, shown
    if order.index(target) >= order.index(CheckoutFlow.coupons):
        if not draft.get(CHOSEN):  # the best plan for the items as they are now (a quantity changed)
            best = (await checkout.coupons_for(user.id, items_of(draft))).best
            draft = {**draft, COUPONS: list(best.coupon_ids)}
        try:
            quote = await _quote(draft, user, checkout)
        except DomainError as exc:  # used meanwhile, expired, or no longer fits the amount
            best = (await checkout.coupons_for(user.id, items_of(draft))).best
            draft = {**draft, COUPONS: list(best.coupon_ids), CHOSEN: False}
            shown["error"] = f.error(exc)
            quote = await _quote(draft, user, checkout)
        draft = {**draft, COVERED: quote.card_minor == 0, SHOWN: [quote.total_minor, quote.card_minor]}
        if target == CheckoutFlow.card and draft[COVERED]:
            target = CheckoutFlow.summary
    if target == CheckoutFlow.summary and draft.get(COVERED):
        return target, draft, shown
    if target == CheckoutFlow.summary and draft.get(CARD) is None:  # no card chosen yet
        return CheckoutFlow.card, {**draft, EDITING: False}, shown
    if target == CheckoutFlow.summary and int(draft.get(CARD) or 0):
        wallet = {c.id: c for c in await cards.wallet(user.id)}
        card = wallet.get(int(draft.get(CARD) or 0))
        if card is None or card.expired:
            return CheckoutFlow.card, {**draft, CARD: None, EDITING: False}, shown
    return target, draft, shown


# -- parsers --------------------------------------------------------------------------------------
def _with_quantity(draft: Draft, quantity: int) -> Draft:
    first, *rest = items_of(draft)
    item = Item(first.product_id, first.options, check_quantity(quantity), first.seen_minor, first.cart_line)
    return {**draft, ITEMS: [i.as_json() for i in (item, *rest)]}


def quantity_typed(text: str, draft: Draft, f: Fmt) -> Draft:
    digits = text.strip()
    if not digits.isdigit() or len(digits) > 3:
        raise Retry(f.error(BadQuantity(max=99)))
    return _with_quantity(draft, int(digits))


def quantity_pressed(value: int, draft: Draft, f: Fmt) -> Draft:
    if not 1 <= value <= 5:
        raise Stale()
    return _with_quantity(draft, value)


async def address_pressed(value: int, draft: Draft, f: Fmt, user: UserRow, addresses: AddressService) -> Draft:
    try:
        await addresses.get(user.id, value)
    except AddressNotFound as exc:
        raise Retry(f.error(exc)) from None
    return {**draft, ADDRESS: value}


async def new_address(value: int, draft: Draft, f: Fmt, state: FSMContext, db: Database, user: UserRow,
                      addresses: AddressService) -> Draft:
    """Checkout waits in its own slot; the address form opens, marked to come back here."""
    from bot.handlers.addresses.form import FLOW as ADDRESS_FORM
    from bot.handlers.addresses.form_steps import ADDRESS_ID

    await addresses.ensure_room(user.id)
    async with db.write():
        await returns.stash(state, NAME).set_data({"draft": draft})
        screens = await ADDRESS_FORM.start(state, db, {ADDRESS_ID: 0, returns.RETURN: FROM_ADDRESS}, f)
    raise Done(*(screens if isinstance(screens, tuple) else (screens,)))


async def new_card(value: int, draft: Draft, f: Fmt, state: FSMContext, db: Database, user: UserRow,
                   cards: CardService) -> Draft:
    """A new card saved through the card flow, which comes back here with it chosen. A full wallet:
    the card pays this order just this once (the pay section's new-card flow, after Place order)."""
    from bot.handlers.cards.add_flow import FLOW as CARD_FLOW
    from bot.handlers.cards.steps import CardFlow

    if not await cards.has_room(user.id):
        return {**draft, CARD: 0}
    async with db.write():
        await returns.stash(state, NAME).set_data({"draft": draft})
        screen = await CARD_FLOW.go(CardFlow.number, state, db, {returns.RETURN: FROM_CARD}, f, cards=cards,
                                    user=user)
    raise Done(*(screen if isinstance(screen, tuple) else (screen,)))


async def coupon_switched(value: int, draft: Draft, f: Fmt, user: UserRow, checkout: CheckoutService) -> Draft:
    chosen = _coupons(draft)
    chosen = [c for c in chosen if c != value] if value in chosen else [*chosen, value]
    try:
        await checkout.quote(user.id, items_of(draft), chosen)
    except DomainError as exc:  # not theirs, not for this order, or not with the other one
        raise Retry(f.error(exc)) from None
    return {**draft, COUPONS: chosen, CHOSEN: True}


def no_coupons(value: int, draft: Draft, f: Fmt) -> Draft:
    return {**draft, COUPONS: [], CHOSEN: True}


def certificates_switched(value: int, draft: Draft, f: Fmt) -> Draft:
    return {**draft, CERTIFICATES: bool(value)}


async def card_pressed(value: int, draft: Draft, f: Fmt, user: UserRow, cards: CardService) -> Draft:
    if value:
        card = next((c for c in await cards.wallet(user.id) if c.id == value), None)
        if card is None or card.expired:
            raise Retry(f._("This card can't pay: choose another one."))
    return {**draft, CARD: value}


# -- the end --------------------------------------------------------------------------------------
def _order_cb(order_id: int) -> OrderCb:
    return OrderCb(action=OrderAction.open, id=order_id, tab=Tab.all, page=0)


async def place_order(query: CallbackQuery, draft: Draft, state: FSMContext, db: Database, user: UserRow,
                      checkout: CheckoutService, pay: PayService, orders: OrderService, cards: CardService,
                      f: Fmt, **data: Any) -> None:
    order_id = int(draft.get(ORDER) or 0)
    if not order_id:
        try:
            async with db.write():  # the order and the draft that knows it: one unit of work
                shown = draft.get(SHOWN)
                order = await checkout.place(user.id, items_of(draft), address_id=int(draft.get(ADDRESS) or 0),
                                             coupon_ids=_coupons(draft), certificates=_certificates(draft),
                                             expected=(int(shown[0]), int(shown[1])) if shown else None,
                                             locale=f.locale)
                await state.update_data({ORDER: order.id})
        except DomainError as exc:  # a product gone, a coupon used meanwhile: the summary, with why
            await deliver(query, await FLOW.go(CheckoutFlow.summary, state, db, draft, f, f.error(exc), user=user,
                                               checkout=checkout, cards=cards, **data))
            return
        order_id = order.id
    placed = await orders.card(user.id, order_id)
    if placed.order.paid_at is not None:  # gift certificates paid it all (or a press before this one did)
        async with db.write():
            await state.clear()
        note = views.placed_paid_note(f, placed.order.number)
        await show(query, pay_views.with_note(note, order_views.order_card(placed, f, _order_cb(order_id))))
        return
    if not int(draft.get(CARD) or 0):  # a new card: the pay section's flow pays this order
        async with db.write():
            await state.clear()
        options = await pay.options(user.id, order_id)
        await show(query, pay_views.new_card(options.order, f, Tab.all, 0, wallet_full=options.wallet_full))
        return
    note = None
    try:
        paid = await pay.pay(user.id, order_id, int(draft.get(CARD) or 0))
        note = views.placed_note(f, paid.order.number) + "\n" + pay_views.paid_note(paid, f)
    except PaymentDeclined as exc:  # the order waits unpaid in My orders, with the bank's reason
        async with db.write():
            await state.clear()
        card = await orders.card(user.id, order_id)
        await show(query, pay_views.declined(order_id, card.order.number, f.error(exc), f, Tab.all, 0))
        return
    except PaymentBeingChecked as exc:
        note = "⏳ " + f.error(exc)
    except DomainError as exc:  # the card gone or expired meanwhile: the order, unpaid, to pay from there
        note = "⚠️ " + f.error(exc)
    async with db.write():
        await state.clear()
    card = await orders.card(user.id, order_id)
    await show(query, pay_views.with_note(note, order_views.order_card(card, f, _order_cb(order_id))))


async def leave(query: CallbackQuery, draft: Draft, user: UserRow, catalog: CatalogService, kept: KeptService,
                f: Fmt) -> None:
    """Back from the first step: where checkout was started — the product, or the cart."""
    back = draft.get(BACK) or {}
    if back.get("kind") == PRODUCT:
        card = await catalog.product(user.id, int(back.get("id") or 0), record=False)
        await show(query, catalog_views.product_screen(
            card, f, chosen=catalog_views.chosen_from(str(back.get("opt") or ""), card.product),
            src=Src(back.get("src") or Src.link.value), page=int(back.get("page") or 0)))
        return
    await show(query, catalog_views.cart_screen(await kept.cart(user.id), f))


@router.callback_query(~StateFilter(CheckoutFlow), CheckoutCb.filter())
async def paused(query: CallbackQuery, state: FSMContext, f: Fmt) -> None:
    """A button of a checkout that waits for the address or card it opened: not closed — it goes on
    once that form is saved or left. (No checkout waiting: the flow's own "closed".)"""
    opened = (await state.get_data()).get(returns.RETURN) in (FROM_ADDRESS, FROM_CARD)  # the form under way
    if not opened or not (await returns.stash(state, NAME).get_data()).get("draft"):
        raise SkipHandler
    await query.answer(f._(PAUSED), show_alert=True)


FLOW = Flow(
    CheckoutFlow, CheckoutCb, arrive=arrive, leave=leave, outside=CLOSED,
    steps=(
        Step(CheckoutFlow.quantity, ask_quantity, N_("Choose a quantity, or type a number."), text=quantity_typed,
             buttons={CheckoutAction.quantity: Button(quantity_pressed)}, when=lambda d: d.get(SOURCE) == PRODUCT),
        Step(CheckoutFlow.address, ask_address, N_("Choose an address with the buttons."),
             buttons={CheckoutAction.address: Button(address_pressed), CheckoutAction.new_address: Button(new_address)}),
        Step(CheckoutFlow.coupons, ask_coupons, N_("Tap a coupon, or Continue."),
             buttons={CheckoutAction.coupon: Button(coupon_switched, stay=True),
                      CheckoutAction.no_coupons: Button(no_coupons, stay=True),
                      CheckoutAction.certificates: Button(certificates_switched, stay=True),
                      CheckoutAction.coupons_done: Button(unchanged)}),
        Step(CheckoutFlow.card, ask_card, N_("Choose a card with the buttons."),
             buttons={CheckoutAction.card: Button(card_pressed), CheckoutAction.new_card: Button(new_card)},
             when=lambda d: not d.get(COVERED)),
    ),
    summary=Summary(CheckoutFlow.summary, ask_summary, N_("Check the order and tap Place order, or change something."),
                    edit=CheckoutAction.edit, done=CheckoutAction.place, finish=place_order,
                    fields={CheckoutField.quantity.value: CheckoutFlow.quantity,
                            CheckoutField.address.value: CheckoutFlow.address,
                            CheckoutField.coupons.value: CheckoutFlow.coupons,
                            CheckoutField.card.value: CheckoutFlow.card}),
).install(router)


# -- starting it ----------------------------------------------------------------------------------
async def _start(query: CallbackQuery, state: FSMContext, db: Database, user: UserRow, items: list[Item],
                 source: str, back: dict[str, Any], checkout: CheckoutService, addresses: AddressService,
                 cards: CardService, f: Fmt, **data: Any) -> None:
    book = await addresses.list(user.id)
    default_address = next((a.id for a in book if a.is_default), book[0].id if book else 0)
    wallet = [c for c in await cards.wallet(user.id) if not c.expired]
    default_card = next((c.id for c in wallet if c.is_default), wallet[0].id if wallet else None)
    best = (await checkout.coupons_for(user.id, items)).best
    slot = returns.stash(state, NAME)
    if await slot.get_data():  # a checkout left on the way (the card flow ended with a decline…): gone
        async with db.write():
            await slot.clear()
    draft = {ITEMS: [i.as_json() for i in items], SOURCE: source, ADDRESS: default_address,
             COUPONS: list(best.coupon_ids), CARD: default_card, BACK: back}
    await deliver(query, await FLOW.start(state, db, draft, f, user=user, checkout=checkout, addresses=addresses,
                                          cards=cards, **data))


@router.callback_query(ProductCb.filter(F.action == ProductAction.buy))
async def buy_now(query: CallbackQuery, callback_data: ProductCb, catalog: CatalogService,
                  checkout: CheckoutService, **data: Any) -> None:
    card = await catalog.product(0, callback_data.id, record=False)
    options = catalog_views.options_of(catalog_views.chosen_from(callback_data.opt, card.product), card.product)
    items = await checkout.for_product(callback_data.id, options)
    back = {"kind": PRODUCT, "id": callback_data.id, "opt": callback_data.opt, "src": callback_data.src.value,
            "page": callback_data.page}
    await _start(query, items=items, source=PRODUCT, back=back, checkout=checkout, catalog=catalog, **data)


@router.callback_query(CartCheckoutCb.filter())
@router.callback_query(ShopCb.filter(F.action == ShopAction.checkout))  # a button sent before the currency was on it
async def check_out_store(query: CallbackQuery, callback_data: CartCheckoutCb | ShopCb, user: UserRow,
                          checkout: CheckoutService, **data: Any) -> None:
    """A store's products in the cart, in one currency (an order is in one)."""
    if isinstance(callback_data, CartCheckoutCb):
        items = await checkout.for_store(user.id, callback_data.store, callback_data.cur)
    else:
        items = await checkout.for_store(user.id, callback_data.id)
    await _start(query, user=user, items=items, source=CART, back={"kind": CART}, checkout=checkout, **data)


async def _resume(event: CallbackQuery | Message, state: FSMContext, db: Database, f: Fmt, step: State, field: str,
                  result: int, **data: Any) -> None:
    """Checkout goes on after the flow it opened: with what that flow made chosen (and on to the
    step after), or at the step it was opened from when it was left."""
    slot = returns.stash(state, NAME)
    saved = await slot.get_data()
    async with db.write():
        await slot.clear()
    draft = saved.get("draft") if isinstance(saved.get("draft"), dict) else None
    if draft is None:  # nothing kept (already resumed)
        text = f._(CLOSED)
        await (event.answer(text, show_alert=True) if isinstance(event, CallbackQuery) else event.answer(text))
        return
    target = step
    if result:
        draft = {**draft, field: result}
        target = FLOW.after(step, draft)
    await deliver(event, await FLOW.go(target, state, db, draft, f, **data))


@returns.on_return(FROM_ADDRESS)
async def back_from_the_address_form(event: CallbackQuery | Message, result: int, state: FSMContext, db: Database,
                                     f: Fmt, **data: Any) -> None:
    await _resume(event, state, db, f, CheckoutFlow.address, ADDRESS, result, **data)


@returns.on_return(FROM_CARD)
async def back_from_the_card_flow(event: CallbackQuery | Message, result: int, state: FSMContext, db: Database,
                                  f: Fmt, **data: Any) -> None:
    await _resume(event, state, db, f, CheckoutFlow.card, CARD, result, **data)
