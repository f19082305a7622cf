"""Every format engagement reads, in one list, and the formats that would take a file.

A file goes to the format most sure it is one of its own (the first listed wins a tie).
A OneRoster bundle is a folder, not a file: ``read_folder`` finds it by its manifest.
"""

from __future__ import annotations

from pathlib import Path

from engagement.io import canvas, edfi, generic, powerschool
from engagement.io.format import Format, head_of

FORMATS: tuple[Format, ...] = (
    canvas.FORMAT,
    powerschool.LOG_FORMAT,
    powerschool.SCORES_FORMAT,
    edfi.FORMAT,
    generic.FORMAT,
)


def candidates(path: Path) -> list[tuple[Format, float]]:
    """The formats that would take ``path``, most sure first (confidence above 0)."""
    head = head_of(path)
    scored = [(f, f.recognise(head)) for f in FORMATS]
    return sorted([(f, c) for f, c in scored if c > 0], key=lambda fc: -fc[1])
