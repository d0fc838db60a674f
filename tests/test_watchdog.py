"""The watchdog (tests/watchdog.py) ends a run whose test hangs, with the hanging test's traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_hanging_test_ends_the_run_with_its_traceback(tmp_path: Path) -> None:
    (tmp_path / "test_hangs.py").write_text(
        "import threading\n\n\ndef test_waits_for_nothing():\n    threading.Event().wait()\n")
    env = {**os.environ, "KABINET_TEST_TIMEOUT": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.watchdog", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_hangs.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Timeout" in done.stderr and "test_waits_for_nothing" in done.stderr, done.stderr[-2000:]
