"""What the operator commands share: how a command over the services runs (build them over the
configured database, print the line, map errors to exit codes), and the errors it maps.

Every leaf of the command tree (bot/cli/__init__.py) sets `func`, called as `func(args, settings)`
and returning the exit code. A command over the services sets `func=ServiceCommand(handler)`:
`handler(args, services)` returns the line to print and raises DomainError (exit 1) or UsageError
(exit 2); tests call the handler over their own services with `perform`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Settings
    from bot.services.errors import DomainError


class UsageError(Exception):
    """Input argparse can't check (an item's format, a missing --usd-rate): exit 2."""


def error_text(exc: DomainError) -> str:
    """A domain error for the operator's terminal: the English msgid with its parameters."""
    return exc.english


Handler = Callable[[argparse.Namespace, "Services"], Awaitable[str]]


def command_group(sub: Any, name: str, help: str, *, metavar: str = "ACTION") -> Any:
    """`NAME ACTION …`: a command made of subcommands, one of which must be given; returns the
    subparsers to add them to (the chosen one is `args.NAME_command`)."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", metavar=metavar, required=True)


@dataclass(frozen=True)
class ServiceCommand:
    """An operator command: the same services the bot uses, over the configured database."""

    handler: Handler

    def __call__(self, args: argparse.Namespace, settings: Settings) -> int:
        from bot.app import build_services, prepare_database
        from bot.services.errors import DomainError

        async def go() -> str:
            prepare_database(settings)
            services = build_services(settings)
            try:
                return await self.handler(args, services)
            finally:
                await services.db.dispose()

        try:
            print(asyncio.run(go()))
        except DomainError as exc:
            print(f"error: {error_text(exc)}", file=sys.stderr)
            return 1
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0


async def perform(args: argparse.Namespace, services: Services) -> str:
    """Run a parsed service command over these services; returns its line (raises as the handler)."""
    func = args.func
    assert isinstance(func, ServiceCommand), f"not a command over the services: {func!r}"
    return await func.handler(args, services)
