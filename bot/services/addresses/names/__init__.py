"""Name tables of the address book kept as data, not code (JSON files beside this module, read
once at import): what people type for countries and regions, and English names of regions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_HERE = Path(__file__).parent


def load_names(name: str) -> Any:
    """The table in `<name>.json` of this folder (shipped as package data, see pyproject.toml)."""
    return json.loads((_HERE / f"{name}.json").read_text(encoding="utf-8"))
