"""Every format engagement reads, in one list, and the formats that would take a file.

A file goes to the format most sure it is one of its own (the first listed wins a tie).
A bundle (OneRoster, School Data Sync) is a folder of files read together.
"""

from __future__ import annotations

from pathlib import Path

from engagement.io import (
    aspen,
    blackboard,
    canvas,
    classroom,
    clever,
    d2l,
    edfi,
    generic,
    gradescope,
    lmstoolkit,
    moodle,
    oneroster,
    powerschool,
    schoology,
    sds,
)
from engagement.io.format import Bundle, Format, head_of

FORMATS: tuple[Format, ...] = (
    canvas.FORMAT,
    moodle.FORMAT,
    d2l.FORMAT,
    blackboard.FORMAT,
    gradescope.FORMAT,
    classroom.FORMAT,
    schoology.FORMAT,
    aspen.STUDENTS,
    aspen.SECTIONS,
    aspen.EDUCATORS,
    powerschool.LOG_FORMAT,
    powerschool.SCORES_FORMAT,
    edfi.FORMAT,
    lmstoolkit.FORMAT,
    generic.FORMAT,
)

#: Formats that are a folder of files read together, tried on every folder.
BUNDLES: tuple[Bundle, ...] = (oneroster.BUNDLE, sds.BUNDLE, clever.BUNDLE)


def bundle_of(folder: Path, names: set[str]) -> Bundle | None:
    """The bundle format a folder is (``names``: its files' lower-case names), if any."""
    return next((b for b in BUNDLES if b.recognise(folder, names)), None)


def candidates(path: Path, sheet: str | None = None) -> list[tuple[Format, float]]:
    """The formats that would take ``path`` (a workbook's ``sheet``), most sure first
    (confidence above 0)."""
    head = head_of(path, sheet)
    scored = [(f, f.recognise(head)) for f in FORMATS]
    return sorted([(f, c) for f, c in scored if c > 0], key=lambda fc: -fc[1])
