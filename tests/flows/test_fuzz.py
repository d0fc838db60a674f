"""Fuzzed sequences: a hypothesis state machine drives two or three users through every flow at
once over the real Dispatcher, and checks the invariants after every step.

What a step can be: press a button on screen; type the example the screen shows (`<code>…</code>`),
a button's label, the user's own marker, HTML, a card number, a long text or any text; send a
sticker, a photo or an album; a command; a batch of several of these from several users handed to
concurrent tasks, as long polling does (`Player.together`); a press of an old button (stale) or of
another user's button (forged); a restart of the process; time passing, with the sweeper and push
delivery running.

Invariants after every step: the error handler was never called and no update went unhandled;
every button press was answered; every text the bot sent fits Telegram (≤ 4,096 characters as
Telegram counts them) and is valid HTML (the fake session checks); no user ever saw another user's
marker; nobody has more than 5 addresses or 5 cards; no card number typed anywhere is in FSM
storage.

Sequences: 1,200 in CI with fixed seeds (FUZZ_SEQUENCES, FUZZ_SEED), 10,000 random ones with `pytest --long`,
in SHARDS tests that pytest-xdist spreads over its workers. One bot serves all the sequences of a shard
(each sequence has users of its own), so a sequence costs its steps only.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import os
import random
import re
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bot.config import Settings
from bot.fakebot import Player
from bot.runner import build_sweeper
from bot.services.clock import FakeClock
from tests.conftest import TEST_FINGERPRINT_KEY, App
from tests.figures import add_up
from tests.pushkit import sim_delivery

SEQUENCES = int(os.environ.get("FUZZ_SEQUENCES", "1200"))
SHARDS = 4  # tests of SEQUENCES / SHARDS sequences each, each with a bot of its own
# the shards' seeds: fixed in CI (a failure replays), random in the long run (--long)
SEED = int(os.environ.get("FUZZ_SEED", "20261206" if SEQUENCES <= 2000 else str(random.randrange(2**32))))
CARD_NUMBERS = ("4111 1111 1111 1111", "5555-5555-5555-4444", "4242424242424242")
CODE = re.compile(r"<code>(.*?)</code>", re.S)
TAG = re.compile(r"<[^>]+>")

TEXTS = st.one_of(
    st.just("example"), st.just("label"), st.just("marker"), st.just("example"),
    st.sampled_from(["<b>bold</b> & <i>x", "</code><script>alert(1)</script>", "&amp; &lt;", "a" * 5000]),
    st.sampled_from(CARD_NUMBERS),
    st.sampled_from(["1", "5", "0", "-1", "99999999999999999999", "²", "12/29", "IVAN PETROV", "Skip",
                     "Пропустить", "Москва", "US", "+1 617 555 0123", "02110", "пять", "да", "yes"]),
    st.text(max_size=80),
)


class Run:
    """What all sequences of one test share: the loop, the bot over one database, the counters."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        settings = Settings(_env_file=None, database_url=database_url,  # type: ignore[call-arg]
                            throttle_rate=0, card_fingerprint_key=TEST_FINGERPRINT_KEY)
        self.app = self.loop.run_until_complete(self._app(settings))
        self.user_ids = itertools.count(50_000_000)
        self.sequences = self.steps = self.batches = self.restarts = self.presses = 0
        self.forged = self.stale = 0

    @staticmethod
    async def _app(settings: Settings) -> App:
        app = App(settings, FakeClock())
        app.players = []
        return app

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


class Kabinet(RuleBasedStateMachine):
    run_: Run

    def __init__(self) -> None:
        super().__init__()
        self.r = self.run_
        self.app = self.r.app
        self.players: list[Player] = []
        self.markers: dict[int, str] = {}
        self.calls_seen = len(self.app.session.calls)
        self.pressed: set[str] = set()
        self.my_presses = 0
        self.restarted = False
        self.r.sequences += 1

    # -- users -------------------------------------------------------------------------------
    @initialize(languages=st.lists(st.sampled_from(["en", "ru"]), min_size=2, max_size=3))
    def users(self, languages: list[str]) -> None:
        for language in languages:
            uid = next(self.r.user_ids)
            marker = f"Zq{uid:x}"
            player = self.app.player(uid, first_name=f"Fuzz{marker}", language_code=language)
            self.players.append(player)
            self.markers[uid] = marker
            self.r.run(player.send("/start"))

    def _player(self, who: int) -> Player:
        return self.players[who % len(self.players)]

    async def _press(self, player: Player, data: str, message: Any = None) -> None:
        self.r.presses += 1
        self.my_presses += 1
        await player.press_data(data, message)

    def _text_for(self, player: Player, kind: str, pick: int) -> str:
        screen = player.last_text if player.bot_messages else ""
        if kind == "example":
            examples = [html.unescape(TAG.sub("", e)) for e in CODE.findall(screen)]
            return examples[pick % len(examples)] if examples else "test"
        if kind == "label":
            labels = [t for t, _ in player.buttons()] if player.bot_messages else []
            return labels[pick % len(labels)] if labels else "menu"
        if kind == "marker":
            return f"Name {self.markers[player.user.id]}"
        return kind or " "

    async def _act(self, player: Player, action: tuple[str, Any, int]) -> None:
        kind, arg, pick = action
        if kind == "press":
            buttons = player.buttons() if player.bot_messages else []
            if buttons:
                await self._press(player, buttons[pick % len(buttons)][1])
        elif kind == "text":
            await player.send(self._text_for(player, arg, pick))
        elif kind == "photo":
            await player.send_photo(f"photo{pick}", caption=arg or None)
        elif kind == "sticker":
            await player.send_sticker()
        else:
            await player.send(kind)

    ACTIONS = st.tuples(
        st.sampled_from(["press", "press", "press", "text", "text", "photo", "sticker", "/start", "/menu",
                         "/cancel", "/help", "/settings"]),
        TEXTS, st.integers(min_value=0, max_value=99))

    # -- rules ---------------------------------------------------------------------------------
    @rule(who=st.integers(0, 2), action=ACTIONS)
    def act(self, who: int, action: tuple[str, Any, int]) -> None:
        self.r.run(self._act(self._player(who), action))

    @rule(who=st.integers(0, 2), pick=st.integers(0, 99))
    def press_visible(self, who: int, pick: int) -> None:
        self.r.run(self._act(self._player(who), ("press", None, pick)))

    @rule(who=st.integers(0, 2), text=TEXTS, pick=st.integers(0, 99))
    def type_text(self, who: int, text: str, pick: int) -> None:
        self.r.run(self._act(self._player(who), ("text", text, pick)))

    @rule(batch=st.lists(st.tuples(st.integers(0, 2), ACTIONS), min_size=2, max_size=5),
          double=st.booleans())
    def together(self, batch: list[tuple[int, tuple[str, Any, int]]], double: bool) -> None:
        """Several updates handed to concurrent tasks at once; `double`: the first one twice."""
        if double:
            batch = [batch[0], *batch]

        async def go() -> None:
            async with self.players[0].together():
                for who, action in batch:
                    await self._act(self._player(who), action)
        self.r.batches += 1
        self.r.run(go())

    @rule(who=st.integers(0, 2), pick=st.integers(0, 999))
    def stale(self, who: int, pick: int) -> None:
        """A button of an older message of one's own."""
        player = self._player(who)
        old = [(m, d) for m in player.bot_messages[:-1] for _, d in player.buttons(m)]
        if old:
            message, data = old[pick % len(old)]
            self.r.stale += 1
            self.r.run(self._press(player, data, message))

    @rule(who=st.integers(0, 2), other=st.integers(1, 2), pick=st.integers(0, 999))
    def forged(self, who: int, other: int, pick: int) -> None:
        """Another user's button data, pressed on one's own message."""
        player, victim = self._player(who), self._player(who + other)
        if victim is player or not player.bot_messages:
            return
        theirs = [d for m in victim.bot_messages for _, d in victim.buttons(m)]
        if theirs:
            self.r.forged += 1
            self.r.run(self._press(player, theirs[pick % len(theirs)], player.last))

    @precondition(lambda self: not self.restarted)  # a restart rebuilds the bot: one a sequence
    @rule(really=st.integers(0, 4))
    def restart(self, really: int) -> None:
        if really != 3:  # most draws of this rule are no-ops, so restarts stay a small share of the cost
            return
        self.restarted = True
        self.r.restarts += 1
        self.r.run(self.app.restart())

    @rule(hours=st.sampled_from([1, 6, 25, 24 * 8, 24 * 31]))
    def time_passes(self, hours: int) -> None:
        async def go() -> None:
            self.app.clock.advance(hours=hours)
            await build_sweeper(self.app.services)(self.app.clock.now())
            await sim_delivery(self.app)(self.app.clock.now())  # one run: what is due now
        self.r.run(go())

    # -- invariants ----------------------------------------------------------------------------
    @invariant()
    def holds(self) -> None:
        self.r.steps += 1
        app = self.app
        assert not app.errors.errors, f"the error handler was called: {app.errors.errors!r}"
        new = app.session.calls[self.calls_seen:]
        self.calls_seen = len(app.session.calls)
        for call in new:
            if isinstance(call, AnswerCallbackQuery):
                self.pressed.add(call.callback_query_id)
            text = getattr(call, "text", None) if isinstance(call, SendMessage | EditMessageText) else (
                getattr(call, "caption", None) if isinstance(call, SendPhoto) else None)
            if text is None:
                continue
            visible = html.unescape(TAG.sub("", text))
            limit = 1024 if isinstance(call, SendPhoto) else 4096
            assert len(visible.encode("utf-16-le")) // 2 <= limit, (type(call).__name__, len(visible))
            chat = int(call.chat_id)
            for uid, marker in self.markers.items():
                if uid != chat:
                    assert marker not in text, f"user {chat} was shown user {uid}'s data: {text[:300]!r}"
            for number in CARD_NUMBERS:
                assert re.sub(r"\D", "", number) not in re.sub(r"[ -]", "", text), "a card number echoed"
        assert len(self.pressed) == self.my_presses, "a button press was not answered"

    def teardown(self) -> None:
        self.r.run(self._stored())

    async def _stored(self) -> None:
        services = self.app.services
        for player in self.players:
            uid = player.user.id
            assert len(await services.addresses.list(uid)) <= 5
            key = StorageKey(bot_id=self.app.bot.id, chat_id=uid, user_id=uid)
            data = repr(await self.app.dp.storage.get_data(key))
            for number in CARD_NUMBERS:
                assert re.sub(r"\D", "", number) not in re.sub(r"[ -]", "", data), "a card number in FSM data"


@pytest.mark.parametrize("shard", range(SHARDS))
def test_fuzzed_sequences(shard: int, database_url: str, request: pytest.FixtureRequest) -> None:
    """One shard of the sequences: each its own bot and seed, so pytest-xdist spreads them."""
    run = Run(database_url)
    machine = seed(SEED + shard)(type(f"Kabinet{shard}", (Kabinet,), {"run_": run}))
    try:
        run_state_machine_as_test(machine, settings=settings(
            max_examples=SEQUENCES // SHARDS + (shard < SEQUENCES % SHARDS), stateful_step_count=12,
            deadline=None, database=None, suppress_health_check=list(HealthCheck),
        ))
    finally:
        run.run(run.app.close())
        run.loop.close()
        add_up(request, "fuzzed sequences: {sequences} over 2–3 users each ({steps} steps, {batches} concurrent "
               "batches, {restarts} restarts, {presses} presses of which {stale} stale and {forged} forged) "
               "in {tests} shards, {failures} failures",
               {"sequences": run.sequences, "steps": run.steps, "batches": run.batches, "restarts": run.restarts,
                "presses": run.presses, "stale": run.stale, "forged": run.forged})
