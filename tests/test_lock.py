"""The venv `make` builds holds exactly what uv.lock pins: every installed distribution at its
locked version, and every package the project needs (with the dev extra) installed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, dict]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {_norm(p["name"]): p for p in lock["package"]}


def _installed() -> dict[str, str]:
    return {_norm(d.metadata["Name"]): d.version for d in metadata.distributions()}


def test_every_installed_package_is_at_its_locked_version() -> None:
    locked, installed = _locked(), _installed()
    strays = sorted(name for name in installed if name not in locked)
    assert strays == [], f"installed but not in uv.lock: {strays}"
    wrong = {name: (version, locked[name]["version"]) for name, version in installed.items()
             if name != "kabinet" and version != locked[name]["version"]}
    assert wrong == {}, f"installed vs locked: {wrong}"


def test_the_projects_requirements_are_installed_from_the_lock() -> None:
    locked, installed = _locked(), _installed()
    project = locked["kabinet"]
    wanted = [dep["name"] for dep in project["dependencies"]]
    wanted += [dep["name"] for dep in project.get("optional-dependencies", {}).get("dev", [])]
    assert len(wanted) >= 13
    missing = [name for name in wanted if _norm(name) not in installed]
    assert missing == [], f"locked but not installed: {missing}"


def test_the_lock_matches_pyproject() -> None:
    """`uv sync --locked` refuses a stale lock; this says so earlier, without uv: every requirement
    of pyproject.toml is the one the lock was made from."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    meta = _locked()["kabinet"]["metadata"]
    locked_specs = {(_norm(r["name"]), r.get("specifier", "")) for r in meta["requires-dist"]}
    for requirement in pyproject["dependencies"] + pyproject["optional-dependencies"]["dev"]:
        match = re.match(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)", requirement)
        assert match, requirement
        name, spec = _norm(match.group(1)), match.group(3).replace(" ", "")
        specs = {s for n, s in locked_specs if n == name}
        assert specs, f"{name} is not in uv.lock: run `make upgrade` or `uv lock`"
        assert any(sorted(s.split(",")) == sorted(spec.split(",")) for s in specs), (name, spec, specs)
