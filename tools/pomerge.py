"""A git merge driver for the message catalogs: `python -m tools.pomerge %O %A %B`.

Two branches that each add strings touch neighbouring entries of the sorted .po/.pot files, so
git's line merge conflicts on nearly every such merge. The catalogs are derived data (msgids come
from the code, msgstrs from translators), so the merge is a union: every entry of ours, plus every
entry of theirs that ours lacks or has untranslated; where both translated one msgid differently
and the base had a third text, the side that changed it wins (theirs when both did). The result is
written sorted; `python -m tools.catalogs update` afterwards drops msgids that no code uses any
more, and `check` fails on anything left untranslated.

Enable it in a clone (the attributes are committed in .gitattributes):

    git config merge.pounion.driver "python3 -m tools.pomerge %O %A %B"
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def _load(path: str) -> Catalog:
    with Path(path).open("rb") as fh:
        return read_po(fh)


def _translated(message: object) -> bool:
    string = getattr(message, "string", None)
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def merge(base: Catalog, ours: Catalog, theirs: Catalog) -> Catalog:
    for message in theirs:
        if not message.id:
            continue
        mine = ours.get(message.id, message.context)
        if mine is None or (not _translated(mine) and _translated(message)):
            ours[message.id] = message
            continue
        if _translated(message) and mine.string != message.string:
            old = base.get(message.id, message.context)
            if old is None or old.string == mine.string:  # only theirs changed it
                mine.string = message.string
            elif old.string != message.string:  # both changed it: theirs
                mine.string = message.string
    return ours


def main(argv: list[str]) -> int:
    base_path, ours_path, theirs_path = argv
    result = merge(_load(base_path), _load(ours_path), _load(theirs_path))
    omit_header = '"Content-Type:' not in Path(ours_path).read_text(encoding="utf-8")
    with Path(ours_path).open("wb") as fh:
        write_po(fh, result, width=100, sort_output=True, omit_header=omit_header)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
