"""One engine for step-by-step flows: a flow is a table of steps, read top to bottom.

    FLOW = Flow(TheFlow, TheDraftCb, steps=(Step(…), Step(…), …), summary=Summary(…),
                leave=…, outside=…).install(router)

(bot/handlers/disputes.py and reviews.py hold the two tables.)

For each step, as PTB's ConversationHandler `states={…}`: its FSM state; its prompt (a pure view
`(f, draft, error) -> Screen`); how its input is taken — typed text, a photo, or a button of the
flow's CallbackData, each through a parser `(value, draft, f) -> draft` that raises `DomainError`
(the service's rule) or `Retry` (a ready sentence) when the input is wrong; and what follows: the
next step of the table whose `when(draft)` holds, or the summary. Whatever else comes in a step is
answered by the step's `expected` sentence, with the step asked again; nothing entered is lost.

What every flow gets from the table, written once here:
- **Back** goes to the previous step that applies; from the first, the flow is left (`leave`).
- **Edit from the summary** ("Edit <field>") asks that one step and returns to the summary
  (a step marked `with_previous` — the amount of a partial refund — is still asked after its own).
- **A button's label typed as text** acts as the button: `bot/middlewares/typed_buttons.py` turns
  it into a press for every screen, so the table's buttons need nothing more.
- **Resume after a restart**: the state and the draft are FSM data (JSON primitives) in the
  database, written with every step; every handler reads them back, so after a restart the next
  input continues at the same step. `current` re-shows the step from what is stored (used for a
  button of another step, and when the card-number guard removed a message).
- A button of another step (an older message) shows the current step again; a button of the flow
  after it ended says the draft is no longer active.

A draft is FSM data under the flow's own keys plus `EDITING`, the engine's flag for "one field
asked from the summary".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.db.engine import Database
from bot.handlers.common import reply, show
from bot.keyboards.common import NavAction, NavCb
from bot.middlewares.card_guard import asks_again
from bot.services.errors import N_, DomainError
from bot.views.common import Fmt, Screen

Draft = dict[str, Any]
View = Callable[[Fmt, Draft, str | None], Screen]
Parse = Callable[[Any, Draft, Fmt], Draft]
Predicate = Callable[[Draft], bool]

EDITING = "editing"  # FSM data: one field is being edited from the summary
STALE = N_("This button is no longer active.")
OTHER_STEP = N_("This button belongs to another step; here is the current one.")


class Retry(Exception):
    """A wrong input the parser explains itself (already translated)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Stale(Exception):
    """A button whose value is not one this step offers (forged, or from an older screen)."""


@dataclass(frozen=True)
class Button:
    """A button of a step: `parse` takes its callback value; then the flow moves on, or stays on
    the step (`stay`), answering the press with `note`."""

    parse: Parse
    stay: bool = False
    note: str | None = None  # a msgid


@dataclass(frozen=True)
class Step:
    state: State
    view: View
    expected: str  # msgid: what the step wants, said when anything else comes
    text: Parse | None = None  # a typed answer
    photo: Parse | None = None  # a photo (its largest size's file id)
    buttons: Mapping[Enum, Button] = field(default_factory=dict)
    when: Predicate | None = None  # the step is asked only when this holds
    with_previous: bool = False  # asked after the step before it, also when editing from the summary
    stay: Predicate | None = None  # after a typed answer or photo: stay on the step while this holds

    def applies(self, draft: Draft) -> bool:
        return self.when is None or self.when(draft)


Handler = Callable[..., Awaitable[Any]]  # called like an aiogram handler: takes what it names


# -- parsers and predicates several flows share ------------------------------------------------------
PHOTOS = "photos"  # FSM data: the photos' file ids


def unchanged(value: object, draft: Draft, f: Fmt) -> Draft:
    """A button that only moves on ("Continue", "Skip")."""
    return draft


def no_photos(value: object, draft: Draft, f: Fmt) -> Draft:
    return {**draft, PHOTOS: []}


def add_photo(limit: int, too_many: Callable[[Fmt], str]) -> Parse:
    """A photo step's parser: one more photo, up to `limit` (beyond it, `too_many` says so)."""

    def added(file_id: str, draft: Draft, f: Fmt) -> Draft:
        photos = list(draft.get(PHOTOS) or [])
        if len(photos) >= limit:
            raise Retry(too_many(f))
        return {**draft, PHOTOS: [*photos, file_id]}

    return added


def room_for_photos(limit: int) -> Predicate:
    """A photo step stays until the photos reach `limit`."""
    return lambda draft: len(draft.get(PHOTOS) or []) < limit


@dataclass(frozen=True)
class Summary:
    state: State
    view: View
    expected: str  # msgid
    edit: Enum  # the action of "Edit <field>"; its callback value names the field
    fields: Mapping[Any, State]  # callback value → the step that asks it
    done: Enum  # the action of the final button (save, submit, publish)
    finish: Handler  # (query, draft, …) → the flow's last word; it clears the state itself


class Flow:
    def __init__(self, group: type[StatesGroup], callback: type[CallbackData], *, steps: tuple[Step, ...],
                 summary: Summary, leave: Handler, outside: str) -> None:
        self.group, self.callback = group, callback
        self.steps, self.summary = steps, summary
        self._leave, self._finish = CallableObject(leave), CallableObject(summary.finish)
        self.outside = outside  # msgid: a button of the flow after it ended
        self._views: dict[str, View] = {s.state.state or "": s.view for s in steps}
        self._index = {s.state.state: i for i, s in enumerate(steps)}

    # -- moving ---------------------------------------------------------------------------------
    def first(self, draft: Draft) -> State:
        return next((s.state for s in self.steps if s.applies(draft)), self.summary.state)

    def after(self, state: State, draft: Draft) -> State:
        """The next step; an edit from the summary returns to the summary."""
        index = self._index.get(state.state, len(self.steps))
        following = next((s for s in self.steps[index + 1:] if s.applies(draft)), None)
        if following is None or (draft.get(EDITING) and not following.with_previous):
            return self.summary.state
        return following.state

    def before(self, raw_state: str | None, draft: Draft) -> State | None:
        """The previous step, None before the first; an edited step goes back to the summary."""
        if draft.get(EDITING) and raw_state != self.summary.state.state:
            return self.summary.state
        index = self._index.get(raw_state, len(self.steps))
        earlier = [s for s in self.steps[:index] if s.applies(draft)]
        return earlier[-1].state if earlier else None

    def screen(self, raw_state: str | State | None, draft: Draft, f: Fmt, error: str | None = None) -> Screen:
        name = raw_state.state if isinstance(raw_state, State) else raw_state
        return self._views.get(name or "", self.summary.view)(f, draft, error)

    async def go(self, target: State, state: FSMContext, db: Database, draft: Draft, f: Fmt) -> Screen:
        """Move to a step, writing the draft with it, and return that step's screen."""
        if target == self.summary.state:
            draft[EDITING] = False  # an edit ends at the summary
        async with db.write():
            await state.set_state(target)
            await state.set_data(draft)
        return self.screen(target, draft, f)

    async def start(self, state: FSMContext, db: Database, draft: Draft, f: Fmt) -> Screen:
        return await self.go(self.first(draft), state, db, draft, f)

    async def current(self, state: FSMContext, f: Fmt, error: str | None = None) -> Screen:
        """The current step again, from what is stored (also after a restart)."""
        return self.screen(await state.get_state(), await state.get_data(), f, error)

    # -- the handlers ---------------------------------------------------------------------------
    def install(self, router: Router) -> Flow:
        """Register the flow's handlers on its section's router."""
        cb, group = self.callback, self.group
        for step in self.steps:
            for action, button in step.buttons.items():
                router.callback_query(StateFilter(step.state), cb.filter(F.action == action))(
                    self._pressed(step, button))
            if step.text is not None:
                router.message(StateFilter(step.state), F.text)(self._typed(step, step.text, "text"))
            if step.photo is not None:
                router.message(StateFilter(step.state), F.photo)(self._typed(step, step.photo, "photo"))
            router.message(StateFilter(step.state))(self._expected(step.view, step.expected))
        summary = self.summary
        router.message(StateFilter(summary.state))(self._expected(summary.view, summary.expected))
        router.callback_query(StateFilter(summary.state), cb.filter(F.action == summary.edit))(self._edit)
        router.callback_query(StateFilter(summary.state), cb.filter(F.action == summary.done))(self._done)
        router.callback_query(StateFilter(group), NavCb.filter(F.action == NavAction.back))(self._back)
        router.callback_query(StateFilter(group), cb.filter())(self._other_step)
        router.callback_query(cb.filter())(self._after_end)
        asks_again(group)(self._card_number_removed)
        return self

    def _pressed(self, step: Step, button: Button) -> Handler:
        async def pressed(query: CallbackQuery, callback_data: CallbackData, state: FSMContext, db: Database,
                          f: Fmt) -> None:
            try:
                draft = button.parse(getattr(callback_data, "value", None), await state.get_data(), f)
            except Stale:
                await query.answer(f._(STALE), show_alert=True)
                return
            target = step.state if button.stay else self.after(step.state, draft)
            await show(query, await self.go(target, state, db, draft, f), f._(button.note) if button.note else None)

        return pressed

    def _typed(self, step: Step, parse: Parse, kind: str) -> Handler:
        async def typed(message: Message, state: FSMContext, db: Database, f: Fmt) -> None:
            draft = await state.get_data()
            value = message.text if kind == "text" else message.photo[-1].file_id if message.photo else None
            try:
                draft = parse(value, draft, f)
            except DomainError as exc:
                await reply(message, step.view(f, draft, f.error(exc)))
                return
            except Retry as retry:
                await reply(message, step.view(f, draft, retry.text))
                return
            stays = step.stay is not None and step.stay(draft)
            target = step.state if stays else self.after(step.state, draft)
            await reply(message, await self.go(target, state, db, draft, f))

        return typed

    @staticmethod
    def _expected(view: View, expected: str) -> Handler:
        async def expected_input(message: Message, state: FSMContext, f: Fmt) -> None:
            await reply(message, view(f, await state.get_data(), f._(expected)))

        return expected_input

    async def _edit(self, query: CallbackQuery, callback_data: CallbackData, state: FSMContext, db: Database,
                    f: Fmt) -> None:
        draft = await state.get_data()
        target = self.summary.fields.get(getattr(callback_data, "value", None))
        step = self.steps[self._index[target.state]] if target is not None else None
        if step is None or not step.applies(draft):
            await query.answer(f._(STALE), show_alert=True)
            return
        draft[EDITING] = True
        await show(query, await self.go(step.state, state, db, draft, f))

    async def _done(self, query: CallbackQuery, state: FSMContext, **kwargs: Any) -> None:
        await self._finish.call(query, draft=await state.get_data(), state=state, **kwargs)

    async def _back(self, query: CallbackQuery, state: FSMContext, db: Database, f: Fmt, **kwargs: Any) -> None:
        draft = await state.get_data()
        previous = self.before(await state.get_state(), draft)
        if previous is None:  # the first step: back to where the flow was started
            async with db.write():
                await state.clear()
            await self._leave.call(query, draft=draft, state=state, db=db, f=f, **kwargs)
            return
        await show(query, await self.go(previous, state, db, draft, f))

    async def _other_step(self, query: CallbackQuery, state: FSMContext, f: Fmt) -> None:
        await show(query, await self.current(state, f), f._(OTHER_STEP))

    async def _after_end(self, query: CallbackQuery, f: Fmt) -> None:
        await query.answer(f._(self.outside), show_alert=True)

    async def _card_number_removed(self, message: Message, state: FSMContext, f: Fmt, warning: str) -> None:
        """The guard removed a card number typed into the flow: the step asks again, the draft as it was."""
        await reply(message, await self.current(state, f, error=warning))
