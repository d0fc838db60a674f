"""Reliability figures the suite prints at its end: a test that measures something reports one
line with `report(request, line)`; the line travels in the test's report (so it also reaches the
controller from pytest-xdist's workers) and conftest.py prints the lines in the terminal summary.
The README's "Reliability" section shows them."""

from __future__ import annotations

import pytest

KEY = "reliability figure"


def report(request: pytest.FixtureRequest, line: str) -> None:
    request.node.user_properties.append((KEY, line))
