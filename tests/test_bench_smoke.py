"""The benchmarks keep working: a smoke run at 1k users and 1% of the rows (no timing is asserted
here, only that every benchmark runs and what it checks holds at this size)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench import api, concurrent, dataset, delivery, updates
from bench import postgres as pg_bench
from bench.run import comparison_table
from bench.sections import BENCH_ORDERS, BENCH_USER
from bot.db.catalog import match_expression
from tests.services_kit import Postgres


async def test_dataset_update_and_delivery_bench_smoke(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite3"
    stats = dataset.build(db, users=1000, scale=0.002, report=lambda _line: None)
    assert stats["users"] == 1000 and stats["orders"] == 2000 and stats["outbox"] == 2000
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        assert con.execute("SELECT count(*) FROM orders WHERE user_id = ?", (BENCH_USER,)).fetchone() == (BENCH_ORDERS,)
        # the partial unique indexes held: one default address and card per user who has any
        assert con.execute("SELECT max(n) FROM (SELECT count(*) n FROM addresses GROUP BY user_id)").fetchone()[0] <= 5
        assert con.execute(
            "SELECT count(DISTINCT user_id) = sum(is_default) FROM addresses").fetchone() == (1,)
        assert con.execute("SELECT count(DISTINCT user_id) = sum(is_default) FROM cards").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM order_status_history").fetchone()[0] >= 2000
        # the catalog, its FTS5 index filled by the triggers: the search the bench measures finds products
        assert stats["products"] == 2000
        assert con.execute("SELECT count(*) FROM products_search WHERE products_search MATCH ?",
                           (match_expression(updates.SEARCH),)).fetchone()[0] >= 8
    finally:
        con.close()

    results = await updates.run(db, 5)
    assert [r.name for r in results][:2] == ["bare aiogram: text → answer", "/start (existing user)"]
    assert {"orders: page 20 of 1000", "order card", "coupons (40)", "product card (100k products)",
            "search: page 2 (100k products)", "find similar (100k products)",
            "checkout: Place order (and pay)"} <= {r.name for r in results}
    assert all(r.p99_ms > 0 for r in results)
    with sqlite3.connect(db) as viewed:  # the product card measured was the product's (opening records it)
        assert viewed.execute("SELECT count(*) FROM viewed_products WHERE user_id = ? AND product_id = ?",
                              (BENCH_USER, updates.PRODUCT)).fetchone() == (1,)
        # Place order, measured: each sample an order placed and paid from the checkout's summary
        paid = viewed.execute("SELECT count(*) FROM orders WHERE user_id = ? AND status = 'awaiting_shipment' "
                              "AND first_title LIKE '%1042'", (BENCH_USER,)).fetchone()[0]
        assert paid >= 5
    card = next(r for r in results if r.name == "order card")
    assert card.db_ms is not None and card.db_ms > 0 and card.api_ms is not None and card.api_ms > 0
    assert "p99 × floor" in updates.table(results)

    flights = await concurrent.run(db, 16, concurrency=(1, 4))
    assert [f.concurrency for f in flights] == [1, 4]
    assert all(f.floor_per_s > 0 and f.kabinet_per_s > 0 and f.errors == 0 for f in flights)
    assert "× floor" in concurrent.table(flights)

    loaded = await api.run(db, seconds=1.0, clients=2, screens=10)
    assert all(kind.latencies and kind.errors == 0 for kind in loaded.kinds)  # every request answered as meant
    assert loaded.screens_alone and loaded.screens_loaded and "while the API is under load" in api.table(loaded)

    runs = await delivery.deliver(db, 40)
    for run in runs:
        assert (run.sent, run.lost, run.duplicates) == (40, 0, 0)
        assert run.min_chat_gap_s is None or run.min_chat_gap_s >= 1
        assert run.max_in_a_second <= run.configured_per_s
    scan = await delivery.due_scan(db, 2000, samples=5)
    assert scan.due == delivery.BATCH and "ix_outbox_due" in scan.plan and scan.sql_median_ms > 0
    assert "msg/s achieved" in delivery.table(scan, runs)


async def test_the_screens_and_concurrent_updates_bench_on_postgresql(tmp_path: Path, postgres: Postgres) -> None:
    """`bench.run --postgresql URL`: the SQLite dataset copied into PostgreSQL (the same rows), and
    the same screens measured there (issue 20: SQLite and PostgreSQL compared)."""
    db = tmp_path / "bench.sqlite3"
    dataset.build(db, users=1000, scale=0.002, report=lambda _line: None)
    copied = pg_bench.copy(db, postgres.url, report=lambda _line: None)
    with sqlite3.connect(db) as con:
        for table in ("users", "orders", "products", "addresses", "cards", "coupons", "outbox"):
            assert copied[table] == con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    results = await updates.run(postgres.url, 3)
    assert {"order card", "search: page 2 (100k products)", "checkout: Place order (and pay)"} <= {
        r.name for r in results}
    assert all(r.p99_ms > 0 for r in results)
    sqlite_results = await updates.run(db, 3)
    flights = await concurrent.run(postgres.url, 8, concurrency=(1, 4))
    assert all(f.kabinet_per_s > 0 and f.errors == 0 for f in flights)
    table = comparison_table(sqlite_results, results, flights, flights)
    assert "| order card |" in table and "PostgreSQL ÷ SQLite" in table
