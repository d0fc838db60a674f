"""The add-card flow's steps: its states, what its FSM data holds, and how a step is shown.

One StatesGroup, top to bottom: number → expiry → cardholder → CVC. FSM data holds only the
gateway's session id, the brand, the last 4 digits, and the flow's own bookkeeping (the card being
replaced, the engine's "editing" flag, a transliteration offered for the name, and the order it
pays for). After a restart the flow resumes at its step (`arrive` re-reads the session); when the
gateway no longer knows the session, the user is told and asked for the number again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery

from bot.db.engine import Database
from bot.db.fsm import FlowWatcher
from bot.db.users import UserRow
from bot.handlers import returns
from bot.handlers.answers import refusals
from bot.handlers.common import show
from bot.handlers.routing import Handlers
from bot.integrations.payments import CardSession
from bot.keyboards.orders import Tab
from bot.middlewares.card_guard import takes_card_numbers
from bot.services.cards import CardLimitReached, CardService, CardSessionExpired
from bot.services.errors import N_, DomainError, NotFound
from bot.views import cards as views
from bot.views import pay as pay_views
from bot.views.common import Fmt, Screen

router = Handlers("cards", N_("💳 Bank cards"), order=60)


class CardFlow(StatesGroup):
    number = State()
    expiry = State()
    holder = State()
    cvc = State()


ORDER = (CardFlow.number, CardFlow.expiry, CardFlow.holder, CardFlow.cvc)
# a card number anywhere else is removed by the guard (bot/middlewares/card_guard.py); here it is
# the answer (also when the flow pays an order with a new card)
takes_card_numbers(CardFlow.number)
BY_NAME = {s.state: s for s in ORDER}
# FSM data: the gateway session id, brand and last 4 — never the number or the CVC
SID, BRAND, LAST4 = "sid", "brand", "last4"
REPLACE, OFFER = "replace", "offer"
# the wallet's expired card whose reissue the number turned out to be (a new card replaces it); set
# and dropped with each number, never kept when the number is asked again
REISSUE = "reissue"
# when the flow runs to pay an order (bot/handlers/pay.py): the order, whether to keep the card,
# what to show on each step (number, amount, currency) and the list page to go back to
PAY, PAY_SAVE, PAY_NUMBER, PAY_AMOUNT, PAY_CURRENCY, PAY_TAB, PAY_PAGE = (
    "pay", "pay_save", "pay_no", "pay_amt", "pay_cur", "pay_tab", "pay_page")
PAY_KEYS = (PAY, PAY_SAVE, PAY_NUMBER, PAY_AMOUNT, PAY_CURRENCY, PAY_TAB, PAY_PAGE)
KEPT_ON_RESTART = (REPLACE, *PAY_KEYS, returns.RETURN)  # what survives the gateway forgetting the session


# -- a step --------------------------------------------------------------------------------------
@dataclass
class CardContext:
    """What a handler of this section works with: the FSM state and data, read once per update."""

    state: FSMContext
    db: Database
    user: UserRow
    cards: CardService
    f: Fmt
    raw_state: str | None
    data: dict[str, Any]

    @property
    def replaces(self) -> int | None:
        """The card the user chose to replace (🔄 Replace)."""
        return int(self.data[REPLACE]) if self.data.get(REPLACE) else None

    @property
    def saves_over(self) -> int | None:
        """The card the new one takes the place of: the one chosen, or the expired card it reissues."""
        return self.replaces or (int(self.data[REISSUE]) if self.data.get(REISSUE) else None)

    @property
    def pays(self) -> int | None:
        """The order this new card pays for, when the flow was started from Pay."""
        return int(self.data[PAY]) if self.data.get(PAY) else None

    @property
    def pay_tab(self) -> Tab:
        try:
            return Tab(str(self.data.get(PAY_TAB, Tab.all.value)))
        except ValueError:
            return Tab.all

    @property
    def pay_page(self) -> int:
        page = self.data.get(PAY_PAGE, 0)
        return page if isinstance(page, int) else 0


async def read_flow(state: FSMContext, db: Database, user: UserRow, cards: CardService, f: Fmt,
                raw_state: str | None) -> CardContext:
    data = await state.get_data() if raw_state is not None else {}
    return CardContext(state, db, user, cards, f, raw_state, data)


async def session_of(cards: CardService, draft: dict[str, Any]) -> CardSession | None:
    try:
        return await cards.card_session(draft.get(SID))
    except CardSessionExpired:
        return None


# -- how a step is shown -------------------------------------------------------------------------
async def arrive(target: State, draft: dict[str, Any], f: Fmt, cards: CardService) -> tuple[State, dict[str, Any],
                                                                                          dict[str, Any]]:
    """Before a step is shown (the engine's `arrive`): a step after the number needs the gateway's
    session; when the gateway has forgotten it (a restart, or too long a pause), the flow goes back
    to the number and says why. The CVC needs all of the card: a missing part is asked first."""
    session = await session_of(cards, draft)
    shown: dict[str, Any] = {"session": session}
    if session is None or not session.has_number:
        if target != CardFlow.number:
            shown["error"] = f.error(CardSessionExpired())
            target = CardFlow.number
        draft = {k: v for k, v in draft.items() if k in KEPT_ON_RESTART}
    elif target == CardFlow.cvc and not session.complete:
        target = CardFlow.expiry if not session.has_expiry else CardFlow.holder
    if target != CardFlow.holder:
        draft.pop(OFFER, None)
    return target, draft, shown


async def _replacing(draft: dict[str, Any], cards: CardService, user: UserRow, f: Fmt) -> str | None:
    replaces = int(draft[REPLACE]) if draft.get(REPLACE) else None
    if replaces is None:
        return None
    try:
        card = await cards.get(user.id, replaces)
    except NotFound:
        return None
    return views.card_label(card.brand, card.last4, f)


Prompt = Callable[..., Screen]  # (f, draft, session, replacing, error, warning, intro) -> Screen


def prompt(build: Prompt) -> Callable[..., Awaitable[Screen]]:
    """A step's prompt for the engine: what the card is replacing, and, when the flow pays an
    order, that order above the step."""

    async def shown(f: Fmt, draft: dict[str, Any], error: str | None, *, cards: CardService, user: UserRow,
                    session: CardSession | None = None, warning: str | None = None,
                    intro: str | None = None) -> Screen:
        screen = build(f, draft, session, await _replacing(draft, cards, user, f), error, warning, intro)
        if draft.get(PAY):
            paying = pay_views.paying_line(str(draft.get(PAY_NUMBER, "")), int(draft.get(PAY_AMOUNT, 0)),
                                           str(draft.get(PAY_CURRENCY, "USD")), bool(draft.get(PAY_SAVE)), f)
            screen = pay_views.with_note(paying, screen)
        return screen

    return shown


@prompt
def number_prompt(f: Fmt, draft: dict[str, Any], session: CardSession | None, replacing: str | None,
                  error: str | None, warning: str | None, intro: str | None) -> Screen:
    keep = (session.brand or "", session.last4 or "") if session and session.has_number else None
    return views.number_prompt(f, error=error, warning=warning, replacing=replacing, intro=intro, keep=keep)


@prompt
def expiry_prompt(f: Fmt, draft: dict[str, Any], session: CardSession | None, replacing: str | None,
                  error: str | None, warning: str | None, intro: str | None) -> Screen:
    assert session is not None and session.brand and session.last4
    keep = (session.exp_month, session.exp_year) if session.has_expiry else None
    return views.expiry_prompt(f, session.brand, session.last4, error=error, warning=warning,
                               replacing=replacing, keep=keep)  # type: ignore[arg-type]


@prompt
def holder_prompt(f: Fmt, draft: dict[str, Any], session: CardSession | None, replacing: str | None,
                  error: str | None, warning: str | None, intro: str | None) -> Screen:
    assert session is not None
    return views.holder_prompt(f, error=error, warning=warning, replacing=replacing, offer=draft.get(OFFER),
                               keep=session.holder)


@prompt
def cvc_prompt(f: Fmt, draft: dict[str, Any], session: CardSession | None, replacing: str | None,
               error: str | None, warning: str | None, intro: str | None) -> Screen:
    assert session is not None
    return views.cvc_prompt(f, session, error=error, warning=warning, replacing=replacing)


def ends_card_sessions(cards: CardService) -> FlowWatcher:
    """The FSM storage's watcher (wired in bot/app.py): whenever the add-card flow is left, by any
    way out — /cancel, /menu, /start, Menu, Cancel, Back, another flow begun from an older message —
    or its session id is replaced, the gateway's card session (with the number in it) is ended at
    once rather than at its expiry."""

    async def watcher(old_state: str | None, old_data: dict[str, Any], new_state: str | None,
                      new_data: dict[str, Any]) -> None:
        sid = old_data.get(SID) if old_state in BY_NAME else None
        if sid and (new_state not in BY_NAME or new_data.get(SID) != sid):
            await cards.cancel_session(str(sid))

    return watcher


async def leave(flow: CardContext) -> None:
    """Leave whatever flow is open (the gateway session goes with it: see ends_card_sessions)."""
    if flow.raw_state is not None or flow.data:
        async with flow.db.write():
            await flow.state.clear()
    flow.raw_state, flow.data = None, {}


async def wallet_screen(flow: CardContext, note: str | None = None) -> Screen:
    return views.wallet(await flow.cards.wallet(flow.user.id), flow.f, note=note)


async def refused(query: CallbackQuery, error: DomainError, state: FSMContext, db: Database, user: UserRow,
                  cards: CardService, f: Fmt, raw_state: str | None = None) -> None:
    """The section's answer to a refusal: a forged or stale card id → the wallet, with why; a full
    wallet → the wallet, and why in an alert too."""
    flow = await read_flow(state, db, user, cards, f, raw_state)
    await show(query, await wallet_screen(flow, note=f.error(error)), f.error(error),
               alert=isinstance(error, CardLimitReached))


refusals(router.callback_query, refused)


def join(*parts: str | None) -> str:
    return "\n\n".join(p for p in parts if p)


