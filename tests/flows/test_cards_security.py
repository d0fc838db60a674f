"""No card data is kept: 100 cards with random valid numbers are added through the Dispatcher by 20
users; afterwards no run of 12 or more digits of any of those numbers, and none of the CVCs, is in
the database file or its WAL, in the captured logs (DEBUG), in FSM storage, or in anything the bot
sent; and every message with a number or a CVC was deleted."""

from __future__ import annotations

import itertools
import json
import logging
import random
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, DeleteMessage, EditMessageText, SendMessage

from bot.fakebot import Player
from bot.integrations.payments import SANDBOX_CARDS
from bot.services.card_numbers import luhn_ok
from tests.conftest import App
from tests.services_kit import SUITE_PG, postgres_contents

CARDS = 100
USERS = 20
ALLOWED_FSM_KEYS = {"sid", "brand", "last4", "replace", "editing", "offer"}
_PREFIXES = (("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("2200", 16), ("2204", 19), ("34", 15),
             ("37", 15), ("62", 16))


def random_card(rng: random.Random) -> tuple[str, str, str]:
    """(digits, how the user types it, CVC)."""
    prefix, length = rng.choice(_PREFIXES)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    digits = next(body + d for d in "0123456789" if luhn_ok(body + d))
    assert digits not in SANDBOX_CARDS
    style = rng.choice(("plain", "spaces", "dashes"))
    groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    typed = {"plain": digits, "spaces": " ".join(groups), "dashes": "-".join(groups)}[style]
    # 3-digit codes from 300 (4 for Amex): ids, counts and amounts in this test stay below 300
    cvc = str(rng.randint(3000, 9999)) if length == 15 else str(rng.randint(300, 999))
    return digits, typed, cvc


def windows(digits: str, size: int = 12) -> set[str]:
    return {digits[i:i + size] for i in range(len(digits) - size + 1)}


_SEPARATORS = re.compile(rb"[ \-]|\xc2\xa0")


def leaked_number_runs(haystack: bytes, secrets: set[str]) -> list[str]:
    """Runs of 12+ digits (spaces and dashes ignored) that contain 12 digits of a card number."""
    flat = _SEPARATORS.sub(b"", haystack)
    found = []
    for run in re.findall(rb"[0-9]{12,}", flat):
        text = run.decode()
        found += [w for w in windows(text) if w in secrets]
    return found


_TOKEN = re.compile(rb"(?<![0-9A-Za-z])[0-9]{3,4}(?![0-9A-Za-z])")


def leaked_codes(haystack: bytes, codes: set[str]) -> set[str]:
    """The CVCs that appear as a number of their own (not inside a longer number or a hex id)."""
    return {m.decode() for m in _TOKEN.findall(haystack)} & codes


def wal_pages(wal: bytes) -> bytes:
    """The page images of a SQLite WAL file (https://sqlite.org/fileformat.html#the_write_ahead_log):
    a 32-byte header, then frames of a 24-byte header and one page; each image ends with a NUL, so
    no token runs from one page into the next."""
    magic, _version, page_size = struct.unpack(">III", wal[:12])
    assert magic in (0x377F0682, 0x377F0683) and page_size >= 512, "not a WAL file"
    frame = 24 + page_size
    return b"\0".join(wal[start + 24:start + frame] for start in range(32, len(wal) - frame + 1, frame))


_SQL_TIMING = re.compile(r"(cached since|generated in|no key|caching disabled) [0-9.e+-]+s( ago)?")


def log_arg_texts(arg: Any) -> list[str]:
    """The text of a log argument. Numbers are left out (timings and ids are logged as numbers),
    and so is SQLAlchemy's timing ("cached since 312.5s ago"); SQL parameters (`_repr_params`,
    which shortens long values in the log line, cutting random ids in the middle) are read value
    by value, whole and numbers included: more than the log line shows, never less."""
    if isinstance(arg, int | float | None):
        return []
    if type(arg).__name__ == "_repr_params":
        return [str(value) for value in _flatten(arg.params)]
    if isinstance(arg, str) and _SQL_TIMING.fullmatch(arg):
        return []
    return [str(arg)]


def _flatten(params: Any) -> list[Any]:
    if isinstance(params, dict):
        return [v for value in params.values() for v in _flatten(value)]
    if isinstance(params, list | tuple):
        return [v for value in params for v in _flatten(value)]
    return [params]


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The log at DEBUG before the bot is built, aiogram's update lines included: the test reads
    every line the process would log (aiogram's update log is at WARNING when the bot runs)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="aiogram.event")
    return caplog


async def test_no_card_number_or_cvc_is_kept_anywhere(debug_log: pytest.LogCaptureFixture, app: App, db_path: Path,
                                                      caplog: pytest.LogCaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # update ids far above every code, so that they never look like one in the logs
    monkeypatch.setattr(Player, "_update_ids", itertools.count(10**10))
    fsm_writes: list[str] = []
    storage = type(app.dp.fsm.storage)  # SqlStorage, or the Redis one (KABINET_SUITE_REDIS=1)
    set_data = storage.set_data

    async def spy(self: Any, key: Any, data: Any) -> None:
        fsm_writes.append(json.dumps(data))
        await set_data(self, key, data)

    monkeypatch.setattr(storage, "set_data", spy)

    rng = random.Random(20261125)
    cards = [random_card(rng) for _ in range(CARDS)]
    # a 4-digit code equal to some card's last 4 would be found as that card's last 4: draw again
    last4s = {d[-4:] for d, _, _ in cards}
    cards = [(d, t, c if c not in last4s else str(rng.randint(3000, 9999))) for d, t, c in cards]
    assert not {c for _, _, c in cards} & last4s
    players = [app.player(5001 + i, first_name=f"P{i}", language_code="ru" if i % 2 else "en")
               for i in range(USERS)]
    for p in players:
        await p.send("/start")
        await p.press("💳 Банковские карты" if p.user.language_code == "ru" else "💳 Bank cards")
    sensitive_ids: dict[int, set[int]] = {p.user.id: set() for p in players}
    for i, (digits, typed, cvc) in enumerate(cards):
        p = players[i % USERS]
        await p.press("➕ Добавить карту" if p.user.language_code == "ru" else "➕ Add a card")
        number_message = await p.send(typed)
        await p.send(f"{rng.randint(1, 12):02d}/{rng.randint(27, 35)}")
        await p.send("IVAN PETROV")
        cvc_message = await p.send(cvc)
        assert p.last_text.startswith("✅"), p.last_text
        sensitive_ids[p.user.id] |= {number_message.message_id, cvc_message.message_id}
        if i % 7 == 0:  # and now and then the user looks at the card
            await p.press("•••• " + digits[-4:])
            await p.press("‹ Назад" if p.user.language_code == "ru" else "‹ Back")
    for p in players:
        assert len(await app.services.cards.wallet(p.user.id)) == 5
    from bot.runner import build_sweeper

    done = await build_sweeper(app.services)(app.clock.now())
    assert done["card_holds_release"] == CARDS  # the holds' pushes are in the database too

    numbers = set().union(*(windows(d) for d, _, _ in cards))
    codes = {c for _, _, c in cards}

    # deleteMessage for every message with a number or a CVC
    for p in players:
        deleted = {c.message_id for c in app.session.calls_of(DeleteMessage) if int(c.chat_id) == p.user.id}
        assert sensitive_ids[p.user.id] <= deleted

    # the database file and its WAL, byte by byte: the WAL's page images, without the frame headers,
    # whose checksums and salts are random bytes that now and then spell a 3-digit code
    if SUITE_PG:  # PostgreSQL: every relation's file on disk (dead row versions too) and the live rows;
        # the codes in the live rows only (the files' page and tuple headers are binary numbers)
        files, live = postgres_contents(app.settings.database_url)
        for name, data in [*files, ("rows", live)]:
            assert leaked_number_runs(data, numbers) == [], name
        assert leaked_codes(live, codes) == set()
    for path in () if SUITE_PG else (db_path, db_path.with_name(db_path.name + "-wal")):
        assert path.exists()
        data = path.read_bytes()
        assert leaked_number_runs(data, numbers) == [], path
        content = wal_pages(data) if path.name.endswith("-wal") else data
        assert leaked_codes(content, codes) == set(), path

    # FSM storage: every write, and what is left
    assert fsm_writes and all(set(json.loads(w)) <= ALLOWED_FSM_KEYS for w in fsm_writes)
    fsm_text = "\n".join(fsm_writes).encode()
    fsm_text += repr(await app.flows()).encode()
    assert leaked_number_runs(fsm_text, numbers) == []
    assert leaked_codes(fsm_text, codes) == set()

    # the logs, at DEBUG (SQL parameters included); codes are looked for in the text parts of
    # each record, since timings and ids are logged as numbers. SQLAlchemy shortens long parameters
    # in its log line ("… (123 characters truncated) …"), cutting random ids in the middle, so the
    # parameters themselves are read whole: more than the log line shows, never less.
    assert len(caplog.records) > (400 if SUITE_PG else 1000)  # asyncpg logs no call of its own, aiosqlite each
    assert leaked_number_runs(caplog.text.encode(), numbers) == []
    for record in caplog.records:
        parts = [str(record.msg), record.exc_text or ""]
        args = record.args if isinstance(record.args, tuple) else (record.args,) if record.args else ()
        for arg in args:
            parts += log_arg_texts(arg)
        text = "\n".join(parts).encode()
        assert leaked_number_runs(text, numbers) == [], record.getMessage()[:200]
        assert leaked_codes(text, codes) == set(), record.getMessage()[:200]

    # and nothing the bot sent repeats them
    sent = [c.text for c in app.session.calls if isinstance(c, SendMessage | EditMessageText | AnswerCallbackQuery)]
    sent_text = "\n".join(t or "" for t in sent).encode()
    assert leaked_number_runs(sent_text, numbers) == []
    assert leaked_codes(sent_text, codes) == set()
