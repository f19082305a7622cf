"""Google Classroom's grade export ("Download these grades as CSV"): a line per student.

Layout, as real exports and the parsers written for them show it: ``Last Name, First
Name, Email Address``, then a column per assignment, by its title; before the students,
a ``Date`` line (each assignment's due date, blank when none was set) and a ``Points``
line (blank: ungraded); some exports also have a ``Class average`` line and an ``Overall
grade`` or ``Average`` column. A blank grade is work not graded: the export does not say
whether it was turned in. It names no course and no student number: the class is the
file's name, and a student is their email address.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engagement.io.format import Format, Head
from engagement.io.generic import read_table
from engagement.io.text import Reading, column, data_columns
from engagement.io.wide import Gradebook, class_ids, melt

KIND = "google-classroom-grades"
EMAIL = ("Email Address", "Email", "Email Account")
#: The lines above the students, by their first cell.
DATE, POINTS = ("date", "due date"), ("points", "max points")
NOT_STUDENTS = {*DATE, *POINTS, "class average", "average"}
_PEOPLE = {"last name", "first name", *(e.lower() for e in EMAIL), "overall grade",
           "average", "overall"}


def read_classroom(path: str | Path, *, name: str | None = None,
                   class_id: str | None = None, sheet: str | None = None) -> list[Reading]:
    """Results, assignments (with their due dates and points) and the students listed,
    from a Google Classroom grade export."""
    path = Path(path)
    frame = read_table(path, name=name, sheet=sheet)
    items = [c for c in data_columns(frame) if str(c).strip().lower() not in _PEOPLE
             and not str(c).startswith("Unnamed:")]
    label = column(frame, "Last Name").str.strip().str.lower()
    email = column(frame, *EMAIL).str.strip().str.lower()
    above = label.isin(NOT_STUDENTS).fillna(False) & email.isna()
    issue = pd.Series(pd.NA, index=frame.index, dtype="str").mask(
        above, "the export's " + label + " line, not a student")
    titles = [str(c).strip() for c in items]
    course = class_id or path.stem
    last, first = column(frame, "Last Name"), column(frame, "First Name")
    book = Gradebook(
        frame, KIND, people={
            "student_id": email,
            # The lines above the students keep their word, so that two of them are not
            # taken for one line exported twice.
            "student_name": (last + ", " + first).fillna(last).fillna(first).mask(above,
                                                                                 label)},
        columns=items, ids=class_ids(course, titles), titles=titles,
        points=_line(frame, items, label.isin(POINTS)), class_id=course, issue=issue,
        due=_line(frame, items, label.isin(DATE)),
        points_row=_first_row(frame, label.isin(POINTS)))
    return melt(book, name or path.name)


def _line(frame: pd.DataFrame, items: list, where: pd.Series) -> list[str | None]:
    """Each assignment's value on the first line ``where`` marks (None when absent)."""
    rows = frame[where.fillna(False).to_numpy()]
    if rows.empty:
        return [None] * len(items)
    values = rows.iloc[0][items]
    return [None if pd.isna(v) or str(v).strip() == "" else str(v) for v in values]


def _first_row(frame: pd.DataFrame, where: pd.Series) -> int:
    rows = frame.loc[where.fillna(False).to_numpy(), "source_row"]
    return int(rows.iloc[0]) if len(rows) else 1


def recognise(head: Head) -> float:
    header = head.header
    if {"last name", "first name"} <= header and header & {e.lower() for e in EMAIL} and (
            set(head.first_cells) & NOT_STUDENTS):
        return 0.9
    return 0.0


FORMAT = Format("classroom", "Google Classroom grade export", recognise,
                lambda path, name, config, sheet: read_classroom(
                    path, name=name, sheet=sheet))
