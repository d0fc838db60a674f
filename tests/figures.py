"""Reliability figures the suite prints at its end (README "Reliability").

Two ways to feed them, both carried in the test reports (so they also reach the controller from
pytest-xdist's workers; conftest.py prints them in the terminal summary):

- `report(request, line)`: a test that measures something whole reports its own line (fuzzed
  sequences, crash-and-restart cycles, the screen crawler, injection);
- `tally(request, figure, n)`: a family of tests adds up to one line: each adds `n` to `figure`
  and the summary counts the family's tests that failed, so the line says "…, N failures" from
  the outcomes themselves, not from the test's own word;
- `add_up(request, template, counts)`: like `tally` with several numbers: the shards of one
  measurement (the fuzzer's, spread over pytest-xdist's workers) each give their counts, and the
  summary prints `template` once with the sums, `{tests}` and `{failures}` (from the outcomes).
"""

from __future__ import annotations

import pytest

KEY = "reliability figure"
TALLY = "reliability tally"
SUM = "reliability sum"


def report(request: pytest.FixtureRequest, line: str) -> None:
    request.node.user_properties.append((KEY, line))


def tally(request: pytest.FixtureRequest, figure: str, n: int = 1) -> None:
    request.node.user_properties.append((TALLY, (figure, n)))


def add_up(request: pytest.FixtureRequest, template: str, counts: dict[str, int]) -> None:
    request.node.user_properties.append((SUM, (template, counts)))
