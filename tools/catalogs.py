"""Message catalogs: `python -m tools.catalogs update|compile|check`.

update   extract msgids from the code into locales/messages.pot and merge them into en and ru
compile  write the .mo files (the set-up path runs this; .mo files are not committed)
check    fail when the catalogs are stale (a msgid in the code but not in a catalog, or the
         reverse), or when an entry in en or ru is untranslated or fuzzy, or when a Russian plural
         lacks one of its three forms
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
LANGS = ("en", "ru")
KEYWORDS = ["-k", "_", "-k", "N_", "-k", "ngettext:1,2", "-k", "gettext"]


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(target: Path) -> None:
    _pybabel(
        "extract", "-F", str(LOCALES / "babel.cfg"), *KEYWORDS, "--no-location", "--sort-output",
        "--omit-header", "-w", "100", "-o", str(target), str(ROOT / "bot"), str(ROOT / "main.py"),
    )


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


def load(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def keys(catalog: Catalog) -> set[object]:
    return {m.id for m in catalog if m.id}


def update() -> None:
    extract(POT)
    for lang in LANGS:
        po = po_path(lang)
        if po.exists():
            _pybabel("update", "-i", str(POT), "-d", str(LOCALES), "-l", lang, "--no-fuzzy-matching",
                     "--ignore-obsolete", "-w", "100")
        else:
            _pybabel("init", "-i", str(POT), "-d", str(LOCALES), "-l", lang)
    fill_english()


def fill_english() -> None:
    """English is the source language: an empty en entry takes its msgid (and plural)."""
    from babel.messages.pofile import write_po

    path = po_path("en")
    catalog = load(path, "en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not all(message.string or ()):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)


def compile_all() -> None:
    from bot.i18n import compile_catalogs

    for mo in compile_catalogs(LOCALES, force=True):
        print(f"compiled {mo.relative_to(ROOT)}")


def check() -> list[str]:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh_path = Path(tmp) / "fresh.pot"
        extract(fresh_path)
        fresh = load(fresh_path)
    wanted = keys(fresh)
    if not POT.exists() or keys(load(POT)) != wanted:
        problems.append("locales/messages.pot is stale: run `python -m tools.catalogs update`")
    for lang in LANGS:
        path = po_path(lang)
        if not path.exists():
            problems.append(f"{path.relative_to(ROOT)} is missing")
            continue
        catalog = load(path, lang)
        have = keys(catalog)
        for msgid in sorted(map(str, wanted - have)):
            problems.append(f"{lang}: missing msgid {msgid!r}")
        for msgid in sorted(map(str, have - wanted)):
            problems.append(f"{lang}: msgid no longer in the code {msgid!r}")
        expected_plurals = catalog.num_plurals
        if lang == "ru" and expected_plurals != 3:
            problems.append("ru: Plural-Forms must have nplurals=3")
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                problems.append(f"{lang}: fuzzy {message.id!r}")
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.pluralizable and len(strings) != expected_plurals:
                problems.append(f"{lang}: {message.id!r} needs {expected_plurals} plural forms")
            if not all(s.strip() for s in strings):
                problems.append(f"{lang}: untranslated {message.id!r}")
        for obsolete in catalog.obsolete:
            problems.append(f"{lang}: obsolete entry {obsolete!r}: run update")
    return problems


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        return 0
    if command == "compile":
        compile_all()
        return 0
    if command == "check":
        problems = check()
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            print(f"catalog check failed: {len(problems)} problem(s)", file=sys.stderr)
            return 1
        print("catalogs: up to date, en and ru fully translated")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
