"""The bot process's start-up and the garbage collector.

Starting imports aiogram (its ~1,000 pydantic types), SQLAlchemy and every section, and builds
the dispatcher: about a million objects that live as long as the process. The cyclic collector
would walk them again and again while they are being created (~0.5–0.9 s of a start here, several
full collections), and afterwards in every full collection. So `main.py` pauses it while starting,
and once the runtime is built `started()` moves everything built so far out of its sight
(`gc.freeze`) and lets it run again. Nothing else changes: reference counting frees as before.
"""

from __future__ import annotations

import gc


def pause_gc() -> None:
    """First thing in the entry point, before the heavy imports."""
    gc.disable()


def started() -> None:
    """The runtime is built: what exists now stays for the process; collect only what comes next."""
    gc.freeze()
    gc.enable()


def resume_gc() -> None:
    """A command that is not the bot (migrate, demo, operator commands): just collect again."""
    gc.enable()
