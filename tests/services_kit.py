"""The services the project's machines run on the loopback (Redis at 127.0.0.1:6379; PostgreSQL
later). A test that needs one takes its fixture: where it is not running the test is skipped, and
the run ends with one line saying so — unless KABINET_REQUIRE_SERVICES=1 (CI, `.ci/run`), where a
missing service fails the test instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

SKIP_MARK = "not reachable"  # in every skip reason of this module (tests/conftest.py counts them)
REDIS_URL = os.environ.get("KABINET_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
_down: dict[str, BaseException] = {}  # a service found not running, once per process


def _unavailable(what: str, url: str, error: BaseException) -> None:
    message = f"{what} {SKIP_MARK} at {url} ({type(error).__name__}): its tests are skipped"
    if os.environ.get("KABINET_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} — but KABINET_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(message)


@dataclass
class RedisSpace:
    """A Redis database and a key prefix of this test's own: the tests running beside it (other
    workers, other checkouts on the same machine) have theirs; its keys are deleted at the end."""

    url: str
    prefix: str
    client: object


@pytest.fixture
async def redis_space() -> AsyncIterator[RedisSpace]:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    if "redis" in _down:
        _unavailable("Redis", REDIS_URL, _down["redis"])
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        _down["redis"] = error
        _unavailable("Redis", REDIS_URL, error)
    prefix = f"kt{uuid.uuid4().hex[:12]}"
    try:
        yield RedisSpace(REDIS_URL, prefix, client)
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
