"""Canvas LMS gradebook CSV export: one row per student, one column per assignment.

Layout: ``Student, ID, SIS User ID, SIS Login ID, Section``, then one
``Title (id)`` column per assignment, then ``(read only)`` totals. A second line
``Points Possible`` (first cell often indented with spaces) gives each
assignment's points; newer exports put a ``Manual Posting`` line before it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from engagement.io.format import Format, Head
from engagement.io.generic import read_table
from engagement.io.text import (
    Reading,
    blank_rows,
    column,
    first_issue,
    has_column,
    issue_where,
)
from engagement.io.wide import Gradebook, melt

KIND = "canvas-gradebook"

#: Columns that describe the student, not an assignment.
IDENTITY_COLUMNS = frozenset({
    "student", "id", "sis user id", "sis login id", "integration id", "root account",
    "section", "lastname", "firstname", "last name", "first name",
})
#: Totals Canvas adds (usually marked "(read only)"); they are not assignments.
_TOTAL = re.compile(r"\(read only\)|current (score|points|grade)|final (score|points|grade)"
                    r"|unposted|override (score|grade)", re.IGNORECASE)
#: The "(read only)" mark of the Points Possible line, in the languages Canvas writes it
#: (the headers, "Points Possible", "EX" and "N/A" stay English in every language):
#: a column so marked is a total or a teacher's own column, never an assignment.
READ_ONLY = re.compile(
    r"^\(\s*(read only|lecture uniquement|solo lectura|läs endast|schreibgeschützt"
    r"|alleen-lezen|somente leitura|solo lettura|للقراءة فقط|只读|読み取り専用)\s*\)$",
    re.IGNORECASE)
_TITLE_ID = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$")
_TEST_STUDENTS = ("student, test", "test student")


def assignment_columns(frame: pd.DataFrame) -> list[str]:
    """The assignment columns of a gradebook (everything but identity and totals)."""
    from engagement.io.text import data_columns

    cols = data_columns(frame)
    # The first column holds the student's name even when its header is blank.
    first = cols[0] if cols else None
    return [c for c in cols if c != first and c.strip().lower() not in IDENTITY_COLUMNS
            and not _TOTAL.search(c)]


def _assignment_ids(names: list[str]) -> tuple[list[str], list[str]]:
    """``"Quiz 1 (4512)"`` -> id ``"4512"``, title ``"Quiz 1"``; no id -> the header."""
    ids, titles = [], []
    for name in names:  # one per assignment column, not per row
        match = _TITLE_ID.match(name)
        ids.append(match["id"] if match else name)
        titles.append(match["title"] if match else name)
    return ids, titles


def _student_name(frame: pd.DataFrame) -> pd.Series:
    if has_column(frame, "LastName"):
        last, given = column(frame, "LastName"), column(frame, "FirstName")
        return (last + ", " + given).fillna(last).fillna(given).astype("str")
    first = frame.columns[0]
    return column(frame, "Student").fillna(frame[first]).astype("str")


def _meta_kind(frame: pd.DataFrame) -> pd.Series:
    """Which lines are export metadata, not students: 'points', 'posting', or NA."""
    first = frame[frame.columns[0]].str.strip().str.lower()
    points = first.eq("points possible")
    posting = first.isna() & frame[assignment_columns(frame)].apply(
        lambda s: s.str.strip().str.lower().str.startswith("manual posting")).any(axis=1)
    kind = pd.Series(pd.NA, index=frame.index, dtype="str")
    return kind.mask(points.fillna(False), "points").mask(posting.fillna(False), "posting")


def _row_issues(frame: pd.DataFrame, meta: pd.Series) -> pd.Series:
    name = _student_name(frame).str.strip().str.lower()
    no_student = name.isna() & column(frame, "ID").isna() & ~blank_rows(frame)
    return first_issue(
        issue_where(meta.eq("points"), "Canvas 'Points Possible' line (read into "
                    "assignments.points_possible), not a student"),
        issue_where(meta.eq("posting"), "Canvas 'Manual Posting' line, not a student"),
        issue_where(name.isin(_TEST_STUDENTS), "Canvas test student (not a real student)"),
        issue_where(no_student, "line has no student name or ID (e.g. a 'points' line "
                    "of an old export)"),
    )


def read_canvas_gradebook(path: str | Path, *, class_id: str | None = None,
                          school_id: str | None = None, name: str | None = None,
                          sheet: str | None = None) -> list[Reading]:
    """Read a Canvas gradebook export into results (long) and assignments.

    Parameters
    ----------
    path : str or Path
        The exported CSV (any delimiter and encoding Canvas or Excel writes).
    class_id, school_id : str, optional
        The class and school of the course; default class: the file's first
        ``Section`` value (the export names no course).
    name : str, optional
        How the file is named in ``source_file`` (default: its file name).

    Returns
    -------
    list of Reading
        ``results``: one record per student line x assignment column, in line
        order; ``source_row`` is the student's line. ``score`` holds a number
        as written (decimal comma kept, e.g. "8,5"); ``status`` holds any other
        mark as written ("EX" excused, "-" not graded, "INC" ...). A blank cell
        has both NA (no score yet). Extra columns: ``student_name`` ("Last,
        First"), ``student_number`` (SIS User ID), ``sis_login_id``,
        ``section``, ``class_id``, ``school_id``.
        ``assignments``: one record per assignment column, ``source_row`` = the
        Points Possible line (1, the header, when there is none); due_at and
        assigned_at are NA (the export has no dates).

    Notes
    -----
    Decisions cleaning relies on: "N/A" means Canvas did not assign the work to
    that student (differentiated assignment), so it is a reader issue, not a
    result. The Points Possible and Manual Posting lines stay in ``results``
    with a reader issue so every line is accounted for. "Student, Test" (the
    Student View account) is a reader issue.
    """
    path = Path(path)
    frame = read_table(path, name=name, sheet=sheet)
    names = assignment_columns(frame)
    meta = _meta_kind(frame)
    students = column(frame, "Section")[meta.isna()].dropna()
    course = class_id if class_id is not None else (students.iloc[0] if len(students) else None)
    points_lines = frame[meta.eq("points").fillna(False)]
    if len(points_lines):  # a teacher's own columns ("Notes") are marked read only
        marks = points_lines.iloc[0][names].astype("str").str.strip()
        names = [c for c, m in zip(names, marks, strict=True) if not READ_ONLY.match(str(m))]
    ids, titles = _assignment_ids(names)
    if len(points_lines):
        points, points_row = list(points_lines.iloc[0][names]), points_lines.iloc[0]["source_row"]
    else:
        points, points_row = [None] * len(names), 1
    book = Gradebook(
        frame, KIND, people={
            "student_id": column(frame, "ID"), "student_name": _student_name(frame),
            "student_number": column(frame, "SIS User ID"),
            "sis_login_id": column(frame, "SIS Login ID"), "section": column(frame, "Section")},
        columns=names, ids=ids, titles=titles, points=points, points_row=points_row,
        issue=_row_issues(frame, meta), class_id=course, school_id=school_id,
        not_assigned={"N/A": "N/A: Canvas did not assign this work to the student"})
    return melt(book, name or path.name)


def recognise(head: Head) -> float:
    """A "Points Possible" line under the header, or Canvas' identity columns."""
    lines = head.lines
    if "points possible" in head.first_cells or (
            lines and lines[0] and lines[0][0].lower() == "student"
            and {"id", "sis user id", "section"} <= head.header):
        return 0.95
    return 0.0


FORMAT = Format("canvas", "Canvas gradebook export", recognise,
                lambda path, name, config, sheet: read_canvas_gradebook(
                    path, name=name, sheet=sheet))
