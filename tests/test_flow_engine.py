"""The flow engine's table (bot/handlers/flow.py), directly: what follows a step, what Back goes
to, where an edit from the summary returns, which steps a draft skips, and the screen of a stored
state. The flows themselves are exercised as a user would in tests/flows/ (disputes, reviews)."""

from __future__ import annotations

from enum import Enum

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup

from bot.handlers.flow import (
    EDITING,
    Flow,
    Retry,
    Step,
    Summary,
    add_photo,
    room_for_photos,
)
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
