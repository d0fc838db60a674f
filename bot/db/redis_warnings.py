"""A Redis-backed piece that carries on without Redis (the send budget, the keyboard on screen,
Recently viewed's notes) says so in the log at most once a minute, not on every call."""

from __future__ import annotations

import logging
import math
import time

EVERY_SECONDS = 60.0


class RareWarning:
    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log = log
        self.what = what  # "send budget: Redis failed (%s); …": the exception's name fills %s
        self._at = -math.inf

    def __call__(self, exc: BaseException, *args: object) -> None:
        if time.monotonic() - self._at >= EVERY_SECONDS:
            self._at = time.monotonic()
            self.log.warning(self.what, type(exc).__name__, *args)
