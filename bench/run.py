"""Benchmarks: `python -m bench.run [--users N] [--scale X] [--updates N] [--save]`.

Builds the dataset (100k users; 1M orders, 300k addresses, 200k cards, 500k coupons, 1M outbox
rows at scale 1), then runs every benchmark and prints one table each, with ratios to a baseline
measured in the same run: update handling (one at a time, and N users' at once), the due scan (1M scheduled rows × scale) and the
delivery of a backlog (100k × scale), the shop API under sustained load (with the bot's screens
measured meanwhile), memory and start-up over the same database. `--save`
writes the tables to bench/results/<date>.md. Not tests: nothing here asserts. A smoke run
(`--users 1000 --scale 0.01 --updates 200`) keeps them working in CI."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import platform
import sqlite3
import time
from pathlib import Path

from bench import api, concurrent, dataset, delivery, postgres, startup, updates

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {cpu}"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--updates", type=int, default=3000, help="samples per update type")
    parser.add_argument("--db", default="data/bench.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing dataset file")
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--postgresql", metavar="URL", default=os.environ.get("KABINET_BENCH_POSTGRESQL"),
                        help="also measure the screens and concurrent updates on a copy of the dataset in this "
                             "PostgreSQL database (postgresql+asyncpg://…; dropped and re-created)")
    args = parser.parse_args(argv)

    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    out = [f"# Kabinet benchmarks, {dt.date.today().isoformat()}", "", f"Machine: {machine()}", ""]
    if not (args.reuse and db.exists()):
        print(f"building the dataset: {args.users:,} users, scale {args.scale} …")
        started = time.perf_counter()
        stats = dataset.build(db, users=args.users, scale=args.scale)
        out += ["## Dataset", "", "| table | rows |", "| --- | ---: |"]
        out += [f"| {k} | {int(v):,} |" for k, v in stats.items() if k != "file_mb"]
        out += [f"| file | {stats['file_mb']:.0f} MB, built in {time.perf_counter() - started:.0f} s |", ""]
    else:  # what is in the reused file (a previous run's due scan and deliveries added outbox rows)
        con = sqlite3.connect(db)
        try:
            counts = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                      for name in ("users", "stores", "products", "orders", "addresses", "cards", "coupons", "outbox",
                                   "order_items", "order_status_history")}
        finally:
            con.close()
        out += ["## Dataset (reused from an earlier build)", "", "| table | rows |", "| --- | ---: |"]
        out += [f"| {k} | {v:,} |" for k, v in counts.items()]
        out += [f"| file | {db.stat().st_size / 1e6:.0f} MB |", ""]
    print("update handling …")
    screens = asyncio.run(updates.run(db, args.updates))
    out += ["## Update handling (p99 goal: ≤ 5× the bare floor)", "", updates.table(screens), ""]
    print("concurrent update handling …")
    together = asyncio.run(concurrent.run(db, 4 * args.updates))
    out += ["## Concurrent updates (N users' updates in flight at once, as polling delivers them)", "",
            concurrent.table(together), ""]
    if args.postgresql:
        print(f"the same rows on PostgreSQL ({postgres.database_name(args.postgresql)}) …")
        postgres.copy(db, args.postgresql, report=lambda line: None)
        pg_screens = asyncio.run(updates.run(args.postgresql, args.updates))
        pg_together = asyncio.run(concurrent.run(args.postgresql, 4 * args.updates))
        out += ["## SQLite and PostgreSQL: the same rows, screens and concurrent updates", "",
                comparison_table(screens, pg_screens, together, pg_together), ""]
    print("the shop API under load …")
    out += ["## The shop API under sustained load, and the bot's screens meanwhile", "",
            api.table(asyncio.run(api.run(db, seconds=max(5.0, min(30.0, args.updates / 100))))), ""]
    logging.getLogger("bot.delivery").setLevel(logging.ERROR)  # the 429 run logs every pause
    backlog = max(200, int(100_000 * args.scale))
    scheduled = max(2_000, int(1_000_000 * args.scale))
    print(f"delivery of a {backlog:,} backlog, twice …")
    runs = asyncio.run(delivery.deliver(db, backlog))
    print(f"due scan over {scheduled:,} scheduled rows …")
    scan = asyncio.run(delivery.due_scan(db, scheduled))
    out += ["## Reminders: due scan and delivery (goals: scan ≤ 15 ms; ≥ 95% of the rate; with 429s "
            "0 lost, 0 duplicates, ≥ 1 s between two messages to one chat)", "",
            delivery.table(scan, runs), ""]
    print("memory and start-up …")
    out += ["## Memory and start-up", "", startup.table(startup.run(db, dataset.FIRST_USER_ID + 1)), ""]
    report = "\n".join(out)
    print(report)
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{dt.date.today().isoformat()}.md"
        path.write_text(report + "\n")
        print(f"saved to {path}")
    return report



def comparison_table(sqlite: list[updates.Result], pg: list[updates.Result],
                     sqlite_together: list[concurrent.Throughput], pg_together: list[concurrent.Throughput]) -> str:
    """Each screen's median and p99 on both, and updates a second at each concurrency."""
    theirs = {r.name: r for r in pg}
    lines = ["| update | SQLite median / p99 ms | PostgreSQL median / p99 ms | PostgreSQL ÷ SQLite (median) |",
             "| --- | ---: | ---: | ---: |"]
    for mine in sqlite:
        other = theirs.get(mine.name)
        if other is None:
            continue
        lines.append(f"| {mine.name} | {mine.median_ms:.2f} / {mine.p99_ms:.2f} | {other.median_ms:.2f} / "
                     f"{other.p99_ms:.2f} | {other.median_ms / mine.median_ms:.1f}× |")
    lines += ["", "| updates in flight | SQLite, updates/s | PostgreSQL, updates/s |", "| ---: | ---: | ---: |"]
    by_n = {t.concurrency: t for t in pg_together}
    lines += [f"| {t.concurrency} | {t.kabinet_per_s:,.0f} | {by_n[t.concurrency].kabinet_per_s:,.0f} |"
              for t in sqlite_together if t.concurrency in by_n]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
