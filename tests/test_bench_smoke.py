"""The benchmarks keep working: a smoke run at 1k rows (no timing is asserted here)."""

from __future__ import annotations

from pathlib import Path

from bench import dataset, updates


async def test_dataset_and_update_bench_smoke(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite3"
    stats = dataset.build(db, users=1000, scale=0.001, report=lambda _line: None)
    assert stats["users"] == 1000
    results = await updates.run(db, 20)
    assert [r.name for r in results][:2] == ["bare aiogram: text → answer", "/start (existing user)"]
    assert all(r.p99_ms > 0 for r in results)
    assert "p99 × floor" in updates.table(results)
