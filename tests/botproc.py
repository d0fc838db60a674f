"""`main.py ARGS` as a process of its own, started without paying for the imports each time.

A fresh interpreter spends most of its start importing: aiogram builds about 300 pydantic models
for its types (~4 s of the ~8 s a start takes on a 2-core CI machine, bench/startup.py). The
tests that run the bot as a process (crash-and-restart, the real Bot API, several instances)
start it 30-odd times (and the payment test kills one paying through the services:
`tests/paykill.py`). Here, one server process per test worker imports `main` and the bot once
(multiprocessing's *forkserver*), and every start is a fork of it that runs `main.main(args)` with
the test's environment, working directory and output: a real process (its own pid, killed by
signals, its exit code and output seen by the test) whose imports are already done.

What this does not test, the starts of a fresh interpreter do: `tests/test_cli.py` (the README's
commands as `python main.py …`) and `bench/startup.py` (how long a start takes).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import runpy
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from bot.handlers import sections

ROOT = Path(__file__).resolve().parent.parent
# imported once by the server, before any start: the entry point, the bot and (this module) its sections
PRELOAD = ["main", "bot.app", "bot.cli", "tests.botproc"]

_context: Any = None


def _forkserver() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def _run(module: str | None, args: list[str], env: dict[str, str], cwd: str, out: socket.socket) -> None:
    """In the forked process: the test's environment, directory and output, then main.py's main
    (or `python -m module args` when a module is named)."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out.fileno(), 1)
    os.dup2(out.fileno(), 2)
    os.close(devnull)
    out.close()
    if module is not None:
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    import main

    sys.exit(main.main(args))


class BotProcess:
    """What the tests use of `asyncio.subprocess.Process`: pid, returncode, stdout (and stderr,
    together), wait, communicate, send_signal, kill."""

    def __init__(self, process: Any, stdout: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._process = process
        self.pid: int = process.pid
        self.stdout = stdout
        self._writer = writer

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode  # -N when a signal N ended it, as asyncio's

    async def wait(self) -> int:
        if self._process.exitcode is None:
            loop = asyncio.get_running_loop()
            ended = loop.create_future()
            sentinel = self._process.sentinel
            loop.add_reader(sentinel, lambda: ended.done() or ended.set_result(None))
            try:
                if self._process.exitcode is None:
                    await ended
            finally:
                loop.remove_reader(sentinel)
        code = self._process.exitcode
        assert code is not None
        return code

    async def communicate(self) -> tuple[bytes, None]:
        out = await self.stdout.read()
        await self.wait()
        self._writer.close()
        return out, None

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self._process.exitcode is None:
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


async def main_py(env: dict[str, str], *args: str, cwd: Path = ROOT) -> BotProcess:
    """`main.py ARGS` as its own process (forked from the worker's server), stdout and stderr
    together in `stdout`."""
    return await _start(None, list(args), env, cwd)


async def module_py(module: str, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> BotProcess:
    """`python -m MODULE ARGS` (a module of the project) the same way."""
    return await _start(module, list(args), os.environ if env is None else env, cwd)


async def _start(module: str | None, args: list[str], env: dict[str, str], cwd: Path) -> BotProcess:
    ours, theirs = socket.socketpair()
    process = _forkserver().Process(target=_run, args=(module, args, dict(env), str(cwd), theirs), daemon=True)
    process.start()
    theirs.close()
    reader, writer = await asyncio.open_connection(sock=ours, limit=2**20)
    return BotProcess(process, reader, writer)


# The server imports this module before any start (PRELOAD): the sections come with it, since
# `bot.handlers` imports them only when asked, and otherwise every start would import them anew.
sections()
