"""Reliability figures the suite prints at its end (pytest's terminal summary, see conftest.py):
each test that measures something adds one line here; the README's "Reliability" section shows
them."""

from __future__ import annotations

LINES: list[str] = []


def report(line: str) -> None:
    LINES.append(line)
