"""Operators' dead letters: `python main.py outbox` lists failed pushes, `outbox retry ID…`."""

from __future__ import annotations

import asyncio

import main
from bot import cli
from bot.app import build_services
from bot.config import Settings
from bot.db import outbox as repo
from bot.services.clock import FakeClock
from bot.services.outbox import enqueue
from bot.services.users import Contact


async def _two_failed_one_pending(settings: Settings) -> list[int]:
    clock = FakeClock()
    services = build_services(settings, clock=clock)
    try:
        await services.users.touch(Contact(31, "Op", None, "en"))
        now = clock.now()
        async with services.db.write() as conn:
            for n in range(3):
                await enqueue(conn, user_id=31, kind="order_status", payload={"n": n},
                              dedupe_key=f"cli:{n}", now=now)
            ids = [r.id for r in await repo.for_user(conn, 31)]
            await repo.lease(conn, ids[:2], now, now)
            await repo.fail(conn, ids[:2], "gave up after 8 attempts; last error: TelegramNetworkError: reset")
        return ids
    finally:
        await services.db.dispose()


async def _states(settings: Settings) -> dict[int, tuple[str, int]]:
    services = build_services(settings)
    try:
        async with services.db.read() as conn:
            return {r.id: (r.state, r.attempts) for r in await repo.for_user(conn, 31)}
    finally:
        await services.db.dispose()


def test_outbox_lists_and_retries_failed_rows(settings: Settings, capsys) -> None:
    ids = asyncio.run(_two_failed_one_pending(settings))
    assert cli.run(main.parse_args(["outbox"]), settings) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "outbox: failed 2, pending 1"
    assert out[1].split() == ["id", "user", "kind", "tries", "due", "(UTC)", "last", "error"]
    assert [line.split()[0] for line in out[2:]] == [str(ids[1]), str(ids[0])]  # newest first
    assert "order_status" in out[2] and "TelegramNetworkError: reset" in out[2]

    # one failed, one pending (not failed) and one unknown id: only the failed one is retried
    args = main.parse_args(["outbox", "retry", str(ids[0]), str(ids[2]), "999"])
    assert cli.run(args, settings) == 1
    captured = capsys.readouterr()
    assert captured.out.strip() == f"pending again: {ids[0]}"
    assert captured.err.strip() == f"not failed rows (left alone): {ids[2]}, 999"
    assert asyncio.run(_states(settings)) == {ids[0]: ("pending", 0), ids[1]: ("failed", 1), ids[2]: ("pending", 0)}

    assert cli.run(main.parse_args(["outbox", "retry"]), settings) == 2
    assert "give the ids" in capsys.readouterr().err
    assert cli.run(main.parse_args(["outbox", "retry", str(ids[1])]), settings) == 0
    assert cli.run(main.parse_args(["outbox"]), settings) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no failed pushes"
