"""The flow engine's table (bot/handlers/flow.py), directly: what follows a step, what Back goes
to, where an edit from the summary returns, which steps a draft skips, and the screen of a stored
state, and what the card flow needs (async parsers and prompts, `arrive`, `Go`, `Done`, several
screens). The flows themselves are exercised as a user would in tests/flows/."""

from __future__ import annotations

from contextlib import asynccontextmanager
from enum import Enum

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from bot.handlers.flow import (
    EDITING,
    Done,
    Flow,
    Go,
    Reply,
    Retry,
    Step,
    Summary,
    call,
    finish,
)
from bot.handlers.photo_steps import add_photo, room_for_photos
from bot.services.errors import InvalidInput, NotFound
from bot.views.common import Screen


class Trip(StatesGroup):
    where = State()
    how = State()
    price = State()  # only when paying
    photos = State()
    summary = State()


class Act(str, Enum):
    go = "g"
    edit = "e"
    done = "d"


class TripCb(CallbackData, prefix="trip"):
    action: Act
    value: str = ""


def view(name: str):
    return lambda f, draft, error: Screen(f"{name}|{error or ''}")


async def nowhere(*args, **kwargs) -> None:
    return None


FLOW = Flow(
    Trip, TripCb, leave=nowhere, outside="gone",
    steps=(
        Step(Trip.where, view("where"), "where?"),
        Step(Trip.how, view("how"), "how?"),
        Step(Trip.price, view("price"), "price?", when=lambda d: d.get("how") == "paid", with_previous=True),
        Step(Trip.photos, view("photos"), "photos?"),
    ),
    summary=Summary(Trip.summary, view("summary"), "check", edit=Act.edit, done=Act.done, finish=nowhere,
                    fields={"where": Trip.where, "how": Trip.how, "price": Trip.price}),
)


def test_steps_follow_in_table_order_skipping_those_that_do_not_apply() -> None:
    free, paid = {"how": "free"}, {"how": "paid"}
    assert FLOW.first({}) == Trip.where
    assert FLOW.after(Trip.where, free) == Trip.how
    assert FLOW.after(Trip.how, free) == Trip.photos  # no price for a free trip
    assert FLOW.after(Trip.how, paid) == Trip.price
    assert FLOW.after(Trip.photos, paid) == Trip.summary


def test_back_goes_to_the_previous_step_that_applies_and_out_before_the_first() -> None:
    free, paid = {"how": "free"}, {"how": "paid"}
    assert FLOW.before(Trip.photos.state, free) == Trip.how
    assert FLOW.before(Trip.photos.state, paid) == Trip.price
    assert FLOW.before(Trip.summary.state, free) == Trip.photos
    assert FLOW.before(Trip.where.state, free) is None  # the flow is left


def test_an_edit_from_the_summary_returns_to_it_unless_the_next_step_belongs_to_the_edited_one() -> None:
    assert FLOW.after(Trip.where, {EDITING: True}) == Trip.summary
    assert FLOW.after(Trip.how, {EDITING: True, "how": "free"}) == Trip.summary
    assert FLOW.after(Trip.how, {EDITING: True, "how": "paid"}) == Trip.price  # asked with its step
    assert FLOW.after(Trip.price, {EDITING: True, "how": "paid"}) == Trip.summary
    assert FLOW.before(Trip.how.state, {EDITING: True}) == Trip.summary  # Back from an edit: the summary


def test_the_screen_of_a_stored_state_is_its_step_and_an_unknown_one_the_summary() -> None:
    assert FLOW.screen(Trip.how.state, {}, None, "why").text == "how|why"  # type: ignore[arg-type]
    assert FLOW.screen("Trip:gone", {}, None).text == "summary|"  # type: ignore[arg-type]


def test_a_photo_step_takes_photos_up_to_its_limit() -> None:
    add = add_photo(2, lambda f: "two at most")
    draft = add("a", {}, None)  # type: ignore[arg-type]
    draft = add("b", draft, None)  # type: ignore[arg-type]
    assert draft["photos"] == ["a", "b"] and not room_for_photos(2)(draft) and room_for_photos(3)(draft)
    try:
        add("c", draft, None)  # type: ignore[arg-type]
    except Retry as retry:
        assert retry.text == "two at most"
    else:
        raise AssertionError("a third photo was taken")


# -- what the card and address flows need: async parsers and prompts that take the handler's data,
# a parser choosing where to go, `arrive`, several screens for one step, a flow without a summary --------
class Card(StatesGroup):
    number = State()
    name = State()
    code = State()


class CardCb(CallbackData, prefix="tcard"):
    action: Act
    value: str = ""


class Stored:
    """An FSMContext and a Database, in memory: what `go` reads and writes."""

    def __init__(self) -> None:
        self.state: str | None = None
        self.data: dict = {}
        self.writes = 0

    async def get_state(self) -> str | None:
        return self.state

    async def get_data(self) -> dict:
        return dict(self.data)

    async def set_state(self, state: State) -> None:
        self.state = state.state

    async def set_data(self, data: dict) -> None:
        self.data = dict(data)

    async def clear(self) -> None:
        self.state, self.data = None, {}

    @asynccontextmanager
    async def write(self):
        self.writes += 1
        yield


async def prompt(f, draft, error, *, gateway: dict, warning: str | None = None) -> Screen:
    """An async prompt that takes a service (`gateway`) and what the parser passed on (`warning`)."""
    return Screen(f"{gateway.get('step')}|{error or ''}|{warning or ''}")


def two_messages(f, draft, error) -> tuple[Screen, Screen]:
    return Screen("keyboard"), Screen(f"name|{error or ''}")


async def take_number(value: str, draft, f, gateway: dict) -> Go:
    if not value.isdigit():
        raise Retry("digits only", warning="deleted")
    gateway["number"] = value
    return Go({**draft, "last4": value[-4:]}, warning="kept the last 4")


async def check_code(value: str, draft, f, gateway: dict):
    raise Done(Screen(f"verified {draft['last4']}"))


async def session_gone(target: State, draft, f, gateway: dict):
    gateway["step"] = target.state
    if target != Card.number and "number" not in gateway:
        gateway["step"] = Card.number.state
        return Card.number, {}, {"error": "session gone"}
    return target, draft, {}


CARD = Flow(
    Card, CardCb, leave=nowhere, outside="gone", summary=None, arrive=session_gone, strays=False,
    steps=(
        Step(Card.number, prompt, "number?", text=take_number),
        Step(Card.name, two_messages, "name?", when=lambda d: d.get("named", True)),
        Step(Card.code, prompt, "code?", text=check_code),
    ),
)


async def test_call_passes_what_a_function_names_and_awaits_a_coroutine() -> None:
    def plain(value, draft, f, user=None):
        return (value, user)

    async def anything(value, draft, f, **named):
        return sorted(named)

    assert await call(plain, 1, {}, None, user="u", cards="c") == (1, "u")
    assert await call(anything, 1, {}, None, user="u", cards="c") == ["cards", "user"]


async def test_a_flow_without_a_summary_comes_back_to_its_last_step_after_an_edit() -> None:
    assert CARD.home == Card.code
    assert CARD.after(Card.number, {}) == Card.name
    assert CARD.after(Card.number, {EDITING: True}) == Card.code  # an edit returns to the last step
    assert CARD.after(Card.number, {"named": False}) == Card.code  # a step whose `when` reads the draft
    assert CARD.before(Card.name.state, {EDITING: True}) == Card.code
    assert CARD.first({}) == Card.number


async def test_go_consults_arrive_writes_only_what_changed_and_gives_the_prompt_what_it_names() -> None:
    stored, gateway = Stored(), {}
    screen = await CARD.go(Card.name, stored, stored, {"x": 1}, None, gateway=gateway)  # type: ignore[arg-type]
    assert screen.text == f"{Card.number.state}|session gone|"
    assert stored.state == Card.number.state and stored.data == {} and stored.writes == 1  # sent to the number
    await CARD.go(Card.number, stored, stored, {}, None, gateway=gateway)  # type: ignore[arg-type]
    assert stored.writes == 1  # nothing changed, nothing written
    gateway["number"] = "4242"
    screens = await CARD.go(Card.name, stored, stored, {}, None, gateway=gateway)  # type: ignore[arg-type]
    assert [s.text for s in screens] == ["keyboard", "name|"]  # several messages for one step
    code = await CARD.go(Card.code, stored, stored, {EDITING: True}, None, gateway=gateway)  # type: ignore[arg-type]
    assert stored.data == {EDITING: False} and code.text.endswith("|")  # an edit ends at the last step


class Sent:
    """The message a typed answer came in: what the handler replied."""

    def __init__(self, text: str | None, contact: object = None) -> None:
        self.text, self.photo, self.contact, self.replies = text, None, contact, []
        self.media_group_id: str | None = None  # not a photo of an album

    async def answer(self, text: str, **kwargs) -> None:
        self.replies.append(text)


class Plain:
    def _(self, msgid: str) -> str:
        return msgid

    def error(self, exc: Exception) -> str:
        return str(exc)


async def test_async_parsers_go_where_they_say_retry_with_what_they_pass_and_end_the_flow_with_done() -> None:
    stored, gateway = Stored(), {}
    await CARD.start(stored, stored, {}, Plain(), gateway=gateway)  # type: ignore[arg-type]
    typed = CARD._typed(CARD.steps[0], take_number, "text")
    wrong = Sent("abc")
    await typed(wrong, stored, stored, Plain(), gateway=gateway)
    assert wrong.replies[-1].endswith("|digits only|deleted") and stored.state == Card.number.state
    right = Sent("4242424242424242")
    await typed(right, stored, stored, Plain(), gateway=gateway)
    assert right.replies == ["keyboard", "name|"] and stored.data == {"last4": "4242"}
    stored.state = Card.code.state
    last = Sent("123")
    await CARD._typed(CARD.steps[2], check_code, "text")(last, stored, stored, Plain(), gateway=gateway)
    assert last.replies == ["verified 4242"]  # the last step's parser ended the flow itself


# -- what the address form needs: a shared contact, a typed answer answered with a choice without
# moving, a summary that says something first --------------------------------------------------------
class Addr(StatesGroup):
    country = State()
    phone = State()
    summary = State()


class AddrCb(CallbackData, prefix="taddr"):
    action: Act
    value: str = ""


def pick_country(value: str, draft, f) -> dict:
    if value == "Korea":  # two close matches: the user chooses, the flow stays on the step
        raise Reply(Screen("North or South?"))
    return {**draft, "country": value}


def take_phone(value: str, draft, f) -> dict:
    return {**draft, "phone": value}


def summary_with_note(f, draft, error):
    summary = Screen(f"summary {draft.get('country')} {draft.get('phone')}")
    return (Screen(error), summary) if error else summary


ADDR = Flow(
    Addr, AddrCb, leave=nowhere, outside="gone",
    steps=(
        Step(Addr.country, view("country"), "country?", text=pick_country),
        Step(Addr.phone, view("phone"), "phone?", text=take_phone, contact=take_phone),
    ),
    summary=Summary(Addr.summary, summary_with_note, "use the buttons", edit=Act.edit, done=Act.done,
                    finish=nowhere, fields={"country": Addr.country, "phone": Addr.phone}),
)


class Contact:
    phone_number = "+79001234567"


async def test_a_reply_answers_with_other_screens_and_leaves_the_step_and_the_draft_alone() -> None:
    stored = Stored()
    await ADDR.start(stored, stored, {"x": 1}, Plain())  # type: ignore[arg-type]
    writes = stored.writes
    unsure = Sent("Korea")
    await ADDR._typed(ADDR.steps[0], pick_country, "text")(unsure, stored, stored, Plain())
    assert unsure.replies == ["North or South?"]
    assert stored.state == Addr.country.state and stored.data == {"x": 1} and stored.writes == writes
    sure = Sent("Chile")
    await ADDR._typed(ADDR.steps[0], pick_country, "text")(sure, stored, stored, Plain())
    assert sure.replies == ["phone|"] and stored.state == Addr.phone.state


async def test_a_step_takes_a_shared_contact_as_its_phone_number() -> None:
    stored = Stored()
    stored.state, stored.data = Addr.phone.state, {"country": "Chile"}
    shared = Sent(None, contact=Contact())
    await ADDR._typed(ADDR.steps[1], take_phone, "contact")(shared, stored, stored, Plain())
    assert shared.replies == ["summary Chile +79001234567"] and stored.state == Addr.summary.state


def test_a_contact_step_registers_a_handler_for_shared_contacts() -> None:
    from aiogram import Router

    router = Router()
    ADDR.install(router)  # type: ignore[arg-type]
    shared, typed = Sent(None, contact=Contact()), Sent("+79001234567")

    def takes_only(message: Sent, handler) -> bool:  # the handler's magic filters (F.contact, F.text) hold
        magic = [flt.magic for flt in handler.filters or () if flt.magic is not None]
        return bool(magic) and all(m.resolve(message) for m in magic)

    assert len([h for h in router.message.handlers if takes_only(shared, h)]) == 1  # the phone step's
    assert len([h for h in router.message.handlers if takes_only(typed, h)]) == 2  # each step's text


async def test_a_summary_prompt_may_say_something_before_the_summary() -> None:
    stored = Stored()
    stored.state, stored.data = Addr.summary.state, {"country": "Chile", "phone": "1"}
    typed = Sent("hello")
    await ADDR._expected("use the buttons")(typed, stored, stored, Plain())
    assert typed.replies == ["use the buttons", "summary Chile 1"] and stored.state == Addr.summary.state


# -- a sentence built by a view, and FSM data an older version of the flow stored ------------------------
def nested(data: dict) -> dict:
    """Yesterday's layout: {"old": {"country": …}} — today's draft is flat."""
    old = data.get("old")
    return {k: v for k, v in data.items() if k != "old"} | (old if isinstance(old, dict) else {})


UPGRADED = Flow(
    Addr, AddrCb, leave=nowhere, outside="gone", upgrade=nested,
    steps=(
        Step(Addr.country, view("country"), lambda f: "⚠️ a country, please", text=pick_country),
        Step(Addr.phone, view("phone"), "phone?", text=take_phone, contact=take_phone),
    ),
    summary=Summary(Addr.summary, summary_with_note, lambda f: "⚠️ the buttons", edit=Act.edit, done=Act.done,
                    finish=nowhere, fields={"country": Addr.country, "phone": Addr.phone}),
)


async def test_a_step_may_say_what_it_expects_with_a_sentence_its_view_builds() -> None:
    stored = Stored()
    stored.state = Addr.country.state
    sticker = Sent(None)
    await UPGRADED._expected(UPGRADED.steps[0].expected)(sticker, stored, stored, Plain())
    assert sticker.replies == ["country|⚠️ a country, please"]
    stored.state, stored.data = Addr.summary.state, {"country": "Chile", "phone": "1"}
    await UPGRADED._expected(UPGRADED.summary.expected)(sticker, stored, stored, Plain())  # type: ignore[union-attr]
    assert sticker.replies[-2:] == ["⚠️ the buttons", "summary Chile 1"]


async def test_a_draft_stored_by_an_older_version_is_read_through_upgrade_and_stored_anew() -> None:
    stored = Stored()
    stored.state, stored.data = Addr.phone.state, {"old": {"country": "Chile"}}
    assert await UPGRADED.draft(stored) == {"country": "Chile"}  # type: ignore[arg-type]
    typed = Sent("+56 9 1234 5678")
    await UPGRADED._typed(UPGRADED.steps[1], take_phone, "text")(typed, stored, stored, Plain())
    assert typed.replies == ["summary Chile +56 9 1234 5678"]
    assert stored.data == {"country": "Chile", "phone": "+56 9 1234 5678", EDITING: False}  # today's layout
    assert await ADDR.draft(stored) == stored.data  # type: ignore[arg-type]  # no upgrade: as stored


async def test_finish_saves_and_leaves_asks_a_wrong_answer_again_and_leaves_with_why_on_a_refusal() -> None:
    stored = Stored()

    async def refused(error: Exception) -> Screen:
        return Screen(f"the item, and why: {type(error).__name__}")

    async def saves() -> Screen:
        assert stored.writes == 1  # the save runs inside the unit of work that leaves the flow
        return Screen("saved")

    async def wrong() -> Screen:
        raise InvalidInput()

    async def moved_on() -> Screen:
        raise NotFound()

    stored.state, stored.data = Card.code.state, {"last4": "4242"}
    with pytest.raises(Done) as done:
        await finish(stored, stored, saves, refused)  # type: ignore[arg-type]
    assert done.value.screens == (Screen("saved"),) and (stored.state, stored.data) == (None, {})

    stored.state, stored.data = Card.code.state, {"last4": "4242"}
    with pytest.raises(InvalidInput):  # the engine asks the step again: nothing entered is lost
        await finish(stored, stored, wrong, refused)  # type: ignore[arg-type]
    assert (stored.state, stored.data) == (Card.code.state, {"last4": "4242"})

    with pytest.raises(Done) as done:
        await finish(stored, stored, moved_on, refused)  # type: ignore[arg-type]
    assert done.value.screens == (Screen("the item, and why: NotFound"),) and stored.state is None
