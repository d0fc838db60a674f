"""A test that hangs ends the run's worker after KABINET_TEST_TIMEOUT seconds (600 by default; 0
turns it off), with every thread's traceback on stderr, instead of holding CI until its own limit.

The suite is deterministic and its slowest test takes about two minutes, so this is for a real
hang (a lost wake-up, a deadlock), never a slow machine. It uses the standard library's
faulthandler: a timer outside the Python interpreter's control, so it fires even when the event
loop is stuck. Under xdist the worker exits and the test is reported as crashed (a failure).

The traceback goes to the process's real stderr: pytest captures descriptor 2 while a test runs,
so a copy of it is taken at start with the capture suspended (the capture manager's public calls,
as debuggers use them)."""

from __future__ import annotations

import faulthandler
import os
from collections.abc import Iterator

import pytest

TIMEOUT = float(os.environ.get("KABINET_TEST_TIMEOUT", "600"))
_stderr: list[int] = []


def pytest_configure(config: pytest.Config) -> None:
    if TIMEOUT <= 0:
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=False)
    try:
        _stderr.append(os.dup(2))
    finally:
        if capture is not None:
            capture.resume_global_capture()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if _stderr:
        faulthandler.dump_traceback_later(TIMEOUT, exit=True, file=_stderr[0])
    try:
        yield
    finally:
        if _stderr:
            faulthandler.cancel_dump_traceback_later()
