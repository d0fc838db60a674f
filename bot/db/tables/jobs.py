"""Table: the leases of the scheduler's jobs that run once per period across instances
(0021_job_leases)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from bot.db.tables.base import metadata
from bot.db.times import UTCDateTime

# One row per job: the instance running it this period, and until when the period is its own.
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),  # host:pid:random of the instance
    Column("lease_until", UTCDateTime, nullable=False),
)
