"""Test set-up: a template database migrated once per session and copied per test; the real
Dispatcher over a fake Telegram session; users as `Player`s (send text, press buttons)."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import BaseMiddleware, Bot, Dispatcher
from hypothesis import settings as hypothesis_settings

from bot.app import Services, build_bot, build_dispatcher, build_services
from bot.config import Settings
from bot.db.migrate import migrate
from bot.fakebot import FakeSession, Player
from bot.i18n import compile_catalogs
from bot.logs import RedactingFormatter
from bot.services.clock import FakeClock
from tests.services_kit import postgres, redis_space, run_sql  # noqa: F401  (fixtures: the local services, or a skip)

pytest_plugins = ["tests.watchdog"]  # a hanging test ends its worker (KABINET_TEST_TIMEOUT)

# Property tests: modest and reproducible by default (CI); `HYPOTHESIS_PROFILE=long` for a long run.
hypothesis_settings.register_profile("ci", max_examples=20, derandomize=True)
hypothesis_settings.register_profile("long", max_examples=500, derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _logger_levels() -> dict[str, int]:
    loggers = logging.root.manager.loggerDict.items()
    return {"": logging.root.level} | {n: lg.level for n, lg in loggers if isinstance(lg, logging.Logger)}


@pytest.fixture(autouse=True)
def _process_logging_as_found() -> Iterator[None]:
    """A test that runs `main.main()` in this process sets up the process's logging (bot/logs.py):
    a handler on the root logger writing to that test's captured stderr, and the levels of root and
    of the loggers it quiets. Left behind, the handler outlives its stream (a later record prints
    "Logging error … I/O operation on closed file") and the levels hide what a later test reads
    from its log. Each test leaves the handler and every logger's level as it found them (a logger
    made during the test goes back to NOTSET); pytest's own capture handlers are not touched."""
    levels = _logger_levels()
    yield
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if isinstance(handler.formatter, RedactingFormatter):
            root.removeHandler(handler)
            handler.close()
    for name, level in _logger_levels().items():
        if level != levels.get(name, logging.NOTSET):
            logging.getLogger(name or None).setLevel(levels.get(name, logging.NOTSET))


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compile_catalogs()
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate(f"sqlite+aiosqlite:///{path}", path)
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "kabinet.sqlite3"
    shutil.copy(template_db, path)
    return path


# KABINET_SUITE_PG=1 (the second run of .ci/run): every test's database is a fresh PostgreSQL
# database, made from a template migrated once per worker (tests/services_kit.py)
SUITE_PG = os.environ.get("KABINET_SUITE_PG") == "1"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[Any]:
    """This worker's migrated PostgreSQL template (tests/services_kit.py: `Template`)."""
    from tests.services_kit import migrated_template

    with migrated_template() as template:
        yield template


TEST_FINGERPRINT_KEY = "kabinet-tests-" + "0" * 32


@pytest.fixture(scope="session")
def database_copies(request: pytest.FixtureRequest) -> Iterator[Callable[[Path], str]]:
    """Fresh databases for the tests that make several (a fuzzed run, each payload, each example):
    `copy(folder)` is a copy of the SQLite template in `folder`, or (KABINET_SUITE_PG=1) a copy of
    the worker's PostgreSQL template, dropped at the end of the session."""
    made: list[str] = []
    # asked for now, so that it outlives this fixture (the copies are given back to it at the end)
    template = request.getfixturevalue("pg_template" if SUITE_PG else "template_db")

    def copy(folder: Path) -> str:
        if not SUITE_PG:
            path = folder / f"kabinet-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copy(template, path)
            return f"sqlite+aiosqlite:///{path}"
        made.append(template.take())
        return made[-1]

    yield copy
    for url in made:
        template.give_back(url)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test's database: a copy of the migrated SQLite template, or (KABINET_SUITE_PG=1) a
    PostgreSQL database made from the worker's template and dropped at the end."""
    if not SUITE_PG:
        yield f"sqlite+aiosqlite:///{request.getfixturevalue('db_path')}"
        return
    from tests.services_kit import database_from

    with database_from(request.getfixturevalue("pg_template")) as url:
        yield url


# KABINET_SUITE_REDIS=1 (the second run of .ci/run): every test's bot keeps its flows, locks and
# flood buckets in the local Redis (tests/services_kit.py), under a key prefix of the test's own
SUITE_REDIS = os.environ.get("KABINET_SUITE_REDIS") == "1"


@pytest.fixture
def settings(database_url: str) -> Settings:
    services: dict[str, Any] = {}
    if SUITE_REDIS:
        from tests.services_kit import REDIS_URL

        services = {"redis_url": REDIS_URL, "redis_prefix": f"ks{uuid.uuid4().hex[:12]}"}
    if SUITE_PG:  # no database file to keep the generated key beside: the tests' own
        services["card_fingerprint_key"] = TEST_FINGERPRINT_KEY
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=None,
        database_url=database_url,
        default_locale="en",
        throttle_rate=0,  # the clock stands still in tests: tests/flows/test_throttling.py turns it on
        **services,
    )


@pytest.fixture
def push_kinds() -> Iterator[None]:
    """The test-only push kinds of tests/pushkit.py, for one test: `pytestmark = usefixtures(...)`."""
    from tests.pushkit import demo_kinds  # pushkit imports this module

    with demo_kinds():
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


class ErrorRecorder(BaseMiddleware):
    """Sits on the errors observer: every call of the error handler is recorded, so a test that
    did not declare an error fails."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        self.errors.append(event.exception)
        return await handler(event, data)


class App:
    """One running bot over one database: dispatcher, fake Telegram, and its players."""

    def __init__(self, settings: Settings, clock: FakeClock) -> None:
        self.settings = settings
        self.clock = clock
        self.session = FakeSession(now=clock.now)
        self.expected_errors = 0
        self.services: Services
        self.dp: Dispatcher
        self.bot: Bot
        self.errors = ErrorRecorder()
        self.slept: list[float] = []  # pauses between tries of a reply (moves the fake clock)
        self.start()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds=seconds)

    def start(self) -> None:
        self.services = build_services(self.settings, clock=self.clock)
        self.dp = build_dispatcher(self.settings, self.services)
        self.errors = ErrorRecorder()
        self.dp.errors.outer_middleware(self.errors)
        self.bot = build_bot(self.settings, session=self.session, services=self.services, sleep=self.sleep)

    async def restart(self) -> None:
        """A new process over the same database: new engine, dispatcher and bot; Telegram (the
        fake session, with the chats' messages) stays."""
        await self.services.db.dispose()
        if self.services.redis is not None:  # the flows stay in Redis, as they stay in the database
            await self.services.redis.aclose()
        self.start()
        for player in self.players:
            player.dp, player.bot = self.dp, self.bot

    players: list[Player]

    def player(self, user_id: int = 1001, *, first_name: str = "Alex", language_code: str | None = "en", **kw: Any) -> Player:
        p = Player(self.dp, self.bot, self.session, user_id=user_id, first_name=first_name,
                   language_code=language_code, **kw)
        self.players.append(p)
        return p

    async def close(self) -> None:
        await self.services.db.dispose()
        redis = self.services.redis
        if redis is not None:
            keys = [k async for k in redis.scan_iter(match=f"{self.settings.redis_prefix}:*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()

    async def flows(self) -> list[tuple[int, str | None, str]]:
        """Every FSM record as (user id, state, data JSON), wherever the bot keeps them: the
        `fsm_states` table, or Redis under the test's prefix (KABINET_SUITE_REDIS=1)."""
        redis = self.services.redis
        if redis is None:
            async with self.services.db.read() as conn:
                rows = (await conn.exec_driver_sql("SELECT user_id, state, data FROM fsm_states")).all()
            return [(int(r[0]), r[1], r[2]) for r in rows]
        found: dict[tuple[int, str], dict[str, Any]] = {}
        async for raw in redis.scan_iter(match=f"{self.settings.redis_prefix}:*"):
            key = raw.decode()
            parts = key.split(":")
            if parts[-1] not in ("state", "data"):
                continue
            value = await redis.get(key)
            record = found.setdefault((int(parts[-3]), parts[-2]), {"state": None, "data": "{}"})
            record[parts[-1]] = value.decode() if value is not None else None
        return [(user, r["state"], r["data"]) for (user, _destiny), r in sorted(found.items())]

    def sqlite(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement on the database through a connection of its own, as another process
        (an operator's command, a second bot) would run it; committed at once. Written for SQLite
        (`?` placeholders); on PostgreSQL (KABINET_SUITE_PG=1) it runs there."""
        return run_sql(self.settings.database_url, sql, params)


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    application = App(settings, clock)
    application.players = []
    yield application
    try:
        unexpected = len(application.errors.errors) - application.expected_errors
        assert unexpected <= 0, f"the error handler was called: {application.errors.errors!r}"
    finally:
        await application.close()


@pytest.fixture
def alex(app: App) -> Player:
    return app.player(1001, first_name="Alex", language_code="en")


@pytest.fixture
def masha(app: App) -> Player:
    return app.player(2002, first_name="Маша", language_code="ru-RU")


# --- the long run and the reliability figures ------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true",
                     help="the long run: many more fuzzed sequences and crash-and-restart cycles")


# The files whose tests take tens of seconds each (pytest --durations), run first, longest first:
# pytest-xdist hands the tests out in collection order, so a long test collected late (the
# crash-and-restart cycles, ~3 minutes) would run alone at the end while the other workers idle.
LONG_FIRST = (
    "tests/test_crash_restart.py",
    "tests/flows/test_fuzz.py",
    "tests/test_multi_instance.py",
    "tests/test_cli.py",
    "tests/flows/test_crawler.py",
    "tests/test_bot_api.py",
    "tests/flows/test_forged_callbacks.py",
    "tests/flows/test_injection.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, path in enumerate(LONG_FIRST) if item.nodeid.startswith(path)), len(LONG_FIRST))

    items.sort(key=rank)  # stable: each file's tests stay together and in order


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--long"):
        os.environ.setdefault("CRASH_CYCLES", "200")
        os.environ.setdefault("FUZZ_SEQUENCES", "10000")
        hypothesis_settings.load_profile("long")


FIGURES: list[str] = []
TALLIES: dict[str, list[int]] = {}  # figure → [sum, tests, failed tests]
TALLIED: dict[str, str] = {}  # test id → its figure (a test that fails before tallying is still counted)
SUMS: dict[str, tuple[dict[str, int], list[int]]] = {}  # template → (summed counts, [tests, failed])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    from tests.figures import KEY, SUM, TALLY

    _service_skips(report)
    if report.when == "call":
        for name, value in report.user_properties:
            if name == SUM:
                template, counts = value
                sums, outcomes = SUMS.setdefault(template, ({}, [0, 0]))
                for key, n in counts.items():
                    sums[key] = sums.get(key, 0) + n
                outcomes[0] += 1
                outcomes[1] += report.failed
    for name, value in report.user_properties:
        if name == TALLY:
            figure, n = value
            TALLIED.setdefault(report.nodeid, figure)
            if report.when == "call":
                TALLIES.setdefault(figure, [0, 0, 0])[0] += n
    if report.when == "call":
        FIGURES.extend(value for name, value in report.user_properties if name == KEY)
    figure = TALLIED.get(report.nodeid)
    if figure is not None and report.when == "teardown":
        counts = TALLIES.setdefault(figure, [0, 0, 0])
        counts[1] += 1
    if figure is not None and report.failed:
        TALLIES.setdefault(figure, [0, 0, 0])[2] += 1


# --- services (Redis; PostgreSQL later): tests/services_kit.py --------------------------------------
SERVICE_SKIPS: dict[str, int] = {}  # skip reason → tests skipped for it


def _service_skips(report: pytest.TestReport) -> None:
    from tests.services_kit import SKIP_MARK

    if report.skipped and isinstance(report.longrepr, tuple) and SKIP_MARK in str(report.longrepr[2]):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        SERVICE_SKIPS[reason] = SERVICE_SKIPS.get(reason, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason, n in SERVICE_SKIPS.items():
        terminalreporter.write_line(f"{reason} ({n} tests skipped)")
    if FIGURES or TALLIES or SUMS:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
        for template, (sums, (tests, failed)) in SUMS.items():
            terminalreporter.write_line(template.format(**sums, tests=tests, failures=failed))
        for figure, (total, tests, failed) in sorted(TALLIES.items()):
            terminalreporter.write_line(f"{figure}: {total:,} in {tests} tests, {failed} failures")
