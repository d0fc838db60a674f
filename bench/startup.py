"""Memory and start-up: RSS after start and time from process start to the first handled update,
for Kabinet (over the benchmark database) and for a bare aiogram process, in the same run.
Goals: RSS ≤ bare + 40 MB, start-up ≤ bare + 0.8 s. The Kabinet process starts as `main.py run`
does (bot/process.py: the garbage collector paused while starting).

Each measurement is a fresh process that prints JSON: {"first_update_s": …, "rss_mb": …}."""

from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_BARE = r"""
import time, json, asyncio
t0 = time.perf_counter()
from datetime import datetime, UTC
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import Chat, Message, Update, User
from bot.fakebot import FakeSession
router = Router()
@router.message(F.text)
async def echo(message: Message) -> None:
    await message.answer("ok")
async def main():
    dp = Dispatcher(); dp.include_router(router)
    bot = Bot("1:b", session=FakeSession())
    user = User(id=1, is_bot=False, first_name="B")
    await dp.feed_update(bot, Update(update_id=1, message=Message(message_id=1, date=datetime.now(UTC),
        chat=Chat(id=1, type="private"), from_user=user, text="hi")))
asyncio.run(main())
t1 = time.perf_counter()
rss = int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6
print(json.dumps({"first_update_s": t1 - t0, "rss_mb": rss}))
"""

_KABINET = r"""
import time, json, asyncio, sys
t0 = time.perf_counter()
from bot import process
process.pause_gc()  # as main.py does first
from datetime import datetime, UTC
from aiogram.types import Chat, Message, Update, User
from bot.config import load_settings
from bot.fakebot import FakeSession
from bot.runner import build_runtime
from bot.app import build_bot
async def main():
    settings = load_settings(_env_file=None, database_url="sqlite+aiosqlite:///" + sys.argv[1])
    runtime = build_runtime(settings, bot=build_bot(settings, session=FakeSession()))
    process.started()  # as main.py does before polling
    user = User(id=int(sys.argv[2]), is_bot=False, first_name="B", language_code="ru")
    await runtime.dp.feed_update(runtime.bot, Update(update_id=10**9, message=Message(message_id=1,
        date=datetime.now(UTC), chat=Chat(id=user.id, type="private"), from_user=user, text="/start")))
    t1 = time.perf_counter()
    rss = int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6
    await runtime.services.db.dispose()
    print(json.dumps({"first_update_s": t1 - t0, "rss_mb": rss}))
asyncio.run(main())
"""


def _run(code: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


# for reference: the same start without the collector paused (what bot/process.py saves)
_KABINET_GC_ON = _KABINET.replace("process.pause_gc()", "pass").replace("process.started()", "pass")


def run(db_path: Path, user_id: int, repeats: int = 5) -> dict[str, dict[str, float]]:
    """Best of `repeats` runs of each, in turns, so that all see the same machine. Kabinet's
    modules are byte-compiled first, as aiogram's are when installed (and as they are after the
    first start, unless PYTHONDONTWRITEBYTECODE is set): compiling ~120 modules is ~0.4 s."""
    compileall.compile_dir(ROOT / "bot", quiet=1)
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "kabinet": [], "kabinet_gc_on": []}
    for _ in range(repeats):
        runs["bare"].append(_run(_BARE))
        runs["kabinet"].append(_run(_KABINET, str(db_path), str(user_id)))
        runs["kabinet_gc_on"].append(_run(_KABINET_GC_ON, str(db_path), str(user_id)))

    def best(rows: list[dict[str, float]]) -> dict[str, float]:
        return {k: min(r[k] for r in rows) for k in rows[0]}

    return {name: best(rows) for name, rows in runs.items()}


def table(result: dict[str, dict[str, float]]) -> str:
    bare, kab = result["bare"], result["kabinet"]
    lines = [
        "| process | start → first update, s | RSS, MB |",
        "| --- | ---: | ---: |",
        f"| bare aiogram | {bare['first_update_s']:.2f} | {bare['rss_mb']:.0f} |",
        f"| Kabinet (as `main.py run` starts) | {kab['first_update_s']:.2f} | {kab['rss_mb']:.0f} |",
        f"| difference (goal ≤ +0.8 s, ≤ +40 MB) | {kab['first_update_s'] - bare['first_update_s']:+.2f} "
        f"| {kab['rss_mb'] - bare['rss_mb']:+.0f} |",
    ]
    on = result.get("kabinet_gc_on")
    if on is not None:
        lines.append(f"| for reference: Kabinet without the collector paused | {on['first_update_s']:.2f} "
                     f"({on['first_update_s'] - bare['first_update_s']:+.2f}) | {on['rss_mb']:.0f} |")
    return "\n".join(lines)
