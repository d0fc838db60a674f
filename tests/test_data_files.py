"""The data files are private (issue 15, item 9): in a fresh directory, the bot, the console and a
migration create the directory 0700 and every file 0600 — the database, its -wal and -shm, the
card fingerprint key — under the usual umask 022."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_services, prepare_database
from bot.config import FINGERPRINT_KEY_FILE, Settings
from bot.console import console_settings
from bot.services.users import Contact


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def modes(directory: Path) -> dict[str, str]:
    return {p.name: mode(p) for p in directory.iterdir()}


def chmod_all(directory: Path, new: int) -> None:
    for path in directory.iterdir():
        path.chmod(new)


def make_settings(db_file: Path) -> Settings:
    return Settings(_env_file=None, bot_token=None, database_url=f"sqlite+aiosqlite:///{db_file}",  # type: ignore[call-arg]
                    default_locale="en", throttle_rate=0)


async def open_and_write(settings: Settings) -> None:
    """What a start does: migrate, build the services (the fingerprint key), write a row."""
    prepare_database(settings)
    services = build_services(settings)
    try:
        await services.users.touch(Contact(1001, "Alex", None, "en"))
        await services.db.fetch_one("SELECT 1", ())  # the read connection too
    finally:
        await services.db.dispose()


async def test_the_bot_creates_its_directory_0700_and_files_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db_file = data / "kabinet.sqlite3"
    settings = make_settings(db_file)
    prepare_database(settings)
    services = build_services(settings)
    try:
        await services.users.touch(Contact(1001, "Alex", None, "en"))
        # while it runs: the WAL and the shared memory exist
        wal, shm = db_file.with_name(db_file.name + "-wal"), db_file.with_name(db_file.name + "-shm")
        assert wal.exists() and shm.exists()
        assert {p.name: mode(p) for p in (db_file, wal, shm)} == {
            db_file.name: "0o600", wal.name: "0o600", shm.name: "0o600"}
    finally:
        await services.db.dispose()
    assert mode(data) == "0o700"
    assert mode(data / FINGERPRINT_KEY_FILE) == "0o600"
    assert modes(data) == dict.fromkeys(modes(data), "0o600")


async def test_the_console_database_is_private_too(tmp_path: Path) -> None:
    db_file = tmp_path / "console" / "console.sqlite3"
    await open_and_write(console_settings(make_settings(tmp_path / "unused.sqlite3"), str(db_file)))
    assert mode(db_file.parent) == "0o700"
    assert modes(db_file.parent) == dict.fromkeys(modes(db_file.parent), "0o600")
    assert mode(db_file) == "0o600"


async def test_files_left_world_readable_by_an_earlier_version_are_made_private(tmp_path: Path) -> None:
    db_file = tmp_path / "kabinet.sqlite3"
    await open_and_write(make_settings(db_file))
    chmod_all(tmp_path, 0o644)
    await open_and_write(make_settings(db_file))
    assert mode(db_file) == "0o600"
    assert len(modes(tmp_path)) >= 2 and modes(tmp_path) == dict.fromkeys(modes(tmp_path), "0o600")
