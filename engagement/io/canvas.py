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
from engagement.io.text import (
    Reading,
    blank_rows,
    column,
    first_issue,
    has_column,
    issue_where,
    make_reading,
    read_table_text,
)

KIND = "canvas-gradebook"

#: Columns that describe the student, not an assignment.
IDENTITY_COLUMNS = frozenset({
    "student", "id", "sis user id", "sis login id", "integration id", "root account",
    "section", "lastname", "firstname", "last name", "first name",
})
#: Totals Canvas adds (usually marked "(read only)"); they are not assignments.
_TOTAL = re.compile(r"\(read only\)|current (score|points|grade)|final (score|points|grade)"
                    r"|unposted|override (score|grade)", re.IGNORECASE)
_TITLE_ID = re.compile(r"^(?P<title>.*\S)\s*\((?P<id>\d+)\)$")
_NUMBER = r"^\s*[-+]?\d+(?:[.,]\d+)?\s*%?\s*$"
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
        lambda s: s.str.strip().str.lower().eq("manual posting")).any(axis=1)
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
                          school_id: str | None = None, name: str | None = None
                          ) -> list[Reading]:
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
    frame = read_table_text(path, name=name)
    file = name or path.name
    names = assignment_columns(frame)
    ids, titles = _assignment_ids(names)
    meta = _meta_kind(frame)
    section = column(frame, "Section")
    students = section[meta.isna()].dropna()
    course = class_id if class_id is not None else (students.iloc[0] if len(students) else None)
    return [_results(frame, file, names, ids, meta, course, school_id),
            _assignments(frame, file, names, ids, titles, meta, course, school_id)]


def _constant(value: str | None, index: pd.Index) -> pd.Series:
    return pd.Series(value if value is not None else pd.NA, index=index, dtype="str")


def _results(frame, file, names, ids, meta, course, school_id) -> Reading:
    people = pd.DataFrame({
        "student_id": column(frame, "ID"), "student_name": _student_name(frame),
        "student_number": column(frame, "SIS User ID"),
        "sis_login_id": column(frame, "SIS Login ID"), "section": column(frame, "Section"),
        "issue": _row_issues(frame, meta), "source_row": frame["source_row"],
        "blank": blank_rows(frame),
    })
    cells = frame[names].set_axis(ids, axis=1)
    cells.index = frame.index
    long = cells.melt(ignore_index=False)
    long = long.rename(columns={"variable": "assignment_id", "value": "cell"})
    # melt orders by assignment; put each student's cells together, in line order.
    long["_line"] = long.index
    long["_col"] = long.groupby(level=0).cumcount()
    long = long.sort_values(["_line", "_col"], kind="stable")
    joined = long.join(people)
    cell = joined["cell"].astype("str").str.strip()
    numeric = cell.str.match(_NUMBER).fillna(False)
    not_assigned = cell.str.upper().eq("N/A").fillna(False)
    issue = first_issue(
        issue_where(joined["blank"], "blank line"),
        joined["issue"],
        issue_where(not_assigned, "N/A: Canvas did not assign this work to the student"),
    )
    # Blank lines are flagged above per cell; the carrier frame only gives line numbers.
    lines = pd.DataFrame({"source_row": joined["source_row"], "line": "x"})
    return make_reading(lines, file=file, kind=KIND, table="results", columns={
        "student_id": joined["student_id"],
        "assignment_id": joined["assignment_id"].astype("str"),
        "status": joined["cell"].astype("str").where(~numeric & ~not_assigned),
        "score": joined["cell"].astype("str").where(numeric),
        "student_name": joined["student_name"],
        "student_number": joined["student_number"],
        "sis_login_id": joined["sis_login_id"],
        "section": joined["section"],
        "class_id": _constant(course, joined.index),
        "school_id": _constant(school_id, joined.index),
    }, issue=issue)


def _assignments(frame, file, names, ids, titles, meta, course, school_id) -> Reading:
    points_lines = frame[meta.eq("points").fillna(False)]
    index = pd.RangeIndex(len(names))
    if len(points_lines):
        line = points_lines.iloc[0]
        points = pd.Series([line[n] for n in names], index=index, dtype="str")
        row = line["source_row"]
    else:
        points, row = pd.Series(pd.NA, index=index, dtype="str"), 1
    header = pd.DataFrame({"source_row": pd.Series(row, index=index, dtype="Int64"),
                           "line": "x"})
    return make_reading(header, file=file, kind=KIND, table="assignments", columns={
        "assignment_id": pd.Series(ids, index=index, dtype="str"),
        "class_id": _constant(course, index),
        "school_id": _constant(school_id, index),
        "title": pd.Series(titles, index=index, dtype="str"),
        "points_possible": points.str.strip(),
    })


def recognise(head: Head) -> float:
    """A "Points Possible" line under the header, or Canvas' identity columns."""
    lines = head.lines
    if "points possible" in head.first_cells or (
            lines and lines[0] and lines[0][0].lower() == "student"
            and {"id", "sis user id", "section"} <= head.header):
        return 0.95
    return 0.0


FORMAT = Format("canvas", "Canvas gradebook export", recognise,
                lambda path, name, config: read_canvas_gradebook(path, name=name))
