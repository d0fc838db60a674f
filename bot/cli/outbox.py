"""`python main.py outbox`: operators list the pushes that failed for good (dead letters);
`outbox retry ID…` makes them pending again. Exit codes: 0 done, 1 some ids were not failed rows,
2 no ids given."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    outbox = sub.add_parser("outbox", help="failed pushes (dead letters); `outbox retry ID…` to resend")
    outbox.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    outbox.add_argument("ids", nargs="*", type=int, metavar="ID", help="rows to retry")
    outbox.add_argument("--limit", type=int, default=50, help="rows to list (default 50)")
    outbox.set_defaults(func=outbox_command)


def outbox_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_services, prepare_database

    if args.action == "retry" and not args.ids:
        print("error: give the ids to retry, e.g. `python main.py outbox retry 12 13`", file=sys.stderr)
        return 2

    async def run() -> int:
        prepare_database(settings)
        services = build_services(settings)
        try:
            return await (retry(services, args.ids) if args.action == "retry" else dead_letters(services, args.limit))
        finally:
            await services.db.dispose()

    return asyncio.run(run())


async def retry(services: Services, ids: list[int]) -> int:
    done = await services.outbox.retry_failed(ids)
    missing = sorted(set(ids) - set(done))
    if done:
        print(f"pending again: {', '.join(map(str, done))}")
    if missing:
        print(f"not failed rows (left alone): {', '.join(map(str, missing))}", file=sys.stderr)
    return 0 if not missing else 1


async def dead_letters(services: Services, limit: int) -> int:
    rows = await services.outbox.dead_letters(limit)
    counts = await services.outbox.counts()
    print("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"))
    if not rows:
        print("no failed pushes")
        return 0
    print(f"{'id':>8}  {'user':>12}  {'kind':<24} {'tries':>5}  {'due (UTC)':<19}  last error")
    for row in rows:
        due = row.due_at.strftime("%Y-%m-%d %H:%M:%S")
        error = (row.last_error or "").replace("\n", " ")[:120]
        print(f"{row.id:>8}  {row.user_id:>12}  {row.kind:<24} {row.attempts:>5}  {due:<19}  {error}")
    return 0
