"""The database's files are private: the directory is created 0700 and the files 0600 (the
database, its -wal, -shm and -journal, the card fingerprint key), whatever the umask — they hold
gateway tokens, card fingerprints, addresses and phones."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> None:
    """Create the directory 0700 (its parents as usual). An existing directory is left as it is:
    it may be one the operator chose for more than our files; the files in it are private."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)  # mkdir's mode passes through the umask


def private_file(path: Path) -> None:
    """Create the file empty with mode 0600 when it is missing (SQLite takes an empty file as a
    new database); make an existing one 0600."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    make_private(path)  # also when the umask took more than the group's and others' bits


def make_private(path: Path) -> None:
    """An existing file of ours, 0600 (one an earlier version left world-readable)."""
    if stat.S_IMODE(path.stat().st_mode) == FILE_MODE:
        return
    try:
        os.chmod(path, FILE_MODE)
    except PermissionError:  # not our file (a read-only deployment): say so, don't stop
        log.warning("%s can't be made private (mode %o, wanted 600): it is not ours",
                    path, stat.S_IMODE(path.stat().st_mode))


def private_database(db_file: Path) -> None:
    """Before SQLite opens the database: its directory 0700, the file 0600 (SQLite gives the -wal
    and -shm it creates the database file's mode), and side files left by an earlier run 0600."""
    private_dir(db_file.parent)
    private_file(db_file)
    for suffix in SIDE_FILES:
        side = db_file.with_name(db_file.name + suffix)
        if side.exists():
            make_private(side)
