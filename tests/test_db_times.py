"""Stored times: the fixed-width UTC text round-trips, and the fast reader accepts nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.db.times import from_db_time, to_db_time


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1),
                    timezones=st.just(UTC)))
def test_round_trip_and_same_as_strptime(moment: datetime) -> None:
    text = to_db_time(moment)
    assert len(text) == 26
    assert from_db_time(text) == moment
    assert from_db_time(text) == datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    assert from_db_time(text).tzinfo is UTC


def test_an_aware_time_is_stored_in_utc() -> None:
    moscow = datetime(2026, 11, 25, 15, 0, tzinfo=timezone(timedelta(hours=3)))
    assert to_db_time(moscow) == "2026-11-25 12:00:00.000000"


@pytest.mark.parametrize("text", [
    "2026-11-17 00:00:00.123+03",  # 26 characters, but an offset: never read as UTC
    "2026-11-17T00:00:00.123456",
    "2026-11-17 00:00:00",
    "2026-11-17 00:00:00.1234567",
    "2026-11-17 00:00:00.12345Z",
    "2026-11-17 25:00:00.123456",
])
def test_other_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        from_db_time(text)
