"""One engine for step-by-step flows: a flow is a table of steps, read top to bottom.

    FLOW = Flow(TheFlow, TheDraftCb, steps=(Step(…), Step(…), …), summary=Summary(…),
                leave=…, outside=…).install(router)    # disputes, reviews, cards, addresses, checkout

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

What a flow with more to it can say in its table (the card and address flows):
- **Parsers and prompts may be coroutines and take what the handler has**: besides its first
  arguments, each gets the update's data it names (`message`, `state`, `db`, `user`, services…),
  like an aiogram handler; a prompt also gets what the parser passed on (`warning`, `intro`, …).
- A parser may return `Go(draft, to=…, stay=…, **shown)` to choose the next step itself and pass
  more to its prompt, and may end the flow itself by raising `Done(screen, …)` (it has cleared the
  state): a flow without a summary (`summary=None`) ends so in its last step — `finish(state, db,
  save, refused)` is that ending for a step that saves (a wrong answer asked again, any other
  refusal leaving the flow with why) — and an edit returns to that last step.
- A photo step (evidence for a dispute or a review) is `photo_step(…)` of bot/handlers/photo_steps.py.
- A one-question step (a coupon code, a time zone, a search) is `question(router, state, prompt,
  expected, answer, leave=…)`: a flow of one step with `drafts=False` (leaving it for the menu
  drops nothing the user entered, so nothing is said), whose answer ends it itself.
- A prompt may return several screens (a reply keyboard in a message of its own, then the step).
- `arrive(target, draft, …) -> (target, draft, shown)` is consulted whenever a step is shown: it
  may send the flow elsewhere (the card flow: to the number when the gateway forgot the session).
- A parser may raise `Reply(*screens)` to answer with other screens and stay where the flow is
  (the address form: the countries or regions close to what was typed, to choose from).
- A step may take a shared contact (`contact=`, the "Share my number" button): its parser gets
  the phone number.
- A summary's prompt may return several screens too (a note, then the summary).
- `other(message, …) -> shown`: what the flow does first with an input no step takes (the card
  flow deletes a picture of the card).
- A step's (or the summary's) `expected` may be a view `(f) -> str` instead of a msgid, when the
  sentence is built (the address form's, with its ⚠️ and one sentence per kind of field).
- `upgrade(data) -> draft`: how FSM data an older version of the flow stored is read (the address
  form's nested draft, stored before it was a table), so a flow in progress resumes after a deploy.

A draft is FSM data under the flow's own keys plus `EDITING`, the engine's flag for "one field
asked from the summary".
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any, NoReturn

from aiogram import F
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.db.engine import Database
from bot.handlers.common import Screens, answer_album_item, cancel_returns_itself, deliver
from bot.handlers.routing import Handlers
from bot.keyboards.common import NavAction, NavCb
from bot.middlewares.card_guard import asks_again
from bot.services.errors import N_, DomainError, InvalidInput
from bot.views.common import Fmt, Screen

Draft = dict[str, Any]
View = Callable[..., Screens | Awaitable[Screens]]  # (f, draft, error, **named)
Parse = Callable[..., Any]  # (value, draft, f, **named) -> Draft | Go, maybe awaitable
Predicate = Callable[[Draft], bool]
Expected = str | Callable[[Fmt], str]  # a msgid, or a view of the sentence (already translated)

EDITING = "editing"  # FSM data: one field is being edited from the summary
# FSM data: the flow's own random id, set when an `identified` flow starts; its final step stores
# it with what it creates (unique), so a Save repeated after the commit but before the flow ended
# — a crash between the commit and the Redis write (README "Scale-out") — finds it done
FLOW_ID = "flow_id"
STALE = N_("This button is no longer active.")
OTHER_STEP = N_("This button belongs to another step; here is the current one.")


class Retry(Exception):
    """A wrong input the parser explains itself (already translated); `shown` goes to the prompt."""

    def __init__(self, text: str | None, **shown: Any) -> None:
        super().__init__(text)
        self.text, self.shown = text, shown


class Reply(Exception):
    """The parser answers with other screens (a choice among close matches) and the flow stays
    where it is: the state and the draft are not touched."""

    def __init__(self, *screens: Screen) -> None:
        super().__init__()
        self.screens = screens


class Stale(Exception):
    """A button whose value is not one this step offers (forged, or from an older screen)."""


class Done(Exception):
    """The parser ended the flow itself (and cleared the state): these screens are its last word."""

    def __init__(self, *screens: Screen) -> None:
        super().__init__()
        self.screens = screens


@dataclass
class Go:
    """A parser's answer that says where to go: `to` a step (default: what follows), or `stay` on
    this one; `shown` goes to the prompt (a warning, an error)."""

    draft: Draft
    to: State | None = None
    stay: bool = False
    shown: dict[str, Any] = field(default_factory=dict)

    def __init__(self, draft: Draft, to: State | None = None, stay: bool = False, **shown: Any) -> None:
        self.draft, self.to, self.stay, self.shown = draft, to, stay, shown


@cache
def _names(fn: Callable[..., Any]) -> tuple[tuple[str, ...], bool]:
    params = inspect.signature(fn).parameters.values()
    return (tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)),
            any(p.kind is p.VAR_KEYWORD for p in params))


def takes(fn: Callable[..., Any], name: str) -> bool:
    return name in _names(fn)[0]


async def call(fn: Callable[..., Any], *args: Any, **named: Any) -> Any:
    """`fn(*args)` with those of `named` it takes (all, when it takes **kwargs); awaited if need be."""
    names, takes_all = _names(fn)
    own = names[len(args):]
    result = fn(*args, **{k: v for k, v in named.items() if (takes_all and k not in names[:len(args)]) or k in own})
    return await result if inspect.isawaitable(result) else result


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
    expected: Expected  # what the step wants, said when anything else comes
    text: Parse | None = None  # a typed answer
    photo: Parse | None = None  # a photo (its largest size's file id)
    contact: Parse | None = None  # a shared contact (its phone number): "Share my number"
    buttons: Mapping[Enum, Button] = field(default_factory=dict)
    when: Predicate | None = None  # the step is asked only when this holds
    with_previous: bool = False  # asked after the step before it, also when editing from the summary
    stay: Predicate | None = None  # after a typed answer or photo: stay on the step while this holds

    def applies(self, draft: Draft) -> bool:
        return self.when is None or self.when(draft)


Handler = Callable[..., Awaitable[Any]]  # called like an aiogram handler: takes what it names


# -- what several flows share -------------------------------------------------------------------------
def unchanged(value: object, draft: Draft, f: Fmt) -> Draft:
    """A button that only moves on ("Continue", "Skip")."""
    return draft


async def finish(state: FSMContext, db: Database, save: Callable[[], Awaitable[Screen]],
                 refused: Callable[[DomainError], Awaitable[Screen]]) -> NoReturn:
    """A last step that saves what it took (a flow without a summary): `save` runs in one unit of
    work with the state cleared and gives the screen to end on. A wrong answer (`InvalidInput`) is
    asked again, the step kept; any other refusal — the item moved on meanwhile — leaves the flow
    and ends on `refused(error)`."""
    try:
        async with db.write():
            screen = await save()
            await state.clear()
    except InvalidInput:
        raise
    except DomainError as error:
        async with db.write():
            await state.clear()
        raise Done(await refused(error)) from None
    raise Done(screen)


@dataclass(frozen=True)
class Summary:
    state: State
    view: View
    expected: Expected
    edit: Enum  # the action of "Edit <field>"; its callback value names the field
    fields: Mapping[Any, State]  # callback value → the step that asks it
    done: Enum  # the action of the final button (save, submit, publish)
    finish: Handler  # (query, draft, …) → the flow's last word; it clears the state itself


Arrive = Callable[..., Any]  # (target, draft, f, **named) -> (State, Draft, shown), maybe awaitable


_DRAFT_GROUPS: set[str] = set()  # the StatesGroups of the flows on this engine: each keeps a draft


def drops_a_draft(raw_state: str | None) -> bool:
    """Whether leaving this FSM state (☰ Menu, /menu) drops a flow's draft the user was filling in."""
    return bool(raw_state) and str(raw_state).split(":", 1)[0] in _DRAFT_GROUPS


class Flow:
    def __init__(self, group: type[StatesGroup], callback: type[CallbackData], *, steps: tuple[Step, ...],
                 summary: Summary | None, leave: Handler, outside: str, arrive: Arrive | None = None,
                 other: Handler | None = None, strays: bool = True,
                 upgrade: Callable[[Draft], Draft] | None = None, identified: bool = False,
                 cancel: Handler | None = None, drafts: bool = True) -> None:
        self.group, self.callback = group, callback
        self.identified = identified  # the draft gets a FLOW_ID at the start (its final step keeps it)
        self.steps, self.summary = steps, summary
        self._leave = CallableObject(leave)
        # Cancel leaves for where the flow was opened (as Back from the first step does, `cancel`
        # saying how), instead of the shared Cancel's main menu; /cancel still goes to the menu
        self._cancel = CallableObject(cancel) if cancel is not None else None
        if cancel is not None:
            cancel_returns_itself(group)
        self._finish = CallableObject(summary.finish) if summary is not None else None
        self.outside = outside  # msgid: a button of the flow after it ended
        self.arrive, self.other = arrive, other
        self.strays = strays  # answer the flow's buttons of another step, and after the flow ended
        self.upgrade = upgrade  # FSM data stored by an older version of the flow, read as today's draft
        # where an edit returns: the summary, or the last step of a flow without one
        self.home = summary.state if summary is not None else steps[-1].state
        # a one-question step (a code, a zone, a search) has no draft of its own: it keeps the FSM
        # data already there (the last search's words, for its pages) and has nothing to lose
        self.drafts = drafts
        if drafts:
            _DRAFT_GROUPS.add(group.__full_group_name__)
        self._views: dict[str, View] = {s.state.state or "": s.view for s in steps}
        self._states: dict[str, State] = {s.state.state or "": s.state for s in steps}
        self._index = {s.state.state: i for i, s in enumerate(steps)}

    async def draft(self, state: FSMContext) -> Draft:
        """The draft as stored (read through `upgrade` when the flow has one)."""
        data = await state.get_data()
        return self.upgrade(data) if self.upgrade is not None else data

    # -- moving ---------------------------------------------------------------------------------
    def first(self, draft: Draft) -> State:
        return next((s.state for s in self.steps if s.applies(draft)), self.home)

    def after(self, state: State, draft: Draft) -> State:
        """The next step; an edit from the summary returns to the summary."""
        index = self._index.get(state.state, len(self.steps))
        following = next((s for s in self.steps[index + 1:] if s.applies(draft)), None)
        if following is None or (draft.get(EDITING) and not following.with_previous):
            return self.home
        return following.state

    def before(self, raw_state: str | None, draft: Draft) -> State | None:
        """The previous step, None before the first; an edited step goes back to the summary."""
        if draft.get(EDITING) and raw_state != self.home.state:
            return self.home
        index = self._index.get(raw_state, len(self.steps))
        earlier = [s for s in self.steps[:index] if s.applies(draft)]
        return earlier[-1].state if earlier else None

    def _view(self, name: str | None) -> View:
        if self.summary is None:
            return self._views.get(name or "", self.steps[-1].view)
        return self._views.get(name or "", self.summary.view)

    def screen(self, raw_state: str | State | None, draft: Draft, f: Fmt, error: str | None = None) -> Screen:
        """The screen of a stored state whose prompt is a plain function."""
        name = raw_state.state if isinstance(raw_state, State) else raw_state
        return self._view(name)(f, draft, error)

    async def go(self, target: State, state: FSMContext, db: Database, draft: Draft, f: Fmt,
                 error: str | None = None, **named: Any) -> Screens:
        """Move to a step, writing the draft with it (when either changed), and return that step's
        screen; `named`: what its prompt (and `arrive`) may take — shown values, services."""
        if self.arrive is not None:
            target, draft, shown = await call(self.arrive, target, dict(draft), f, state=state, db=db, **named)
            error = shown.pop("error", error)
            named = {**named, **shown}
        if target == self.home:
            draft[EDITING] = False  # an edit ends at the summary
        if await state.get_state() != target.state or await state.get_data() != draft:
            async with db.write():
                await state.set_state(target)
                await state.set_data(draft)
        return await call(self._view(target.state), f, draft, error, **named)

    async def start(self, state: FSMContext, db: Database, draft: Draft, f: Fmt, **named: Any) -> Screens:
        if not self.drafts:
            draft = {**await state.get_data(), **draft}
        if self.identified:
            draft = {**draft, FLOW_ID: draft.get(FLOW_ID) or uuid.uuid4().hex}
        return await self.go(self.first(draft), state, db, draft, f, **named)

    async def current(self, state: FSMContext, db: Database, f: Fmt, error: str | None = None,
                      **named: Any) -> Screens:
        """The current step again, from what is stored (also after a restart)."""
        raw = await state.get_state()
        return await self.go(self._states.get(raw or "", self.home), state, db, await self.draft(state), f, error,
                             **named)

    # -- the handlers ---------------------------------------------------------------------------
    def install(self, router: Handlers) -> Flow:
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
            if step.contact is not None:
                router.message(StateFilter(step.state), F.contact)(self._typed(step, step.contact, "contact"))
            router.message(StateFilter(step.state))(self._expected(step.expected))
        summary = self.summary
        if summary is not None:
            router.message(StateFilter(summary.state))(self._expected(summary.expected))
            router.callback_query(StateFilter(summary.state), cb.filter(F.action == summary.edit))(self._edit)
            router.callback_query(StateFilter(summary.state), cb.filter(F.action == summary.done))(self._done)
        router.callback_query(StateFilter(group), NavCb.filter(F.action == NavAction.back))(self._back)
        if self._cancel is not None:
            router.callback_query(StateFilter(group), NavCb.filter(F.action == NavAction.cancel))(self._cancelled)
        if self.strays:
            router.callback_query(StateFilter(group), cb.filter())(self._other_step)
            router.callback_query(cb.filter())(self._after_end)
        asks_again(group)(self._card_number_removed)
        return self

    async def _moved(self, step: Step, result: Any, state: FSMContext, db: Database, f: Fmt, stays: bool,
                     named: dict[str, Any]) -> Screens:
        """Where a parser's result leads: the next step, or this one again, or where `Go` says."""
        shown: dict[str, Any] = {}
        if isinstance(result, Go):
            draft, shown = result.draft, result.shown
            stays = stays or result.stay
            target = result.to or (step.state if stays else self.after(step.state, draft))
        else:
            draft = result
            target = step.state if stays else self.after(step.state, draft)
        return await self.go(target, state, db, draft, f, **{**named, **shown})

    def _pressed(self, step: Step, button: Button) -> Handler:
        async def pressed(query: CallbackQuery, callback_data: CallbackData, state: FSMContext, db: Database,
                          f: Fmt, **data: Any) -> None:
            named = {**data, "query": query, "callback_data": callback_data}
            draft = await self.draft(state)
            try:
                result = await call(button.parse, getattr(callback_data, "value", None), draft, f, state=state, db=db,
                                    **named)
            except Stale:
                await query.answer(f._(STALE), show_alert=True)
                return
            except (Done, Reply) as answered:
                await deliver(query, answered.screens)
                return
            except Retry as retry:
                await deliver(query, await self.go(step.state, state, db, draft, f, retry.text,
                                                   **{**named, **retry.shown}))
                return
            screens = await self._moved(step, result, state, db, f, button.stay, named)
            await deliver(query, screens, f._(button.note) if button.note else None)

        return pressed

    def _typed(self, step: Step, parse: Parse, kind: str) -> Handler:
        async def typed(message: Message, state: FSMContext, db: Database, f: Fmt, **data: Any) -> None:
            named = {**data, "message": message}
            draft = await self.draft(state)
            value = _value(message, kind)
            try:
                result = await call(parse, value, draft, f, state=state, db=db, **named)
            except (Done, Reply) as answered:
                await deliver(message, answered.screens)
                return
            except DomainError as exc:
                screens = await self.go(step.state, state, db, draft, f, f.error(exc), **named)
            except Retry as retry:
                screens = await self.go(step.state, state, db, draft, f, retry.text, **{**named, **retry.shown})
            else:
                stays = step.stay is not None and step.stay(result.draft if isinstance(result, Go) else result)
                screens = await self._moved(step, result, state, db, f, stays, named)
            album = message.media_group_id and isinstance(screens, Screen)  # an album: one screen, updated
            await (answer_album_item(message, screens, state, db) if album else deliver(message, screens))

        return typed

    def _expected(self, expected: Expected) -> Handler:
        async def expected_input(message: Message, state: FSMContext, db: Database, f: Fmt, **data: Any) -> None:
            named = {**data, "message": message}
            shown = await call(self.other, message, f, state=state, db=db, **named) if self.other is not None else {}
            said = f._(expected) if isinstance(expected, str) else expected(f)
            await deliver(message, await self.current(state, db, f, said, **{**named, **shown}))

        return expected_input

    async def _edit(self, query: CallbackQuery, callback_data: CallbackData, state: FSMContext, db: Database,
                    f: Fmt, **data: Any) -> None:
        assert self.summary is not None
        draft = await self.draft(state)
        target = self.summary.fields.get(getattr(callback_data, "value", None))
        step = self.steps[self._index[target.state]] if target is not None else None
        if step is None or not step.applies(draft):
            await query.answer(f._(STALE), show_alert=True)
            return
        draft[EDITING] = True
        await deliver(query, await self.go(step.state, state, db, draft, f, **data))

    async def _done(self, query: CallbackQuery, state: FSMContext, **kwargs: Any) -> None:
        assert self._finish is not None
        await self._finish.call(query, draft=await self.draft(state), state=state, **kwargs)

    async def _back(self, query: CallbackQuery, state: FSMContext, db: Database, f: Fmt, **kwargs: Any) -> None:
        draft = await self.draft(state)
        previous = self.before(await state.get_state(), draft)
        if previous is None:  # the first step: back to where the flow was started
            await self._left(self._leave, query, state, db, f, draft, **kwargs)
            return
        await deliver(query, await self.go(previous, state, db, draft, f, **kwargs))

    async def _cancelled(self, query: CallbackQuery, state: FSMContext, db: Database, f: Fmt, **kwargs: Any) -> None:
        assert self._cancel is not None
        await self._left(self._cancel, query, state, db, f, await self.draft(state), **kwargs)

    @staticmethod
    async def _left(how: CallableObject, query: CallbackQuery, state: FSMContext, db: Database, f: Fmt,
                    draft: Draft, **kwargs: Any) -> None:
        async with db.write():
            await state.clear()
        await how.call(query, draft=draft, state=state, db=db, f=f, **kwargs)

    async def _other_step(self, query: CallbackQuery, state: FSMContext, db: Database, f: Fmt,
                          **data: Any) -> None:
        await deliver(query, await self.current(state, db, f, **data), f._(OTHER_STEP))

    async def _after_end(self, query: CallbackQuery, f: Fmt) -> None:
        await query.answer(f._(self.outside), show_alert=True)

    async def _card_number_removed(self, message: Message, state: FSMContext, db: Database, f: Fmt, warning: str,
                                   **data: Any) -> None:
        """The guard removed a card number typed into the flow: the step asks again, the draft as it
        was — with the guard's warning as the prompt's `warning` when it takes one, else as its error."""
        view = self._view(await state.get_state())
        shown = {"warning": warning} if takes(view, "warning") else {"error": warning}
        await deliver(message, await self.current(state, db, f, **{**data, "message": message, **shown}))


def _value(message: Message, kind: str) -> str | None:
    """What a typed answer of `kind` carries: the text, a photo's largest size, a contact's number."""
    if kind == "text":
        return message.text
    if kind == "photo":
        return message.photo[-1].file_id if message.photo else None
    return message.contact.phone_number if message.contact else None


def question(router: Handlers, state: State, prompt: Callable[[Fmt, str | None], Screen], expected: Expected,
             answer: Parse, *, leave: Handler) -> Flow:
    """A one-question step (a coupon code, a time zone, a search) as a flow of one step: `prompt(f,
    error)` asks; `answer(text, draft, f, …)` takes the typed text and ends the flow itself (`Done`)
    or has it asked again (`Retry`, a `DomainError`); Back leaves for `leave`; anything else is
    told `expected`. It has no draft of its own — it starts on the FSM data already there, and
    leaving it for the menu says nothing — and no buttons of its own (the callback class is never read)."""
    assert state.group is not None, "a question's state belongs to a StatesGroup"
    return Flow(state.group, NavCb, steps=(Step(state, lambda f, draft, error: prompt(f, error), expected, text=answer),),
                summary=None, leave=leave, outside=STALE, strays=False, drafts=False).install(router)
