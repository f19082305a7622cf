"""Blackboard Learn Grade Center download: a line per student.

Layout: ``Last Name, First Name, Username, Student ID, Last Access, Availability``, then
per column ``Quiz 1 [Total Pts: 10 Score] |123456`` (its id after the bar) and computed
columns (``Total [Total Pts: up to 100 Score]``), often tab-separated UTF-16 in a file
named .xls. "Needs Grading" is handed in, not yet graded.
"""

from __future__ import annotations

import re
from pathlib import Path

from engagement.io.format import Format, Head
from engagement.io.generic import read_table
from engagement.io.text import Reading, column
from engagement.io.wide import Gradebook, melt

KIND = "blackboard-gradebook"
_ITEM = re.compile(r"^(?P<title>.+?) \[Total Pts: (?P<upto>up to )?(?P<points>[\d.]+)"
                   r"[^\]]*\](?: \|(?P<id>\d+))?$", re.I)


def read_blackboard_gradebook(path: str | Path, *, name: str | None = None,
                              class_id: str | None = None, sheet: str | None = None
                              ) -> list[Reading]:
    """Results and assignments from a Grade Center download; computed columns
    ("up to" points: totals, weighted totals) are not assignments. The class is
    ``class_id``, else the file's name."""
    path = Path(path)
    frame = read_table(path, name=name, sheet=sheet)
    items = [(str(c), m) for c in frame.columns
             if (m := _ITEM.match(str(c).strip())) and not m["upto"]]
    course = class_id or path.stem
    titles = [m["title"].strip() for _, m in items]
    ids = [m["id"] or f"{course}: {m['title'].strip()}" for _, m in items]
    last, first = column(frame, "Last Name"), column(frame, "First Name")
    book = Gradebook(
        frame, KIND, people={
            "student_number": column(frame, "Student ID"),
            "student_name": (last + ", " + first).fillna(last).fillna(first),
            "username": column(frame, "Username")},
        columns=[c for c, _ in items], ids=ids, titles=titles,
        points=[m["points"] for _, m in items], class_id=course)
    return melt(book, name or path.name)


def recognise(head: Head) -> float:
    header = head.header
    if {"last name", "username"} <= header and any(_ITEM.match(h) for h in header):
        return 0.95
    return 0.0


FORMAT = Format("blackboard", "Blackboard Grade Center download", recognise,
                lambda path, name, config, sheet: read_blackboard_gradebook(
                    path, name=name, sheet=sheet))
