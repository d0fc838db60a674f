"""The command line is one argparse tree (bot/cli): every command names the function that runs it,
and the operator commands reach the data through services only."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(path, parser)]
    return [leaf for action in subs for name, child in action.choices.items() for leaf in _leaves(child, (*path, name))]


def test_every_command_sets_the_function_that_runs_it() -> None:
    leaves = _leaves(build_parser())
    assert len(leaves) == 36  # run, console, migrate, demo, outbox, 3 coupon verbs, 16 order actions, review reply,
    # 3 seller actions, 3 product actions, 5 shop actions (add, key, list, webhook, webhook-retry)
    for path, parser in leaves:
        assert callable(parser.get_default("func")), " ".join(path)
    # a parsed command line carries its command's function; without a command, the default one
    assert build_parser().parse_args(["order", "show", "7000001"]).func.handler.__name__ == "show_order"
    assert build_parser().parse_args(["migrate"]).func.__name__ == "migrate_command"
    assert build_parser().parse_args([]).func.__name__ == "default_command"


def test_operator_commands_import_no_repository() -> None:
    for path in sorted((ROOT / "bot" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if name != "bot.db.migrate":  # `main.py migrate` applies the schema; not a repository
                    assert not name.startswith("bot.db"), f"{path.name} imports {name}"


def test_no_module_of_the_bot_is_named_after_the_standard_library() -> None:
    known = {"bot/db/times.py"}  # not in issue 16's list; left for its own change
    clashes = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("*.py")
                     if p.stem in sys.stdlib_module_names)
    assert [c for c in clashes if c not in known] == []
