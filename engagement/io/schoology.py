"""Schoology's gradebook export ("Gradebook as CSV"): a line per student.

Layout, as a real export shows it: ``First Name, Last Name, Unique User ID`` (the
school's id for the student, often blank), ``Overall``, a column per grading period
(``(No grading period)`` when there is none), then a column per assignment written
``Essay 1 (Max Pts: 100, Grading Category: Homework)``, and ``Username`` last. Exports
of other languages keep "Grading Category" in those headers. Per-category scores
(``... - Category Score``) and ``(Count in Grade)`` columns are totals, not work. A cell
holds the score, ``Missing``, ``Excused``, or is blank (not graded); ``N/A`` is no grade.
It names no course: the class is the file's name.
"""

from __future__ import annotations

import re
from pathlib import Path

from engagement.io.format import Format, Head
from engagement.io.generic import read_table
from engagement.io.text import Reading, column, data_columns
from engagement.io.wide import Gradebook, class_ids, melt

KIND = "schoology-gradebook"
_ITEM = re.compile(r"^(?P<title>.+?)\s*\(Max Pts:\s*(?P<points>\d+(?:[.,]\d+)?)"
                   r"(?:,\s*Grading Category:\s*(?P<category>[^,)]+))?[^)]*\)$", re.I)


def read_schoology(path: str | Path, *, name: str | None = None,
                   class_id: str | None = None, sheet: str | None = None) -> list[Reading]:
    """Results, assignments and the students listed, from a Schoology gradebook export;
    a student is the school's id when given, else the Schoology username."""
    path = Path(path)
    frame = read_table(path, name=name, sheet=sheet)
    items = [(c, m) for c in data_columns(frame) if (m := _ITEM.match(str(c).strip()))
             and "count in grade" not in str(c).lower()]
    titles = [m["title"].strip() for _, m in items]
    course = class_id or path.stem
    last, first = column(frame, "Last Name"), column(frame, "First Name")
    number = column(frame, "Unique User ID").str.strip().replace("", None)
    book = Gradebook(
        frame, KIND, people={
            "student_number": number,
            "student_id": column(frame, "Username").str.strip(),
            "student_name": (last + ", " + first).fillna(last).fillna(first)},
        columns=[c for c, _ in items], ids=class_ids(course, titles), titles=titles,
        points=[m["points"] for _, m in items],
        categories=[(m["category"] or "").strip() or None for _, m in items],
        class_id=course, not_assigned={
            "N/A": "N/A: Schoology did not grade this work for the student (not assigned "
                   "to them, or not counted)"})
    return melt(book, name or path.name)


def recognise(head: Head) -> float:
    header = head.header
    if "unique user id" in header and any(_ITEM.match(h) for h in header):
        return 0.95
    return 0.0


FORMAT = Format("schoology", "Schoology gradebook export", recognise,
                lambda path, name, config, sheet: read_schoology(
                    path, name=name, sheet=sheet))
